//! The kit catches broken stores.

use async_trait::async_trait;
use session_conformance::check_store;
use session_core::MemoryStore;
use session_core::store::{BoundSession, Changes, Key, Record, Store, StoreError};

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
    let skipped: Vec<_> = report.skipped().iter().map(|s| s.contract).collect();
    assert_eq!(
        skipped,
        [
            "concurrent applies keep every write",
            "bound records are listed by subject",
            "a subject's listing follows deletes, expiry and writes",
            "ending a subject's sessions ends those changing their ids",
        ],
        "{report}"
    );
}

/// A store claiming a subject index that forgets a record's binding: a `MemoryStore` that drops
/// it on `create`, as a store mapping records onto columns might when it misses the new field.
#[derive(Default)]
struct DropsBindings(MemoryStore);

#[async_trait]
impl Store for DropsBindings {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.0.load(key).await
    }
    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        let mut record = record.clone();
        record.binding = None;
        self.0.create(key, &record).await
    }
    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.0.save(key, record).await
    }
    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        self.0.delete(key).await
    }
    fn lists_subjects(&self) -> bool {
        true
    }
    async fn list_subject(&self, subject: &str) -> Result<Vec<BoundSession>, StoreError> {
        self.0.list_subject(subject).await
    }
}

#[tokio::test(flavor = "multi_thread")]
#[should_panic(expected = "store contract \"bound records are listed by subject\" failed")]
async fn a_store_dropping_bindings_fails() {
    check_store(DropsBindings::default).await;
}

/// A store whose `apply` edits the changes before applying them, claiming atomicity: a
/// `MemoryStore` with a mistake made when mapping changes onto a backend.
#[derive(Clone, Debug)]
struct EditsChanges(MemoryStore, fn(&mut Changes));

#[async_trait]
impl Store for EditsChanges {
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
        (self.1)(&mut changes);
        self.0.apply(key, &changes).await
    }
    fn applies_atomically(&self) -> bool {
        true
    }
}

#[tokio::test(flavor = "multi_thread")]
#[should_panic(expected = "store contract \"apply with clear drops every key first\" failed")]
async fn an_apply_that_ignores_clear_is_caught() {
    check_store(|| EditsChanges(MemoryStore::default(), |changes| changes.clear = false)).await;
}

/// The property checks (`session_conformance::props`) catch broken stores too.
#[cfg(feature = "proptest")]
mod props {
    use session_conformance::props::check_store_changes;
    use session_core::MemoryStore;
    use session_core::store::Changes;

    use super::{EditsChanges, FalselyAtomic, HonestlyNotAtomic};

    const CONCURRENTLY: &str = "disjoint change sets applied concurrently give the model's data";

    #[test]
    #[should_panic(
        expected = "store property \"disjoint change sets applied in any order give \
                               the model's record\" failed"
    )]
    fn an_apply_that_ignores_removals_is_caught() {
        let ignore_removals = |changes: &mut Changes| changes.updates.retain(|(_, v)| v.is_some());
        check_store_changes(|| EditsChanges(MemoryStore::default(), ignore_removals), 64);
    }

    #[test]
    #[should_panic(expected = "the stored record is not Changes::apply_to's: lifetime is")]
    fn an_apply_that_ignores_lifetime_changes_is_caught() {
        let keep_lifetime = |changes: &mut Changes| changes.lifetime = None;
        check_store_changes(|| EditsChanges(MemoryStore::default(), keep_lifetime), 64);
    }

    #[test]
    #[should_panic(
        expected = "store property \"disjoint change sets applied concurrently give \
                               the model's data\" failed"
    )]
    fn a_false_claim_of_atomicity_is_caught() {
        check_store_changes(FalselyAtomic::default, 64);
    }

    #[test]
    fn a_store_not_claiming_atomicity_skips_the_concurrent_part() {
        let report = check_store_changes(HonestlyNotAtomic::default, 16);
        let skipped: Vec<_> = report.skipped().iter().map(|s| s.contract).collect();
        assert_eq!(skipped, [CONCURRENTLY], "{report}");
        assert_eq!(report.passed().len(), 2, "{report}");
    }

    #[tokio::test]
    #[should_panic(expected = "call it from a plain #[test]")]
    async fn the_property_refuses_to_run_inside_a_runtime() {
        check_store_changes(MemoryStore::default, 1);
    }
}
