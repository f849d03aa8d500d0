//! Removing what no request will read again.
//!
//! Expired and unreadable session files, and temporary files left by a writer that died.

use std::fs;
use std::io;
use std::sync::TryLockError;
use std::time::SystemTime;

use session_core::store::{Key, Timestamp};

use crate::FileStoreError;
use crate::core::Core;
use crate::dir::{is_self_or_parent, is_symlink_error};
use crate::judge::Judged;
use crate::temp::TEMP_PREFIX;

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
    /// Streams its entries (constant memory) through the directory's handle, never follows a
    /// symbolic link, never waits for a lock (a busy session is skipped), and reads at most the
    /// 16-byte header of each session file.
    pub(crate) fn cleanup(&self) -> Result<Cleanup, FileStoreError> {
        let mut report = Cleanup::default();
        let now = self.clock.now();
        let mut entries = self
            .dir
            .list()
            .map_err(FileStoreError::io("list the session directory"))?;
        while let Some(entry) = entries.read() {
            let entry =
                entry.map_err(|e| FileStoreError::io("list the session directory")(e.into()))?;
            self.sweep_entry(entry.file_name().to_bytes(), now, &mut report);
        }
        self.finish_pass(report)
    }

    /// One bounded pass: at most `batch` entries, from where the last pass stopped.
    ///
    /// The directory stream is kept between passes; at its end the pass stops and the stream is
    /// rewound, so the next pass starts from the top. A pass that finds another one running (the
    /// background sweeper and `spawn_cleanup`'s share the stream) does nothing.
    pub(crate) fn sweep(&self, batch: usize) -> Result<Cleanup, FileStoreError> {
        let mut cursor = match self.sweep_cursor.try_lock() {
            Ok(cursor) => cursor,
            Err(TryLockError::WouldBlock) => return Ok(Cleanup::default()),
            // Nothing panics while it is held; were it to, the stream is still usable.
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        };
        let entries = match cursor.as_mut() {
            Some(entries) => entries,
            None => cursor.insert(
                self.dir
                    .list()
                    .map_err(FileStoreError::io("list the session directory"))?,
            ),
        };
        let now = self.clock.now();
        let mut report = Cleanup::default();
        let (mut examined, mut failed) = (0, None);
        while examined < batch {
            match entries.read() {
                Some(Ok(entry)) => {
                    if self.sweep_entry(entry.file_name().to_bytes(), now, &mut report) {
                        examined += 1;
                    }
                }
                None => {
                    entries.rewind();
                    break;
                }
                Some(Err(error)) => {
                    failed = Some(error);
                    break;
                }
            }
        }
        let report = self.finish_pass(report)?;
        match failed {
            None => Ok(report),
            Some(error) => {
                // The next pass lists the directory afresh.
                *cursor = None;
                Err(FileStoreError::io("list the session directory")(
                    error.into(),
                ))
            }
        }
    }

    /// Judges the entry `name` and removes it if it is dead; `false` for `.` and `..`, which are
    /// not entries to examine.
    fn sweep_entry(&self, name: &[u8], now: Timestamp, report: &mut Cleanup) -> bool {
        if is_self_or_parent(name) {
            return false;
        }
        let Ok(name) = std::str::from_utf8(name) else {
            report.skipped += 1;
            return true;
        };
        let outcome = if Key::from_hex(name).is_some() {
            self.sweep_session(name, now, report)
        } else if name.starts_with(TEMP_PREFIX) {
            self.sweep_temp(name, report)
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
        true
    }

    /// Makes a pass's removals durable (one directory `fsync` for the whole pass).
    fn finish_pass(&self, report: Cleanup) -> Result<Cleanup, FileStoreError> {
        if report.expired + report.damaged + report.stale_temp > 0 {
            self.dir.sync()?;
            tracing::debug!(?report, "file store cleanup");
        }
        Ok(report)
    }

    fn sweep_session(&self, name: &str, now: Timestamp, report: &mut Cleanup) -> io::Result<()> {
        let file = match self.dir.open_entry(name) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if is_symlink_error(&e) => {
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
        if !self.dir.still_named(name, &meta)? {
            // Replaced since it was listed: the new file is judged at the next pass.
            report.skipped += 1;
            return Ok(());
        }
        match self.judge_header(&file, &meta, now)? {
            Judged::Live(()) => {}
            Judged::Expired => {
                self.dir.remove(name)?;
                report.expired += 1;
            }
            Judged::Damaged(damage) => {
                tracing::warn!(
                    damage = damage.as_str(),
                    "file store cleanup: removed an unreadable session file"
                );
                self.dir.remove(name)?;
                report.damaged += 1;
            }
        }
        Ok(())
    }

    fn sweep_temp(&self, name: &str, report: &mut Cleanup) -> io::Result<()> {
        // Opened without following a symbolic link (a link is skipped) nor blocking on a FIFO.
        let meta = match self.dir.open_entry(name) {
            Ok(file) => file.metadata()?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if is_symlink_error(&e) => {
                report.skipped += 1;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
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
            self.dir.remove(name)?;
            report.stale_temp += 1;
        }
        Ok(())
    }
}
