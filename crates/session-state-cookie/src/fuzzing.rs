//! Hidden entry points for the fuzz targets in `fuzz/` (feature `fuzzing`).
//!
//! Not part of the API: no promise is made about them.

use session_core::store::Record;

/// Decodes `bytes` as [`SealedCookie`] decodes an authenticated cookie's plaintext (format 2).
///
/// Returns the session id as sealed and its record, or `None` if the payload is not one this
/// version writes.
///
/// [`SealedCookie`]: crate::SealedCookie
pub fn decode_payload(bytes: &[u8]) -> Option<(String, Record)> {
    crate::payload::decode(bytes)
}

/// Encodes a session (its id's text and its record) as the plaintext [`SealedCookie`] seals.
///
/// [`SealedCookie`]: crate::SealedCookie
pub fn encode_payload(id: &str, record: &Record) -> Vec<u8> {
    let mut out = Vec::new();
    crate::payload::encode(id, record, &mut out);
    out
}

/// Decodes `text` as [`SealedCookie`] decodes the authenticated plaintext of a cookie the first
/// release sealed (format 1: payload versions 1 and 2).
///
/// [`SealedCookie`]: crate::SealedCookie
pub fn decode_legacy_payload(text: &str) -> Option<(String, Record)> {
    crate::legacy::decode_payload(text)
}
