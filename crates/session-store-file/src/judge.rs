//! Judging a session file: live, expired or damaged, by its header alone or decoded in full.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

use session_core::store::{Key, Record, Timestamp};

use crate::FileStoreError;
use crate::core::Core;
use crate::format::{Damage, HEADER_LEN, marked_bound, parse_header};

/// What a session file holds, judged by its header (and by its payload where decoded).
pub(crate) enum Judged<T> {
    Live(T),
    Expired,
    Damaged(Damage),
}

impl Core {
    /// Reads the whole file (its size capped before reading) and judges its header.
    pub(crate) fn read_frame(
        &self,
        file: &File,
        meta: &Metadata,
    ) -> io::Result<Result<Vec<u8>, Damage>> {
        if !meta.is_file() {
            return Ok(Err(Damage::NotAFile));
        }
        let len = meta.len();
        if len > (self.max_payload + HEADER_LEN) as u64 {
            return Ok(Err(Damage::TooLarge));
        }
        // Files are never changed in place, only replaced: the size read by fstat is final. Read
        // from the start whatever the file's offset (`delete` has read the header already); a
        // file cut short since is judged by its header's length.
        let mut bytes = vec![0; len as usize];
        let mut filled = 0;
        while filled < bytes.len() {
            match file.read_at(&mut bytes[filled..], filled as u64)? {
                0 => break,
                n => filled += n,
            }
        }
        bytes.truncate(filled);
        Ok(Ok(bytes))
    }

    /// The subject key of the record in a file marked bound ([`marked_bound`]); `None` for an
    /// unbound, unreadable or foreign one.
    ///
    /// For removing a dead or deleted record's index entry: the record is decoded whatever its
    /// expiry.
    pub(crate) fn subject_of(&self, file: &File, meta: &Metadata) -> Option<Key> {
        if !marked_bound(meta) {
            return None;
        }
        let bytes = self.read_frame(file, meta).ok()?.ok()?;
        parse_header(&bytes, bytes.len() as u64).ok()?;
        let record = self.codec.decode(&bytes[HEADER_LEN..]).ok()?;
        Some(record.binding?.subject_key())
    }

    /// Decodes a whole file's bytes and judges the record at `now`.
    pub(crate) fn decode(&self, bytes: &[u8], now: Timestamp) -> Judged<Record> {
        let expires = match parse_header(bytes, bytes.len() as u64) {
            Ok(expires) => expires,
            Err(damage) => return Judged::Damaged(damage),
        };
        match self.codec.decode(&bytes[HEADER_LEN..]) {
            Ok(record) if record.expires != expires => Judged::Damaged(Damage::Undecodable),
            Ok(record) if record.is_expired(now) => Judged::Expired,
            Ok(record) => Judged::Live(record),
            Err(_) => Judged::Damaged(Damage::Undecodable),
        }
    }

    /// Reads and decodes a whole file, judging it at the clock's current time.
    pub(crate) fn judge_full(
        &self,
        file: &File,
        meta: &Metadata,
    ) -> Result<Judged<Record>, FileStoreError> {
        Ok(
            match self
                .read_frame(file, meta)
                .map_err(FileStoreError::io("read a session file"))?
            {
                Ok(bytes) => self.decode(&bytes, self.clock.now()),
                Err(damage) => Judged::Damaged(damage),
            },
        )
    }

    /// Judges a locked file by its header alone (for `save`, `delete` and the sweeper).
    pub(crate) fn judge_header(
        &self,
        file: &File,
        meta: &Metadata,
        now: Timestamp,
    ) -> io::Result<Judged<()>> {
        if !meta.is_file() {
            return Ok(Judged::Damaged(Damage::NotAFile));
        }
        if meta.len() > (self.max_payload + HEADER_LEN) as u64 {
            return Ok(Judged::Damaged(Damage::TooLarge));
        }
        let mut head = [0u8; HEADER_LEN];
        let mut filled = 0;
        let mut reader = file.take(HEADER_LEN as u64);
        while filled < HEADER_LEN {
            match reader.read(&mut head[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        Ok(match parse_header(&head[..filled], meta.len()) {
            Ok(expires) if expires <= now => Judged::Expired,
            Ok(_) => Judged::Live(()),
            Err(damage) => Judged::Damaged(damage),
        })
    }
}
