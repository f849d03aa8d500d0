//! The on-disk form of one session: a 16-byte header, then the codec's bytes.
//!
//! ```text
//! magic "SSF1" (4 bytes) | expires, ms since epoch (u64 LE) | payload length (u32 LE) | payload
//! ```
//!
//! The header lets `save`, `delete` and the sweeper judge a file (live, expired, truncated, not
//! ours) by its first 16 bytes and its size, without decoding the record; `load` decodes the
//! payload and checks that the record's own expiry matches the header's.
//!
//! The file's permissions tell a bound record (one with a subject) from an unbound one without
//! reading it: unbound records are written 0600, as before subjects existed, bound ones 0400
//! (the store never writes into a file in place, so it needs no write permission). `delete`, the
//! sweeper and the removal of a dead file already have the file's metadata; only for a bound one
//! do they read the record further, to find its subject's index entry. The bytes are the same
//! for both: the codec's (bincode writes an unbound record in the layout of the release before
//! subjects).

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;

use rustix::fs::Mode;
use session_core::store::Timestamp;

/// The header's length in bytes.
pub(crate) const HEADER_LEN: usize = 16;
const MAGIC: &[u8; 4] = b"SSF1";

/// Builds the header for a payload of `len` bytes expiring at `expires`.
pub(crate) fn header(expires: Timestamp, len: usize) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    out[..4].copy_from_slice(MAGIC);
    out[4..12].copy_from_slice(&expires.as_millis().to_le_bytes());
    // The store refuses payloads over its limit (at most 256 MiB) before framing them.
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    out[12..].copy_from_slice(&len.to_le_bytes());
    out
}

/// The permissions a record is written with: 0400 if it is bound to a subject, else 0600.
pub(crate) fn mode(bound: bool) -> Mode {
    if bound {
        Mode::RUSR
    } else {
        Mode::RUSR | Mode::WUSR
    }
}

/// Whether a session file's permissions mark it bound: its owner may not write to it.
///
/// A umask cannot add the owner's write permission to a bound record; one that removed it from
/// unbound records too (which nobody uses) would only make `delete` and the sweeper read them.
pub(crate) fn marked_bound(meta: &Metadata) -> bool {
    meta.mode() & 0o200 == 0
}

/// Why a file is not a session this store can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Damage {
    /// Not a regular file (a directory, a FIFO, a device).
    NotAFile,
    /// Larger than the store's limit.
    TooLarge,
    /// Shorter than the header, a wrong magic number, or a length that does not match the file.
    BadHeader,
    /// The codec refused the payload, or the record disagrees with its header.
    Undecodable,
}

impl Damage {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Damage::NotAFile => "not a regular file",
            Damage::TooLarge => "larger than the store's limit",
            Damage::BadHeader => "bad header or truncated",
            Damage::Undecodable => "the codec could not decode it",
        }
    }
}

/// Checks a header against the file's total size; returns the expiry it records.
pub(crate) fn parse_header(bytes: &[u8], file_len: u64) -> Result<Timestamp, Damage> {
    let header: &[u8; HEADER_LEN] = bytes
        .get(..HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(Damage::BadHeader)?;
    if &header[..4] != MAGIC {
        return Err(Damage::BadHeader);
    }
    let mut expires = [0u8; 8];
    expires.copy_from_slice(&header[4..12]);
    let mut len = [0u8; 4];
    len.copy_from_slice(&header[12..]);
    if u64::from(u32::from_le_bytes(len)) + HEADER_LEN as u64 != file_len {
        return Err(Damage::BadHeader);
    }
    Ok(Timestamp::from_millis(u64::from_le_bytes(expires)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_detects_damage() {
        let h = header(Timestamp::from_millis(1234), 10);
        assert_eq!(parse_header(&h, 26), Ok(Timestamp::from_millis(1234)));
        assert_eq!(parse_header(&h, 25), Err(Damage::BadHeader), "truncated");
        assert_eq!(parse_header(&h[..15], 26), Err(Damage::BadHeader));
        let mut bad = h;
        bad[0] = b'X';
        assert_eq!(parse_header(&bad, 26), Err(Damage::BadHeader));
    }
}
