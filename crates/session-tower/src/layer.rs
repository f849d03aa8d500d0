//! [`SessionLayer`] and [`SessionService`]: attach a session to every request.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use session_core::Engine;
use session_core::adapter::LazySession;
use session_core::state::State;
use session_core::store::{ClientStore, Store};
use tower_layer::Layer;
use tower_service::Service;

use crate::future::ResponseFuture;
use crate::handle::Handle;

/// A tower layer that gives every request a session.
///
/// Build it from a State and a Store with [`SessionLayer::new`], or from a configured
/// [`Engine`] (idle and absolute timeouts, id scheme, clock) with `SessionLayer::from`.
///
/// ```
/// use std::time::Duration;
/// use session_tower::{Engine, Lifetime, MemoryStore, ParamState, SessionLayer};
///
/// let engine = Engine::builder(ParamState::default(), MemoryStore::default())
///     .lifetime(Lifetime::browser_session(Duration::from_secs(30 * 60)))
///     .absolute_timeout(Duration::from_secs(8 * 60 * 60))
///     .build();
/// let layer = SessionLayer::from(engine);
/// # let _ = layer;
/// ```
#[derive(Clone, Debug)]
pub struct SessionLayer {
    engine: Engine,
}

impl SessionLayer {
    /// A layer with the default configuration (see [`Engine::new`]).
    pub fn new(state: impl State, store: impl Store) -> Self {
        SessionLayer {
            engine: Engine::new(state, store),
        }
    }

    /// A layer whose sessions the client keeps (a sealed cookie, say: `session-state-cookie`'s
    /// `SealedCookie`), with the default configuration (see [`Engine::client_side`]).
    pub fn client_side(client: impl ClientStore) -> Self {
        Self::from(Engine::client_side(client))
    }
}

impl From<Engine> for SessionLayer {
    fn from(engine: Engine) -> Self {
        SessionLayer { engine }
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            engine: self.engine.clone(),
        }
    }
}

/// The service [`SessionLayer`] produces: puts a handle to each request's lazy session in its
/// extensions (reach it with the axum extractor or [`SessionExt`](crate::SessionExt)) and commits
/// the session when the response is ready.
#[derive(Clone, Debug)]
pub struct SessionService<S> {
    inner: S,
    engine: Engine,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let lazy = Arc::new(LazySession::new(self.engine.clone()));
        request.extensions_mut().insert(Handle(lazy.clone()));
        ResponseFuture::new(self.inner.call(request), lazy)
    }
}
