//! [`Cache`]: the seam between [`CacheStore`](crate::CacheStore) and the cache holding the records.

use std::sync::Arc;

use async_trait::async_trait;
use session_core::store::{
    BoundSession, Clock, Key, Record, StoreError, StoreErrorKind, SystemClock, Timestamp,
};

/// A change to a live record, run by [`Cache::update`].
pub type Change<'a> = &'a (dyn Fn(&mut Record) + Send + Sync);

/// A cache of session records that [`CacheStore`](crate::CacheStore) can sit on.
///
/// Three operations are required, as in Plack's `Store::Cache`: [`get`](Cache::get),
/// [`set`](Cache::set) and [`remove`](Cache::remove). A cache entry should expire at the record's
/// own `expires` (a cache with no expiry still works: `CacheStore` never returns an expired record,
/// whatever the cache holds).
///
/// The two compound operations have defaults built on the three, which are **not atomic**: two
/// requests changing different keys of one session at the same moment can lose one change, and a
/// concurrent `remove` can be undone. A cache that can do them atomically (per-key locks, a
/// compare-and-set, a script) overrides both and answers `true` from
/// [`is_atomic`](Cache::is_atomic), as [`MokaCache`](crate::MokaCache) does.
///
/// `now` is the store's clock: an entry whose record has `expires <= now` counts as absent.
///
/// A cache that keeps records in memory keeps the records it is given (`set`,
/// `insert_if_absent`) with
/// [`Record::unshare_values`](session_core::store::Record::unshare_values) applied (as
/// `MokaCache` does): a record loaded from another store may share its values' text, which would
/// otherwise stay, uncounted, while any of those values did. The changes `CacheStore` makes
/// through `update` leave none shared.
///
/// A cache that keeps an index of its bound records per subject (as `MokaCache` does) answers
/// `true` from [`lists_subjects`](Cache::lists_subjects) and implements
/// [`list_subject`](Cache::list_subject), under the rules of
/// [`Store`'s "Sessions per subject"](session_core::store::Store#sessions-per-subject): the
/// index must follow the cache's own evictions too, which only the cache can see.
#[async_trait]
pub trait Cache: Send + Sync + 'static {
    /// The record under `key`, if the cache holds one (expired or not).
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError>;

    /// Stores `record` under `key`, replacing anything there.
    async fn set(&self, key: &Key, record: &Record) -> Result<(), StoreError>;

    /// Removes the entry under `key`, returning the record it held.
    async fn remove(&self, key: &Key) -> Result<Option<Record>, StoreError>;

    /// Stores `record` under `key` unless a live record is there; `true` if it was stored.
    ///
    /// The default is `get` then `set`: not atomic.
    async fn insert_if_absent(
        &self,
        key: &Key,
        record: &Record,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        match self.get(key).await? {
            Some(held) if !held.is_expired(now) => Ok(false),
            _ => {
                self.set(key, record).await?;
                Ok(true)
            }
        }
    }

    /// Runs `change` on the live record under `key` and stores the result.
    ///
    /// `false` (and nothing stored) if there is no live record.
    ///
    /// The default is `get` then `set`: not atomic.
    async fn update(
        &self,
        key: &Key,
        now: Timestamp,
        change: Change<'_>,
    ) -> Result<bool, StoreError> {
        match self.get(key).await? {
            Some(mut record) if !record.is_expired(now) => {
                change(&mut record);
                self.set(key, &record).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Whether [`insert_if_absent`](Cache::insert_if_absent) and `update` are atomic per key.
    fn is_atomic(&self) -> bool {
        false
    }

    /// Whether the cache keeps an index of its bound records per subject (default: `false`).
    fn lists_subjects(&self) -> bool {
        false
    }

    /// The records bound to `subject` that are live at `now`, with their keys.
    ///
    /// The default fails with [`StoreErrorKind::Unsupported`]: no index.
    async fn list_subject(
        &self,
        subject: &str,
        now: Timestamp,
    ) -> Result<Vec<BoundSession>, StoreError> {
        let _ = (subject, now);
        Err(StoreError::new(
            StoreErrorKind::Unsupported,
            "this cache keeps no index of sessions per subject (Cache::lists_subjects is false)",
        ))
    }

    /// The clock the cache times its entries by (default: the system clock).
    ///
    /// [`CacheStore`](crate::CacheStore) judges expiry by the same one.
    fn clock(&self) -> Arc<dyn Clock> {
        Arc::new(SystemClock)
    }
}
