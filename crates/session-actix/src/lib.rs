#![cfg_attr(docsrs, feature(doc_cfg))]
//! Sessions for actix-web, on the same engine as every other adapter of this project.
//!
//! Wrap an app (or a scope, or a resource) with [`SessionMiddleware`]; a handler reaches its
//! request's lazy session with the [`Session`] extractor or [`SessionExt`]; after the handler, the
//! session's changes are committed and the `Set-Cookie` (or whatever the State writes) is added to
//! the response. The [`Session`] is `Send` and `Sync`, and the behaviour is the tower adapter's
//! exactly: both call `session_core::Engine`, and the workspace's HTTP suite runs against both.
//!
//! actix-web 4 is built on `http` 0.2; this project's core on `http` 1. Headers cross between
//! them as bytes, at this crate's boundary only, and only the ones the State reads (the `Cookie`
//! header, for `CookieState`).
//!
//! # Example
//!
//! A counter that remembers each visitor.
//!
//! ```
//! use actix_web::{App, test, web};
//! use session_actix::{Error, MemoryStore, Session, SessionMiddleware};
//! use session_state_cookie::CookieState;
//!
//! async fn counter(session: Session) -> Result<String, Error> {
//!     let n: u64 = session.get("counter").await?.unwrap_or(0);
//!     session.insert("counter", n + 1).await?;
//!     Ok(format!("Hello, you've been here for {n}th time!"))
//! }
//!
//! # actix_rt::System::new().block_on(async {
//! let app = test::init_service(
//!     App::new()
//!         .wrap(SessionMiddleware::new(CookieState::default(), MemoryStore::default()))
//!         .route("/", web::get().to(counter)),
//! )
//! .await;
//!
//! // First visit: a new session, and its cookie.
//! let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
//! let set_cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
//! let body = test::read_body(response).await;
//! assert_eq!(body, "Hello, you've been here for 0th time!");
//!
//! // Second visit, sending the cookie back.
//! let cookie = set_cookie.split(';').next().unwrap();
//! let request = test::TestRequest::get().uri("/").insert_header(("cookie", cookie));
//! let body = test::call_and_read_body(&app, request.to_request()).await;
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
//! - A 5xx response commits nothing but an expiry (see
//!   [`commit_on_server_error`](session_core::EngineBuilder::commit_on_server_error)).
//!   So does an error returned by the wrapped service (rather than a response): actix-web turns it
//!   into a response after the middleware, which can no longer add headers to it.
//! - Routes that never touch the session keep working while the store is down.
//!
//! # Streaming and late store
//!
//! The session commits when the handler's response is ready, before its head is sent: changes
//! made later, by a streamed body (`HttpResponse::Ok().streaming(..)`), are not stored (a
//! `tracing` warning says so). A handler that calls
//! [`late_store()`](session_core::Session::late_store) before returning opts in to a second
//! commit when the body ends (Plack's `late_store`); the response body is then a
//! [`SessionBody`](body::SessionBody) that runs it:
//!
//! - The head's commit sends the cookie as usual (creating the session even if it is still
//!   empty). When the body ends, the changes made while it streamed are written *before* the end
//!   is reported to actix-web, so the client sees the end of the body only once they are stored:
//!   the next request reads them. For a body of a known size the last chunk is held back until
//!   then.
//! - If that commit fails, the body ends with an error rather than its end: actix-web aborts the
//!   response, so the client never sees a clean end; the cause is logged at `error` level.
//! - If the body is dropped before its end (the client disconnected, the stream failed), what was
//!   changed until then is still committed, in the background on the worker's Tokio runtime
//!   (with or without an actix `System`); a failure is logged.
//! - actix-web never polls an empty body (size `None` or `Sized(0)`), so no code runs "while
//!   it streams": for one, the late commit runs in the middleware right after the head's, before
//!   the head is sent (a failure answers a bare 500). A change made after the middleware has
//!   answered (by a middleware wrapped outside it, say) is then not stored, as without late store.
//!   The size reported to actix-web is never changed (an empty `204` stays one).
//! - Every other response pays nothing: its body passes through with no allocation.
//!
//! # Testing handlers
//!
//! [`testing::TestSession`] builds a session with no server (empty, or stored with values); a
//! handler that takes the [`Session`] extractor is called with `Session(test.session())`, and the
//! commit then shows what would be written and sent:
//!
//! ```
//! use session_actix::testing::TestSession;
//! use session_actix::{Error, Session};
//!
//! async fn login(session: Session) -> Result<&'static str, Error> {
//!     session.cycle_id();
//!     session.insert("user", "alice").await?;
//!     Ok("welcome")
//! }
//!
//! # actix_rt::System::new().block_on(async {
//! let test = TestSession::with_values([("cart", 3)]).await?;
//! let old_id = test.session().id().await?;
//! assert_eq!(login(Session(test.session())).await?, "welcome");
//! let outcome = test.commit(http::StatusCode::OK).await?;
//! assert!(outcome.sends_id() && outcome.id() != old_id.as_ref(), "a login sends a new id");
//! assert_eq!(outcome.stored::<u32>("cart")?, Some(3));
//! assert_eq!(outcome.stored::<String>("user")?.as_deref(), Some("alice"));
//! # Ok::<_, Error>(())
//! # }).unwrap();
//! ```

pub mod body;
mod error;
mod extract;
#[cfg(feature = "extras")]
#[cfg_attr(docsrs, doc(cfg(feature = "extras")))]
pub mod extras;
pub mod future;
pub mod migrating;
mod handle;
mod headers;
mod middleware;

pub use error::Error;
pub use extract::{MissingSession, Session};
pub use handle::SessionExt;
pub use middleware::{SessionMiddleware, SessionService};

/// The core crate, for everything not re-exported at this crate's root.
pub use session_core;
/// Sessions for unit tests, with no server ([`testing::TestSession`]).
pub use session_core::testing;
pub use session_core::{
    Engine, EngineBuilder, HeaderOr, HeaderState, Lifetime, MemoryStore, ParamState,
};

/// Compile-time checks (in every build, not only tests): the extractor, the middleware and the
/// error are `Send` and `Sync`, so handlers can move the session anywhere.
#[allow(dead_code)]
fn send_checks() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Session>();
    assert_send_sync::<SessionMiddleware>();
    assert_send_sync::<Error>();
    // A late-store body can go to another thread (actix-web keeps it on its worker) and its
    // abandoned commit is spawned on the worker's Tokio runtime, which needs `Send`.
    fn assert_send<T: Send>() {}
    assert_send::<body::SessionBody<String>>();
}
