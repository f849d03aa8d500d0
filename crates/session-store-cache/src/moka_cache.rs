//! [`MokaCache`]: the built-in [`Cache`], on `moka::future::Cache`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use moka::future::Cache as Moka;
use moka::policy::EvictionPolicy;
use session_core::store::{
    BoundSession, Clock, Key, Record, StoreError, SystemClock, Timestamp, subject_key,
};
use tokio::sync::{Mutex, MutexGuard};

use crate::cache::{Cache, Change};
use crate::entry::{Entry, UntilDeadline};
use crate::index::Index;

/// The default bound: 100 000 sessions.
pub const DEFAULT_MAX_SESSIONS: u64 = 100_000;

/// How many locks the keys are spread over.
const STRIPES: usize = 64;

/// The default of [`MokaCacheBuilder::reclaim_within`].
pub const DEFAULT_RECLAIM_WITHIN: Duration = Duration::from_secs(60);

/// Session records in a moka cache: bounded, with per-entry expiry, atomic per key.
///
/// # How it works
///
/// Each moka entry holds one session behind a small lock of its own, so a key-level change or a
/// touch is made in place: the common write costs a moka lookup, not a moka insert. Removal marks
/// the entry dead under that lock, so a change racing a logout either lands before it or finds
/// the session gone, never brings it back. Creating, replacing and removing a key, and handing
/// moka a new expiry, also hold one of 64 striped locks.
///
/// moka drops each entry within a minute after its record's `expires` (see
/// [`MokaCacheBuilder::reclaim_within`]): the deadline moka knows is the expiry plus that minute,
/// moved (one moka insert) only when a sliding expiry has passed it, never earlier (a shortened
/// expiry keeps its memory until the old deadline). That delay is memory reclaim only:
/// [`CacheStore`](crate::CacheStore) never returns an expired record.
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
/// # Sessions per subject
///
/// The cache keeps an index of its bound sessions by [`subject_key`], so that
/// [`CacheStore`](crate::CacheStore) lists a subject's sessions
/// ([`Store::list_subject`](session_core::store::Store::list_subject)) by visiting that subject's
/// entries only:
///
/// - A bound session is listed before its `create` returns, and a `delete` (or a create over an
///   expired record) takes it out of the index before returning; a listing also skips any entry
///   that is ended, expired, or not the one moka serves under its key.
/// - The index holds its entries weakly and an entry leaves it when moka drops it, so moka's own
///   evictions (the bound) and expirations take sessions out of the index as well. moka frees a
///   dropped entry by epoch-based reclamation, so a few such entries may linger for a while (a
///   few dozen per thread, measured: 82 index entries for a cache of 50 after 20 000 bound
///   creates); they are never listed, and [`run_pending_tasks`](MokaCache::run_pending_tasks)
///   sweeps them at once.
/// - Unbound sessions cost what they cost before: no index lookup, lock or allocation on their
///   create, load, apply, touch or delete. A bound session pays one allocation and an index lock
///   on its create and its removal. (moka's eviction listener would tell the index of evictions
///   too, but with a listener moka takes a per-key lock, allocated, on every insert and removal
///   of every session.)
/// - Only the hash of the subject keys the index; the subject itself stays in the session's
///   binding, in memory.
///
/// Clones share the same cache.
#[derive(Clone)]
pub struct MokaCache {
    moka: Moka<Key, Arc<Entry>>,
    /// Serialize the writes that replace a key's entry or hand moka a new deadline.
    locks: Arc<[Mutex<()>]>,
    /// With a byte bound, every change is handed to moka again so that it is weighed again.
    by_bytes: bool,
    slack: Duration,
    clock: Arc<dyn Clock>,
    /// The bound sessions by subject.
    index: Arc<Index>,
}

/// Builds a [`MokaCache`]: [`MokaCache::builder`].
#[derive(Debug)]
pub struct MokaCacheBuilder {
    max_sessions: u64,
    max_bytes: Option<u64>,
    clock: Arc<dyn Clock>,
    slack: Duration,
    max_entry_age: Option<Duration>,
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
            slack: DEFAULT_RECLAIM_WITHIN,
            max_entry_age: None,
        }
    }

    /// How many entries the cache holds (approximate: moka applies writes in batches).
    pub fn entry_count(&self) -> u64 {
        self.moka.entry_count()
    }

    /// Applies moka's pending maintenance (evictions, expirations) now, then sweeps the index per
    /// subject of every entry moka no longer serves; for tests and metrics.
    ///
    /// The sweep visits every bound session; the index keeps itself in step without it (see
    /// [Sessions per subject](MokaCache#sessions-per-subject)).
    pub async fn run_pending_tasks(&self) {
        self.moka.run_pending_tasks().await;
        for (subject, key, entry) in self.index.all() {
            // Under the key's lock: a create lists its entry before moka holds it.
            let _guard = self.lock(&key).await;
            let served = entry.upgrade().is_some_and(|entry| {
                entry.is_live(self.clock.now()) && self.moka.contains_key(&key)
            });
            if !served {
                self.index.remove(&subject, &key, entry.as_ptr());
            }
        }
    }

    /// How many bound sessions the index per subject holds, over all subjects; for tests and
    /// metrics.
    ///
    /// Never more than the bound sessions moka holds, plus those a request is using at that
    /// moment (see [Sessions per subject](MokaCache#sessions-per-subject)).
    pub fn indexed_sessions(&self) -> usize {
        self.index.len()
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

    /// At most about this many bytes of session data, instead of a number of sessions.
    ///
    /// Each entry weighs its keys' and values' lengths plus 128 bytes of overhead.
    pub fn max_bytes(mut self, max: u64) -> Self {
        self.max_bytes = Some(max);
        self
    }

    /// How long past a session's expiry moka may keep its memory (default one minute).
    ///
    /// Shorter frees memory sooner; longer makes more writes in-place changes with no moka insert.
    /// An expired session is never returned either way.
    pub fn reclaim_within(mut self, slack: Duration) -> Self {
        self.slack = slack;
        self
    }

    /// Drops each entry at most this long after it was stored (created, filled, replaced),
    /// whatever its record's expiry: for the front of a [`CachingStore`](crate::CachingStore)
    /// shared with other processes, the longest it serves a session as it last saw it (ended or
    /// changed by another process meanwhile). No bound by default.
    ///
    /// The count restarts whenever moka is handed the entry again: a create, a fill, a save, and
    /// a change that moves the deadline or, under a byte bound, the weight. Other changes made
    /// in place (most key-level changes and touches) do not restart it. In a `CachingStore`
    /// front each of these follows an answer from the back store, so the bound runs from the
    /// last time this process read or wrote the session there.
    ///
    /// Only for a front: a [`CacheStore`](crate::CacheStore) used as the store itself would lose
    /// every session this long after it was stored.
    pub fn max_entry_age(mut self, age: Duration) -> Self {
        self.max_entry_age = Some(age);
        self
    }

    /// Reads time from `clock` when computing each entry's time to live.
    ///
    /// Share it with the store and the engine in tests.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds the cache.
    pub fn build(self) -> MokaCache {
        let builder = Moka::builder()
            .eviction_policy(EvictionPolicy::lru())
            .expire_after(UntilDeadline {
                clock: self.clock.clone(),
                max_age: self.max_entry_age,
            });
        let moka = match self.max_bytes {
            Some(bytes) => builder
                .weigher(|_: &Key, entry: &Arc<Entry>| entry.weight())
                .max_capacity(bytes)
                .build(),
            None => builder.max_capacity(self.max_sessions).build(),
        };
        MokaCache {
            moka,
            locks: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            by_bytes: self.max_bytes.is_some(),
            slack: self.slack,
            clock: self.clock,
            index: Arc::default(),
        }
    }
}

impl MokaCache {
    async fn lock(&self, key: &Key) -> MutexGuard<'_, ()> {
        let stripe = usize::from(key.digest()[1]) % self.locks.len();
        self.locks[stripe].lock().await
    }

    /// Hands moka `entry` again for its new deadline (and weight).
    ///
    /// Under the key's lock, and only while it is still the key's entry (not after a removal, a
    /// replacement or an eviction).
    async fn refresh(&self, key: Key, entry: Arc<Entry>) {
        let _guard = self.lock(&key).await;
        let current = self.moka.get(&key).await;
        if current.is_some_and(|current| Arc::ptr_eq(&current, &entry)) && entry.refresh_deadline()
        {
            self.moka.insert(key, entry).await;
        }
    }

    /// Puts a new entry for `record` under `key`, ending the one there (under the key's lock).
    ///
    /// A bound record is listed before moka holds it, so that it is listed once this returns.
    async fn replace(&self, key: &Key, record: Record) {
        if let Some(old) = self.moka.get(key).await {
            old.end();
        }
        let entry = Entry::new(*key, record, self.slack, &self.index);
        self.moka.insert(*key, entry).await;
    }
}

#[async_trait]
impl Cache for MokaCache {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        Ok(match self.moka.get(key).await {
            Some(entry) => entry.record(),
            None => None,
        })
    }

    async fn set(&self, key: &Key, record: &Record) -> Result<(), StoreError> {
        let _guard = self.lock(key).await;
        self.replace(key, record.clone()).await;
        Ok(())
    }

    async fn remove(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        let _guard = self.lock(key).await;
        Ok(match self.moka.remove(key).await {
            Some(entry) => entry.end(),
            None => None,
        })
    }

    async fn insert_if_absent(
        &self,
        key: &Key,
        record: &Record,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let _guard = self.lock(key).await;
        if let Some(held) = self.moka.get(key).await
            && held.is_live(now)
        {
            return Ok(false);
        }
        self.replace(key, record.clone()).await;
        Ok(true)
    }

    async fn update(
        &self,
        key: &Key,
        now: Timestamp,
        change: Change<'_>,
    ) -> Result<bool, StoreError> {
        let Some(entry) = self.moka.get(key).await else {
            return Ok(false);
        };
        let Some(past_deadline) = entry.change(*key, now, change, &self.index) else {
            return Ok(false);
        };
        if past_deadline || self.by_bytes {
            // Spawned, so that a request dropped now cannot leave moka with the old deadline
            // (it would drop a live session early).
            let this = self.clone();
            let key = *key;
            let refresh = async move { this.refresh(key, entry).await };
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    // It can only fail if the runtime is shutting down.
                    let _ = runtime.spawn(refresh).await;
                }
                Err(_) => refresh.await,
            }
        }
        Ok(true)
    }

    fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    fn is_atomic(&self) -> bool {
        true
    }

    fn lists_subjects(&self) -> bool {
        true
    }

    async fn list_subject(
        &self,
        subject: &str,
        now: Timestamp,
    ) -> Result<Vec<BoundSession>, StoreError> {
        let listed = self.index.listed(&subject_key(subject));
        let mut found = Vec::with_capacity(listed.len());
        for (key, entry) in listed {
            let Some(entry) = entry.upgrade() else {
                continue;
            };
            let Some(bound) = entry.listing(key, subject, now) else {
                continue;
            };
            // Only the entry moka serves under the key: not one it has evicted, expired or
            // replaced meanwhile (which leaves the index when moka lets go of it).
            if self
                .moka
                .get(&key)
                .await
                .is_some_and(|current| Arc::ptr_eq(&current, &entry))
            {
                found.push(bound);
            }
        }
        Ok(found)
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
