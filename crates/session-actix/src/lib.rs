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
//! The synopsis: a counter that remembers each visitor.
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
//!   with an empty body; the cause is logged with `tracing` at `error` level (never the session id).
//! - A 5xx response commits nothing but an expiry (see
//!   [`EngineBuilder::commit_on_server_error`](session_core::EngineBuilder::commit_on_server_error)).
//!   So does an error returned by the wrapped service (rather than a response): actix-web turns it
//!   into a response after the middleware, which can no longer add headers to it.
//! - Routes that never touch the session keep working while the store is down.

mod error;
mod extract;
pub mod future;
mod handle;
mod headers;
mod middleware;

pub use error::Error;
pub use extract::{MissingSession, Session};
pub use handle::SessionExt;
pub use middleware::{SessionMiddleware, SessionService};

/// The core crate, for everything not re-exported at this crate's root.
pub use session_core;
pub use session_core::{Engine, EngineBuilder, Lifetime, MemoryStore, ParamState};

/// Compile-time checks (in every build, not only tests): the extractor, the middleware and the
/// error are `Send` and `Sync`, so handlers can move the session anywhere.
#[allow(dead_code)]
fn send_checks() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Session>();
    assert_send_sync::<SessionMiddleware>();
    assert_send_sync::<Error>();
}
