//! The blocking implementation of every store operation.
//!
//! [`FileStore`](crate::FileStore) runs it off the async workers.
//!
//! # Locking protocol
//!
//! Every operation that replaces or removes a session file (`create` over an expired file, `save`,
//! `apply`, `touch`, `delete`, the sweeper, reclaiming a dead file found by `load`) first takes an
//! exclusive lock on **the session file itself** (`File::lock`, `flock(2)` on Linux), then checks
//! that the locked file is still the one the name points to (same device and inode). A writer
//! replaces the file by renaming a new one over it *while holding the lock on the old one*, and a
//! delete unlinks it while holding the lock: a process that was waiting for the lock wakes on the
//! old inode, sees that the name has moved on, and starts again on the current file (or finds it
//! gone). So read-modify-write cycles on one session are serialized across threads and processes,
//! and a write that waited behind a delete finds nothing and writes nothing.
//!
//! `load` takes no lock: files are only ever replaced whole by `rename`, so a reader sees the old
//! file or the new one, never a mix.
//!
//! Every file is named relative to the directory handle checked at start
//! ([`SessionDir`](crate::dir::SessionDir)), never by a path.
//!
//! `save` and `delete` judge the file they replace or remove by its header alone (magic, length,
//! expiry), which keeps them from decoding a record they are about to drop; `load`, `apply`,
//! `touch` and a `create` that meets an existing file decode it in full. Either way a file that
//! does not decode never reaches a request.
//!
//! Bound records ([`index`](crate::index)): `create` and `save` of one write its subject's index
//! entry before the record; removing a file marked bound (its permissions say so, from the
//! metadata every path already has) reads it for its subject and removes the entry after it.
//! Unbound records cost what they did before subjects existed.

use std::fs::{File, Metadata};
use std::io;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use session_core::store::{Changes, Clock, Codec, Key, Record, Timestamp};

use crate::FileStoreError;
use crate::dir::{SessionDir, is_symlink_error};
use crate::format::{self, HEADER_LEN, header};
use crate::judge::Judged;
use crate::sweeper::SweeperThread;
use crate::temp::TempFile;

/// The store's state shared by every clone and every blocking task.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) dir: SessionDir,
    pub(crate) codec: Box<dyn Codec>,
    pub(crate) clock: Box<dyn Clock>,
    /// The largest payload (encoded record) written or read.
    pub(crate) max_payload: usize,
    pub(crate) stale_temp_after: std::time::Duration,
    /// The most entries one sweeper pass examines.
    pub(crate) sweep_batch: usize,
    /// Where the next sweeper pass starts: the directory stream the last one stopped in.
    pub(crate) sweep_cursor: Mutex<crate::cleanup::Cursor>,
    /// The background sweeper the builder started, stopped with the store.
    pub(crate) sweeper: OnceLock<SweeperThread>,
    /// Threads in `flock` on a session file right now, and at most (unit tests only).
    #[cfg(test)]
    pub(crate) in_flock: crate::tests::Gauge,
}

/// A session file's name: the 64 hex digits of its key, on the stack.
pub(crate) struct FileName([u8; 64]);

impl FileName {
    /// The name of `key`'s file ([`Key::to_hex`]).
    pub(crate) fn of(key: &Key) -> FileName {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut name = [0u8; 64];
        for (pair, byte) in name.chunks_exact_mut(2).zip(key.digest()) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0x0f)];
        }
        FileName(name)
    }

    pub(crate) fn as_str(&self) -> &str {
        // Hex digits are ASCII: always valid UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// A session file found under its name and locked.
pub(crate) enum Entry {
    /// No file by that name.
    Absent,
    /// Something other than a regular file (a symbolic link, a directory, a FIFO).
    ///
    /// Never opened through, never used as a session.
    Odd,
    /// The file, locked exclusively, with its metadata.
    Locked(File, Metadata),
}

/// A record encoded and framed, ready to be written.
#[derive(Debug)]
pub(crate) struct Encoded {
    header: [u8; HEADER_LEN],
    payload: Vec<u8>,
    /// The record's subject key, if it is bound: its index entry is written before it.
    subject: Option<Key>,
}

impl Core {
    /// The path of the file named by `key`, under the directory's name (for the application to
    /// look at; the store itself never uses it).
    pub(crate) fn path(&self, key: &Key) -> PathBuf {
        self.dir.path.join(FileName::of(key).as_str())
    }

    /// Encodes and frames `record`, refusing one over the store's limit.
    pub(crate) fn encode(&self, record: &Record) -> Result<Encoded, FileStoreError> {
        let payload = self.codec.encode(record).map_err(FileStoreError::Codec)?;
        if payload.len() > self.max_payload {
            return Err(FileStoreError::TooLarge {
                size: payload.len(),
                limit: self.max_payload,
            });
        }
        Ok(Encoded {
            header: header(record.expires, payload.len()),
            payload,
            subject: record.binding.as_ref().map(|binding| binding.subject_key()),
        })
    }

    /// Opens and locks the file named `name`.
    ///
    /// Starts again whenever the file was replaced or removed while this thread waited for the
    /// lock.
    pub(crate) fn lock(&self, name: &str) -> Result<Entry, FileStoreError> {
        loop {
            let file = match self.dir.open_entry(name) {
                Ok(file) => file,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Entry::Absent),
                Err(e) if is_symlink_error(&e) => return Ok(Entry::Odd),
                Err(e) => return Err(FileStoreError::io("open a session file")(e)),
            };
            let meta = file
                .metadata()
                .map_err(FileStoreError::io("stat a session file"))?;
            if !meta.is_file() {
                return Ok(Entry::Odd);
            }
            #[cfg(test)]
            self.in_flock.enter();
            let locked = file.lock();
            #[cfg(test)]
            self.in_flock.leave();
            locked.map_err(FileStoreError::io("lock a session file"))?;
            if self
                .dir
                .still_named(name, &meta)
                .map_err(FileStoreError::io("stat a session file"))?
            {
                return Ok(Entry::Locked(file, meta));
            }
        }
    }

    /// Writes `encoded` to a new temporary file (mode 0600, or 0400 if the record is bound) in
    /// the session directory and `fsync`s it.
    pub(crate) fn write_temp(&self, encoded: &Encoded) -> Result<TempFile<'_>, FileStoreError> {
        let mode = format::mode(encoded.subject.is_some());
        TempFile::write(&self.dir, mode, [&encoded.header, &encoded.payload])
    }

    /// Renames `temp` over `name` and makes the rename durable.
    ///
    /// The caller holds the lock on the file it replaces, if any.
    fn replace(&self, temp: TempFile<'_>, name: &str) -> Result<(), FileStoreError> {
        temp.place(name)
            .map_err(FileStoreError::io("rename into place"))?;
        self.dir.sync()
    }

    /// Removes `name` (the caller holds its lock) and makes the removal durable.
    fn remove(&self, name: &str) -> Result<(), FileStoreError> {
        match self.dir.remove(name) {
            Ok(true) => self.dir.sync(),
            Ok(false) => Ok(()),
            Err(e) => Err(FileStoreError::io("remove a session file")(e)),
        }
    }

    pub(crate) fn load(&self, key: &Key) -> Result<Option<Record>, FileStoreError> {
        let name = FileName::of(key);
        let file = match self.dir.open_entry(name.as_str()) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) if is_symlink_error(&e) => {
                tracing::warn!(
                    ?key,
                    "file store: a symbolic link stands for a session; ignored"
                );
                return Ok(None);
            }
            Err(e) if is_odd_entry_error(&e) => {
                // A socket, or a file we may not read, planted under a session's name.
                tracing::warn!(?key, error = %e, "file store: an unreadable entry stands for a session; ignored");
                return Ok(None);
            }
            Err(e) => return Err(FileStoreError::io("open a session file")(e)),
        };
        let meta = file
            .metadata()
            .map_err(FileStoreError::io("stat a session file"))?;
        let judged = match self
            .read_frame(&file, &meta)
            .map_err(FileStoreError::io("read a session file"))?
        {
            Ok(bytes) => self.decode(&bytes, self.clock.now()),
            Err(damage) => Judged::Damaged(damage),
        };
        drop(file);
        match judged {
            Judged::Live(record) => Ok(Some(record)),
            Judged::Expired => {
                self.reclaim(key, name.as_str());
                Ok(None)
            }
            Judged::Damaged(damage) => {
                tracing::warn!(
                    ?key,
                    damage = damage.as_str(),
                    "file store: unreadable session file treated as no session"
                );
                self.reclaim(key, name.as_str());
                Ok(None)
            }
        }
    }

    /// Removes the dead file named `name`, if that can be done without waiting.
    ///
    /// Only if its lock is free at once and, locked, it is still the file of that name and still
    /// expired or unreadable (a writer may have replaced it). A load never waits for a lock and
    /// never fails for this: a file left here is the sweeper's.
    pub(crate) fn reclaim(&self, key: &Key, name: &str) {
        let attempt = || -> Result<bool, FileStoreError> {
            let file = match self.dir.open_entry(name) {
                Ok(file) => file,
                Err(_) => return Ok(false),
            };
            let meta = file
                .metadata()
                .map_err(FileStoreError::io("stat a session file"))?;
            if !meta.is_file() {
                // Junk under a session's name (a directory, a FIFO) is left alone, as elsewhere.
                return Ok(false);
            }
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => return Ok(false),
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(FileStoreError::io("lock a session file")(e));
                }
            }
            if !self
                .dir
                .still_named(name, &meta)
                .map_err(FileStoreError::io("stat a session file"))?
                || matches!(self.judge_full(&file, &meta)?, Judged::Live(_))
            {
                return Ok(false);
            }
            self.remove(name)?;
            self.forget(key, &file, &meta);
            Ok(true)
        };
        match attempt() {
            Ok(true) => tracing::debug!(?key, "file store: removed a dead session file"),
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(?key, %error, "file store: a dead session file could not be removed yet");
            }
        }
    }

    pub(crate) fn create(&self, key: &Key, encoded: &Encoded) -> Result<bool, FileStoreError> {
        let name = FileName::of(key);
        let name = name.as_str();
        // The index entry first: once the record is in place, a listing finds it.
        if let Some(subject) = &encoded.subject {
            self.index(subject, key)?;
        }
        let mut temp = self.write_temp(encoded)?;
        loop {
            // No-clobber: renameat2(RENAME_NOREPLACE), or link + unlink where that is missing.
            if temp
                .place_if_absent(name)
                .map_err(FileStoreError::io("link a new session file"))?
            {
                self.dir.sync()?;
                return Ok(true);
            }
            match self.lock(name)? {
                // Removed since: try the no-clobber rename again.
                Entry::Absent => continue,
                // A symbolic link or other junk under a session's name is replaced, not followed.
                Entry::Odd => {
                    self.replace(temp, name)?;
                    return Ok(true);
                }
                // The rare path (a collision, or an expired file under this name): decoded in
                // full, so that only a session `load` would return blocks the name.
                Entry::Locked(file, meta) => match self.judge_full(&file, &meta)? {
                    Judged::Live(_) => return Ok(false),
                    Judged::Expired | Judged::Damaged(_) => {
                        self.replace(temp, name)?;
                        return Ok(true);
                    }
                },
            }
        }
    }

    pub(crate) fn save(&self, key: &Key, encoded: &Encoded) -> Result<bool, FileStoreError> {
        let name = FileName::of(key);
        let name = name.as_str();
        let Entry::Locked(file, meta) = self.lock(name)? else {
            return Ok(false);
        };
        match self
            .judge_header(&file, &meta, self.clock.now())
            .map_err(FileStoreError::io("read a session file"))?
        {
            Judged::Live(()) => {
                // Under the record's lock, which a listing takes before it drops an entry whose
                // record is bound elsewhere.
                if let Some(subject) = &encoded.subject {
                    self.index(subject, key)?;
                }
                let temp = self.write_temp(encoded)?;
                self.replace(temp, name)?;
                Ok(true)
            }
            Judged::Expired | Judged::Damaged(_) => {
                self.remove(name)?;
                self.forget(key, &file, &meta);
                Ok(false)
            }
        }
    }

    /// Applies `change` to the live record under `key`, under its lock; `false` if there is none.
    pub(crate) fn update(
        &self,
        key: &Key,
        change: impl FnOnce(&mut Record),
    ) -> Result<bool, FileStoreError> {
        let name = FileName::of(key);
        let name = name.as_str();
        let Entry::Locked(file, meta) = self.lock(name)? else {
            return Ok(false);
        };
        match self.judge_full(&file, &meta)? {
            Judged::Live(mut record) => {
                // The binding is kept (`change` does not touch it), and so is its index entry.
                change(&mut record);
                let temp = self.write_temp(&self.encode(&record)?)?;
                self.replace(temp, name)?;
                Ok(true)
            }
            Judged::Expired | Judged::Damaged(_) => {
                self.remove(name)?;
                self.forget(key, &file, &meta);
                Ok(false)
            }
        }
    }

    pub(crate) fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, FileStoreError> {
        self.update(key, |record| changes.apply_to(record))
    }

    pub(crate) fn touch(
        &self,
        key: &Key,
        last_active: Timestamp,
        expires: Timestamp,
    ) -> Result<bool, FileStoreError> {
        self.update(key, |record| {
            record.last_active = last_active;
            record.expires = expires;
        })
    }

    pub(crate) fn delete(&self, key: &Key) -> Result<bool, FileStoreError> {
        let name = FileName::of(key);
        let name = name.as_str();
        let Entry::Locked(file, meta) = self.lock(name)? else {
            return Ok(false);
        };
        let live = matches!(
            self.judge_header(&file, &meta, self.clock.now())
                .map_err(FileStoreError::io("read a session file"))?,
            Judged::Live(())
        );
        self.remove(name)?;
        // Only a file marked bound is read further, for its subject's entry.
        self.forget(key, &file, &meta);
        Ok(live)
    }
}

/// An error opening an entry that is there but is no session file we can read.
///
/// A socket (`ENXIO`) or a file without read permission. Treated as no session.
pub(crate) fn is_odd_entry_error(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::PermissionDenied || error.raw_os_error() == Some(6)
}
