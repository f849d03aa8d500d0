//! For store authors: the [`Store`] trait and what a store is made of: [`Record`], [`Changes`]
//! and [`Key`], the codecs that turn records into bytes, the clocks that judge expiry, and
//! [`StoreError`]. A [`ClientStore`] keeps the whole session with the client instead (a sealed
//! cookie). Run `session-conformance` against a new store.

use std::sync::Arc;

use async_trait::async_trait;

pub use crate::client::{ClientStore, Opened, Unsealed};
pub use crate::clock::{Clock, ManualClock, SystemClock};
#[cfg(feature = "bincode")]
pub use crate::codec::BincodeCodec;
pub use crate::codec::{
    Codec, CodecError, DEFAULT_MAX_RECORD_BYTES, JsonCodec, MAX_RECORD_BYTES_LIMIT,
};
pub use crate::error::{BoxError, StoreError, StoreErrorKind};
pub use crate::id::Key;
pub use crate::packed::{PackError, pack_values, unpack_shared, unpack_values};
pub use crate::record::{Changes, Record, Timestamp};
pub use crate::subject::{Binding, BoundSession, Handle, subject_key};
pub use crate::value::SharedText;

/// Where session records are kept.
///
/// Stores are keyed by a [`Key`] (a digest of the session id computed by core): a store never sees
/// a raw session id. Four methods are required; the rest have defaults built on them, so that new
/// capabilities can arrive as defaulted methods without breaking third-party stores.
///
/// # Contract
///
/// Every implementation must hold to these rules; `session-conformance` checks them all.
///
/// - [`load`](Store::load) never returns an expired record (`expires <= now`).
/// - [`create`](Store::create) is insert-if-absent: it returns `false` on a key collision and
///   leaves the stored record untouched. The engine then retries with a new id.
/// - [`save`](Store::save) and [`apply`](Store::apply) only replace a record that exists: if it was
///   deleted meanwhile (a logout elsewhere) they return `false` and write nothing, so a session is
///   never brought back to life.
/// - [`delete`](Store::delete) of an absent key is not an error.
/// - A store whose `apply` is atomic per record (a lock, a compare-and-set, a script) says so with
///   [`applies_atomically`](Store::applies_atomically); concurrent requests writing different keys
///   of one session then lose no write. The default `apply` (load, merge, save) is not atomic.
///
/// # Sessions per subject
///
/// A record may be bound to a subject (the application's user id, [`Record::binding`]). A store
/// that keeps an index of records per subject says so with
/// [`lists_subjects`](Store::lists_subjects) and implements
/// [`list_subject`](Store::list_subject); the engine builds "list a user's sessions", "revoke
/// one" and "log out everywhere" on it ([`Subjects`](crate::subject::Subjects)). The rules:
///
/// - Once [`create`](Store::create) of a bound record has returned, `list_subject` lists it until
///   it is deleted or expires; a listing never shows a record that [`delete`](Store::delete)
///   removed before the listing started.
/// - A bound record keeps its binding through [`apply`](Store::apply) and
///   [`touch`](Store::touch); the engine changes a binding only by creating a new record. (It
///   never changes one through [`save`](Store::save) either, so a store's `save` may write the
///   record's binding or keep the stored one.)
/// - Index entries of records that are gone (deleted, expired, evicted) do not pile up: they are
///   removed with the record, or by a sweep or a TTL.
/// - Where the index names a file or a key, it uses [`subject_key`], never the subject itself.
///
/// Stores written before this existed keep compiling: the defaults say "no index", and the
/// engine's per-subject operations then fail with
/// [`StoreErrorKind::Unsupported`].
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Loads the record stored under `key`, or `None` if there is none or it has expired.
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError>;

    /// Stores `record` under `key` if no live record is there; `false` on a collision.
    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError>;

    /// Replaces the live record under `key`; `false` (and nothing written) if there is none.
    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError>;

    /// Removes the record under `key`; `true` if a live record was removed.
    async fn delete(&self, key: &Key) -> Result<bool, StoreError>;

    /// Applies one request's key-level changes to the live record under `key`; `false` (and nothing
    /// written) if there is none.
    ///
    /// The default loads, merges and saves, which is not atomic: override it where the backend can
    /// do better, and report it with [`applies_atomically`](Store::applies_atomically).
    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        match self.load(key).await? {
            Some(mut record) => {
                changes.apply_to(&mut record);
                self.save(key, &record).await
            }
            None => Ok(false),
        }
    }

    /// Extends a live record's expiry without rewriting its values; `false` if there is none.
    ///
    /// The default goes through [`apply`](Store::apply) with no value changes, so with the default
    /// `apply` it loads and rewrites the whole record, and can overwrite a concurrent write: a
    /// store that claims [`applies_atomically`](Store::applies_atomically) should override both.
    async fn touch(
        &self,
        key: &Key,
        last_active: Timestamp,
        expires: Timestamp,
    ) -> Result<bool, StoreError> {
        self.apply(key, &Changes::touch(last_active, expires)).await
    }

    /// Whether [`apply`](Store::apply) is atomic per record, so that concurrent requests writing
    /// different keys of one session keep every write.
    fn applies_atomically(&self) -> bool {
        false
    }

    /// Whether this store keeps an index of bound records per subject, so that
    /// [`list_subject`](Store::list_subject) works.
    fn lists_subjects(&self) -> bool {
        false
    }

    /// The live records bound to `subject`: their keys, bindings and timestamps.
    ///
    /// The default fails with [`StoreErrorKind::Unsupported`]: the store keeps no index.
    async fn list_subject(&self, subject: &str) -> Result<Vec<BoundSession>, StoreError> {
        let _ = subject;
        Err(crate::subject::NoSubjectIndex::error())
    }
}

/// `Arc<dyn Store>` and `Box<dyn Store>` are Stores too, for sharing a store and for stores chosen
/// at run time.
macro_rules! forward_store {
    ($($wrapper:ty),*) => {$(
        #[async_trait]
        impl<S: Store + ?Sized> Store for $wrapper {
            async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
                (**self).load(key).await
            }
            async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
                (**self).create(key, record).await
            }
            async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
                (**self).save(key, record).await
            }
            async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
                (**self).delete(key).await
            }
            async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
                (**self).apply(key, changes).await
            }
            async fn touch(
                &self,
                key: &Key,
                last_active: Timestamp,
                expires: Timestamp,
            ) -> Result<bool, StoreError> {
                (**self).touch(key, last_active, expires).await
            }
            fn applies_atomically(&self) -> bool {
                (**self).applies_atomically()
            }
            fn lists_subjects(&self) -> bool {
                (**self).lists_subjects()
            }
            async fn list_subject(&self, subject: &str) -> Result<Vec<BoundSession>, StoreError> {
                (**self).list_subject(subject).await
            }
        }
    )*};
}

forward_store!(Arc<S>, Box<S>);
