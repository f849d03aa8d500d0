//! Listing a subject's sessions: its index entries, each checked against its session's record.

use std::fs::{self, File, Metadata};
use std::io;
use std::os::fd::AsFd;

use session_core::store::{Key, Record, Timestamp};
use session_core::subject::{BoundSession, subject_key};

use crate::FileStoreError;
use crate::core::{Core, FileName, is_odd_entry_error};
use crate::dir::is_symlink_error;
use crate::index::{INDEX_DIR, open_dir, remove_entry};
use crate::judge::Judged;

/// What a listing does with one index entry.
enum Verdict {
    /// The record is live and bound to the subject: listed.
    Listed(Record),
    /// Not listed, kept: the record is being written.
    Kept,
    /// No record file (or junk in its place): kept while the entry is young, since a `create`
    /// writes the entry a moment before the record; removed once it is stale.
    Missing,
    /// Not listed, removed: the record is gone, dead, or bound to no subject or another one.
    Dropped,
}

impl Core {
    /// The live records bound to `subject`, from its index entries.
    ///
    /// Entries whose record is gone, expired, unreadable or bound elsewhere are removed on the
    /// way (dead records too, if their lock is free at once); entries with names the store does
    /// not make are skipped.
    pub(crate) fn list_subject(&self, subject: &str) -> Result<Vec<BoundSession>, FileStoreError> {
        let listing = || -> io::Result<Vec<BoundSession>> {
            let wanted = subject_key(subject);
            let Some(index) = open_dir(self.dir.fd(), INDEX_DIR)? else {
                return Ok(Vec::new());
            };
            let Some(dir) = open_dir(index.as_fd(), FileName::of(&wanted).as_str())? else {
                return Ok(Vec::new());
            };
            let mut entries = rustix::fs::Dir::read_from(&dir)?;
            let now = self.clock.now();
            let mut listed = Vec::new();
            while let Some(entry) = entries.read() {
                let entry = entry?;
                let Some(key) = std::str::from_utf8(entry.file_name().to_bytes())
                    .ok()
                    .and_then(Key::from_hex)
                else {
                    continue;
                };
                let name = FileName::of(&key);
                match self.check_entry(&wanted, &key, now)? {
                    Verdict::Listed(record) => listed.extend(BoundSession::of(key, &record)),
                    Verdict::Kept => {}
                    Verdict::Missing if !self.entry_is_stale(dir.as_fd(), name.as_str())? => {}
                    Verdict::Missing | Verdict::Dropped => {
                        remove_entry(dir.as_fd(), name.as_str())?;
                    }
                }
            }
            Ok(listed)
        };
        listing().map_err(FileStoreError::io("list a subject's sessions"))
    }

    /// Opens the session file an index entry names; `None` if there is none, or junk (a link, a
    /// socket, a file we may not read) in its place.
    pub(crate) fn open_indexed(&self, key: &Key) -> io::Result<Option<std::fs::File>> {
        match self.dir.open_entry(FileName::of(key).as_str()) {
            Ok(file) => Ok(Some(file)),
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    || is_symlink_error(&e)
                    || is_odd_entry_error(&e) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Judges the entry `key` of the subject `wanted` by the session's record.
    fn check_entry(&self, wanted: &Key, key: &Key, now: Timestamp) -> io::Result<Verdict> {
        let name = FileName::of(key);
        let Some(file) = self.open_indexed(key)? else {
            return Ok(Verdict::Missing);
        };
        let meta = file.metadata()?;
        let judged = match self.read_frame(&file, &meta)? {
            Ok(bytes) => self.decode(&bytes, now),
            Err(damage) => Judged::Damaged(damage),
        };
        Ok(match judged {
            Judged::Live(record) if bound_to(&record, wanted) => Verdict::Listed(record),
            Judged::Live(_) => self.drop_if_still_elsewhere(wanted, name.as_str(), &file, &meta)?,
            Judged::Expired | Judged::Damaged(_) => {
                drop(file);
                self.reclaim(key, name.as_str());
                Verdict::Dropped
            }
        })
    }

    /// A live record bound to no subject or another one: its entry is dropped only under the
    /// record's lock (taken without waiting) and if it is still so, since a `save` binding it to
    /// this subject writes the entry under that lock.
    fn drop_if_still_elsewhere(
        &self,
        wanted: &Key,
        name: &str,
        file: &File,
        meta: &Metadata,
    ) -> io::Result<Verdict> {
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Ok(Verdict::Kept),
            Err(fs::TryLockError::Error(e)) => return Err(e),
        }
        if !self.dir.still_named(name, meta)? {
            return Ok(Verdict::Kept);
        }
        let judged = self.judge_full(file, meta).map_err(io::Error::other)?;
        Ok(match judged {
            Judged::Live(record) if bound_to(&record, wanted) => Verdict::Listed(record),
            _ => Verdict::Dropped,
        })
    }
}

/// Whether `record` is bound to the subject whose key is `wanted`.
fn bound_to(record: &Record, wanted: &Key) -> bool {
    record
        .binding
        .as_ref()
        .is_some_and(|binding| binding.subject_key() == *wanted)
}
