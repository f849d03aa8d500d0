//! The conformance kit against `CacheStore` (on moka and on a plain non-atomic cache) and against
//! `CachingStore` in front of a `MemoryStore` and of a `FileStore`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use session_conformance::check_store;
use session_core::MemoryStore;
use session_core::store::{Key, Record, StoreError};
use session_store_cache::{Cache, CacheStore, CachingStore};

const CONCURRENT: &str = "concurrent applies keep every write";

#[tokio::test(flavor = "multi_thread")]
async fn cache_store_keeps_every_contract() {
    let report = check_store(|| CacheStore::new(10_000)).await;
    assert!(report.skipped().is_empty(), "{report}");
    assert!(report.passed().contains(&CONCURRENT), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cache_store_shared_by_all_checks() {
    let store = CacheStore::new(10_000);
    check_store(move || store.clone()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn caching_store_keeps_every_contract() {
    let report =
        check_store(|| CachingStore::new(CacheStore::new(10_000), MemoryStore::default())).await;
    assert!(report.skipped().is_empty(), "{report}");
    assert!(report.passed().contains(&CONCURRENT), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn caching_store_with_a_tiny_front_keeps_every_contract() {
    // A front of 2 entries evicts all the time: the back must carry every contract.
    let store = Arc::new(CachingStore::new(
        CacheStore::new(2),
        MemoryStore::default(),
    ));
    let report = check_store(move || store.clone()).await;
    assert!(report.skipped().is_empty(), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn caching_store_in_front_of_files_keeps_every_contract() {
    let files = session_store_file::FileStore::temporary().expect("a private directory");
    let report = check_store(|| CachingStore::new(CacheStore::new(10_000), files.clone())).await;
    assert!(report.skipped().is_empty(), "{report}");
    assert!(report.passed().contains(&CONCURRENT), "{report}");
}

/// Plack's seam: a cache with only `get`, `set` and `remove` (a locked map, no expiry of its own).
#[derive(Clone, Default)]
struct PlainCache(Arc<Mutex<HashMap<Key, Record>>>);

impl PlainCache {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Record>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Cache for PlainCache {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        Ok(self.map().get(key).cloned())
    }
    async fn set(&self, key: &Key, record: &Record) -> Result<(), StoreError> {
        self.map().insert(*key, record.clone());
        Ok(())
    }
    async fn remove(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        Ok(self.map().remove(key))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn any_cache_with_get_set_remove_is_a_store() {
    let cache = PlainCache::default();
    let report = check_store(|| CacheStore::on(cache.clone())).await;
    // Its compound operations are get-then-set: the kit does not claim atomicity for it.
    let skipped: Vec<_> = report.skipped().iter().map(|s| s.contract).collect();
    assert_eq!(skipped, [CONCURRENT], "{report}");
}
