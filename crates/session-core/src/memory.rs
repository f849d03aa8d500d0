//! [`MemoryStore`]: the default store, in this process's memory.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use crate::clock::{Clock, SystemClock};
use crate::error::StoreError;
use crate::id::Key;
use crate::record::{Changes, Record, Timestamp};
use crate::store::Store;

const SHARDS: usize = 16;
/// A shard sweeps its expired entries after this many creates.
const SWEEP_EVERY: usize = 1024;

type Shard = HashMap<Key, Record>;

/// Sessions in this process's memory: fast, and gone when the process ends.
///
/// For development, tests and single-process servers; use a shared store (files for one machine,
/// Redis for many) when several processes serve the same users.
///
/// - **Concurrency**: entries are spread over 16 independently locked shards;
///   [`apply`](Store::apply) runs under the shard's lock, so concurrent requests writing different
///   keys of one session keep every write.
/// - **Expiry**: an expired record is never returned; expired entries are swept from a shard every
///   1024 creates in it, and [`sweep`](MemoryStore::sweep) removes them all on demand.
/// - **Bound**: unbounded by default. With [`with_max_sessions`](MemoryStore::with_max_sessions), a
///   full shard makes room by looking at a sample of 32 of its entries: it removes the expired
///   ones, or if there are none the one closest to expiry (approximate, like Redis's eviction, so
///   that a full store costs no full scan). A new session (a fresh login) is never refused.
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
/// # });
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    shards: [Mutex<Shard>; SHARDS],
    creates: [AtomicUsize; SHARDS],
    max_per_shard: Option<usize>,
    clock: Box<dyn Clock>,
}

impl MemoryStore {
    /// An unbounded store on the system clock.
    pub fn new() -> Self {
        MemoryStore::build(None, Box::new(SystemClock))
    }

    /// A store holding at most about `max` sessions (rounded up to a multiple of 16); see the
    /// type's docs for what happens when it is full.
    pub fn with_max_sessions(max: usize) -> Self {
        MemoryStore::build(Some(max.div_ceil(SHARDS).max(1)), Box::new(SystemClock))
    }

    /// The same store configuration, reading time from `clock` (share it with the engine in tests).
    pub fn clock(self, clock: impl Clock) -> Self {
        let max = self.inner.max_per_shard;
        MemoryStore::build(max, Box::new(clock))
    }

    fn build(max_per_shard: Option<usize>, clock: Box<dyn Clock>) -> Self {
        MemoryStore {
            inner: Arc::new(Inner {
                shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
                creates: std::array::from_fn(|_| AtomicUsize::new(0)),
                max_per_shard,
                clock,
            }),
        }
    }

    fn shard(&self, key: &Key) -> (usize, MutexGuard<'_, Shard>) {
        let index = usize::from(key.digest()[0]) % SHARDS;
        let guard = self.inner.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (index, guard)
    }

    /// Removes every expired session now; returns how many were removed.
    pub fn sweep(&self) -> usize {
        let now = self.inner.clock.now();
        self.inner
            .shards
            .iter()
            .map(|shard| {
                let mut shard = shard
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                sweep_shard(&mut shard, now)
            })
            .sum()
    }

    /// How many sessions are held, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.inner
            .shards
            .iter()
            .map(|shard| {
                shard
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .len()
            })
            .sum()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn sweep_shard(shard: &mut Shard, now: Timestamp) -> usize {
    let before = shard.len();
    shard.retain(|_, record| !record.is_expired(now));
    before - shard.len()
}

/// How many entries a full shard looks at to choose what to evict.
const EVICTION_SAMPLE: usize = 32;

/// Makes room in a full shard without scanning all of it: among a sample of entries, removes the
/// expired ones or, if none is, the one closest to expiry.
fn make_room(shard: &mut Shard, now: Timestamp) {
    let mut expired = Vec::new();
    let mut soonest: Option<(Timestamp, Key)> = None;
    for (key, record) in shard.iter().take(EVICTION_SAMPLE) {
        if record.is_expired(now) {
            expired.push(*key);
        } else if soonest.is_none_or(|(at, _)| record.expires < at) {
            soonest = Some((record.expires, *key));
        }
    }
    if expired.is_empty()
        && let Some((_, victim)) = soonest
    {
        shard.remove(&victim);
        tracing::debug!("memory store full: evicted a session close to expiry");
    }
    for key in expired {
        shard.remove(&key);
    }
}

fn live<'a>(shard: &'a mut Shard, key: &Key, now: Timestamp) -> Option<&'a mut Record> {
    shard.get_mut(key).filter(|record| !record.is_expired(now))
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("max_per_shard", &self.inner.max_per_shard)
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        let now = self.inner.clock.now();
        let (_, mut shard) = self.shard(key);
        match shard.get(key) {
            Some(record) if record.is_expired(now) => {
                // Reclaim it now rather than at the next sweep.
                shard.remove(key);
                Ok(None)
            }
            found => Ok(found.cloned()),
        }
    }

    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        let now = self.inner.clock.now();
        let (index, mut shard) = self.shard(key);
        if live(&mut shard, key, now).is_some() {
            return Ok(false);
        }
        if self.inner.creates[index].fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY
            == SWEEP_EVERY - 1
        {
            sweep_shard(&mut shard, now);
        }
        if let Some(max) = self.inner.max_per_shard
            && shard.len() >= max
        {
            make_room(&mut shard, now);
        }
        shard.insert(*key, record.clone());
        Ok(true)
    }

    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        let now = self.inner.clock.now();
        let (_, mut shard) = self.shard(key);
        Ok(live(&mut shard, key, now)
            .map(|stored| *stored = record.clone())
            .is_some())
    }

    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        let now = self.inner.clock.now();
        let (_, mut shard) = self.shard(key);
        Ok(shard
            .remove(key)
            .is_some_and(|record| !record.is_expired(now)))
    }

    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        let now = self.inner.clock.now();
        let (_, mut shard) = self.shard(key);
        Ok(live(&mut shard, key, now)
            .map(|record| changes.apply_to(record))
            .is_some())
    }

    fn applies_atomically(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::time::Duration;

    fn key(n: u16) -> Key {
        let mut digest = [0u8; 32];
        digest[..2].copy_from_slice(&n.to_be_bytes());
        // Spread over shards by the first byte, and keep keys distinct by the second.
        Key::from_digest(digest)
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    #[test]
    fn a_full_store_evicts_a_session_close_to_expiry_and_never_refuses() {
        block_on(async {
            let clock = ManualClock::new(Timestamp::from_millis(1_000_000));
            let store = MemoryStore::with_max_sessions(16).clock(clock.clone());
            // All these keys land in shard 0 (first byte 0), whose bound is 1.
            let soon = Record::new(clock.now(), Timestamp::from_millis(2_000_000));
            let later = Record::new(clock.now(), Timestamp::from_millis(9_000_000));
            assert!(store.create(&key(1), &soon).await.expect("create"));
            assert!(
                store
                    .create(&key(2), &later)
                    .await
                    .expect("a fresh login is never refused")
            );
            assert_eq!(
                store.load(&key(1)).await.expect("load"),
                None,
                "closest to expiry evicted"
            );
            assert_eq!(store.load(&key(2)).await.expect("load"), Some(later));
        });
    }

    #[test]
    fn expired_records_are_invisible_and_swept() {
        block_on(async {
            let clock = ManualClock::new(Timestamp::from_millis(0));
            let store = MemoryStore::new().clock(clock.clone());
            let record = Record::new(clock.now(), Timestamp::from_millis(1_000));
            assert!(store.create(&key(3), &record).await.expect("create"));
            assert!(store.create(&key(4), &record).await.expect("create"));
            clock.advance(Duration::from_secs(1));
            assert!(
                !store.save(&key(3), &record).await.expect("save"),
                "no resurrection"
            );
            assert_eq!(store.len(), 2);
            assert_eq!(store.load(&key(3)).await.expect("load"), None);
            assert_eq!(store.len(), 1, "an expired hit is reclaimed on load");
            assert_eq!(store.sweep(), 1);
            assert!(store.is_empty());
        });
    }
}
