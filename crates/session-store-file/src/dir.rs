//! The session directory: created private, refused when unsafe, kept open for `fsync`.
//!
//! Created with mode 0700 when missing; refused when others can write to it or it is not ours.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::OFlags;
use rustix::io::Errno;

use crate::FileStoreError;

/// Permission bits that let someone other than the owner create, remove or rename entries.
const OTHERS_WRITE: u32 = 0o022;

/// An open, checked session directory.
#[derive(Debug)]
pub(crate) struct SessionDir {
    pub(crate) path: PathBuf,
    /// Kept open so that each write can `fsync` the directory without opening it again.
    pub(crate) handle: File,
}

impl SessionDir {
    /// Opens `path`, creating it (and missing parents) with mode 0700 if missing, and checks it.
    ///
    /// It must be a directory, not a symbolic link, owned by this process's effective user, and
    /// writable by nobody else.
    pub(crate) fn open(path: &Path) -> Result<SessionDir, FileStoreError> {
        match DirBuilder::new().recursive(true).mode(0o700).create(path) {
            Ok(()) => {}
            // A file where the directory should be is reported as such by the checks below.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(FileStoreError::Io {
                    op: "create the session directory",
                    source,
                });
            }
        }
        // Open first and check the open handle, so that what is checked is what is used.
        let handle = OpenOptions::new()
            .read(true)
            .custom_flags((OFlags::NOFOLLOW | OFlags::DIRECTORY).bits() as i32)
            .open(path)
            .map_err(|source| match Errno::from_io_error(&source) {
                Some(Errno::LOOP) => FileStoreError::Symlink { path: path.into() },
                // O_NOFOLLOW with O_DIRECTORY reports a link as "not a directory" on Linux.
                Some(Errno::NOTDIR) if fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink()) => {
                    FileStoreError::Symlink { path: path.into() }
                }
                Some(Errno::NOTDIR) => FileStoreError::NotADirectory { path: path.into() },
                _ => FileStoreError::Io {
                    op: "open the session directory",
                    source,
                },
            })?;
        let meta = handle
            .metadata()
            .map_err(FileStoreError::io("stat the session directory"))?;
        if !meta.is_dir() {
            return Err(FileStoreError::NotADirectory { path: path.into() });
        }
        let uid = rustix::process::geteuid().as_raw();
        if meta.uid() != uid {
            return Err(FileStoreError::NotOwned {
                path: path.into(),
                owner: meta.uid(),
                uid,
            });
        }
        if meta.mode() & OTHERS_WRITE != 0 {
            return Err(FileStoreError::Writable {
                path: path.into(),
                mode: meta.mode(),
            });
        }
        Ok(SessionDir {
            path: path.into(),
            handle,
        })
    }

    /// Makes renames and removals in the directory durable.
    pub(crate) fn sync(&self) -> Result<(), FileStoreError> {
        self.handle
            .sync_all()
            .map_err(FileStoreError::io("fsync the session directory"))
    }
}

/// Opens an existing file for reading, without following a symbolic link or blocking on a FIFO.
///
/// A symbolic link fails with `ELOOP`.
pub(crate) fn open_nofollow(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK).bits() as i32)
        .open(path)
}

/// Whether `error` is `ELOOP`: the name is a symbolic link, which the store never follows.
pub(crate) fn is_symlink_error(error: &io::Error) -> bool {
    Errno::from_io_error(error) == Some(Errno::LOOP)
}

/// Whether the open file `meta` describes is still the one named `path`.
///
/// Not replaced by a rename, not removed; checked after taking its lock.
pub(crate) fn still_named(path: &Path, meta: &fs::Metadata) -> io::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(now) => Ok(now.dev() == meta.dev() && now.ino() == meta.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}
