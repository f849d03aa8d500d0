//! The sweeper's walk over the subject index: entries whose session is gone, dead or no longer
//! bound are removed, then subject directories left empty.
//!
//! Like the walk over session files, it streams the directories, never follows a link, never
//! waits for a lock (an entry whose session is being written is left for the next pass), and
//! reads at most a session file's 16-byte header: a live session file marked bound keeps its
//! entry (a listing, which decodes the record, drops an entry whose record is bound elsewhere).

use std::fs;
use std::io;
use std::os::fd::BorrowedFd;

use rustix::fs::Dir;
use session_core::store::{Key, Timestamp};

use crate::Cleanup;
use crate::core::{Core, FileName};
use crate::dir::is_self_or_parent;
use crate::format::marked_bound;
use crate::index::{INDEX_DIR, open_dir, remove_entry, remove_if_empty};
use crate::judge::Judged;

/// Where a walk over the index is: the stream of `subjects`, and of the subject being walked.
#[derive(Debug)]
pub(crate) struct IndexWalk {
    subjects: Dir,
    current: Option<(String, Dir)>,
}

/// What the index says about a session, judged by its record file.
enum Entry {
    Kept,
    /// Its record is being written (locked, or replaced since it was opened).
    Busy,
    /// Its record is dead, or live and unbound.
    Dead,
    /// No record file, or junk in its place: removed once the entry is stale.
    Missing,
}

impl IndexWalk {
    /// A walk from the start of the index; `None` if there is no index (or junk in its place).
    pub(crate) fn start(root: BorrowedFd<'_>) -> io::Result<Option<IndexWalk>> {
        let Some(index) = open_dir(root, INDEX_DIR)? else {
            return Ok(None);
        };
        Ok(Some(IndexWalk {
            subjects: Dir::new(index)?,
            current: None,
        }))
    }
}

impl Core {
    /// Examines up to `budget` entries of the index from `walk`; the number examined and whether
    /// the walk reached the index's end.
    pub(crate) fn sweep_index(
        &self,
        walk: &mut IndexWalk,
        budget: usize,
        now: Timestamp,
        report: &mut Cleanup,
    ) -> io::Result<(usize, bool)> {
        let mut examined = 0;
        while examined < budget {
            if let Some((subject, entries)) = &mut walk.current {
                match entries.read() {
                    Some(entry) => {
                        let entry = entry?;
                        let name = entry.file_name().to_bytes();
                        if !is_self_or_parent(name) {
                            examined += 1;
                            self.sweep_index_entry(entries.fd()?, name, now, report);
                        }
                    }
                    None => {
                        let subject = std::mem::take(subject);
                        walk.current = None;
                        if remove_if_empty(walk.subjects.fd()?, &subject)? {
                            report.empty_subjects += 1;
                        }
                    }
                }
                continue;
            }
            let Some(entry) = walk.subjects.read() else {
                return Ok((examined, true));
            };
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if is_self_or_parent(name) {
                continue;
            }
            examined += 1;
            let subject = std::str::from_utf8(name)
                .ok()
                .filter(|n| Key::from_hex(n).is_some());
            // Names the store does not make, and links or files under a subject's name, are
            // left alone.
            match subject {
                Some(subject) => match open_dir(walk.subjects.fd()?, subject)? {
                    Some(dir) => walk.current = Some((subject.to_owned(), Dir::new(dir)?)),
                    None => report.skipped += 1,
                },
                None => report.skipped += 1,
            }
        }
        Ok((examined, false))
    }

    /// Judges the entry `name` of a subject's directory `dir` and removes it if its session is
    /// gone; one that cannot be examined is skipped.
    fn sweep_index_entry(
        &self,
        dir: BorrowedFd<'_>,
        name: &[u8],
        now: Timestamp,
        report: &mut Cleanup,
    ) {
        let Some((name, key)) = std::str::from_utf8(name)
            .ok()
            .and_then(|name| Some((name, Key::from_hex(name)?)))
        else {
            report.skipped += 1;
            return;
        };
        let outcome = self.judge_entry(&key, now).and_then(|entry| match entry {
            Entry::Kept => Ok(()),
            Entry::Busy => {
                report.skipped += 1;
                Ok(())
            }
            Entry::Missing if !self.entry_is_stale(dir, name)? => Ok(()),
            Entry::Dead | Entry::Missing => {
                if remove_entry(dir, name)? {
                    report.index_entries += 1;
                }
                Ok(())
            }
        });
        if let Err(error) = outcome {
            tracing::debug!(%error, "file store cleanup: an index entry could not be examined");
            report.skipped += 1;
        }
    }

    /// Judges `key`'s session file by its header, under its lock (taken without waiting), as the
    /// sweeper judges session files.
    fn judge_entry(&self, key: &Key, now: Timestamp) -> io::Result<Entry> {
        let name = FileName::of(key);
        let Some(file) = self.open_indexed(key)? else {
            return Ok(Entry::Missing);
        };
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Ok(Entry::Missing);
        }
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Ok(Entry::Busy),
            Err(fs::TryLockError::Error(e)) => return Err(e),
        }
        if !self.dir.still_named(name.as_str(), &meta)? {
            return Ok(Entry::Busy);
        }
        Ok(match self.judge_header(&file, &meta, now)? {
            Judged::Live(()) if marked_bound(&meta) => Entry::Kept,
            Judged::Live(()) | Judged::Expired | Judged::Damaged(_) => Entry::Dead,
        })
    }
}
