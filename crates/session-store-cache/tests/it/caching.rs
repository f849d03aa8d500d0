//! `CachingStore`'s documented behaviour when the front and the back fail or disagree, with
//! stores that can be switched off and that count their calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use session_core::store::{Changes, Clock, Key, Record, Store, StoreError, SystemClock};
use session_core::{MemoryStore, Value};
use session_store_cache::{CacheStore, CachingStore};

/// A `MemoryStore` that fails every call while `down`, or only creates, saves and applies while
/// `writes_down`, and counts loads.
#[derive(Clone, Default)]
struct Switch {
    inner: MemoryStore,
    down: Arc<AtomicBool>,
    writes_down: Arc<AtomicBool>,
    loads: Arc<AtomicUsize>,
}

impl Switch {
    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    fn set_writes_down(&self, down: bool) {
        self.writes_down.store(down, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::backend(std::io::Error::other("switched off")))
        } else {
            Ok(())
        }
    }

    fn check_write(&self) -> Result<(), StoreError> {
        self.check()?;
        if self.writes_down.load(Ordering::SeqCst) {
            Err(StoreError::backend(std::io::Error::other(
                "writes switched off",
            )))
        } else {
            Ok(())
        }
    }

    fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Store for Switch {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.check()?;
        self.inner.load(key).await
    }
    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.check_write()?;
        self.inner.create(key, record).await
    }
    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.check_write()?;
        self.inner.save(key, record).await
    }
    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.delete(key).await
    }
    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        self.check_write()?;
        self.inner.apply(key, changes).await
    }
    fn applies_atomically(&self) -> bool {
        true
    }
}

/// A front (a real `CacheStore` behind a switch) and a back (a `MemoryStore` behind a switch).
fn stores() -> (CachingStore<Switch, Switch>, MemoryStore, Switch, Switch) {
    let front = Switch {
        inner: MemoryStore::default(),
        ..Switch::default()
    };
    let back = Switch::default();
    let back_memory = back.inner.clone();
    let store = CachingStore::new(front.clone(), back.clone());
    (store, back_memory, front, back)
}

fn record(value: &str) -> Record {
    let now = SystemClock.now();
    let mut record = Record::new(now, now.saturating_add(Duration::from_secs(600)));
    record
        .data
        .insert("v".into(), Value::from_serialize(value).expect("json"));
    record
}

fn changes(value: &str) -> Changes {
    let now = SystemClock.now();
    let mut changes = Changes::touch(now, now.saturating_add(Duration::from_secs(600)));
    changes.updates.push((
        "v".into(),
        Some(Value::from_serialize(value).expect("json")),
    ));
    changes
}

fn key(n: u8) -> Key {
    Key::from_digest([n; 32])
}

fn value_of(record: Option<Record>) -> Option<String> {
    record.map(|r| r.data["v"].deserialize().expect("a string"))
}

#[tokio::test]
async fn a_hit_never_reaches_the_back_and_a_miss_fills_the_front() {
    let (store, back_memory, front, back) = stores();
    back_memory
        .create(&key(1), &record("a"))
        .await
        .expect("create");

    assert_eq!(
        value_of(store.load(&key(1)).await.expect("load")),
        Some("a".into())
    );
    assert_eq!(back.loads(), 1, "a miss reads the back");
    assert!(
        front.inner.load(&key(1)).await.expect("front").is_some(),
        "and fills the front"
    );
    for _ in 0..5 {
        assert_eq!(
            value_of(store.load(&key(1)).await.expect("load")),
            Some("a".into())
        );
    }
    assert_eq!(back.loads(), 1, "hits never reach the back");
}

#[tokio::test]
async fn writes_go_through_to_both() {
    let (store, back_memory, front, _) = stores();
    assert!(store.create(&key(2), &record("a")).await.expect("create"));
    assert!(store.apply(&key(2), &changes("b")).await.expect("apply"));
    assert_eq!(
        value_of(back_memory.load(&key(2)).await.expect("back")),
        Some("b".into())
    );
    assert_eq!(
        value_of(front.inner.load(&key(2)).await.expect("front")),
        Some("b".into())
    );
    assert!(store.save(&key(2), &record("c")).await.expect("save"));
    assert_eq!(
        value_of(back_memory.load(&key(2)).await.expect("back")),
        Some("c".into())
    );
    assert_eq!(
        value_of(front.inner.load(&key(2)).await.expect("front")),
        Some("c".into())
    );
}

#[tokio::test]
async fn a_front_down_on_load_is_read_through() {
    let (store, _, front, _) = stores();
    store.create(&key(3), &record("a")).await.expect("create");
    front.set_down(true);
    assert_eq!(
        value_of(store.load(&key(3)).await.expect("the back answers")),
        Some("a".into())
    );
}

#[tokio::test]
async fn a_front_failing_a_write_is_dropped_and_refilled() {
    let (store, back_memory, front, back) = stores();
    store.create(&key(4), &record("a")).await.expect("create");
    // The front fails the apply but can drop the entry: the write succeeds.
    front.set_writes_down(true);
    assert!(store.apply(&key(4), &changes("b")).await.expect("apply"));
    assert!(
        front.inner.load(&key(4)).await.expect("front").is_none(),
        "dropped"
    );
    front.set_writes_down(false);
    assert_eq!(
        value_of(store.load(&key(4)).await.expect("load")),
        Some("b".into())
    );
    assert_eq!(back.loads(), 1, "the miss was read from the back");
    assert!(
        front.inner.load(&key(4)).await.expect("front").is_some(),
        "refilled"
    );
    assert_eq!(
        value_of(back_memory.load(&key(4)).await.expect("back")),
        Some("b".into())
    );
}

#[tokio::test]
async fn a_front_that_can_neither_write_nor_drop_fails_the_write() {
    let (store, back_memory, front, _) = stores();
    store.create(&key(10), &record("a")).await.expect("create");
    front.set_down(true);
    assert!(
        store.apply(&key(10), &changes("b")).await.is_err(),
        "the front may still serve the old record: the write must not claim success"
    );
    assert_eq!(
        value_of(back_memory.load(&key(10)).await.expect("back")),
        Some("b".into()),
        "the back has the write"
    );
}

#[tokio::test]
async fn a_front_down_on_delete_fails_the_logout_before_the_back() {
    let (store, back_memory, front, _) = stores();
    store.create(&key(5), &record("a")).await.expect("create");
    front.set_down(true);
    assert!(store.delete(&key(5)).await.is_err());
    assert!(
        back_memory.load(&key(5)).await.expect("back").is_some(),
        "the back was not touched"
    );
    front.set_down(false);
    assert!(store.delete(&key(5)).await.expect("delete"));
    assert!(store.load(&key(5)).await.expect("load").is_none());
}

#[tokio::test]
async fn a_back_down_fails_the_write_and_empties_the_front() {
    let (store, _, front, back) = stores();
    store.create(&key(6), &record("a")).await.expect("create");
    back.set_down(true);
    assert!(store.apply(&key(6), &changes("b")).await.is_err());
    assert!(
        front.inner.load(&key(6)).await.expect("front").is_none(),
        "the back may or may not have written: the front must not answer for it"
    );
    assert!(
        store.load(&key(6)).await.is_err(),
        "a miss with the back down fails"
    );
    back.set_down(false);
    assert_eq!(
        value_of(store.load(&key(6)).await.expect("load")),
        Some("a".into())
    );
}

#[tokio::test]
async fn no_resurrection_through_the_front() {
    let (store, back_memory, front, _) = stores();
    store.create(&key(7), &record("a")).await.expect("create");
    // Deleted in the back behind the caching store's back (another process, say): the next
    // write finds nothing live in the back and clears the front too.
    back_memory.delete(&key(7)).await.expect("delete");
    assert!(!store.apply(&key(7), &changes("b")).await.expect("apply"));
    assert!(front.inner.load(&key(7)).await.expect("front").is_none());
    assert!(store.load(&key(7)).await.expect("load").is_none());
}

#[tokio::test]
async fn another_writer_of_the_back_is_not_seen_until_the_front_entry_goes() {
    // Documented: a front does not see writes that bypass it.
    let (store, back_memory, _, _) = stores();
    store.create(&key(8), &record("a")).await.expect("create");
    back_memory
        .save(&key(8), &record("elsewhere"))
        .await
        .expect("save");
    assert_eq!(
        value_of(store.load(&key(8)).await.expect("load")),
        Some("a".into())
    );
}

#[tokio::test]
async fn over_a_moka_front_the_same_rules_hold() {
    let back = MemoryStore::default();
    let store = CachingStore::new(CacheStore::new(100), back.clone());
    store.create(&key(9), &record("a")).await.expect("create");
    assert!(store.apply(&key(9), &changes("b")).await.expect("apply"));
    assert_eq!(
        value_of(store.front().load(&key(9)).await.expect("front")),
        Some("b".into())
    );
    assert!(store.delete(&key(9)).await.expect("delete"));
    assert!(store.front().load(&key(9)).await.expect("front").is_none());
    assert!(back.load(&key(9)).await.expect("back").is_none());
}

/// A back store that, after each apply, waits before answering: a window in which the caller can
/// give up (a client that disconnects during the commit).
#[derive(Clone, Default)]
struct SlowToAnswer(MemoryStore);

#[async_trait]
impl Store for SlowToAnswer {
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
        let applied = self.0.apply(key, changes).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        applied
    }
    fn applies_atomically(&self) -> bool {
        true
    }
}

#[tokio::test]
async fn a_write_dropped_halfway_still_reaches_the_front() {
    let back = SlowToAnswer::default();
    let store = CachingStore::new(CacheStore::new(100), back.clone());
    store.create(&key(11), &record("a")).await.expect("create");
    // The caller gives up while the back has written but not yet answered.
    let gave_up = tokio::time::timeout(
        Duration::from_millis(50),
        store.apply(&key(11), &changes("b")),
    )
    .await;
    assert!(gave_up.is_err(), "the apply was still running");
    // The write goes on without the caller: the front ends up with what the back has.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        value_of(back.0.load(&key(11)).await.expect("back")),
        Some("b".into())
    );
    assert_eq!(
        value_of(store.load(&key(11)).await.expect("load")),
        Some("b".into()),
        "the front serves the record the back holds"
    );
}
