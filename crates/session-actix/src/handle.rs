//! How a handler finds its session: the [`Session`](crate::Session) extractor, or [`SessionExt`]
//! on an `HttpRequest`, a `ServiceRequest` or a guard's `GuardContext`.
//!
//! [`SessionService`](crate::SessionService) puts a small handle in each request's extensions; the
//! session itself is created from the request's headers the first time the handler asks for it, so
//! a request whose handler never does costs no header copying, no cookie parsing and no store I/O.

use std::fmt;
use std::sync::Arc;

use actix_web::dev::{Extensions, RequestHead, ServiceRequest};
use actix_web::guard::GuardContext;
use actix_web::{HttpMessage, HttpRequest};
use session_core::Session;
use session_core::adapter::LazySession;
use session_core::state::RequestView;

use crate::headers;

/// The handle in a request's extensions (private: reach the session through [`SessionExt`]).
#[derive(Clone)]
pub(crate) struct Handle(pub(crate) Arc<LazySession>);

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// The request's session, created on first use from the headers the State reads and the query.
fn session_of(extensions: &Extensions, head: &RequestHead) -> Option<Session> {
    let Handle(lazy) = extensions.get::<Handle>()?;
    if let Some(session) = lazy.session() {
        return Some(session.clone());
    }
    let headers = headers::request_headers(lazy.engine().request_headers(), &head.headers);
    let view = RequestView::new(&headers, head.uri.query());
    Some(lazy.start(&view).clone())
}

/// Reaches the session of a request that went through a
/// [`SessionMiddleware`](crate::SessionMiddleware): from an `HttpRequest` (handlers), a
/// `ServiceRequest` (other middleware) or a `GuardContext` (guards). Handlers can also take the
/// [`Session`](crate::Session) extractor.
///
/// The session is created from the request on first use; later calls return the same session.
/// `None` when no `SessionMiddleware` wraps the route. Like every use of a request's extensions,
/// do not call it while holding `extensions_mut()`.
///
/// ```
/// use actix_web::{App, HttpRequest, HttpResponse, guard, test, web};
/// use session_actix::{MemoryStore, SessionExt, SessionMiddleware};
/// use session_state_cookie::CookieState;
///
/// async fn visit(request: HttpRequest) -> Result<HttpResponse, session_actix::Error> {
///     let session = request.session().expect("inside a SessionMiddleware");
///     session.insert("seen", true).await?;
///     Ok(HttpResponse::Ok().body("hello"))
/// }
///
/// # actix_rt::System::new().block_on(async {
/// let app = test::init_service(
///     App::new()
///         .wrap(SessionMiddleware::new(CookieState::default(), MemoryStore::default()))
///         // A guard sees the session too (here: only whether there is one).
///         .route("/", web::get().guard(guard::fn_guard(|ctx| ctx.session().is_some())).to(visit)),
/// )
/// .await;
/// let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
/// assert!(response.headers().contains_key("set-cookie"));
/// # });
/// ```
pub trait SessionExt {
    /// The request's session; `None` when no `SessionMiddleware` wraps the route.
    fn session(&self) -> Option<Session>;
}

impl SessionExt for HttpRequest {
    fn session(&self) -> Option<Session> {
        session_of(&self.extensions(), self.head())
    }
}

impl SessionExt for ServiceRequest {
    fn session(&self) -> Option<Session> {
        session_of(&self.extensions(), self.head())
    }
}

impl SessionExt for GuardContext<'_> {
    fn session(&self) -> Option<Session> {
        session_of(&self.req_data(), self.head())
    }
}
