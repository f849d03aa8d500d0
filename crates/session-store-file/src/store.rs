//! [`FileStore`] and its [`FileStoreBuilder`]: the async [`Store`] over the blocking core.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use session_core::store::{
    Changes, Clock, Codec, DEFAULT_MAX_RECORD_BYTES, JsonCodec, Key, MAX_RECORD_BYTES_LIMIT,
    Record, Store, StoreError, SystemClock, Timestamp,
};

use crate::core::Core;
use crate::dir::SessionDir;
use crate::locks::KeyLocks;
use crate::{Blocking, Cleanup, FileStoreError};

/// How old a temporary file must be before the sweeper removes it, by default: 10 minutes.
///
/// A write takes milliseconds; an older file belongs to a writer that died.
pub const DEFAULT_STALE_TEMP_AFTER: Duration = Duration::from_secs(10 * 60);

/// Sessions in files, one per session, in a private directory: see the [crate docs](crate).
///
/// Clones share the directory and its settings.
#[derive(Clone)]
pub struct FileStore {
    core: Arc<Core>,
    /// Writers of one session take turns here before they go to the blocking pool.
    locks: Arc<KeyLocks>,
    loads_in_place: bool,
}

/// Builds a [`FileStore`] with a codec, clock, size limit or temp-file age of your choice.
///
/// ```
/// use session_core::store::JsonCodec;
/// use session_store_file::FileStore;
///
/// let dir = tempfile::tempdir().unwrap();
/// let store = FileStore::builder()
///     .codec(JsonCodec::default())
///     .max_record_bytes(64 * 1024)
///     .open(dir.path().join("sessions"))
///     .unwrap();
/// assert!(store.dir().ends_with("sessions"));
/// ```
#[must_use]
pub struct FileStoreBuilder {
    codec: Box<dyn Codec>,
    clock: Box<dyn Clock>,
    max_record_bytes: usize,
    stale_temp_after: Duration,
    loads_in_place: bool,
}

impl Default for FileStoreBuilder {
    fn default() -> Self {
        FileStoreBuilder {
            codec: default_codec(),
            clock: Box::new(SystemClock),
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            stale_temp_after: DEFAULT_STALE_TEMP_AFTER,
            loads_in_place: false,
        }
    }
}

#[cfg(feature = "bincode")]
fn default_codec() -> Box<dyn Codec> {
    Box::new(session_core::store::BincodeCodec::default())
}

#[cfg(not(feature = "bincode"))]
fn default_codec() -> Box<dyn Codec> {
    Box::new(JsonCodec::default())
}

impl FileStoreBuilder {
    /// The codec records are written with.
    ///
    /// Default: bincode 2, or JSON without the `bincode` feature. Changing it makes existing files
    /// unreadable: they are dropped as damaged.
    pub fn codec(mut self, codec: impl Codec) -> Self {
        self.codec = Box::new(codec);
        self
    }

    /// JSON records, readable with any JSON tool after skipping the 16-byte header.
    pub fn json(self) -> Self {
        self.codec(JsonCodec::default())
    }

    /// The clock expiry is judged by (default: the system clock; a `ManualClock` in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// The largest encoded record written or read (default 1 MiB, at most 256 MiB).
    ///
    /// A larger file is treated as no session and removed, without being read.
    pub fn max_record_bytes(mut self, max: usize) -> Self {
        self.max_record_bytes = max.min(MAX_RECORD_BYTES_LIMIT);
        self
    }

    /// How old a temporary file must be before [`FileStore::cleanup`] removes it.
    ///
    /// Default: [`DEFAULT_STALE_TEMP_AFTER`]. Keep it well above the longest write: a shorter age
    /// lets the sweeper remove the temporary file of a write still in progress, which then fails.
    pub fn stale_temp_after(mut self, age: Duration) -> Self {
        self.stale_temp_after = age;
        self
    }

    /// Runs loads in `block_in_place` instead of on the blocking pool (off by default).
    ///
    /// When the current runtime is multi-threaded, [`Store::load`](session_core::store::Store::load) (one
    /// open, one read, never a lock waited for) then costs about 2 µs instead of about 20 µs of
    /// thread hand-over. Turn it on only where every call comes from a task of a multi-thread Tokio
    /// runtime (axum on `#[tokio::main]`, say): `block_in_place` panics on a thread inside a
    /// current-thread runtime's `block_on`, even with a multi-thread runtime entered.
    /// Current-thread runtimes (actix-web's workers) always use the blocking pool.
    pub fn loads_in_place(mut self, on: bool) -> Self {
        self.loads_in_place = on;
        self
    }

    /// Opens the store on `dir`, creating it with mode 0700 if it does not exist.
    ///
    /// # Errors
    ///
    /// If `dir` is not a directory, is a symbolic link, belongs to another user, or is writable
    /// by its group or by everyone; or if it cannot be created or opened.
    pub fn open(self, dir: impl AsRef<Path>) -> Result<FileStore, FileStoreError> {
        let dir = SessionDir::open(dir.as_ref())?;
        Ok(self.finish(dir))
    }

    /// Opens the store on a new private directory (mode 0700) in the system's temporary directory.
    ///
    /// The directory is removed when the last clone of the store is dropped: sessions then outlive
    /// neither the process nor the store, as with Plack's default, but no other user can read them.
    ///
    /// # Errors
    ///
    /// If the directory cannot be created.
    pub fn temporary(self) -> Result<FileStore, FileStoreError> {
        let private = tempfile::Builder::new()
            .prefix("session-store-file-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .map_err(FileStoreError::io("create a private session directory"))?
            // Removed by the store, through its handle (`SessionDir`), not by name.
            .keep();
        let dir = SessionDir::open_private(&private)?;
        Ok(self.finish(dir))
    }

    fn finish(self, dir: SessionDir) -> FileStore {
        FileStore {
            core: Arc::new(Core {
                dir,
                codec: self.codec,
                clock: self.clock,
                max_payload: self.max_record_bytes,
                stale_temp_after: self.stale_temp_after,
                #[cfg(test)]
                in_flock: Default::default(),
            }),
            locks: Arc::default(),
            loads_in_place: self.loads_in_place,
        }
    }
}

impl fmt::Debug for FileStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStoreBuilder")
            .field("codec", &self.codec)
            .field("max_record_bytes", &self.max_record_bytes)
            .finish_non_exhaustive()
    }
}

impl FileStore {
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

    /// Removes expired and unreadable session files and stale temporary files, now, on this thread.
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

    /// Starts a Tokio task that runs [`cleanup`](Self::cleanup) every `every`.
    ///
    /// Each pass runs on the blocking pool, one at a time. The task holds no strong reference: it
    /// ends by itself once every clone of the store is dropped; abort the handle to stop it sooner.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, or on one built without its time driver (`enable_time`).
    pub fn spawn_cleanup(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Core> = Arc::downgrade(&self.core);
        // Made here, not in the task, so that a runtime without its time driver panics at this
        // call rather than silently in the task.
        let mut ticks = tokio::time::interval(every.max(Duration::from_millis(10)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::spawn(async move {
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(core) = weak.upgrade() else { return };
                match tokio::task::spawn_blocking(move || core.cleanup()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => tracing::warn!(%error, "file store cleanup failed"),
                    Err(error) => tracing::warn!(%error, "file store cleanup task failed"),
                }
            }
        })
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
}
