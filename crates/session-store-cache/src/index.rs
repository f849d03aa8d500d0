//! The index of [`MokaCache`](crate::MokaCache)'s bound sessions per subject.
//!
//! It maps a [`subject_key`](session_core::store::subject_key) to the entries bound to that
//! subject, each with the session's key. It holds the entries weakly: moka alone keeps an entry
//! alive, and an entry takes itself out of the index when it ends (a removal, a replacement) or
//! when it is dropped (moka evicted it, or dropped it past its deadline), so the index holds no
//! more than what moka still holds in memory. (moka frees a dropped entry's memory through
//! epoch-based reclamation, a little later; [`MokaCache::run_pending_tasks`] also sweeps the
//! index of every entry moka no longer serves.)
//!
//! [`MokaCache::run_pending_tasks`]: crate::MokaCache::run_pending_tasks

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, Weak};

use session_core::store::Key;

use crate::entry::Entry;

/// How many locks the subjects are spread over.
const SHARDS: usize = 16;

/// One subject's entries: the session's key and the entry.
type Listed = Vec<(Key, Weak<Entry>)>;

/// Bound entries by subject digest.
#[derive(Default)]
pub(crate) struct Index {
    shards: [Mutex<HashMap<Key, Listed>>; SHARDS],
}

impl Index {
    fn shard(&self, subject: &Key) -> MutexGuard<'_, HashMap<Key, Listed>> {
        let index = usize::from(subject.digest()[0]) % SHARDS;
        // Plain data, no code panics while holding it; recover regardless.
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Lists `entry`, stored under `key`, under `subject`.
    ///
    /// Any other entry listed for `key` under the subject is dropped from the list: only one entry
    /// per key is current, and it is the newest.
    pub(crate) fn add(&self, subject: Key, key: Key, entry: Weak<Entry>) {
        let mut shard = self.shard(&subject);
        let listed = shard.entry(subject).or_default();
        listed.retain(|(held, _)| *held != key);
        listed.push((key, entry));
    }

    /// Takes the entry at `entry` (stored under `key`) out of `subject`'s list, if it is there.
    pub(crate) fn remove(&self, subject: &Key, key: &Key, entry: *const Entry) {
        let mut shard = self.shard(subject);
        if let Some(listed) = shard.get_mut(subject) {
            listed.retain(|(held, weak)| !(held == key && std::ptr::eq(weak.as_ptr(), entry)));
            if listed.is_empty() {
                shard.remove(subject);
            }
        }
    }

    /// The entries listed under `subject` (a copy: the caller reads them without the lock).
    pub(crate) fn listed(&self, subject: &Key) -> Listed {
        self.shard(subject)
            .get(subject)
            .cloned()
            .unwrap_or_default()
    }

    /// Every entry listed: subject digest, key and entry (a copy, for a sweep).
    pub(crate) fn all(&self) -> Vec<(Key, Key, Weak<Entry>)> {
        let mut all = Vec::new();
        for shard in &self.shards {
            let shard = shard
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for (subject, listed) in shard.iter() {
                all.extend(
                    listed
                        .iter()
                        .map(|(key, entry)| (*subject, *key, entry.clone())),
                );
            }
        }
        all
    }

    /// How many entries are listed, over all subjects.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                let shard = shard
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                shard.values().map(Vec::len).sum::<usize>()
            })
            .sum()
    }
}
