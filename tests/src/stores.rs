//! Stores the tests instrument: [`CountingStore`] (a `MemoryStore` that counts every call),
//! [`FailingStore`] (a backend that is down) and [`FaultStore`] (a `MemoryStore` whose every
//! operation can be made to fail, hang or slow down while the server runs).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use session_core::MemoryStore;
use session_core::store::{Changes, Key, Record, Store, StoreError, Timestamp};

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

    /// The calls of `op`.
    pub fn of(&self, op: StoreOp) -> usize {
        match op {
            StoreOp::Load => self.load,
            StoreOp::Create => self.create,
            StoreOp::Save => self.save,
            StoreOp::Apply => self.apply,
            StoreOp::Touch => self.touch,
            StoreOp::Delete => self.delete,
        }
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

impl Counters {
    /// Counts one call to `op`.
    fn count(&self, op: StoreOp) {
        let counter = match op {
            StoreOp::Load => &self.load,
            StoreOp::Create => &self.create,
            StoreOp::Save => &self.save,
            StoreOp::Apply => &self.apply,
            StoreOp::Touch => &self.touch,
            StoreOp::Delete => &self.delete,
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }

    /// The calls counted so far.
    fn calls(&self) -> Calls {
        Calls {
            load: self.load.load(Ordering::SeqCst),
            create: self.create.load(Ordering::SeqCst),
            save: self.save.load(Ordering::SeqCst),
            delete: self.delete.load(Ordering::SeqCst),
            apply: self.apply.load(Ordering::SeqCst),
            touch: self.touch.load(Ordering::SeqCst),
        }
    }
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
        self.counters.calls()
    }
}

#[async_trait]
impl Store for CountingStore {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.counters.count(StoreOp::Load);
        self.inner.load(key).await
    }

    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.counters.count(StoreOp::Create);
        self.inner.create(key, record).await
    }

    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.counters.count(StoreOp::Save);
        self.inner.save(key, record).await
    }

    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        self.counters.count(StoreOp::Delete);
        self.inner.delete(key).await
    }

    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        self.counters.count(StoreOp::Apply);
        self.inner.apply(key, changes).await
    }

    async fn touch(
        &self,
        key: &Key,
        last_active: Timestamp,
        expires: Timestamp,
    ) -> Result<bool, StoreError> {
        self.counters.count(StoreOp::Touch);
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

/// The detail inside every error a [`FaultStore`] fails with: it looks like a secret (a password, an
/// internal address), so that a test can prove it never reaches the client.
pub const FAULT_DETAIL: &str = "backend detail: password=hunter2 at 10.0.0.9";

/// One [`Store`] operation, as a [`FaultStore`] controls and counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StoreOp {
    /// `load`.
    Load,
    /// `create`.
    Create,
    /// `save`.
    Save,
    /// `apply`.
    Apply,
    /// `touch`.
    Touch,
    /// `delete`.
    Delete,
}

impl StoreOp {
    /// Every operation.
    pub const ALL: [StoreOp; 6] = [
        StoreOp::Load,
        StoreOp::Create,
        StoreOp::Save,
        StoreOp::Apply,
        StoreOp::Touch,
        StoreOp::Delete,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn name(self) -> &'static str {
        match self {
            StoreOp::Load => "load",
            StoreOp::Create => "create",
            StoreOp::Save => "save",
            StoreOp::Apply => "apply",
            StoreOp::Touch => "touch",
            StoreOp::Delete => "delete",
        }
    }
}

/// What a [`FaultStore`] operation does when called.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    /// Passes the call to the memory store inside.
    #[default]
    Pass,
    /// Fails at once with a [`StoreError::backend`] whose message holds [`FAULT_DETAIL`].
    Fail,
    /// Fails the next call as [`Fault::Fail`] does; the operation passes again after it.
    FailOnce,
    /// Carries the call out, then reports a failure as [`Fault::Fail`] does: a write that landed
    /// although the caller was told otherwise (a time-out after the backend applied it).
    LandThenFail,
    /// Never returns (`std::future::pending`): a lost network peer, a lock held elsewhere.
    Hang,
    /// Sleeps this long (Tokio's timer), then passes the call on. Cut off before the end (by the
    /// engine's store time limit), it has written nothing.
    Slow(Duration),
}

#[derive(Debug, Default)]
struct FaultControl {
    modes: Mutex<[Fault; 6]>,
    counters: Counters,
}

/// A real [`MemoryStore`] inside, with a [`Fault`] per operation that the test sets while the
/// server runs, and every call counted (a call that fails or hangs counts too, when it starts).
/// Clones share the store, the faults and the counts: a test keeps one clone as its handle and
/// gives the other to the engine.
///
/// ```text
/// let fault = FaultStore::default();
/// let setup = Setup::cookie().store(fault.clone());
/// // ... start a server, make a session ...
/// fault.set(StoreOp::Apply, Fault::Fail);   // the next write to an existing session fails
/// fault.set_all(Fault::Hang);               // the backend stops answering altogether
/// fault.set_all(Fault::Pass);               // and is back
/// ```
#[derive(Clone, Debug, Default)]
pub struct FaultStore {
    inner: MemoryStore,
    control: Arc<FaultControl>,
}

impl FaultStore {
    /// Faults (initially none) in front of `inner`.
    pub fn new(inner: MemoryStore) -> Self {
        FaultStore {
            inner,
            control: Arc::default(),
        }
    }

    /// From now on, `op` does what `fault` says.
    pub fn set(&self, op: StoreOp, fault: Fault) {
        self.modes()[op.index()] = fault;
    }

    /// From now on, every operation does what `fault` says.
    pub fn set_all(&self, fault: Fault) {
        *self.modes() = [fault; 6];
    }

    /// The calls so far, per operation.
    pub fn calls(&self) -> Calls {
        self.control.counters.calls()
    }

    /// The records held by the memory store inside (expired ones not yet reclaimed included).
    pub fn stored(&self) -> usize {
        self.inner.len()
    }

    fn modes(&self) -> std::sync::MutexGuard<'_, [Fault; 6]> {
        // A test that panicked while holding the lock left valid modes behind.
        self.control
            .modes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a call to `op`, then fails, hangs or waits as its fault says; `Ok` to pass it on,
    /// holding whether the call must report a failure once carried out ([`Fault::LandThenFail`]).
    async fn enter(&self, op: StoreOp) -> Result<bool, StoreError> {
        self.control.counters.count(op);
        let fault = {
            let mut modes = self.modes();
            let slot = &mut modes[op.index()];
            let fault = *slot;
            if fault == Fault::FailOnce {
                *slot = Fault::Pass;
            }
            fault
        };
        match fault {
            Fault::Pass => Ok(false),
            Fault::LandThenFail => Ok(true),
            Fault::Fail | Fault::FailOnce => Err(failure(op)),
            Fault::Hang => std::future::pending().await,
            Fault::Slow(delay) => {
                tokio::time::sleep(delay).await;
                Ok(false)
            }
        }
    }

    /// The outcome of a call carried out: `result`, or the failure [`Fault::LandThenFail`] reports.
    fn leave<T>(op: StoreOp, fail: bool, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if fail {
            result.and(Err(failure(op)))
        } else {
            result
        }
    }
}

/// The error a failing `op` reports, with [`FAULT_DETAIL`] in its message.
fn failure(op: StoreOp) -> StoreError {
    StoreError::backend(std::io::Error::other(format!(
        "{} failed: {FAULT_DETAIL}",
        op.name()
    )))
}

#[async_trait]
impl Store for FaultStore {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        let fail = self.enter(StoreOp::Load).await?;
        FaultStore::leave(StoreOp::Load, fail, self.inner.load(key).await)
    }

    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        let fail = self.enter(StoreOp::Create).await?;
        FaultStore::leave(StoreOp::Create, fail, self.inner.create(key, record).await)
    }

    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        let fail = self.enter(StoreOp::Save).await?;
        FaultStore::leave(StoreOp::Save, fail, self.inner.save(key, record).await)
    }

    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        let fail = self.enter(StoreOp::Delete).await?;
        FaultStore::leave(StoreOp::Delete, fail, self.inner.delete(key).await)
    }

    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        let fail = self.enter(StoreOp::Apply).await?;
        FaultStore::leave(StoreOp::Apply, fail, self.inner.apply(key, changes).await)
    }

    async fn touch(
        &self,
        key: &Key,
        last_active: Timestamp,
        expires: Timestamp,
    ) -> Result<bool, StoreError> {
        let fail = self.enter(StoreOp::Touch).await?;
        FaultStore::leave(
            StoreOp::Touch,
            fail,
            self.inner.touch(key, last_active, expires).await,
        )
    }

    fn applies_atomically(&self) -> bool {
        self.inner.applies_atomically()
    }
}
