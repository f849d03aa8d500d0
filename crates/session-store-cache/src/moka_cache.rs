//! [`MokaCache`]: the built-in [`Cache`], on `moka::future::Cache`.

use std::fmt;
use std::future::ready;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache as Moka;
use moka::ops::compute::{CompResult, Op};
use moka::policy::EvictionPolicy;
use session_core::{Clock, Key, Record, StoreError, SystemClock, Timestamp};

use crate::cache::{Cache, Change};

/// The default bound: 100 000 sessions.
pub const DEFAULT_MAX_SESSIONS: u64 = 100_000;

/// Session records in a moka cache: bounded, each entry expiring at its record's `expires`, and
/// atomic per key through moka's entry API.
///
/// # Eviction
///
/// A full cache evicts the **least recently used** session to admit a new one (moka's LRU policy,
/// chosen on purpose: moka's default TinyLFU policy may refuse to admit a new entry that it has
/// seen too rarely, which here would silently drop a fresh login). An evicted session is gone:
/// its user is logged out and starts a new session on the next request. Size the bound for the
/// number of concurrently active sessions, or bound bytes with
/// [`MokaCacheBuilder::max_bytes`] when sessions vary a lot in size.
///
/// Clones share the same cache.
#[derive(Clone)]
pub struct MokaCache {
    moka: Moka<Key, Arc<Record>>,
}

/// Builds a [`MokaCache`]: [`MokaCache::builder`].
#[derive(Debug)]
pub struct MokaCacheBuilder {
    max_sessions: u64,
    max_bytes: Option<u64>,
    clock: Arc<dyn Clock>,
}

impl MokaCache {
    /// A cache holding at most `max_sessions` sessions, on the system clock.
    pub fn new(max_sessions: u64) -> Self {
        MokaCache::builder().max_sessions(max_sessions).build()
    }

    /// Starts configuring a cache: [`DEFAULT_MAX_SESSIONS`] sessions, the system clock.
    pub fn builder() -> MokaCacheBuilder {
        MokaCacheBuilder {
            max_sessions: DEFAULT_MAX_SESSIONS,
            max_bytes: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// How many entries the cache holds (approximate: moka applies writes in batches).
    pub fn entry_count(&self) -> u64 {
        self.moka.entry_count()
    }

    /// Applies moka's pending maintenance (evictions, expirations) now; for tests and metrics.
    pub async fn run_pending_tasks(&self) {
        self.moka.run_pending_tasks().await;
    }
}

impl Default for MokaCache {
    /// [`DEFAULT_MAX_SESSIONS`] sessions, on the system clock.
    fn default() -> Self {
        MokaCache::builder().build()
    }
}

impl MokaCacheBuilder {
    /// At most this many sessions (ignored when [`max_bytes`](Self::max_bytes) is set).
    pub fn max_sessions(mut self, max: u64) -> Self {
        self.max_sessions = max;
        self
    }

    /// At most about this many bytes of session data instead of a number of sessions: each entry
    /// weighs its keys' and values' lengths plus 128 bytes of overhead.
    pub fn max_bytes(mut self, max: u64) -> Self {
        self.max_bytes = Some(max);
        self
    }

    /// Reads time from `clock` when computing each entry's time to live (share it with the store
    /// and the engine in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub(crate) fn shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the cache.
    pub fn build(self) -> MokaCache {
        let builder = Moka::builder()
            .eviction_policy(EvictionPolicy::lru())
            .expire_after(UntilRecordExpires(self.clock));
        let moka = match self.max_bytes {
            Some(bytes) => builder
                .weigher(|_: &Key, record: &Arc<Record>| weight(record))
                .max_capacity(bytes)
                .build(),
            None => builder.max_capacity(self.max_sessions).build(),
        };
        MokaCache { moka }
    }
}

/// An entry's weight for a byte bound: its keys' and values' lengths plus a fixed overhead.
fn weight(record: &Record) -> u32 {
    let data: usize = record
        .data
        .iter()
        .map(|(key, value)| key.len() + value.as_json().len())
        .sum();
    u32::try_from(data.saturating_add(128)).unwrap_or(u32::MAX)
}

/// Each entry lives until its record's `expires`, by the store's clock; an update (a write, a
/// touch) recomputes it.
struct UntilRecordExpires(Arc<dyn Clock>);

impl UntilRecordExpires {
    fn remaining(&self, record: &Record) -> Option<Duration> {
        Some(record.expires.saturating_since(self.0.now()))
    }
}

impl Expiry<Key, Arc<Record>> for UntilRecordExpires {
    fn expire_after_create(&self, _: &Key, record: &Arc<Record>, _: Instant) -> Option<Duration> {
        self.remaining(record)
    }

    fn expire_after_update(
        &self,
        _: &Key,
        record: &Arc<Record>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.remaining(record)
    }
}

#[async_trait]
impl Cache for MokaCache {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        Ok(self
            .moka
            .get(key)
            .await
            .map(|record| Record::clone(&record)))
    }

    async fn set(&self, key: &Key, record: &Record) -> Result<(), StoreError> {
        self.moka.insert(*key, Arc::new(record.clone())).await;
        Ok(())
    }

    async fn remove(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        Ok(self.moka.remove(key).await.map(Arc::unwrap_or_clone))
    }

    async fn insert_if_absent(
        &self,
        key: &Key,
        record: &Record,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let result = self
            .moka
            .entry(*key)
            .and_compute_with(|held| {
                ready(match held {
                    Some(held) if !held.value().is_expired(now) => Op::Nop,
                    _ => Op::Put(Arc::new(record.clone())),
                })
            })
            .await;
        Ok(matches!(
            result,
            CompResult::Inserted(_) | CompResult::ReplacedWith(_)
        ))
    }

    async fn update(
        &self,
        key: &Key,
        now: Timestamp,
        change: Change<'_>,
    ) -> Result<bool, StoreError> {
        let result = self
            .moka
            .entry(*key)
            .and_compute_with(|held| {
                ready(match held {
                    Some(held) if !held.value().is_expired(now) => {
                        let mut record = Arc::unwrap_or_clone(held.into_value());
                        change(&mut record);
                        Op::Put(Arc::new(record))
                    }
                    // An expired entry moka has not reclaimed yet: reclaim it now.
                    Some(_) => Op::Remove,
                    None => Op::Nop,
                })
            })
            .await;
        Ok(matches!(result, CompResult::ReplacedWith(_)))
    }

    fn is_atomic(&self) -> bool {
        true
    }
}

impl fmt::Debug for MokaCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MokaCache")
            .field("entries", &self.moka.entry_count())
            .field("policy", &self.moka.policy())
            .finish()
    }
}
