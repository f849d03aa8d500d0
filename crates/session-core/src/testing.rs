//! [`TestSession`]: a session for unit tests, with no server: build one (empty, or stored with
//! values), run handler code on it, then see what its commit writes and sends.
//!
//! ```
//! use http::StatusCode;
//! use session_core::testing::TestSession;
//! use session_core::{Error, Session};
//!
//! // The code under test: any function that takes a session.
//! async fn add_to_cart(session: &Session, item: &str) -> Result<usize, Error> {
//!     let mut cart: Vec<String> = session.get("cart").await?.unwrap_or_default();
//!     cart.push(item.to_owned());
//!     session.insert("cart", &cart).await?;
//!     Ok(cart.len())
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let test = TestSession::with_values([("cart", vec!["apple"])]).await?;
//! assert_eq!(add_to_cart(&test.session(), "pear").await?, 2);
//!
//! let outcome = test.commit(StatusCode::OK).await?;
//! assert!(outcome.sends_id(), "a write sends the id again");
//! assert_eq!(outcome.stored::<Vec<String>>("cart")?, Some(vec!["apple".into(), "pear".into()]));
//! # Ok::<_, Error>(())
//! # }).unwrap();
//! ```

use std::collections::BTreeMap;
use std::fmt;

use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::header::HeaderState;
use crate::id::Id;
use crate::session::Session;
use crate::state::RequestView;
use crate::store::Store;
use crate::value::Value;
use crate::{Engine, MemoryStore};

/// One request's session in a unit test, over an engine and a [`MemoryStore`] of its own.
///
/// The id travels in an `x-session-id` header here (your application's State decides how it
/// travels for real); what the engine does with the session (lazy loading, key-level writes,
/// expiry, `cycle_id`, `expire`) is the real thing. See the [module](self) docs.
pub struct TestSession {
    engine: Engine,
    store: MemoryStore,
    session: Session,
}

/// The header the id travels in between a [`TestSession`] and the next.
const ID_HEADER: &str = HeaderState::DEFAULT_NAME;

impl TestSession {
    /// A new, empty session: a first visit, carrying no id.
    pub fn new() -> Self {
        let store = MemoryStore::default();
        let engine = Engine::new(HeaderState::default(), store.clone());
        TestSession::request(engine, store, None)
    }

    /// A stored session holding `values` (each serialized as a handler's `insert` would), as a
    /// returning visitor's request carries it.
    pub async fn with_values<K, V>(values: impl IntoIterator<Item = (K, V)>) -> Result<Self, Error>
    where
        K: AsRef<str>,
        V: Serialize,
    {
        let first = TestSession::new();
        for (key, value) in values {
            first.session.insert(key.as_ref(), value).await?;
        }
        // An empty new session is never stored: save it even so.
        first.session.save().await?;
        Ok(first.commit(StatusCode::OK).await?.next())
    }

    /// The session, for the handler code under test (the adapters' extractors wrap it:
    /// `session_tower::Session(test.session())`, `session_actix::Session(test.session())`).
    pub fn session(&self) -> Session {
        self.session.clone()
    }

    /// Commits the session as the engine does after a handler answered with `status`, and
    /// returns what it wrote and sent.
    pub async fn commit(&self, status: StatusCode) -> Result<Outcome, Error> {
        let commit = self.engine.commit(&self.session, status).await?;
        let mut headers = HeaderMap::new();
        commit.apply_to(&mut headers);
        // After an expiry the client holds no id any more.
        let id = if removes_id(&headers) {
            None
        } else {
            self.session.id().await?
        };
        let stored = match &id {
            Some(id) => self.store.load(&id.key()).await?.map(|record| record.data),
            None => None,
        };
        Ok(Outcome {
            engine: self.engine.clone(),
            store: self.store.clone(),
            headers,
            id,
            stored,
        })
    }

    fn request(engine: Engine, store: MemoryStore, id: Option<&Id>) -> Self {
        let mut headers = HeaderMap::new();
        if let Some(value) = id.and_then(|id| HeaderValue::from_str(id.as_str()).ok()) {
            headers.insert(ID_HEADER, value);
        }
        let session = engine.start(&RequestView::new(&headers, None));
        TestSession {
            engine,
            store,
            session,
        }
    }
}

impl Default for TestSession {
    fn default() -> Self {
        TestSession::new()
    }
}

impl fmt::Debug for TestSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestSession")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// What a [`TestSession`]'s commit did: the response headers it added, the id the client holds
/// afterwards, and the values stored under that id.
pub struct Outcome {
    engine: Engine,
    store: MemoryStore,
    headers: HeaderMap,
    id: Option<Id>,
    stored: Option<BTreeMap<String, Value>>,
}

impl Outcome {
    /// The headers the commit added to the response (`Vary`, `Cache-Control`, and the id's own
    /// header when it was sent).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Whether the response sends the client its id: a new session was stored, the id changed,
    /// or the session was written.
    pub fn sends_id(&self) -> bool {
        self.headers
            .get(ID_HEADER)
            .is_some_and(|value| !value.is_empty())
    }

    /// Whether the response tells the client to forget its id ([`Session::expire`]).
    pub fn removes_id(&self) -> bool {
        removes_id(&self.headers)
    }

    /// The id the client holds after the commit (a new one after `cycle_id`); `None` for a new
    /// session that was not stored (empty, or `skip_store`) and after an expiry.
    pub fn id(&self) -> Option<&Id> {
        self.id.as_ref()
    }

    /// Whether a session is stored under [`id`](Outcome::id) after the commit.
    pub fn is_stored(&self) -> bool {
        self.stored.is_some()
    }

    /// The value stored under `key` after the commit, as `T`; `None` if the session or the key
    /// is not stored.
    pub fn stored<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.stored
            .as_ref()
            .and_then(|data| data.get(key))
            .map(|value| value.deserialize().map_err(Error::Decode))
            .transpose()
    }

    /// The keys stored after the commit, in order (none when nothing is stored).
    pub fn stored_keys(&self) -> Vec<&str> {
        self.stored
            .iter()
            .flat_map(|data| data.keys().map(String::as_str))
            .collect()
    }

    /// The same client's next request: a new [`TestSession`] carrying the id it holds now (none
    /// after an expiry), on the same store.
    pub fn next(&self) -> TestSession {
        TestSession::request(self.engine.clone(), self.store.clone(), self.id.as_ref())
    }
}

impl fmt::Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outcome")
            .field("sends_id", &self.sends_id())
            .field("removes_id", &self.removes_id())
            .field("stored_keys", &self.stored_keys())
            .finish_non_exhaustive()
    }
}

/// Whether response `headers` tell the client to forget its id (the id header sent empty).
fn removes_id(headers: &HeaderMap) -> bool {
    headers.get(ID_HEADER).is_some_and(|value| value.is_empty())
}

#[cfg(test)]
mod tests;
