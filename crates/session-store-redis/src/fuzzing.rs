//! Hidden entry points for the fuzz targets in `fuzz/` (feature `fuzzing`).
//!
//! Not part of the API: no promise is made about them.

use session_core::store::{DEFAULT_MAX_RECORD_BYTES, Record};

/// Reads a session hash's fields (as `HGETALL` returns them) back into a record, as loads do
/// with the default size limit.
///
/// `Ok(None)` for no fields, `Err` (why, for the log) for a hash the store did not write.
pub fn decode_fields(fields: Vec<(Vec<u8>, Vec<u8>)>) -> Result<Option<Record>, String> {
    crate::layout::decode(fields, DEFAULT_MAX_RECORD_BYTES).map_err(|corrupt| corrupt.to_string())
}

/// Every field the store writes for `record`, as (field, text) pairs.
pub fn record_fields(record: &Record) -> Vec<(String, String)> {
    crate::layout::record_fields(record, true)
}
