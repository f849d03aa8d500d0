//! The index per subject: `subjects/<subject key>/<session key>`, an empty file per bound session.
//!
//! Both names are 64 hex digits ([`Key::to_hex`]); a subject's directory is named by
//! [`subject_key`](session_core::subject::subject_key), never by the subject itself. An entry
//! only says "this session may be bound to this subject": a listing reads the session's record
//! to know, and entries whose record is gone, dead or bound elsewhere are removed on the way
//! ([`listing`](crate::listing)) and by the sweeper ([`sweep_index`](crate::sweep_index)).
//!
//! - `create` (and `save`) of a bound record writes its entry first and makes it durable
//!   (`fsync` of the entry, its directory and `subjects`), so a listing after the record's
//!   `create` returned finds it.
//! - Removing a record file marked bound ([`marked_bound`](crate::format::marked_bound)) removes
//!   its entry after it (not made durable: an entry left by a crash is swept).
//! - An entry whose record file is missing is removed only once older than the store's
//!   `stale_temp_after`: a `create` writes the entry a moment before the record.
//!
//! Every directory is opened relative to the session directory's handle with `O_NOFOLLOW`: a
//! symbolic link or a file where a directory should be is never followed (a writer replaces it
//! with a directory; a reader sees no entries). An entry is judged by its name alone and removed
//! with `unlinkat`: its content and type are never read.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::SystemTime;

use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;
use session_core::store::Key;

use crate::FileStoreError;
use crate::core::{Core, FileName};
use crate::dir::is_self_or_parent;

/// The index's directory in the session directory (neither a session's nor a temporary file's
/// name, so older releases leave it alone).
pub(crate) const INDEX_DIR: &str = "subjects";

/// How many times a directory is made again when it vanishes or junk stands in its place.
const ATTEMPTS: usize = 8;

/// Opens the directory `name` in `parent` without following a link; `None` if there is none, or
/// something else (a link, a file) stands there.
pub(crate) fn open_dir(parent: BorrowedFd<'_>, name: &str) -> io::Result<Option<OwnedFd>> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    match rustix::fs::openat(parent, name, flags, Mode::empty()) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::NOENT | Errno::LOOP | Errno::NOTDIR) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Opens the directory `name` in `parent`, making it (0700) if missing and replacing junk (a
/// link, a file) that stands there; whether it was made here.
fn make_dir(parent: BorrowedFd<'_>, name: &str) -> io::Result<(OwnedFd, bool)> {
    for _ in 0..ATTEMPTS {
        let made = match rustix::fs::mkdirat(parent, name, Mode::RWXU) {
            Ok(()) => true,
            Err(Errno::EXIST) => false,
            Err(e) => return Err(e.into()),
        };
        if let Some(fd) = open_dir(parent, name)? {
            return Ok((fd, made));
        }
        // Removed since (an empty subject swept), or junk: a link or a file is removed, never
        // followed; then again.
        match rustix::fs::unlinkat(parent, name, AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(io::Error::other(
        "the subject index keeps changing under the store",
    ))
}

fn sync(fd: impl AsFd) -> io::Result<()> {
    Ok(rustix::fs::fsync(fd)?)
}

impl Core {
    /// Writes `key`'s entry under `subject` if it is missing, and makes it durable.
    pub(crate) fn index(&self, subject: &Key, key: &Key) -> Result<(), FileStoreError> {
        self.index_entry(subject, key)
            .map_err(FileStoreError::io("write a subject index entry"))
    }

    fn index_entry(&self, subject: &Key, key: &Key) -> io::Result<()> {
        let (subject, entry) = (FileName::of(subject), FileName::of(key));
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        for _ in 0..ATTEMPTS {
            let (index, made_index) = make_dir(self.dir.fd(), INDEX_DIR)?;
            let (dir, _) = make_dir(index.as_fd(), subject.as_str())?;
            match rustix::fs::openat(&dir, entry.as_str(), flags, Mode::RUSR | Mode::WUSR) {
                Ok(file) => sync(file)?,
                // Already there (a `save` of a bound record): made durable below all the same.
                Err(Errno::EXIST) => {}
                // The subject's directory was swept away as empty meanwhile: make it again.
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(e.into()),
            }
            sync(&dir)?;
            sync(&index)?;
            if made_index {
                self.dir.sync().map_err(io::Error::other)?;
            }
            return Ok(());
        }
        Err(io::Error::other(
            "the subject index keeps changing under the store",
        ))
    }

    /// Removes `key`'s entry under `subject`, if there is one (not made durable).
    pub(crate) fn unindex(&self, subject: &Key, key: &Key) -> io::Result<()> {
        let Some(index) = open_dir(self.dir.fd(), INDEX_DIR)? else {
            return Ok(());
        };
        let Some(dir) = open_dir(index.as_fd(), FileName::of(subject).as_str())? else {
            return Ok(());
        };
        remove_entry(dir.as_fd(), FileName::of(key).as_str()).map(drop)
    }

    /// After `key`'s record file was removed: removes its index entry if the file was bound.
    ///
    /// Reads nothing for a file not marked bound. Never fails: an entry left here is swept.
    pub(crate) fn forget(&self, key: &Key, file: &std::fs::File, meta: &std::fs::Metadata) {
        let Some(subject) = self.subject_of(file, meta) else {
            return;
        };
        if let Err(error) = self.unindex(&subject, key) {
            tracing::debug!(%error, "file store: an index entry is left to the sweeper");
        }
    }

    /// Whether an entry whose record file is missing is old enough to be removed: older than
    /// `stale_temp_after`, so no `create` is still about to place its record.
    pub(crate) fn entry_is_stale(&self, dir: BorrowedFd<'_>, name: &str) -> io::Result<bool> {
        let stat = match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => stat,
            Err(Errno::NOENT) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let modified = std::time::UNIX_EPOCH
            + std::time::Duration::new(
                u64::try_from(stat.st_mtime).unwrap_or(0),
                u32::try_from(stat.st_mtime_nsec).unwrap_or(0),
            );
        let age = SystemTime::now()
            .duration_since(modified)
            .unwrap_or_default();
        Ok(age >= self.stale_temp_after)
    }
}

/// Removes the entry `name` from a subject's directory; `false` if it was not there, or is a
/// directory (junk, left alone).
pub(crate) fn remove_entry(dir: BorrowedFd<'_>, name: &str) -> io::Result<bool> {
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) => Ok(true),
        Err(Errno::NOENT | Errno::ISDIR | Errno::PERM) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Removes the subject directory `name` from `subjects` if it is empty; `true` if it was.
pub(crate) fn remove_if_empty(index: BorrowedFd<'_>, name: &str) -> io::Result<bool> {
    match rustix::fs::unlinkat(index, name, AtFlags::REMOVEDIR) {
        Ok(()) => Ok(true),
        Err(Errno::NOTEMPTY | Errno::EXIST | Errno::NOENT | Errno::NOTDIR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Removes the whole index under the session directory `root` (a private store going away):
/// entries, subject directories, `subjects`; nothing followed, anything else left in place.
pub(crate) fn remove_all(root: BorrowedFd<'_>) {
    let Ok(Some(index)) = open_dir(root, INDEX_DIR) else {
        return;
    };
    for_each_name(index.as_fd(), |name| {
        if let Ok(Some(dir)) = open_dir(index.as_fd(), name) {
            for_each_name(dir.as_fd(), |entry| {
                let _ = remove_entry(dir.as_fd(), entry);
            });
        }
        let _ = remove_if_empty(index.as_fd(), name);
    });
    let _ = rustix::fs::unlinkat(root, INDEX_DIR, AtFlags::REMOVEDIR);
}

/// Calls `each` with the name of every entry of `dir` (`.` and `..` left out; names that are not
/// UTF-8 too, as the store never makes them).
fn for_each_name(dir: BorrowedFd<'_>, mut each: impl FnMut(&str)) {
    let Ok(mut entries) = rustix::fs::Dir::read_from(dir) else {
        return;
    };
    while let Some(Ok(entry)) = entries.read() {
        let name = entry.file_name().to_bytes();
        if let (false, Ok(name)) = (is_self_or_parent(name), std::str::from_utf8(name)) {
            each(name);
        }
    }
}
