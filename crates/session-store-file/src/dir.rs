//! The session directory: created private, refused when unsafe, then used only through its handle.
//!
//! Created with mode 0700 when missing; refused when others can write to it or it is not ours.
//! The checks are made on the handle opened at start, and every later operation (open, create,
//! rename, remove, list, `fsync`) goes through that handle (`openat`, `renameat`, `unlinkat`),
//! never through the directory's name: renaming the directory away and putting another directory
//! or a symbolic link in its place redirects nothing.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

use crate::FileStoreError;

/// Permission bits that let someone other than the owner create, remove or rename entries.
const OTHERS_WRITE: u32 = 0o022;

/// An open, checked session directory.
#[derive(Debug)]
pub(crate) struct SessionDir {
    /// The name it was opened by: for messages and [`FileStore::dir`](crate::FileStore::dir) only.
    pub(crate) path: PathBuf,
    /// The directory that was checked; every operation is relative to it.
    handle: File,
    /// A private directory this store created: emptied and removed when the store goes.
    private: bool,
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
            private: false,
        })
    }

    /// Opens the private directory this store just created at `path`; removed with the store.
    ///
    /// If it cannot be opened, it is removed at once.
    pub(crate) fn open_private(path: &Path) -> Result<SessionDir, FileStoreError> {
        match SessionDir::open(path) {
            Ok(mut dir) => {
                dir.private = true;
                Ok(dir)
            }
            Err(error) => {
                let _ = fs::remove_dir(path);
                Err(error)
            }
        }
    }

    /// Opens the entry `name` for reading, without following a symbolic link or blocking on a FIFO.
    ///
    /// A symbolic link fails with `ELOOP`.
    pub(crate) fn open_entry(&self, name: &str) -> io::Result<File> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        Ok(rustix::fs::openat(&self.handle, name, flags, Mode::empty())?.into())
    }

    /// Creates the new file `name` with the permissions `mode` for writing; `EEXIST` if anything
    /// has that name.
    pub(crate) fn create_new(&self, name: &str, mode: Mode) -> io::Result<File> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        Ok(rustix::fs::openat(&self.handle, name, flags, mode)?.into())
    }

    /// The directory's handle, for the subject index's `*at` calls.
    pub(crate) fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.handle)
    }

    /// Whether the open file `meta` describes is still the one named `name`.
    ///
    /// Not replaced by a rename, not removed; checked after taking its lock.
    pub(crate) fn still_named(&self, name: &str, meta: &fs::Metadata) -> io::Result<bool> {
        match rustix::fs::statat(&self.handle, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(now) => Ok(same_inode(&now, meta)),
            Err(Errno::NOENT) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Renames the entry `from` to `to`, replacing whatever `to` names.
    pub(crate) fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        Ok(rustix::fs::renameat(&self.handle, from, &self.handle, to)?)
    }

    /// Renames the entry `from` to `to` unless `to` exists; `false` if it does.
    ///
    /// `renameat2(RENAME_NOREPLACE)` (or macOS's `RENAME_EXCL`), or `linkat` then `unlinkat` where
    /// that is missing (older kernels, some file systems, the BSDs).
    pub(crate) fn rename_noclobber(&self, from: &str, to: &str) -> io::Result<bool> {
        #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
        match rustix::fs::renameat_with(
            &self.handle,
            from,
            &self.handle,
            to,
            rustix::fs::RenameFlags::NOREPLACE,
        ) {
            Ok(()) => return Ok(true),
            Err(Errno::EXIST) => return Ok(false),
            // Not supported here: link + unlink below.
            Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {}
            Err(e) => return Err(e.into()),
        }
        match rustix::fs::linkat(&self.handle, from, &self.handle, to, AtFlags::empty()) {
            Ok(()) => {
                // Placed. A temporary name left behind (a second link to the session file) is
                // removed by the sweeper like any stale temporary file.
                let _ = self.remove(from);
                Ok(true)
            }
            Err(Errno::EXIST) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the entry `name` (not a directory); `false` if there was none.
    pub(crate) fn remove(&self, name: impl rustix::path::Arg) -> io::Result<bool> {
        match rustix::fs::unlinkat(&self.handle, name, AtFlags::empty()) {
            Ok(()) => Ok(true),
            Err(Errno::NOENT) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// A new stream of the directory's entries (its own position; `.` and `..` included: see
    /// [`is_self_or_parent`]).
    pub(crate) fn list(&self) -> io::Result<rustix::fs::Dir> {
        Ok(rustix::fs::Dir::read_from(&self.handle)?)
    }

    /// Makes renames and removals in the directory durable.
    pub(crate) fn sync(&self) -> Result<(), FileStoreError> {
        self.handle
            .sync_all()
            .map_err(FileStoreError::io("fsync the session directory"))
    }

    /// Empties the private directory through its handle, then removes it by name, if that name
    /// still points to it (`rmdir` removes only an empty directory in any case).
    fn remove_private(&self) {
        crate::index::remove_all(self.fd());
        if let Ok(mut entries) = self.list() {
            while let Some(Ok(entry)) = entries.read() {
                if !is_self_or_parent(entry.file_name().to_bytes()) {
                    let _ = self.remove(entry.file_name());
                }
            }
        }
        let ours = self.handle.metadata();
        let named = rustix::fs::lstat(&self.path);
        if let (Ok(ours), Ok(named)) = (ours, named)
            && same_inode(&named, &ours)
        {
            let _ = fs::remove_dir(&self.path);
        }
    }
}

impl Drop for SessionDir {
    fn drop(&mut self) {
        if self.private {
            self.remove_private();
        }
    }
}

/// Whether `stat` and `meta` describe the same file (device and inode).
// `st_dev` and `st_ino` are not `u64` on every platform.
#[allow(clippy::unnecessary_cast)]
fn same_inode(stat: &rustix::fs::Stat, meta: &fs::Metadata) -> bool {
    stat.st_dev as u64 == meta.dev() && stat.st_ino as u64 == meta.ino()
}

/// Whether `error` is `ELOOP`: the name is a symbolic link, which the store never follows.
pub(crate) fn is_symlink_error(error: &io::Error) -> bool {
    Errno::from_io_error(error) == Some(Errno::LOOP)
}

/// Whether a listed name is `.` or `..`, which a listing includes but are no entries to examine.
pub(crate) fn is_self_or_parent(name: &[u8]) -> bool {
    name == b"." || name == b".."
}
