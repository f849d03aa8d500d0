//! How a handler finds its session: [`SessionExt`] on the request, or the axum extractor.
//!
//! [`SessionService`](crate::SessionService) puts a small handle in each request's extensions; the
//! session itself is created from the request's headers the first time the handler asks for it, so
//! a request whose handler never does costs no cookie parsing and no store I/O.

use std::fmt;
use std::sync::Arc;

use http::request::Parts;
use http::{Extensions, HeaderMap, Request};
use session_core::Session;
use session_core::adapter::LazySession;
use session_core::state::RequestView;

/// The handle in a request's extensions (private: reach the session through [`SessionExt`]).
#[derive(Clone)]
pub(crate) struct Handle(pub(crate) Arc<LazySession>);

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// The request's session, created on first use from `headers` and `query`.
fn session_of(
    extensions: &Extensions,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Option<Session> {
    let Handle(lazy) = extensions.get::<Handle>()?;
    Some(lazy.start(&RequestView::new(headers, query)).clone())
}

/// Reaches the session of a request that went through a [`SessionService`](crate::SessionService),
/// for tonic, hyper or any tower service (axum handlers use the [`Session`](crate::Session)
/// extractor instead).
///
/// The session is created from the request's headers and query on first use; later calls return
/// the same session. `None` when no `SessionService` handled the request.
///
/// ```
/// use http::{Request, Response};
/// use session_state_cookie::CookieState;
/// use session_tower::{MemoryStore, SessionExt, SessionLayer};
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let service = ServiceBuilder::new()
///     .layer(SessionLayer::new(CookieState::default(), MemoryStore::default()))
///     .service(service_fn(|request: Request<String>| async move {
///         let session = request.session().expect("inside a SessionService");
///         session.insert("seen", true).await?;
///         Ok::<_, session_core::Error>(Response::new(String::from("hello")))
///     }));
/// let response = service.oneshot(Request::new(String::new())).await.unwrap();
/// assert!(response.headers().contains_key("set-cookie"));
/// # });
/// ```
pub trait SessionExt {
    /// The request's session; `None` when no `SessionService` handled the request.
    fn session(&self) -> Option<Session>;
}

impl<B> SessionExt for Request<B> {
    fn session(&self) -> Option<Session> {
        session_of(self.extensions(), self.headers(), self.uri().query())
    }
}

impl SessionExt for Parts {
    fn session(&self) -> Option<Session> {
        session_of(&self.extensions, &self.headers, self.uri.query())
    }
}
