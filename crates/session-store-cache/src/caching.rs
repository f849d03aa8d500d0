//! [`CachingStore`]: a fast store in front of a slower one.

use std::fmt;

use std::sync::Arc;

use async_trait::async_trait;
use session_core::store::{BoundSession, Changes, Key, Record, Store, StoreError, Timestamp};
use tokio::sync::{Mutex, MutexGuard};

/// How many locks the keys are spread over.
const STRIPES: usize = 64;

/// A cache in front of a slower store: reads that hit the cache never reach the slower store.
///
/// The front (`Front`) is a cache, say a [`CacheStore`](crate::CacheStore); the back (`Back`) a
/// slower store, say files or Redis.
///
/// - **Load**: the front first; on a miss, the back, and the record found there fills the front.
/// - **Writes** (create, save, apply, touch) go to the back first, then the same write to the
///   front (write-through), so the front stays warm.
/// - **Delete**: from the front first, then the back: a logout takes effect in the front before
///   anything else can read the session there.
///
/// Writes and filling misses hold a per-key lock (64 stripes), so within this process the front
/// only ever holds nothing or what the back holds. Writes run in a Tokio task of their own, so a
/// request dropped halfway (a client that disconnects during the commit) cannot stop one between
/// the back and the front. The back is the truth; the front can lose any
/// entry at any time (eviction, expiry) without harm.
///
/// # When front and back disagree, or fail
///
/// - **Back fails**: the operation fails (the adapter answers a bare 500) and the key is dropped
///   from the front, since the back may or may not have done the write (if dropping it fails too,
///   the front may serve the old record until its entry goes; the back's error is returned).
/// - **Front fails on a load**: logged at `warn`; the back answers, and the front is not filled.
/// - **Front fails on a write** (after the back succeeded): the key is dropped from the front and
///   the operation succeeds, the next load refilling the front from the back. If dropping it fails
///   too, the operation fails: the front might otherwise serve the old record.
/// - **Front fails on a delete**: the delete fails before the back is touched, so a logout is never
///   reported done while the front could still serve the session.
/// - **Several processes** writing the same back store each have their own front, which does not
///   see the others' writes: a process can serve a session's state as it last saw it until its
///   front entry is written, evicted or expires. Use a `CachingStore` where one process owns the
///   back store (files surviving restarts, say), or bound how long a front may serve an entry
///   (see below).
///
/// # Sessions per subject
///
/// [`lists_subjects`](Store::lists_subjects) is the back store's, and
/// [`list_subject`](Store::list_subject) asks the back store: only it knows the sessions that
/// other processes created. A bound record goes through the front and the back with its binding.
/// Revoking a session or "log out everywhere" ([`Subjects`](session_core::subject::Subjects))
/// deletes through this store, from the front and then the back, so it takes effect at once in
/// this process and in the back store.
///
/// **Revocation across processes**: the same staleness applies to a session ended elsewhere. A
/// process whose front holds a session that another process ended (a logout, a revocation, "log
/// out everywhere" run there) keeps serving it from its front until that entry goes: until this
/// process writes the session (the write finds nothing in the back and drops the entry), the
/// entry is evicted, or it expires, which by default is at the session's own expiry, hours
/// away. The listing, asked of the back, no longer shows it. What to do where several processes
/// share the back store:
///
/// - give each front a short [`max_entry_age`](crate::MokaCacheBuilder::max_entry_age) (a few
///   seconds): a session ended elsewhere is served for at most that long after this process last
///   read or wrote it in the back store, at the price of a back-store read per session that long;
/// - or use no front at all: the back store alone ends a session everywhere at once.
///
/// ```
/// use std::time::Duration;
/// use session_core::MemoryStore;
/// use session_store_cache::{CacheStore, CachingStore, MokaCache};
///
/// // Each process: a front that serves an entry for at most 5 seconds without asking the back.
/// let front = MokaCache::builder()
///     .max_sessions(10_000)
///     .max_entry_age(Duration::from_secs(5))
///     .build();
/// let store = CachingStore::new(CacheStore::on(front), MemoryStore::default());
/// # let _ = store;
/// ```
///
/// # Atomicity
///
/// Atomicity is the back store's: [`applies_atomically`](Store::applies_atomically) is the back's.
///
/// # Example
///
/// ```
/// use session_core::MemoryStore;
/// use session_store_cache::{CacheStore, CachingStore};
///
/// // A bounded moka cache in front of a store that keeps everything.
/// let store = CachingStore::new(CacheStore::new(10_000), MemoryStore::default());
/// # let _ = store;
/// ```
pub struct CachingStore<Front, Back> {
    inner: Arc<Inner<Front, Back>>,
}

struct Inner<Front, Back> {
    front: Front,
    back: Back,
    locks: Box<[Mutex<()>]>,
}

/// One write, carried out on both stores by [`Inner::write`].
enum Write {
    Create(Record),
    Save(Record),
    Apply(Changes),
    Touch(Timestamp, Timestamp),
}

impl<Front: Store, Back: Store> CachingStore<Front, Back> {
    /// `front` before `back`.
    pub fn new(front: Front, back: Back) -> Self {
        CachingStore {
            inner: Arc::new(Inner {
                front,
                back,
                locks: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            }),
        }
    }

    /// The front store.
    pub fn front(&self) -> &Front {
        &self.inner.front
    }

    /// The back store.
    pub fn back(&self) -> &Back {
        &self.inner.back
    }

    /// Carries out `write` in a task of its own.
    ///
    /// A request dropped halfway (a client that disconnects) then cannot leave the front behind
    /// the back.
    async fn write(&self, key: &Key, write: Write) -> Result<bool, StoreError> {
        let inner = self.inner.clone();
        let key = *key;
        let task = async move { inner.write(&key, write).await };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime.spawn(task).await.map_err(StoreError::backend)?,
            Err(_) => task.await,
        }
    }
}

impl<Front: Store, Back: Store> Inner<Front, Back> {
    async fn lock(&self, key: &Key) -> MutexGuard<'_, ()> {
        let stripe = usize::from(key.digest()[0]) % self.locks.len();
        self.locks[stripe].lock().await
    }

    /// Drops `key` from the front after `cause` left it possibly out of step with the back.
    ///
    /// An error if that fails too.
    async fn drop_from_front(&self, key: &Key, cause: &StoreError) -> Result<(), StoreError> {
        tracing::warn!(error = %cause, "session cache front and back may disagree; dropping the entry from the front");
        self.front.delete(key).await.map(drop).inspect_err(|error| {
            tracing::error!(%error, "could not drop a session from the cache front: it may serve a stale record");
        })
    }

    /// The write on the back, then the same on the front, under the key's lock.
    async fn write(&self, key: &Key, write: Write) -> Result<bool, StoreError> {
        let _guard = self.lock(key).await;
        let on_back = match &write {
            Write::Create(record) => self.back.create(key, record).await,
            Write::Save(record) => self.back.save(key, record).await,
            Write::Apply(changes) => self.back.apply(key, changes).await,
            Write::Touch(last_active, expires) => {
                self.back.touch(key, *last_active, *expires).await
            }
        };
        match on_back {
            Ok(true) => {}
            // A collision: the back holds someone else's live record; leave the front as it is.
            Ok(false) if matches!(write, Write::Create(_)) => return Ok(false),
            Ok(false) => {
                // Nothing live in the back: nothing may stay in the front either.
                self.front.delete(key).await?;
                return Ok(false);
            }
            Err(error) => {
                // The back may or may not have written. If the front cannot be emptied either,
                // it may still serve the old record; the back's error is what is returned.
                self.drop_from_front(key, &error).await.ok();
                return Err(error);
            }
        }
        // The front holds nothing or the back's previous record: the same write keeps them equal.
        let on_front = match &write {
            Write::Create(record) | Write::Save(record) => match self.front.delete(key).await {
                Ok(_) => self.front.create(key, record).await,
                Err(error) => Err(error),
            },
            Write::Apply(changes) => self.front.apply(key, changes).await,
            Write::Touch(last_active, expires) => {
                self.front.touch(key, *last_active, *expires).await
            }
        };
        if let Err(error) = on_front {
            self.drop_from_front(key, &error).await?;
        }
        Ok(true)
    }
}

#[async_trait]
impl<Front: Store, Back: Store> Store for CachingStore<Front, Back> {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        let inner = &self.inner;
        match inner.front.load(key).await {
            Ok(Some(record)) => return Ok(Some(record)),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, "session cache front failed on load; reading the back");
                return inner.back.load(key).await;
            }
        }
        let _guard = inner.lock(key).await;
        let found = inner.back.load(key).await?;
        if let Some(record) = &found {
            // Under the lock no write runs, so the front is empty or already holds this record.
            if let Err(error) = inner.front.create(key, record).await {
                tracing::warn!(%error, "session cache front failed to fill");
            }
        }
        Ok(found)
    }

    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.write(key, Write::Create(record.clone())).await
    }

    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.write(key, Write::Save(record.clone())).await
    }

    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        // Front first: a request dropped between the two leaves the front empty, never stale.
        let _guard = self.inner.lock(key).await;
        self.inner.front.delete(key).await?;
        self.inner.back.delete(key).await
    }

    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        self.write(key, Write::Apply(changes.clone())).await
    }

    async fn touch(
        &self,
        key: &Key,
        last_active: Timestamp,
        expires: Timestamp,
    ) -> Result<bool, StoreError> {
        self.write(key, Write::Touch(last_active, expires)).await
    }

    fn applies_atomically(&self) -> bool {
        self.inner.back.applies_atomically()
    }

    /// The back store's: the front cannot know the sessions other processes created.
    fn lists_subjects(&self) -> bool {
        self.inner.back.lists_subjects()
    }

    /// Asks the back store (the front is not consulted).
    async fn list_subject(&self, subject: &str) -> Result<Vec<BoundSession>, StoreError> {
        self.inner.back.list_subject(subject).await
    }
}

impl<Front: fmt::Debug, Back: fmt::Debug> fmt::Debug for CachingStore<Front, Back> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingStore")
            .field("front", &self.inner.front)
            .field("back", &self.inner.back)
            .finish_non_exhaustive()
    }
}
