//! Judging a session file: live, expired or damaged, by its header alone or decoded in full.

use std::fs::{File, Metadata};
use std::io::{self, Read};

use session_core::store::{Record, Timestamp};

use crate::FileStoreError;
use crate::core::Core;
use crate::format::{Damage, HEADER_LEN, parse_header};

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
        // Files are never changed in place, only replaced: the size read by fstat is final.
        let mut bytes = Vec::with_capacity(len as usize);
        file.take(len).read_to_end(&mut bytes)?;
        Ok(Ok(bytes))
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
