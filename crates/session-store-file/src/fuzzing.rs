//! Hidden entry points for the fuzz targets in `fuzz/` (feature `fuzzing`).
//!
//! Not part of the API: no promise is made about them.

use session_core::store::Timestamp;

/// The length of a session file's header, in bytes.
pub const HEADER_LEN: usize = crate::format::HEADER_LEN;

/// The header the store writes before a payload of `len` bytes that expires at `expires`.
pub fn header(expires: Timestamp, len: usize) -> [u8; HEADER_LEN] {
    crate::format::header(expires, len)
}
