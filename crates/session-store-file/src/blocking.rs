//! [`Blocking`]: the store's operations as plain blocking calls.

use session_core::store::{Changes, Key, Record, Timestamp};
use session_core::subject::BoundSession;

use crate::FileStoreError;
use crate::core::Core;

/// [`FileStore`](crate::FileStore)'s operations as blocking calls, on the calling thread.
///
/// They block on disk I/O and locks.
///
/// The same files, locks and rules as the async [`Store`](session_core::store::Store) methods; for tools
/// and scripts without an async runtime, and for measuring the store without the hop to the
/// blocking pool.
///
/// ```
/// use session_core::store::{Key, Record, Timestamp};
/// use session_store_file::FileStore;
///
/// let dir = tempfile::tempdir().unwrap();
/// let store = FileStore::open(dir.path().join("s")).unwrap();
/// let key = Key::from_digest([1; 32]);
/// let record = Record::new(Timestamp::from_millis(0), Timestamp::from_millis(u64::MAX));
/// assert!(store.blocking().create(&key, &record).unwrap());
/// assert_eq!(store.blocking().load(&key).unwrap(), Some(record));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Blocking<'a>(&'a Core);

impl<'a> Blocking<'a> {
    pub(crate) fn new(core: &'a Core) -> Self {
        Blocking(core)
    }

    /// [`Store::load`](session_core::store::Store::load), blocking.
    pub fn load(&self, key: &Key) -> Result<Option<Record>, FileStoreError> {
        self.0.load(key)
    }

    /// [`Store::create`](session_core::store::Store::create), blocking.
    pub fn create(&self, key: &Key, record: &Record) -> Result<bool, FileStoreError> {
        self.0.create(key, &self.0.encode(record)?)
    }

    /// [`Store::save`](session_core::store::Store::save), blocking.
    pub fn save(&self, key: &Key, record: &Record) -> Result<bool, FileStoreError> {
        self.0.save(key, &self.0.encode(record)?)
    }

    /// [`Store::delete`](session_core::store::Store::delete), blocking.
    pub fn delete(&self, key: &Key) -> Result<bool, FileStoreError> {
        self.0.delete(key)
    }

    /// [`Store::apply`](session_core::store::Store::apply), blocking.
    pub fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, FileStoreError> {
        self.0.apply(key, changes)
    }

    /// [`Store::list_subject`](session_core::store::Store::list_subject), blocking.
    pub fn list_subject(&self, subject: &str) -> Result<Vec<BoundSession>, FileStoreError> {
        self.0.list_subject(subject)
    }

    /// [`Store::touch`](session_core::store::Store::touch), blocking.
    pub fn touch(
        &self,
        key: &Key,
        last_active: Timestamp,
        expires: Timestamp,
    ) -> Result<bool, FileStoreError> {
        self.0.touch(key, last_active, expires)
    }
}
