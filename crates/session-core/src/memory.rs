//! [`MemoryStore`]: the default store, in this process's memory.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use crate::clock::{Clock, SystemClock};
use crate::error::StoreError;
use crate::id::Key;
use crate::record::{Changes, Record};
use crate::store::Store;
use crate::subject::{BoundSession, subject_key};

mod shard;

use shard::{Limits, Shard, Wrote};

const SHARDS: usize = 16;

/// Sessions in this process's memory: fast, and gone when the process ends.
///
/// For development, tests and single-process servers; use a shared store (files for one machine,
/// Redis for many) when several processes serve the same users.
///
/// - **Bound**: the sessions held are bounded by their estimated size,
///   [`DEFAULT_MAX_BYTES`](MemoryStore::DEFAULT_MAX_BYTES) (256 MiB) unless
///   [`max_bytes`](MemoryStore::max_bytes) says otherwise, and optionally by their number
///   ([`max_sessions`](MemoryStore::max_sessions)). A write that goes past a bound evicts the
///   least recently used sessions (the ones loaded or written longest ago) until the store is
///   within it again, never the session being written: a fresh login is never refused. The
///   first eviction is logged (a `tracing` warning, once per store). The bound protects the
///   process, not the sessions: a client that creates sessions without end (a request without a
///   cookie that writes to the session makes one) evicts the idle ones, logged-in users' among
///   them. Write to the session only when there is something worth keeping (after a login, say),
///   limit how fast clients can create sessions, or use a store with room for them all.
/// - **Size**: a session counts for the length of its value names and JSON texts, plus 128 bytes
///   per value and 768 bytes per session: an estimate of what holding it costs (its key, its
///   index and list entries, the record, the value map's nodes and the allocations of each
///   name and text), so that the bound is close to the memory the sessions take. Measured on
///   x86-64 Linux: a session of one small value takes about 800 bytes, of 11 about 1.4 KiB, of
///   30 about 5 KiB (counted as 900 bytes, 2.2 KiB and 4.6 KiB).
/// - **Concurrency**: entries are spread over 16 independently locked shards, each with a
///   sixteenth of the bounds and its own least-recently-used order (so eviction is approximate
///   across shards, exact within one); [`apply`](Store::apply) runs under the shard's lock, so
///   concurrent requests writing different keys of one session keep every write. Every operation
///   takes constant time, whatever the store's size (eviction: amortised over the writes).
/// - **Sessions per subject**: each shard lists its bound sessions by subject digest, updated
///   with the records themselves (an entry goes when its session is deleted, expires or is
///   evicted), so [`list_subject`](Store::list_subject) visits the 16 shards and the subject's
///   sessions only.
/// - **Expiry**: an expired record is never returned, and is removed when a call finds it. Each
///   create also examines 8 sessions of its shard for expiry, moving on from where the last one
///   stopped, so the whole shard is swept without a create ever paying for a full pass;
///   [`sweep`](MemoryStore::sweep) removes every expired session at once on demand.
///
/// Clones share the same sessions.
///
/// ```
/// use session_core::MemoryStore;
/// use session_core::store::{Key, Record, Store, Timestamp};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = MemoryStore::default();
/// let key = Key::from_digest([7; 32]);
/// let record = Record::new(Timestamp::from_millis(0), Timestamp::from_millis(u64::MAX));
/// assert!(store.create(&key, &record).await.unwrap());
/// assert!(!store.create(&key, &record).await.unwrap(), "create never overwrites");
/// assert_eq!(store.load(&key).await.unwrap(), Some(record));
/// assert_eq!(store.estimated_bytes(), 768, "an empty session counts for 768 bytes");
/// # });
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    shards: [Mutex<Shard>; SHARDS],
    /// The bounds as configured, for the whole store.
    max_bytes: usize,
    max_sessions: Option<usize>,
    /// Each shard's share of them.
    per_shard: Limits,
    /// Shared with the stores configured from this one.
    clock: Arc<dyn Clock>,
    /// Whether an eviction has been logged.
    evicting: AtomicBool,
}

impl MemoryStore {
    /// The size bound unless [`max_bytes`](MemoryStore::max_bytes) says otherwise: 256 MiB.
    pub const DEFAULT_MAX_BYTES: usize = 256 << 20;

    /// A store bounded to [`DEFAULT_MAX_BYTES`](MemoryStore::DEFAULT_MAX_BYTES), on the system
    /// clock.
    pub fn new() -> Self {
        MemoryStore::build(Self::DEFAULT_MAX_BYTES, None, Arc::new(SystemClock))
    }

    /// A store holding sessions of at most about `max` bytes in all (see the type's docs for how
    /// a session is counted; `usize::MAX` for no bound); the same as
    /// `MemoryStore::new().max_bytes(max)`.
    pub fn with_max_bytes(max: usize) -> Self {
        MemoryStore::new().max_bytes(max)
    }

    /// A store holding at most about `max` sessions (rounded up to a multiple of 16), within the
    /// default size bound too; the same as `MemoryStore::new().max_sessions(max)`.
    pub fn with_max_sessions(max: usize) -> Self {
        MemoryStore::new().max_sessions(max)
    }

    /// A new, empty store with this one's configuration and a size bound of `max` bytes (each of
    /// the 16 shards gets a sixteenth, rounded up).
    pub fn max_bytes(self, max: usize) -> Self {
        let max_sessions = self.inner.max_sessions;
        MemoryStore::build(max, max_sessions, self.inner.clock.clone())
    }

    /// A new, empty store with this one's configuration and a bound of about `max` sessions
    /// (rounded up to a multiple of 16, at least one per shard).
    pub fn max_sessions(self, max: usize) -> Self {
        let max_bytes = self.inner.max_bytes;
        MemoryStore::build(max_bytes, Some(max), self.inner.clock.clone())
    }

    /// A new, empty store with this one's configuration, reading time from `clock` (share it with
    /// the engine in tests).
    pub fn clock(self, clock: impl Clock) -> Self {
        let (max_bytes, max_sessions) = (self.inner.max_bytes, self.inner.max_sessions);
        MemoryStore::build(max_bytes, max_sessions, Arc::new(clock))
    }

    fn build(max_bytes: usize, max_sessions: Option<usize>, clock: Arc<dyn Clock>) -> Self {
        let per_shard = Limits {
            bytes: max_bytes.div_ceil(SHARDS),
            sessions: max_sessions.map_or(usize::MAX, |max| max.div_ceil(SHARDS).max(1)),
        };
        MemoryStore {
            inner: Arc::new(Inner {
                shards: std::array::from_fn(|_| Mutex::new(Shard::new())),
                max_bytes,
                max_sessions,
                per_shard,
                clock,
                evicting: AtomicBool::new(false),
            }),
        }
    }

    fn shard(&self, key: &Key) -> MutexGuard<'_, Shard> {
        let index = usize::from(key.digest()[0]) % SHARDS;
        lock(&self.inner.shards[index])
    }

    /// Removes every expired session now; returns how many were removed.
    ///
    /// This visits every session; the store also sweeps by itself, a few sessions per create.
    pub fn sweep(&self) -> usize {
        let now = self.inner.clock.now();
        let shards = self.inner.shards.iter();
        shards.map(|shard| lock(shard).sweep(now)).sum()
    }

    /// How many sessions are held, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.inner
            .shards
            .iter()
            .map(|shard| lock(shard).len())
            .sum()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The estimated size of the sessions held, as the size bound counts it (see the type's docs).
    pub fn estimated_bytes(&self) -> usize {
        self.inner
            .shards
            .iter()
            .map(|shard| lock(shard).bytes())
            .sum()
    }

    /// The outcome of a write, the first eviction logged.
    fn wrote(&self, wrote: Wrote) -> bool {
        if wrote.evicted > 0
            && !self.inner.evicting.load(Ordering::Relaxed)
            && !self.inner.evicting.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                max_bytes = self.inner.max_bytes,
                max_sessions = ?self.inner.max_sessions,
                "memory store full: evicting the least recently used sessions (logged once)"
            );
        }
        wrote.done
    }
}

fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("max_bytes", &self.inner.max_bytes)
            .field("max_sessions", &self.inner.max_sessions)
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        let now = self.inner.clock.now();
        Ok(self.shard(key).load(key, now))
    }

    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        let now = self.inner.clock.now();
        let wrote = self
            .shard(key)
            .create(key, record, now, self.inner.per_shard);
        Ok(self.wrote(wrote))
    }

    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        let now = self.inner.clock.now();
        let wrote = self.shard(key).save(key, record, now, self.inner.per_shard);
        Ok(self.wrote(wrote))
    }

    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        let now = self.inner.clock.now();
        Ok(self.shard(key).delete(key, now))
    }

    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        let now = self.inner.clock.now();
        let wrote = self
            .shard(key)
            .apply(key, changes, now, self.inner.per_shard);
        Ok(self.wrote(wrote))
    }

    fn applies_atomically(&self) -> bool {
        true
    }

    fn lists_subjects(&self) -> bool {
        true
    }

    async fn list_subject(&self, subject: &str) -> Result<Vec<BoundSession>, StoreError> {
        let now = self.inner.clock.now();
        let digest = subject_key(subject);
        let shards = self.inner.shards.iter();
        Ok(shards
            .flat_map(|shard| lock(shard).bound(&digest, now))
            .collect())
    }
}

#[cfg(test)]
mod tests;
