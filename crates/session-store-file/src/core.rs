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
//! `save` and `delete` judge the file they replace or remove by its header alone (magic, length,
//! expiry), which keeps them from decoding a record they are about to drop; `load`, `apply`,
//! `touch` and a `create` that meets an existing file decode it in full. Either way a file that
//! does not decode never reaches a request.

use std::fs::{self, File, Metadata};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use session_core::store::{Changes, Clock, Codec, Key, Record, Timestamp};
use tempfile::{NamedTempFile, TempDir};

use crate::FileStoreError;
use crate::dir::{SessionDir, is_symlink_error, open_nofollow, still_named};
use crate::format::{HEADER_LEN, header};
use crate::judge::Judged;

/// The prefix of temporary files (never a valid session file name).
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// The store's state shared by every clone and every blocking task.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) dir: SessionDir,
    pub(crate) codec: Box<dyn Codec>,
    pub(crate) clock: Box<dyn Clock>,
    /// The largest payload (encoded record) written or read.
    pub(crate) max_payload: usize,
    pub(crate) stale_temp_after: std::time::Duration,
    /// A private directory this store created: removed when the last clone is dropped.
    pub(crate) _private: Option<TempDir>,
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
}

impl Core {
    /// The file named by `key`: its hex digest ([`Key::to_hex`]), nothing else.
    ///
    /// Built in one allocation, the hex digits on the stack.
    pub(crate) fn path(&self, key: &Key) -> PathBuf {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut name = [0u8; 64];
        for (pair, byte) in name.chunks_exact_mut(2).zip(key.digest()) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0x0f)];
        }
        let dir = self.dir.path.as_os_str();
        let mut path = PathBuf::with_capacity(dir.len() + 1 + name.len());
        path.push(dir);
        // Hex digits are ASCII: always valid UTF-8.
        path.push(std::str::from_utf8(&name).unwrap_or_default());
        path
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
        })
    }

    /// Opens and locks the file named `path`.
    ///
    /// Starts again whenever the file was replaced or removed while this thread waited for the
    /// lock.
    pub(crate) fn lock(&self, path: &Path) -> Result<Entry, FileStoreError> {
        loop {
            let file = match open_nofollow(path) {
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
            file.lock()
                .map_err(FileStoreError::io("lock a session file"))?;
            if still_named(path, &meta).map_err(FileStoreError::io("stat a session file"))? {
                return Ok(Entry::Locked(file, meta));
            }
        }
    }

    /// Writes `encoded` to a new temporary file in the session directory and `fsync`s it.
    ///
    /// The file has mode 0600.
    pub(crate) fn write_temp(&self, encoded: &Encoded) -> Result<NamedTempFile, FileStoreError> {
        let mut temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(&self.dir.path)
            .map_err(FileStoreError::io("create a temporary file"))?;
        temp.write_all(&encoded.header)
            .and_then(|()| temp.write_all(&encoded.payload))
            .map_err(FileStoreError::io("write a temporary file"))?;
        temp.as_file()
            .sync_all()
            .map_err(FileStoreError::io("fsync a temporary file"))?;
        Ok(temp)
    }

    /// Renames `temp` over `path` and makes the rename durable.
    ///
    /// The caller holds the lock on the file it replaces, if any.
    fn replace(&self, temp: NamedTempFile, path: &Path) -> Result<(), FileStoreError> {
        temp.persist(path)
            .map_err(|e| FileStoreError::io("rename into place")(e.error))?;
        self.dir.sync()
    }

    /// Removes `path` (the caller holds its lock) and makes the removal durable.
    fn remove(&self, path: &Path) -> Result<(), FileStoreError> {
        match fs::remove_file(path) {
            Ok(()) => self.dir.sync(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(FileStoreError::io("remove a session file")(e)),
        }
    }

    pub(crate) fn load(&self, key: &Key) -> Result<Option<Record>, FileStoreError> {
        let path = self.path(key);
        let file = match open_nofollow(&path) {
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
                self.reclaim(key, &path);
                Ok(None)
            }
            Judged::Damaged(damage) => {
                tracing::warn!(
                    ?key,
                    damage = damage.as_str(),
                    "file store: unreadable session file treated as no session"
                );
                self.reclaim(key, &path);
                Ok(None)
            }
        }
    }

    /// Removes the dead file named `path`, if that can be done without waiting.
    ///
    /// Only if its lock is free at once and, locked, it is still the file of that name and still
    /// expired or unreadable (a writer may have replaced it). A load never waits for a lock and
    /// never fails for this: a file left here is the sweeper's.
    fn reclaim(&self, key: &Key, path: &Path) {
        let attempt = || -> Result<bool, FileStoreError> {
            let file = match open_nofollow(path) {
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
            if !still_named(path, &meta).map_err(FileStoreError::io("stat a session file"))?
                || matches!(self.judge_full(&file, &meta)?, Judged::Live(_))
            {
                return Ok(false);
            }
            self.remove(path)?;
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
        let path = self.path(key);
        let mut temp = self.write_temp(encoded)?;
        loop {
            // No-clobber: renameat2(RENAME_NOREPLACE), or link + unlink where that is missing.
            temp = match temp.persist_noclobber(&path) {
                Ok(_) => {
                    self.dir.sync()?;
                    return Ok(true);
                }
                Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => e.file,
                Err(e) => return Err(FileStoreError::io("link a new session file")(e.error)),
            };
            match self.lock(&path)? {
                // Removed since: try the no-clobber rename again.
                Entry::Absent => continue,
                // A symbolic link or other junk under a session's name is replaced, not followed.
                Entry::Odd => {
                    self.replace(temp, &path)?;
                    return Ok(true);
                }
                // The rare path (a collision, or an expired file under this name): decoded in
                // full, so that only a session `load` would return blocks the name.
                Entry::Locked(file, meta) => match self.judge_full(&file, &meta)? {
                    Judged::Live(_) => return Ok(false),
                    Judged::Expired | Judged::Damaged(_) => {
                        self.replace(temp, &path)?;
                        return Ok(true);
                    }
                },
            }
        }
    }

    pub(crate) fn save(&self, key: &Key, encoded: &Encoded) -> Result<bool, FileStoreError> {
        let path = self.path(key);
        let Entry::Locked(file, meta) = self.lock(&path)? else {
            return Ok(false);
        };
        match self
            .judge_header(&file, &meta, self.clock.now())
            .map_err(FileStoreError::io("read a session file"))?
        {
            Judged::Live(()) => {
                let temp = self.write_temp(encoded)?;
                self.replace(temp, &path)?;
                Ok(true)
            }
            Judged::Expired | Judged::Damaged(_) => {
                self.remove(&path)?;
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
        let path = self.path(key);
        let Entry::Locked(file, meta) = self.lock(&path)? else {
            return Ok(false);
        };
        match self.judge_full(&file, &meta)? {
            Judged::Live(mut record) => {
                change(&mut record);
                let temp = self.write_temp(&self.encode(&record)?)?;
                self.replace(temp, &path)?;
                Ok(true)
            }
            Judged::Expired | Judged::Damaged(_) => {
                self.remove(&path)?;
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
        let path = self.path(key);
        let Entry::Locked(file, meta) = self.lock(&path)? else {
            return Ok(false);
        };
        let live = matches!(
            self.judge_header(&file, &meta, self.clock.now())
                .map_err(FileStoreError::io("read a session file"))?,
            Judged::Live(())
        );
        self.remove(&path)?;
        Ok(live)
    }
}

/// An error opening an entry that is there but is no session file we can read.
///
/// A socket (`ENXIO`) or a file without read permission. Treated as no session.
fn is_odd_entry_error(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::PermissionDenied || error.raw_os_error() == Some(6)
}
