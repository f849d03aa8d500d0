//! Stores the tests instrument: [`CountingStore`] (a `MemoryStore` that counts every call) and
//! [`FailingStore`] (a backend that is down).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use session_core::{Changes, Key, MemoryStore, Record, Store, StoreError, Timestamp};

/// How many times each [`Store`] method was called.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Calls {
    /// `load`.
    pub load: usize,
    /// `create`.
    pub create: usize,
    /// `save`.
    pub save: usize,
    /// `delete`.
    pub delete: usize,
    /// `apply`.
    pub apply: usize,
    /// `touch`.
    pub touch: usize,
}

impl Calls {
    /// Every call, whatever the method.
    pub fn total(&self) -> usize {
        self.load + self.create + self.save + self.delete + self.apply + self.touch
    }
}

#[derive(Debug, Default)]
struct Counters {
    load: AtomicUsize,
    create: AtomicUsize,
    save: AtomicUsize,
    delete: AtomicUsize,
    apply: AtomicUsize,
    touch: AtomicUsize,
}

fn bump(counter: &AtomicUsize) {
    counter.fetch_add(1, Ordering::SeqCst);
}

/// A real [`MemoryStore`] inside, every method call counted. Clones share the store and the
/// counts, so a test keeps one clone and gives the other to the engine.
#[derive(Clone, Debug, Default)]
pub struct CountingStore {
    inner: MemoryStore,
    counters: Arc<Counters>,
}

impl CountingStore {
    /// Counts the calls made to `inner`.
    pub fn new(inner: MemoryStore) -> Self {
        CountingStore {
            inner,
            counters: Arc::default(),
        }
    }

    /// The calls so far.
    pub fn calls(&self) -> Calls {
        let c = &*self.counters;
        Calls {
            load: c.load.load(Ordering::SeqCst),
            create: c.create.load(Ordering::SeqCst),
            save: c.save.load(Ordering::SeqCst),
            delete: c.delete.load(Ordering::SeqCst),
            apply: c.apply.load(Ordering::SeqCst),
            touch: c.touch.load(Ordering::SeqCst),
        }
    }
}

#[async_trait]
impl Store for CountingStore {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        bump(&self.counters.load);
        self.inner.load(key).await
    }

    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        bump(&self.counters.create);
        self.inner.create(key, record).await
    }

    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        bump(&self.counters.save);
        self.inner.save(key, record).await
    }

    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        bump(&self.counters.delete);
        self.inner.delete(key).await
    }

    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        bump(&self.counters.apply);
        self.inner.apply(key, changes).await
    }

    async fn touch(
        &self,
        key: &Key,
        last_active: Timestamp,
        expires: Timestamp,
    ) -> Result<bool, StoreError> {
        bump(&self.counters.touch);
        self.inner.touch(key, last_active, expires).await
    }

    fn applies_atomically(&self) -> bool {
        self.inner.applies_atomically()
    }
}

/// A store whose backend is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailingStore {
    reads_work: bool,
}

impl FailingStore {
    /// Every method fails.
    pub fn always() -> Self {
        FailingStore { reads_work: false }
    }

    /// `load` answers "no such session"; every write fails. A handler's reads and writes then
    /// succeed, and only the commit after it fails.
    pub fn on_write() -> Self {
        FailingStore { reads_work: true }
    }

    fn down<T>() -> Result<T, StoreError> {
        Err(StoreError::backend(std::io::Error::other("down")))
    }
}

#[async_trait]
impl Store for FailingStore {
    async fn load(&self, _key: &Key) -> Result<Option<Record>, StoreError> {
        if self.reads_work {
            Ok(None)
        } else {
            FailingStore::down()
        }
    }

    async fn create(&self, _key: &Key, _record: &Record) -> Result<bool, StoreError> {
        FailingStore::down()
    }

    async fn save(&self, _key: &Key, _record: &Record) -> Result<bool, StoreError> {
        FailingStore::down()
    }

    async fn delete(&self, _key: &Key) -> Result<bool, StoreError> {
        FailingStore::down()
    }

    async fn apply(&self, _key: &Key, _changes: &Changes) -> Result<bool, StoreError> {
        FailingStore::down()
    }

    async fn touch(
        &self,
        _key: &Key,
        _last_active: Timestamp,
        _expires: Timestamp,
    ) -> Result<bool, StoreError> {
        FailingStore::down()
    }
}
