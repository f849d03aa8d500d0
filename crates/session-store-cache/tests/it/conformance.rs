//! The conformance kit against `CacheStore` (on moka and on a plain non-atomic cache) and against
//! `CachingStore` in front of a `MemoryStore` and of a `FileStore`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use session_conformance::check_store;
use session_core::MemoryStore;
use session_core::store::{Key, Record, StoreError};
use session_store_cache::{Cache, CacheStore, CachingStore, MokaCache};

const CONCURRENT: &str = "concurrent applies keep every write";

/// The kit's checks of sessions per subject, run only on a store that claims an index.
const SUBJECTS: [&str; 3] = [
    "bound records are listed by subject",
    "a subject's listing follows deletes, expiry and writes",
    "ending a subject's sessions ends those changing their ids",
];

/// Nothing skipped: the atomic applies and every check of sessions per subject ran and held.
fn passed_everything(report: &session_conformance::Report) {
    report.assert_nothing_skipped();
}

#[tokio::test(flavor = "multi_thread")]
async fn cache_store_keeps_every_contract() {
    // One cache for all checks: "log out everywhere" runs an engine and a store from `make` on
    // the same sessions.
    let store = CacheStore::new(10_000);
    let report = check_store(move || store.clone()).await;
    passed_everything(&report);
}

#[tokio::test(flavor = "multi_thread")]
async fn cache_store_with_a_byte_bound_keeps_every_contract() {
    let store = CacheStore::on(MokaCache::builder().max_bytes(64 << 20).build());
    let report = check_store(move || store.clone()).await;
    passed_everything(&report);
}

#[tokio::test(flavor = "multi_thread")]
async fn caching_store_keeps_every_contract() {
    let store = Arc::new(CachingStore::new(
        CacheStore::new(10_000),
        MemoryStore::default(),
    ));
    let report = check_store(move || store.clone()).await;
    passed_everything(&report);
}

#[tokio::test(flavor = "multi_thread")]
async fn caching_stores_with_fronts_of_their_own_keep_every_contract() {
    // Each check (and, in "log out everywhere", the engine and the store ending the sessions)
    // gets a front of its own over one back: processes sharing a back store.
    let back = MemoryStore::default();
    let report = check_store(|| CachingStore::new(CacheStore::new(10_000), back.clone())).await;
    passed_everything(&report);
}

#[tokio::test(flavor = "multi_thread")]
async fn caching_store_with_a_tiny_front_keeps_every_contract() {
    // A front of 2 entries evicts all the time: the back must carry every contract.
    let store = Arc::new(CachingStore::new(
        CacheStore::new(2),
        MemoryStore::default(),
    ));
    let report = check_store(move || store.clone()).await;
    passed_everything(&report);
}

#[tokio::test(flavor = "multi_thread")]
async fn caching_store_in_front_of_files_keeps_every_contract() {
    let files = session_store_file::FileStore::temporary().expect("a private directory");
    let report = check_store(|| CachingStore::new(CacheStore::new(10_000), files.clone())).await;
    passed_everything(&report);
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
    // Its compound operations are get-then-set: the kit does not claim atomicity for it; and it
    // cannot tell the store what it evicts, so it keeps no index per subject.
    let skipped: Vec<_> = report.skipped().iter().map(|s| s.contract).collect();
    let expected: Vec<_> = std::iter::once(CONCURRENT).chain(SUBJECTS).collect();
    assert_eq!(skipped, expected, "{report}");
}
