#![cfg_attr(docsrs, feature(doc_cfg))]
//! Sessions for tower services: axum, tonic, hyper, and anything else built on
//! `tower::Service<http::Request<_>>`.
//!
//! [`SessionLayer`] wraps a service; a handler reaches its request's lazy [`session_core::Session`]
//! with the axum extractor or [`SessionExt`], and after the inner service answers, the session's
//! changes are committed and the `Set-Cookie` (or whatever the State writes) is added to the
//! response. A request whose handler never asks for its session costs no cookie parsing and no
//! store I/O: the session is created on first use. With the `axum` feature (on by default),
//! [`Session`] is an extractor and [`Error`] an `IntoResponse` error for handlers.
//!
//! # Example
//!
//! A counter that remembers each visitor.
//!
//! ```
//! use axum::{Router, body::Body, routing::get};
//! use http::{Request, header};
//! use session_state_cookie::CookieState;
//! use session_tower::{Error, MemoryStore, Session, SessionLayer};
//! use tower::ServiceExt;
//!
//! async fn counter(session: Session) -> Result<String, Error> {
//!     let n: u64 = session.get("counter").await?.unwrap_or(0);
//!     session.insert("counter", n + 1).await?;
//!     Ok(format!("Hello, you've been here for {n}th time!"))
//! }
//!
//! let app: Router = Router::new()
//!     .route("/", get(counter))
//!     .layer(SessionLayer::new(CookieState::default(), MemoryStore::default()));
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // First visit: a new session, and its cookie.
//! let response = app.clone().oneshot(Request::new(Body::empty())).await.unwrap();
//! let set_cookie = response.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
//! let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
//! assert_eq!(body, "Hello, you've been here for 0th time!");
//!
//! // Second visit, sending the cookie back.
//! let cookie = set_cookie.split(';').next().unwrap();
//! let request = Request::builder().header(header::COOKIE, cookie).body(Body::empty()).unwrap();
//! let response = app.oneshot(request).await.unwrap();
//! let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
//! assert_eq!(body, "Hello, you've been here for 1th time!");
//! # });
//! ```
//!
//! # Behaviour
//!
//! - A request whose handler never touches its session costs no store I/O and gets no cookie.
//! - A store failure while committing turns the response into a bare `500 Internal Server Error`
//!   with an empty body; the cause is logged with `tracing` at `error` level (never the session
//!   id).
//! - A 5xx response from the inner service commits nothing but an expiry (see
//!   [`commit_on_server_error`](session_core::EngineBuilder::commit_on_server_error)).
//! - Routes that never touch the session keep working while the store is down.
//!
//! # Streaming and late store
//!
//! The commit happens when the inner service returns its response, before the body is sent. A
//! handler that changes the session while a streamed body is being written calls
//! [`Session::late_store`](session_core::Session::late_store) first: its response body is then
//! wrapped in a [`SessionBody`], which commits the changes made while it streamed when it ends,
//! before its end reaches the client, so the client's next request sees them. The service still
//! answers with the inner service's own body type (so `axum::serve` takes a `SessionService` around
//! a whole `Router`): the wrapping works for the body types that box any body, axum's `Body` and
//! `http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>`; for any other type a warning says
//! that late store cannot follow it. Such a response is sent chunked (any `Content-Length` is
//! removed), so that its end is what completes it. If the late commit fails, the body ends with an
//! error ([`LateCommitFailed`](session_core::adapter::LateCommitFailed)) rather than cleanly. If
//! the client goes away midway, or the body fails, the changes made until then are still committed,
//! on the current Tokio runtime; so are those of a response sent without a body (HEAD, 204, 304),
//! whose body the server drops unread. Without late store, a change made after the commit is not
//! stored and is reported once per request as a `tracing` warning.
//!
//! # Testing handlers
//!
//! [`testing::TestSession`] builds a session with no server (empty, or stored with values); a
//! handler that takes the [`Session`] extractor is called with `Session(test.session())`, and the
//! commit then shows what would be written and sent:
//!
//! ```
//! use http::StatusCode;
//! use session_tower::testing::TestSession;
//! use session_tower::{Error, Session};
//!
//! async fn counter(session: Session) -> Result<String, Error> {
//!     let n: u64 = session.get("counter").await?.unwrap_or(0);
//!     session.insert("counter", n + 1).await?;
//!     Ok(format!("Hello, you've been here for {n}th time!"))
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let test = TestSession::with_values([("counter", 41)]).await?;
//! assert_eq!(counter(Session(test.session())).await?, "Hello, you've been here for 41th time!");
//! let outcome = test.commit(StatusCode::OK).await?;
//! assert_eq!(outcome.stored::<u64>("counter")?, Some(42));
//!
//! // The same client's next request.
//! let next = outcome.next();
//! assert_eq!(counter(Session(next.session())).await?, "Hello, you've been here for 42th time!");
//! # Ok::<_, Error>(())
//! # }).unwrap();
//! ```

mod body;
mod error;
#[cfg(feature = "axum")]
mod extract;
#[cfg(feature = "extras")]
#[cfg_attr(docsrs, doc(cfg(feature = "extras")))]
pub mod extras;
pub mod future;
pub mod migrating;
mod handle;
mod layer;

pub use body::SessionBody;
pub use error::Error;
#[cfg(feature = "axum")]
pub use extract::{MissingSession, Session};
pub use handle::SessionExt;
pub use layer::{SessionLayer, SessionService};
/// The error type a late-store response's boxed body carries (`UnsyncBoxBody<Bytes, BoxError>`).
pub use session_core::store::BoxError;

/// The core crate, for everything not re-exported at this crate's root.
pub use session_core;
/// Sessions for unit tests, with no server ([`testing::TestSession`]).
pub use session_core::testing;
pub use session_core::{
    Engine, EngineBuilder, HeaderOr, HeaderState, Lifetime, MemoryStore, ParamState,
};
