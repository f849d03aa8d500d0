//! The kit catches broken stores.

use async_trait::async_trait;
use session_conformance::check_store;
use session_core::{Changes, Key, MemoryStore, Record, Store, StoreError};

/// A store whose `create` overwrites a live record instead of reporting the collision.
#[derive(Clone, Debug, Default)]
struct OverwritingCreate(MemoryStore);

#[async_trait]
impl Store for OverwritingCreate {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.0.load(key).await
    }
    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        if !self.0.save(key, record).await? {
            self.0.create(key, record).await?;
        }
        Ok(true)
    }
    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.0.save(key, record).await
    }
    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        self.0.delete(key).await
    }
}

#[tokio::test(flavor = "multi_thread")]
#[should_panic(expected = "store contract \"create never overwrites a live record\" failed")]
async fn a_create_that_overwrites_is_caught() {
    check_store(OverwritingCreate::default).await;
}

/// A store with the default (load, merge, save) `apply`, slowed down between load and save,
/// that claims to apply atomically.
#[derive(Clone, Debug, Default)]
struct FalselyAtomic(MemoryStore);

#[async_trait]
impl Store for FalselyAtomic {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        let record = self.0.load(key).await;
        tokio::task::yield_now().await;
        record
    }
    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.0.create(key, record).await
    }
    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.0.save(key, record).await
    }
    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        self.0.delete(key).await
    }
    fn applies_atomically(&self) -> bool {
        true
    }
}

#[tokio::test(flavor = "multi_thread")]
#[should_panic(expected = "store contract \"concurrent applies keep every write\" failed")]
async fn a_false_claim_of_atomicity_is_caught() {
    check_store(FalselyAtomic::default).await;
}

/// The same store, honest about its `apply`: the concurrency check is skipped, and reported so.
#[derive(Clone, Debug, Default)]
struct HonestlyNotAtomic(MemoryStore);

#[async_trait]
impl Store for HonestlyNotAtomic {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.0.load(key).await
    }
    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.0.create(key, record).await
    }
    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.0.save(key, record).await
    }
    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        self.0.delete(key).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_not_claiming_atomicity_skips_the_concurrency_check() {
    let report = check_store(HonestlyNotAtomic::default).await;
    assert_eq!(report.skipped().len(), 1, "{report}");
    assert_eq!(
        report.skipped()[0].contract,
        "concurrent applies keep every write"
    );
}

/// A store whose `apply` ignores `clear` (an easy mistake when mapping changes onto a backend).
#[derive(Clone, Debug, Default)]
struct IgnoresClear(MemoryStore);

#[async_trait]
impl Store for IgnoresClear {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.0.load(key).await
    }
    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.0.create(key, record).await
    }
    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.0.save(key, record).await
    }
    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        self.0.delete(key).await
    }
    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        let mut changes = changes.clone();
        changes.clear = false;
        self.0.apply(key, &changes).await
    }
    fn applies_atomically(&self) -> bool {
        true
    }
}

#[tokio::test(flavor = "multi_thread")]
#[should_panic(expected = "store contract \"apply with clear drops every key first\" failed")]
async fn an_apply_that_ignores_clear_is_caught() {
    check_store(IgnoresClear::default).await;
}
