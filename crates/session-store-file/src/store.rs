//! [`FileStore`]: the async [`Store`] over the blocking core.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use session_core::store::{Changes, Key, Record, Store, StoreError, Timestamp};
use session_core::subject::BoundSession;

use crate::core::Core;
use crate::locks::KeyLocks;
use crate::sweeper;
use crate::{Blocking, Cleanup, FileStoreBuilder, FileStoreError};

/// Sessions in files, one per session, in a private directory: see the [crate docs](crate).
///
/// Clones share the directory and its settings.
#[derive(Clone)]
pub struct FileStore {
    pub(crate) core: Arc<Core>,
    /// Writers of one session take turns here before they go to the blocking pool.
    locks: Arc<KeyLocks>,
    loads_in_place: bool,
}

impl FileStore {
    /// A store over `core`, built by [`FileStoreBuilder`], with a background sweeper passing
    /// every `sweep_every` if that is set and a Tokio runtime is running.
    pub(crate) fn new(
        core: Core,
        loads_in_place: bool,
        sweep_every: Option<Duration>,
    ) -> FileStore {
        let store = FileStore {
            core: Arc::new(core),
            locks: Arc::default(),
            loads_in_place,
        };
        if let Some(every) = sweep_every
            && tokio::runtime::Handle::try_current().is_ok()
        {
            match sweeper::start_thread(&store.core, every) {
                Ok((thread, _)) => {
                    let _ = store.core.sweeper.set(thread);
                }
                Err(error) => tracing::warn!(
                    %error,
                    "file store: the background sweeper did not start; call cleanup() yourself"
                ),
            }
        }
        store
    }

    /// A store on `dir` with the default settings; see [`FileStoreBuilder::open`].
    pub fn open(dir: impl AsRef<Path>) -> Result<FileStore, FileStoreError> {
        FileStore::builder().open(dir)
    }

    /// A store on a new private temporary directory; see [`FileStoreBuilder::temporary`].
    pub fn temporary() -> Result<FileStore, FileStoreError> {
        FileStore::builder().temporary()
    }

    /// A builder for other settings.
    pub fn builder() -> FileStoreBuilder {
        FileStoreBuilder::default()
    }

    /// The path the session directory was opened by.
    ///
    /// The store itself never uses it again: it works on the directory it opened and checked,
    /// even if that directory has since been renamed.
    pub fn dir(&self) -> &Path {
        &self.core.dir.path
    }

    /// The file a session's record lives in: the hex digest of its id, in [`dir`](Self::dir).
    ///
    /// A path for the application to look at; the store names the file relative to its open
    /// directory.
    pub fn file_for(&self, key: &Key) -> PathBuf {
        self.core.path(key)
    }

    /// The shared state, for the unit tests.
    #[cfg(test)]
    pub(crate) fn core(&self) -> &Core {
        &self.core
    }

    /// The writers' turns, for the unit tests.
    #[cfg(test)]
    pub(crate) fn locks(&self) -> &KeyLocks {
        &self.locks
    }

    /// The blocking form of the store, for code outside an async runtime (scripts, tools).
    pub fn blocking(&self) -> Blocking<'_> {
        Blocking::new(&self.core)
    }

    /// Removes expired and unreadable session files, stale temporary files and stale subject
    /// index entries, now, on this thread.
    ///
    /// It blocks: from async code, call it inside `spawn_blocking`, or use
    /// [`spawn_cleanup`](Self::spawn_cleanup).
    ///
    /// # Errors
    ///
    /// If the directory cannot be listed. A single entry that cannot be examined is skipped.
    pub fn cleanup(&self) -> Result<Cleanup, FileStoreError> {
        self.core.cleanup()
    }

    /// Starts a Tokio task that sweeps the directory every `every`, in bounded passes.
    ///
    /// A store built inside a Tokio runtime already has a sweeper (a thread; see the
    /// [crate docs](crate#expiry-and-the-sweeper)); this one is for a store built with
    /// [`background_sweeper(false)`](FileStoreBuilder::background_sweeper) or outside a runtime.
    /// Each pass examines at most [`sweep_batch`](FileStoreBuilder::sweep_batch) entries, on the
    /// blocking pool, one at a time, continuing where the last one stopped. The task holds no strong
    /// reference: it ends by itself once every clone of the store is dropped; abort the handle to
    /// stop it sooner.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, or on one built without its time driver (`enable_time`).
    pub fn spawn_cleanup(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        sweeper::start_now(&self.core, every)
    }

    /// Runs a read (one open, one read of a small file, no lock waited for) off the async worker.
    ///
    /// With `block_in_place` when [`FileStoreBuilder::loads_in_place`] is on and the runtime is
    /// multi-threaded, on the blocking pool otherwise.
    async fn run_read<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Core) -> Result<T, FileStoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime)
                if self.loads_in_place
                    && runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread =>
            {
                tokio::task::block_in_place(|| op(&self.core)).map_err(StoreError::from)
            }
            _ => self.run(op).await,
        }
    }

    /// Runs `op`, which may wait for `key`'s file lock, once it is `key`'s turn in this store.
    ///
    /// The turn is waited for here, without a thread, and held by the blocking job until it ends
    /// (even if this future is dropped first): at most one blocking thread per session waits on
    /// its file lock, whatever the number of writers.
    async fn run_locked<T: Send + 'static>(
        &self,
        key: Key,
        op: impl FnOnce(&Core) -> Result<T, FileStoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let turn = self.locks.turn(key).await;
        self.run(move |core| {
            let _turn = turn;
            op(core)
        })
        .await
    }

    /// Runs `op` on the blocking pool of the current Tokio runtime (inline where there is none).
    async fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Core) -> Result<T, FileStoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let core = Arc::clone(&self.core);
        let result = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime
                .spawn_blocking(move || op(&core))
                .await
                .map_err(FileStoreError::Worker)
                .and_then(|result| result),
            Err(_) => op(&core),
        };
        result.map_err(StoreError::from)
    }
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.core.dir.path)
            .field("codec", &self.core.codec)
            .field("max_record_bytes", &self.core.max_payload)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for FileStore {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        let key = *key;
        self.run_read(move |core| core.load(&key)).await
    }

    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        // Encoding is CPU work: done here, so only bytes move to the blocking pool.
        let (key, encoded) = (*key, self.core.encode(record)?);
        self.run_locked(key, move |core| core.create(&key, &encoded))
            .await
    }

    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        let (key, encoded) = (*key, self.core.encode(record)?);
        self.run_locked(key, move |core| core.save(&key, &encoded))
            .await
    }

    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        let key = *key;
        self.run_locked(key, move |core| core.delete(&key)).await
    }

    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        let (key, changes) = (*key, changes.clone());
        self.run_locked(key, move |core| core.apply(&key, &changes))
            .await
    }

    async fn touch(
        &self,
        key: &Key,
        last_active: Timestamp,
        expires: Timestamp,
    ) -> Result<bool, StoreError> {
        let key = *key;
        self.run_locked(key, move |core| core.touch(&key, last_active, expires))
            .await
    }

    /// `true`: `apply` and `touch` run under the session file's lock, across processes.
    fn applies_atomically(&self) -> bool {
        true
    }

    /// `true`: a directory per subject under `subjects/` (see the
    /// [crate docs](crate#sessions-per-subject)).
    fn lists_subjects(&self) -> bool {
        true
    }

    async fn list_subject(&self, subject: &str) -> Result<Vec<BoundSession>, StoreError> {
        let subject = subject.to_owned();
        self.run(move |core| core.list_subject(&subject)).await
    }
}
