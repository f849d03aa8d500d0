//! [`FileStoreError`]: what can go wrong opening or using a session directory.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::path::PathBuf;

use session_core::store::{CodecError, StoreError, StoreErrorKind};

/// Why a [`FileStore`](crate::FileStore) could not be opened, or an operation on it failed.
///
/// Construction errors name the directory; errors of a session operation do not name the session
/// file (its name is a digest of the session id: harmless, but of no use in a log either).
/// Operation errors reach the engine as a [`StoreError`] whose `source()` is this error.
#[derive(Debug)]
#[non_exhaustive]
pub enum FileStoreError {
    /// The path names something other than a directory.
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// The path is a symbolic link; pass the directory's real path.
    Symlink {
        /// The path given.
        path: PathBuf,
    },
    /// The directory is writable by its group or by everyone.
    ///
    /// Another user could then plant or replace session files (forging sessions).
    Writable {
        /// The directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The directory belongs to another user.
    NotOwned {
        /// The directory.
        path: PathBuf,
        /// Its owner's uid.
        owner: u32,
        /// This process's effective uid.
        uid: u32,
    },
    /// A file system operation failed.
    Io {
        /// What was being done, e.g. `"rename into place"`.
        op: &'static str,
        /// The operating system's error.
        source: io::Error,
    },
    /// The codec could not encode the record.
    Codec(CodecError),
    /// The encoded record is larger than the store's limit.
    TooLarge {
        /// The encoded size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The blocking task that did the I/O panicked or was cancelled.
    Worker(tokio::task::JoinError),
}

impl FileStoreError {
    /// An I/O error during `op`.
    pub(crate) fn io(op: &'static str) -> impl FnOnce(io::Error) -> FileStoreError {
        move |source| FileStoreError::Io { op, source }
    }
}

impl fmt::Display for FileStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileStoreError::NotADirectory { path } => {
                write!(f, "session directory {} is not a directory", path.display())
            }
            FileStoreError::Symlink { path } => write!(
                f,
                "session directory {} is a symbolic link: pass its real path",
                path.display()
            ),
            FileStoreError::Writable { path, mode } => write!(
                f,
                "session directory {} is writable by other users (mode {:o}): it must be \
                 writable by its owner only (e.g. 0700)",
                path.display(),
                mode & 0o7777
            ),
            FileStoreError::NotOwned { path, owner, uid } => write!(
                f,
                "session directory {} belongs to uid {owner}, not to this process (uid {uid})",
                path.display()
            ),
            FileStoreError::Io { op, .. } => write!(f, "file store I/O failed: {op}"),
            FileStoreError::Codec(_) => f.write_str("the session record could not be encoded"),
            FileStoreError::TooLarge { size, limit } => write!(
                f,
                "encoded session record of {size} bytes exceeds the file store's limit of {limit} bytes"
            ),
            FileStoreError::Worker(_) => f.write_str("the file store's blocking task failed"),
        }
    }
}

impl StdError for FileStoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            FileStoreError::Io { source, .. } => Some(source),
            FileStoreError::Codec(e) => Some(e),
            FileStoreError::Worker(e) => Some(e),
            FileStoreError::NotADirectory { .. }
            | FileStoreError::Symlink { .. }
            | FileStoreError::Writable { .. }
            | FileStoreError::NotOwned { .. }
            | FileStoreError::TooLarge { .. } => None,
        }
    }
}

impl From<FileStoreError> for StoreError {
    fn from(error: FileStoreError) -> Self {
        let kind = match error {
            FileStoreError::Codec(_) => StoreErrorKind::Codec,
            FileStoreError::TooLarge { .. } => StoreErrorKind::TooLarge,
            _ => StoreErrorKind::Backend,
        };
        StoreError::new(kind, error)
    }
}
