//! Removing what no request will read again.
//!
//! Expired and unreadable session files, and temporary files left by a writer that died.

use std::fs;
use std::io;
use std::time::SystemTime;

use session_core::store::Key;

use crate::FileStoreError;
use crate::core::{Core, TEMP_PREFIX};
use crate::judge::Judged;

/// What one [`cleanup`](crate::FileStore::cleanup) pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cleanup {
    /// Session files removed because they had expired.
    pub expired: usize,
    /// Session files removed because they could not be read (bad header, truncated, too large).
    pub damaged: usize,
    /// Temporary files removed because they were older than the store's `stale_temp_after`.
    pub stale_temp: usize,
    /// Entries left alone.
    ///
    /// Names that are neither sessions nor temporary files, symbolic links, directories, and
    /// sessions locked by a writer at that moment (the next pass sees them).
    pub skipped: usize,
}

impl Core {
    /// One pass over the directory.
    ///
    /// Streams its entries (constant memory), never follows a symbolic link, never waits for a lock
    /// (a busy session is skipped), and reads at most the 16-byte header of each session file.
    pub(crate) fn cleanup(&self) -> Result<Cleanup, FileStoreError> {
        let mut report = Cleanup::default();
        let now = self.clock.now();
        let entries = fs::read_dir(&self.dir.path)
            .map_err(FileStoreError::io("list the session directory"))?;
        for entry in entries {
            let entry = entry.map_err(FileStoreError::io("list the session directory"))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                report.skipped += 1;
                continue;
            };
            let outcome = if Key::from_hex(name).is_some() {
                self.sweep_session(&entry.path(), now, &mut report)
            } else if name.starts_with(TEMP_PREFIX) {
                self.sweep_temp(&entry, &mut report)
            } else {
                report.skipped += 1;
                Ok(())
            };
            if let Err(error) = outcome {
                // One entry failing (removed under our feet, a permission problem) does not stop
                // the pass.
                tracing::debug!(%error, "file store cleanup: an entry could not be examined");
                report.skipped += 1;
            }
        }
        if report.expired + report.damaged + report.stale_temp > 0 {
            // One directory fsync for the whole pass.
            self.dir.sync()?;
            tracing::debug!(?report, "file store cleanup");
        }
        Ok(report)
    }

    fn sweep_session(
        &self,
        path: &std::path::Path,
        now: session_core::store::Timestamp,
        report: &mut Cleanup,
    ) -> io::Result<()> {
        let file = match crate::dir::open_nofollow(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if crate::dir::is_symlink_error(&e) => {
                report.skipped += 1;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let meta = file.metadata()?;
        if !meta.is_file() {
            report.skipped += 1;
            return Ok(());
        }
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                report.skipped += 1;
                return Ok(());
            }
            Err(fs::TryLockError::Error(e)) => return Err(e),
        }
        if !crate::dir::still_named(path, &meta)? {
            // Replaced since it was listed: the new file is judged at the next pass.
            report.skipped += 1;
            return Ok(());
        }
        match self.judge_header(&file, &meta, now)? {
            Judged::Live(()) => {}
            Judged::Expired => {
                remove(path)?;
                report.expired += 1;
            }
            Judged::Damaged(damage) => {
                tracing::warn!(
                    damage = damage.as_str(),
                    "file store cleanup: removed an unreadable session file"
                );
                remove(path)?;
                report.damaged += 1;
            }
        }
        Ok(())
    }

    fn sweep_temp(&self, entry: &fs::DirEntry, report: &mut Cleanup) -> io::Result<()> {
        // DirEntry::metadata does not follow symbolic links.
        let meta = entry.metadata()?;
        if !meta.is_file() {
            report.skipped += 1;
            return Ok(());
        }
        let age = meta
            .modified()
            .ok()
            .and_then(|at| SystemTime::now().duration_since(at).ok())
            .unwrap_or_default();
        if age >= self.stale_temp_after {
            remove(&entry.path())?;
            report.stale_temp += 1;
        }
        Ok(())
    }
}

fn remove(path: &std::path::Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
