#![cfg_attr(docsrs, feature(doc_cfg))]
//! NullStore: a session store that keeps nothing.
//!
//! [`NullStore`] is Plack's `Store::Null`: every write is accepted and forgotten. It is for
//! applications that want the session API without server-side state (tests, demos, a stateless
//! deployment while a real store is being set up), and for measuring what the session layer costs
//! without a backend.
//!
//! # What an application sees
//!
//! - **Every request gets a new, empty session.** An id sent by the client is never adopted,
//!   because the store never has a record for it: [`Session::id`](session_core::Session::id) is
//!   `None` until the session is saved, and every `get` of a value set by an earlier request is
//!   `None`.
//! - **Values set in a request are readable within that request only.** The [`Session`] handle
//!   keeps them in memory until the response is committed; then they are gone.
//! - **A cookie is still issued when a request sets something.** [`create`](Store::create) says it
//!   stored the new session, so the engine generates an id and the State delivers it (a
//!   `Set-Cookie` with `CookieState`). The id names nothing: the next request starts empty again.
//!   A request that sets nothing gets no cookie, as with every store.
//! - **Logout and login are harmless.** [`Session::expire`](session_core::Session::expire)
//!   deletes nothing (there is nothing) and never fails. If the request carried an id, the State
//!   still tells the client to forget it (a removal cookie), as with every store.
//!   [`Session::cycle_id`](session_core::Session::cycle_id) stores the request's values under a
//!   fresh id (which is issued, then forgotten) or, with no values, does nothing.
//! - **Writing after [`Session::save`](session_core::Session::save) ends the session.** `save`
//!   creates the session and returns its id, but the store forgets it at once. A change made after
//!   that is a write to a session that no longer exists, as when another request logged the
//!   session out: left to the commit, the commit writes nothing and does not send the id; a second
//!   `save` fails with
//!   [`Error::SessionEnded`](session_core::Error::SessionEnded).
//!
//! [`Session`]: session_core::Session
//!
//! # Example
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use session_core::{Engine, ParamState};
//! use session_core::state::RequestView;
//! use session_store_null::NullStore;
//!
//! # tokio::runtime::Runtime::new().expect("runtime").block_on(async {
//! let engine = Engine::new(ParamState::default(), NullStore);
//! let no_headers = HeaderMap::new();
//!
//! // First request: a new session; its values are readable until the request ends.
//! let session = engine.start(&RequestView::new(&no_headers, None));
//! session.insert("counter", &1u64).await?;
//! assert_eq!(session.get::<u64>("counter").await?, Some(1));
//! let id = session.save().await?; // the store pretends to keep it: an id is issued
//! engine.commit(&session, StatusCode::OK).await?;
//!
//! // Second request, carrying that id: not adopted, and nothing was kept.
//! let query = format!("plack_session={}", id.as_str());
//! let session = engine.start(&RequestView::new(&no_headers, Some(&query)));
//! assert_eq!(session.id().await?, None);
//! assert_eq!(session.get::<u64>("counter").await?, None);
//! assert!(session.is_empty().await?);
//! # Ok::<_, session_core::Error>(())
//! # }).expect("the example runs");
//! ```

use async_trait::async_trait;
use session_core::store::{Changes, Key, Record, Store, StoreError, Timestamp};

/// A [`Store`] that keeps nothing.
///
/// See the [crate documentation](crate) for what an application sees.
///
/// | method | answer | meaning |
/// |---|---|---|
/// | [`load`](Store::load) | `Ok(None)` | no session is ever found |
/// | [`create`](Store::create) | `Ok(true)` | "stored" (the engine issues an id), then forgotten |
/// | [`save`](Store::save) | `Ok(false)` | there is no live record to update |
/// | [`apply`](Store::apply) | `Ok(false)` | there is no live record to change |
/// | [`touch`](Store::touch) | `Ok(false)` | there is no live record to touch |
/// | [`delete`](Store::delete) | `Ok(false)` | there was no live record to remove |
///
/// It never fails and never blocks. It holds to every [`Store`] contract that applies to a store
/// without records (`session-conformance` checks it with `Expect::KeepsNothing`). Its `apply` is
/// not reported as atomic: with nothing kept, there are no concurrent writes to keep.
///
/// ```
/// use session_core::store::{Key, Record, Store, Timestamp};
/// use session_store_null::NullStore;
///
/// # tokio::runtime::Runtime::new().expect("runtime").block_on(async {
/// let key = Key::from_digest([7; 32]);
/// let record = Record::new(Timestamp::from_millis(0), Timestamp::from_millis(u64::MAX));
/// assert!(NullStore.create(&key, &record).await?);
/// assert_eq!(NullStore.load(&key).await?, None);
/// # Ok::<_, session_core::store::StoreError>(())
/// # }).expect("the example runs");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NullStore;

impl NullStore {
    /// The store (the same as `NullStore`).
    pub const fn new() -> Self {
        NullStore
    }
}

#[async_trait]
impl Store for NullStore {
    async fn load(&self, _key: &Key) -> Result<Option<Record>, StoreError> {
        Ok(None)
    }

    async fn create(&self, _key: &Key, _record: &Record) -> Result<bool, StoreError> {
        Ok(true)
    }

    async fn save(&self, _key: &Key, _record: &Record) -> Result<bool, StoreError> {
        Ok(false)
    }

    async fn delete(&self, _key: &Key) -> Result<bool, StoreError> {
        Ok(false)
    }

    async fn apply(&self, _key: &Key, _changes: &Changes) -> Result<bool, StoreError> {
        Ok(false)
    }

    async fn touch(
        &self,
        _key: &Key,
        _last_active: Timestamp,
        _expires: Timestamp,
    ) -> Result<bool, StoreError> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests;
