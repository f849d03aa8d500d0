//! Hidden entry points for the fuzz targets in `fuzz/` (feature `fuzzing`).
//!
//! Not part of the API: no promise is made about them.

use session_core::store::Record;

/// Decodes `text` as [`SealedCookie`] decodes an authenticated cookie's plaintext.
///
/// Returns the session id as sealed and its record, or `None` if the payload is not one this
/// version writes.
///
/// [`SealedCookie`]: crate::SealedCookie
pub fn decode_payload(text: &str) -> Option<(String, Record)> {
    crate::payload::decode(text)
}

/// Encodes a session (its id's text and its record) as the plaintext [`SealedCookie`] seals.
///
/// `None` if it cannot be encoded.
///
/// [`SealedCookie`]: crate::SealedCookie
pub fn encode_payload(id: &str, record: &Record) -> Option<String> {
    crate::payload::encode_id(id, record).ok()
}
