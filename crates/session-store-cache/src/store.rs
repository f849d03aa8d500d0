//! [`CacheStore`]: a [`Store`] on a [`Cache`].

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use session_core::store::{BoundSession, Changes, Clock, Key, Record, Store, StoreError};

use crate::{Cache, MokaCache};

/// Sessions in a cache: [`MokaCache`] by default, or any [`Cache`].
///
/// - **Expiry is exact**: a record at or past its `expires` is never returned, whatever the cache
///   still holds (an expired entry found on load is removed at once); moka also drops each entry
///   soon after its record's expiry (within [`reclaim_within`], a minute by default), so expired
///   sessions do not keep their memory.
/// - **Bounded**: see [`MokaCache`] for the bound and what eviction means (the evicted user is
///   logged out).
/// - **Atomic** when the cache is ([`Cache::is_atomic`]; `MokaCache` is): `create` is
///   insert-if-absent, key-level changes (touches included) are applied in one step per key, and a
///   save or apply after a delete finds nothing and writes nothing.
/// - **One process**: the cache lives in this process's memory. Several processes need a shared
///   store (files, Redis), possibly behind a [`CachingStore`](crate::CachingStore).
///
/// Clones share the same sessions.
///
/// ```
/// use std::time::Duration;
/// use session_core::store::{Clock, Key, Record, Store, SystemClock};
/// use session_store_cache::CacheStore;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = CacheStore::new(10_000); // at most 10 000 sessions
/// let key = Key::from_digest([7; 32]);
/// let now = SystemClock.now();
/// let record = Record::new(now, now.saturating_add(Duration::from_secs(60)));
/// assert!(store.create(&key, &record).await.unwrap());
/// assert!(!store.create(&key, &record).await.unwrap(), "create never overwrites");
/// assert_eq!(store.load(&key).await.unwrap(), Some(record));
/// # });
/// ```
///
/// [`reclaim_within`]: crate::MokaCacheBuilder::reclaim_within
#[derive(Clone)]
pub struct CacheStore<C = MokaCache> {
    cache: C,
    clock: Arc<dyn Clock>,
}

impl CacheStore<MokaCache> {
    /// A store on a [`MokaCache`] holding at most `max_sessions` sessions.
    pub fn new(max_sessions: u64) -> Self {
        CacheStore::on(MokaCache::new(max_sessions))
    }
}

impl Default for CacheStore<MokaCache> {
    /// A store on a default [`MokaCache`] (100 000 sessions).
    fn default() -> Self {
        CacheStore::on(MokaCache::default())
    }
}

impl<C: Cache> CacheStore<C> {
    /// A store on `cache`, judging expiry by the cache's own [`clock`](Cache::clock).
    pub fn on(cache: C) -> Self {
        CacheStore {
            clock: cache.clock(),
            cache,
        }
    }

    /// The cache underneath.
    pub fn cache(&self) -> &C {
        &self.cache
    }
}

#[async_trait]
impl<C: Cache> Store for CacheStore<C> {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        match self.cache.get(key).await? {
            Some(record) if record.is_expired(self.clock.now()) => {
                self.cache.remove(key).await?;
                Ok(None)
            }
            found => Ok(found),
        }
    }

    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.cache
            .insert_if_absent(key, record, self.clock.now())
            .await
    }

    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.cache
            .update(key, self.clock.now(), &|held| {
                // Values of its own (see `Cache`): the record may share its values' text.
                *held = record.clone();
                held.unshare_values();
            })
            .await
    }

    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        let removed = self.cache.remove(key).await?;
        Ok(removed.is_some_and(|record| !record.is_expired(self.clock.now())))
    }

    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        self.cache
            .update(key, self.clock.now(), &|record| changes.apply_to(record))
            .await
    }

    fn applies_atomically(&self) -> bool {
        self.cache.is_atomic()
    }

    fn lists_subjects(&self) -> bool {
        self.cache.lists_subjects()
    }

    async fn list_subject(&self, subject: &str) -> Result<Vec<BoundSession>, StoreError> {
        self.cache.list_subject(subject, self.clock.now()).await
    }
}

impl<C: fmt::Debug> fmt::Debug for CacheStore<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheStore")
            .field("cache", &self.cache)
            .field("clock", &self.clock)
            .finish()
    }
}
