//! Removing what no request will read again.
//!
//! Expired and unreadable session files, temporary files left by a writer that died, and the
//! subject index's entries of sessions that are gone ([`sweep_index`](crate::sweep_index)).

use std::fs;
use std::io;
use std::sync::TryLockError;
use std::time::SystemTime;

use session_core::store::{Key, Timestamp};

use crate::FileStoreError;
use crate::core::Core;
use crate::dir::{is_self_or_parent, is_symlink_error};
use crate::index::INDEX_DIR;
use crate::judge::Judged;
use crate::sweep_index::IndexWalk;
use crate::temp::TEMP_PREFIX;

/// Where the sweeper's bounded passes are.
#[derive(Debug, Default)]
pub(crate) enum Cursor {
    /// Nothing open: the next pass lists the session directory afresh.
    #[default]
    Fresh,
    /// In the session directory's entries.
    Sessions(rustix::fs::Dir),
    /// In the subject index, walked after each full walk of the session directory.
    Index(IndexWalk),
}

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
    /// Subject index entries removed: their session was gone, dead or no longer bound.
    pub index_entries: usize,
    /// Subject directories of the index removed because they were empty.
    pub empty_subjects: usize,
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
        let walk = IndexWalk::start(self.dir.fd()).map_err(FileStoreError::io("open the index"))?;
        if let Some(mut walk) = walk {
            self.sweep_index(&mut walk, usize::MAX, now, &mut report)
                .map_err(FileStoreError::io("list the subject index"))?;
        }
        self.finish_pass(report)
    }

    /// One bounded pass: at most `batch` entries, from where the last pass stopped.
    ///
    /// The directory stream is kept between passes; at its end the pass stops and the next one
    /// walks the subject index (if there is one) the same way, then the directory again from the
    /// top. A pass that finds another one running (the background sweeper and `spawn_cleanup`'s
    /// share the streams) does nothing.
    pub(crate) fn sweep(&self, batch: usize) -> Result<Cleanup, FileStoreError> {
        let mut cursor = match self.sweep_cursor.try_lock() {
            Ok(cursor) => cursor,
            Err(TryLockError::WouldBlock) => return Ok(Cleanup::default()),
            // Nothing panics while it is held; were it to, the streams are still usable.
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        };
        let now = self.clock.now();
        let mut report = Cleanup::default();
        let failed = match &mut *cursor {
            Cursor::Index(walk) => match self.sweep_index(walk, batch, now, &mut report) {
                Ok((_, false)) => None,
                Ok((_, true)) => {
                    *cursor = Cursor::Fresh;
                    None
                }
                Err(error) => Some(("list the subject index", error)),
            },
            Cursor::Fresh | Cursor::Sessions(_) => {
                self.sweep_sessions(&mut cursor, batch, now, &mut report)
            }
        };
        let report = self.finish_pass(report)?;
        match failed {
            None => Ok(report),
            Some((op, error)) => {
                // The next pass lists the directory afresh.
                *cursor = Cursor::Fresh;
                Err(FileStoreError::io(op)(error))
            }
        }
    }

    /// A bounded pass over the session directory's entries; at their end, the next pass goes to
    /// the index if there is one, else to the top again. What failed, if anything.
    fn sweep_sessions(
        &self,
        cursor: &mut Cursor,
        batch: usize,
        now: Timestamp,
        report: &mut Cleanup,
    ) -> Option<(&'static str, io::Error)> {
        if !matches!(cursor, Cursor::Sessions(_)) {
            match self.dir.list() {
                Ok(entries) => *cursor = Cursor::Sessions(entries),
                Err(error) => return Some(("list the session directory", error)),
            }
        }
        let Cursor::Sessions(entries) = cursor else {
            return None;
        };
        let mut examined = 0;
        while examined < batch {
            match entries.read() {
                Some(Ok(entry)) => {
                    if self.sweep_entry(entry.file_name().to_bytes(), now, report) {
                        examined += 1;
                    }
                }
                None => {
                    match IndexWalk::start(self.dir.fd()) {
                        Ok(Some(walk)) => *cursor = Cursor::Index(walk),
                        Ok(None) => entries.rewind(),
                        Err(error) => return Some(("open the subject index", error)),
                    }
                    return None;
                }
                Some(Err(error)) => return Some(("list the session directory", error.into())),
            }
        }
        None
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
        let outcome = if let Some(key) = Key::from_hex(name) {
            self.sweep_session(&key, name, now, report)
        } else if name == INDEX_DIR {
            // Walked on its own, after the session files.
            Ok(())
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
        }
        if report.expired + report.damaged + report.stale_temp + report.index_entries > 0 {
            tracing::debug!(?report, "file store cleanup");
        }
        Ok(report)
    }

    fn sweep_session(
        &self,
        key: &Key,
        name: &str,
        now: Timestamp,
        report: &mut Cleanup,
    ) -> io::Result<()> {
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
                self.forget(key, &file, &meta);
                report.expired += 1;
            }
            Judged::Damaged(damage) => {
                tracing::warn!(
                    damage = damage.as_str(),
                    "file store cleanup: removed an unreadable session file"
                );
                self.dir.remove(name)?;
                self.forget(key, &file, &meta);
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
