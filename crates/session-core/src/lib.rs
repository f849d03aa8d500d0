//! Framework-free HTTP sessions: the core every other session crate builds on.
//!
//! Two seams, as in Perl's Plack::Middleware::Session: a [`State`] carries the session id (a cookie,
//! a query parameter) and a [`Store`] keeps the data (memory, files, a cache, Redis, or the cookie
//! itself). The [`Engine`] runs the request lifecycle between them once, for every framework; the
//! handler sees a lazy, typed [`Session`]. A [`ClientStore`] (a sealed cookie) replaces both seams
//! when the client keeps the whole session ([`Engine::client_side`]).
//!
//! # Who depends on this crate
//!
//! - **Store and State authors** depend on `session-core` alone: implement [`Store`] or [`State`],
//!   and run `session-conformance` against it.
//! - **Applications** do not: they depend on one adapter (`session-tower` for axum, tonic and hyper;
//!   `session-actix` for actix-web) and the backend crates they use, which re-export what they need.
//!
//! This crate depends on no web framework and no async runtime.
//!
//! # Example
//!
//! The engine driven by hand, as an adapter drives it:
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use session_core::{Engine, MemoryStore, ParamState, RequestView};
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
//! 1. [`Engine::start`]: the State extracts candidate ids; the [`IdScheme`] drops malformed ones.
//! 2. The handler uses the [`Session`]; the store is read on first use only.
//! 3. [`Engine::commit`]: an expired session is deleted and its cookie removed; otherwise only the
//!    keys this request changed are written ([`Store::apply`]), a new session is created under a
//!    fresh id (never an id the client chose), `cycle_id` moves the data to a new id, `skip_store`
//!    writes nothing, and a 5xx response commits nothing. The returned [`Commit`] carries the
//!    headers to add.

// What stores and states are made of, and the seams themselves.
mod client;
mod clock;
mod codec;
mod error;
mod id;
mod memory;
mod param;
mod record;
mod state;
mod store;
#[cfg(feature = "tokio")]
mod timeout;

// The engine, in the order a request goes through it.
mod builder;
mod commit;
mod config;
mod engine;
mod execute;
mod lazy;
mod plan;
mod request;
mod session;

pub use builder::EngineBuilder;
pub use client::{ClientStore, Opened, Unsealed};
pub use clock::{Clock, ManualClock, SystemClock};
#[cfg(feature = "bincode")]
pub use codec::BincodeCodec;
pub use codec::{Codec, CodecError, DEFAULT_MAX_RECORD_BYTES, JsonCodec, MAX_RECORD_BYTES_LIMIT};
pub use commit::{Commit, ResponseHeaders};
pub use engine::Engine;
pub use error::{BoxError, Error, LateCommitFailed, Report, StoreError, StoreErrorKind};
pub use execute::{PendingCommit, Prepared};
pub use id::{DefaultIds, FnIds, HexIds, Id, IdScheme, Key};
pub use lazy::LazySession;
pub use memory::MemoryStore;
pub use param::{DEFAULT_PARAM_NAME, ParamState};
pub use record::{Changes, Lifetime, Record, Timestamp, Value};
pub use session::Session;
pub use state::{Candidates, CookieOptions, Delivery, RequestHeaders, RequestView, State};
pub use store::Store;

#[cfg(test)]
mod send_checks {
    fn assert_send_sync<T: Send + Sync>() {}

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn futures_are_send() {
        let engine =
            super::Engine::new(super::ParamState::default(), super::MemoryStore::default());
        let headers = http::HeaderMap::new();
        let session = engine.start(&super::RequestView::new(&headers, None));
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
    }
}
