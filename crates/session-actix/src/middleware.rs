//! [`SessionMiddleware`] and [`SessionService`]: attach a session to every request.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage};
use session_core::Engine;
use session_core::adapter::LazySession;
use session_core::state::State;
use session_core::store::{ClientStore, Store};

use crate::body::SessionBody;
use crate::future::ResponseFuture;
use crate::handle::Handle;

/// An actix-web middleware that gives every request a session.
///
/// Build it from a State and a Store with [`SessionMiddleware::new`], or from a configured
/// [`Engine`] (idle and absolute timeouts, id scheme, clock) with `SessionMiddleware::from`, and
/// `.wrap()` an `App`, a scope or a resource with it. The engine is shared: every worker's
/// middleware uses the same store.
///
/// ```
/// use std::time::Duration;
/// use session_actix::{Engine, Lifetime, ParamState, MemoryStore, SessionMiddleware};
///
/// let engine = Engine::builder(ParamState::default(), MemoryStore::default())
///     .lifetime(Lifetime::browser_session(Duration::from_secs(30 * 60)))
///     .absolute_timeout(Duration::from_secs(8 * 60 * 60))
///     .build();
/// let middleware = SessionMiddleware::from(engine);
/// # let _ = middleware;
/// ```
#[derive(Clone, Debug)]
pub struct SessionMiddleware {
    engine: Engine,
}

impl SessionMiddleware {
    /// A middleware with the default configuration (see [`Engine::new`]).
    pub fn new(state: impl State, store: impl Store) -> Self {
        SessionMiddleware {
            engine: Engine::new(state, store),
        }
    }

    /// A middleware whose sessions the client keeps (a sealed cookie, say: `session-state-cookie`'s
    /// `SealedCookie`), with the default configuration (see [`Engine::client_side`]).
    pub fn client_side(client: impl ClientStore) -> Self {
        Self::from(Engine::client_side(client))
    }
}

impl From<Engine> for SessionMiddleware {
    fn from(engine: Engine) -> Self {
        SessionMiddleware { engine }
    }
}

impl<S, B> Transform<S, ServiceRequest> for SessionMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<SessionBody<B>>>;
    type Error = Error;
    type Transform = SessionService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, inner: S) -> Self::Future {
        ready(Ok(SessionService {
            inner,
            engine: self.engine.clone(),
        }))
    }
}

/// The service [`SessionMiddleware`] produces: puts a handle to each request's lazy session in its
/// extensions (reach it with the [`Session`](crate::Session) extractor or
/// [`SessionExt`](crate::SessionExt)) and commits the session when the response is ready (and, for
/// [late store](session_core::Session::late_store), again when its body ends: see
/// [`SessionBody`]).
#[derive(Debug)]
pub struct SessionService<S> {
    inner: S,
    engine: Engine,
}

impl<S, B> Service<ServiceRequest> for SessionService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<SessionBody<B>>>;
    type Error = Error;
    type Future = ResponseFuture<S::Future, B>;

    forward_ready!(inner);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let lazy = Arc::new(LazySession::new(self.engine.clone()));
        request.extensions_mut().insert(Handle(lazy.clone()));
        ResponseFuture::new(self.inner.call(request), lazy)
    }
}
