//! [`FileStoreBuilder`]: the settings of a [`FileStore`], and where it keeps its files.

use std::fmt;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use session_core::store::{
    Clock, Codec, DEFAULT_MAX_RECORD_BYTES, JsonCodec, MAX_RECORD_BYTES_LIMIT, SystemClock,
};

use crate::core::Core;
use crate::dir::SessionDir;
use crate::{FileStore, FileStoreError};

/// How old a temporary file must be before the sweeper removes it, by default: 10 minutes.
///
/// A write takes milliseconds; an older file belongs to a writer that died.
pub const DEFAULT_STALE_TEMP_AFTER: Duration = Duration::from_secs(10 * 60);

/// How often the background sweeper makes a pass, by default: every minute.
pub const DEFAULT_SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The most directory entries one background sweeper pass examines, by default: 10 000.
///
/// About a tenth of a second of one blocking thread; a larger directory is covered over several
/// passes.
pub const DEFAULT_SWEEP_BATCH: usize = 10_000;

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
    background_sweeper: bool,
    sweep_every: Duration,
    sweep_batch: usize,
}

impl Default for FileStoreBuilder {
    fn default() -> Self {
        FileStoreBuilder {
            codec: default_codec(),
            clock: Box::new(SystemClock),
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            stale_temp_after: DEFAULT_STALE_TEMP_AFTER,
            loads_in_place: false,
            background_sweeper: true,
            sweep_every: DEFAULT_SWEEP_EVERY,
            sweep_batch: DEFAULT_SWEEP_BATCH,
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

    /// How old a temporary file must be before [`FileStore::cleanup`] removes it; also how old
    /// a subject index entry whose session file is missing must be before it is removed.
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

    /// Whether building the store inside a Tokio runtime starts the background sweeper (on by
    /// default).
    ///
    /// The sweeper is a thread of its own that ends with the store; see the
    /// [crate docs](crate#expiry-and-the-sweeper). Turn it off where the directory is swept
    /// otherwise (another process, a cron job calling [`FileStore::cleanup`],
    /// [`FileStore::spawn_cleanup`] on a runtime of your choice).
    pub fn background_sweeper(mut self, on: bool) -> Self {
        self.background_sweeper = on;
        self
    }

    /// How often the background sweeper makes a pass (default [`DEFAULT_SWEEP_EVERY`], at least
    /// 10 ms). The first pass comes one interval after the store is built.
    pub fn sweep_every(mut self, every: Duration) -> Self {
        self.sweep_every = every;
        self
    }

    /// The most directory entries one pass of the background sweeper (or of
    /// [`FileStore::spawn_cleanup`]) examines (default [`DEFAULT_SWEEP_BATCH`], at least 1).
    ///
    /// The next pass continues where the last one stopped, and starts again from the top once it
    /// has reached the end of the directory.
    pub fn sweep_batch(mut self, entries: usize) -> Self {
        self.sweep_batch = entries;
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
        let core = Core {
            dir,
            codec: self.codec,
            clock: self.clock,
            max_payload: self.max_record_bytes,
            stale_temp_after: self.stale_temp_after,
            sweep_batch: self.sweep_batch.max(1),
            sweep_cursor: Mutex::default(),
            sweeper: OnceLock::new(),
            #[cfg(test)]
            in_flock: Default::default(),
        };
        let sweep_every = self.background_sweeper.then_some(self.sweep_every);
        FileStore::new(core, self.loads_in_place, sweep_every)
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
