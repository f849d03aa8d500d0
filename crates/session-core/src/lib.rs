#![cfg_attr(docsrs, feature(doc_cfg))]
//! Framework-free HTTP sessions: the core every other session crate builds on.
//!
//! Two seams: a [`State`](state::State) carries the session id (a cookie, a query parameter) and a
//! [`Store`](store::Store) keeps the data (memory, files, a cache, Redis). The [`Engine`] runs the
//! request lifecycle between them once, for every framework; the handler sees a lazy, typed
//! [`Session`]. A [`ClientStore`](store::ClientStore) (a sealed cookie) replaces both seams when
//! the client keeps the whole session ([`Engine::client_side`]).
//!
//! # Who reads what
//!
//! - **Applications** depend on one adapter (`session-tower` for axum, tonic and hyper;
//!   `session-actix` for actix-web) and the backend crates they use, which re-export what they
//!   need. What they touch is at this crate's root: [`Session`], [`Lifetime`], [`CookieOptions`],
//!   [`Error`], [`Engine`] and [`EngineBuilder`], [`MemoryStore`], [`ParamState`], [`HeaderState`]
//!   and [`HeaderOr`], and the [`Id`]
//!   and [`Value`] a session hands out. Sessions per user (bind a session to a user id at login,
//!   list a user's sessions, revoke one, log out everywhere) are in [`subject`].
//! - **Store authors** depend on this crate alone and find what they implement in [`store`]; they
//!   run `session-conformance` against their store.
//! - **State authors** likewise, in [`state`].
//! - **Adapter authors** (binding the engine to another framework) find what they need in
//!   [`adapter`].
//!
//! This crate depends on no web framework. Its optional `tokio` feature (on in both adapters)
//! brings Tokio's timer for [`EngineBuilder::store_timeout`] and the background tasks of the
//! commits nobody waits for any more: a late commit whose response body was dropped, the expiry of
//! a request whose handler panicked or was dropped, a commit under way when its client went away.
//!
//! # Example
//!
//! The engine driven by hand, as an adapter drives it:
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use session_core::{Engine, MemoryStore, ParamState};
//! use session_core::state::RequestView;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let engine = Engine::new(ParamState::default(), MemoryStore::default());
//! let no_headers = HeaderMap::new();
//!
//! // First request: no id, a new session.
//! let session = engine.start(&RequestView::new(&no_headers, None));
//! assert_eq!(session.get::<u64>("counter").await?, None);
//! session.insert("counter", 1u64).await?;
//! let id = session.save().await?; // ParamState writes nothing: learn the id to pass it on
//! engine.commit(&session, StatusCode::OK).await?;
//!
//! // Second request: the id comes back in the query string.
//! let query = format!("plack_session={}", id.as_str());
//! let session = engine.start(&RequestView::new(&no_headers, Some(&query)));
//! assert_eq!(session.get::<u64>("counter").await?, Some(1));
//! # Ok::<_, session_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Lifecycle
//!
//! 1. [`Engine::start`]: the State extracts candidate ids; the id scheme drops malformed ones.
//! 2. The handler uses the [`Session`]; the store is read on first use only.
//! 3. [`Engine::commit`]: an expired session is deleted and its cookie removed; otherwise only the
//!    keys this request changed are written ([`Store::apply`](store::Store::apply)), a new session
//!    is created under a fresh id (never an id the client chose), `cycle_id` moves the data to a
//!    new id, `skip_store` writes nothing, and a 5xx response commits nothing. The returned
//!    [`Commit`](adapter::Commit) carries the headers to add.

// The modules, in the order a reader meets them: what sessions are made of and the two seams,
// then the engine in the order one request goes through it. Each depends only on those above it.

/// The error types.
mod error;
/// Ids and their digests (keys); id schemes.
mod id;
/// Records, lifetimes, timestamps, key-level changes.
mod record;
/// Values: their JSON text, owned or shared.
mod value;

mod packed;
/// Clocks.
mod clock;
pub mod subject;
/// Codecs: records as bytes.
mod codec;
pub mod state;
/// Client-side stores: the whole session with the client.
mod client;
pub mod store;
/// The in-memory store.
mod memory;
/// The id in a query parameter.
mod param;
/// The id in a request header; a header or else another State.
mod header;
/// A time limit on every store call.
#[cfg(feature = "tokio")]
mod timeout;

/// Spans and metrics.
mod observe;
/// What every request of an engine shares: the backend and the expiry rules.
mod config;
/// One request's state: what was sent, read and changed, and how far the commit is.
mod request;
/// The handler's handle.
mod session;
/// The headers a commit adds.
mod commit;
/// The commit decision (no I/O).
mod plan;
/// Carrying a plan out.
mod execute;
/// The engine: start, commit, late commit.
mod engine;
/// Configuring an engine.
mod builder;
pub mod adapter;
pub mod testing;
pub mod migrating;

pub use builder::EngineBuilder;
pub use engine::Engine;
pub use error::Error;
pub use header::{HeaderOr, HeaderState};
pub use id::Id;
pub use memory::MemoryStore;
pub use param::ParamState;
pub use record::Lifetime;
pub use session::Session;
pub use state::CookieOptions;
pub use value::Value;

#[cfg(test)]
mod send_checks {
    fn assert_send_sync<T: Send + Sync>() {}

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn futures_are_send() {
        let engine =
            super::Engine::new(super::ParamState::default(), super::MemoryStore::default());
        let headers = http::HeaderMap::new();
        let session = engine.start(&super::state::RequestView::new(&headers, None));
        assert_send(&session.get::<u64>("n"));
        assert_send(&session.insert("n", 1));
        assert_send(&session.save());
        assert_send(&engine.commit(&session, http::StatusCode::OK));
    }

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<super::Session>();
        assert_send_sync::<super::Engine>();
        assert_send_sync::<super::MemoryStore>();
        assert_send_sync::<super::Value>();
        assert_send_sync::<super::store::Record>();
        assert_send_sync::<super::store::SharedText>();
    }
}
