//! [`LazySession`]: one request's session, started on first use (for adapter authors).

use std::fmt;
use std::sync::OnceLock;

use http::StatusCode;

use super::{LateCommit, background};
use crate::engine::Engine;
use crate::execute::Prepared;
use crate::session::Session;
use crate::state::RequestView;

/// One request's session, started the first time the handler asks for it.
///
/// This is what an adapter keeps with each request (in its extensions, say): the engine, and the
/// session once [`start`](LazySession::start) has run. After the handler, the adapter commits it
/// through [`prepare`](LazySession::prepare), which answers `None` when there is no session; a
/// request whose handler never asked costs no header parsing and no store I/O.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use session_core::{Engine, MemoryStore, ParamState};
/// use session_core::adapter::{LazySession, Prepared};
/// use session_core::state::RequestView;
///
/// let lazy = LazySession::new(Engine::new(ParamState::default(), MemoryStore::default()));
/// assert!(lazy.session().is_none(), "nothing happens until the handler asks");
///
/// let headers = HeaderMap::new();
/// let session = lazy.start(&RequestView::new(&headers, None)).clone();
/// assert!(lazy.session().is_some());
///
/// // After the handler: an untouched session needs no store I/O to commit.
/// assert!(matches!(lazy.prepare(StatusCode::OK), Some(Prepared::Ready(_))));
/// ```
pub struct LazySession {
    engine: Engine,
    session: OnceLock<Session>,
}

impl LazySession {
    /// A request's slot, with no session yet.
    pub fn new(engine: Engine) -> Self {
        LazySession {
            engine,
            session: OnceLock::new(),
        }
    }

    /// The engine the session is started and committed with.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The session, if it was started.
    pub fn session(&self) -> Option<&Session> {
        self.session.get()
    }

    /// After the handler: the commit of the session for a response with `status`
    /// ([`Engine::prepare`]), or `None` if the handler never started it (nothing to commit).
    pub fn prepare(&self, status: StatusCode) -> Option<Prepared> {
        let session = self.session.get()?;
        Some(self.engine.prepare(session, status))
    }

    /// For a request whose handler never finished (it panicked, or the request was dropped
    /// before its response head): if the handler ended its session
    /// ([`Session::expire`](crate::Session::expire)), the expiry is carried out all the same, in
    /// the background on the current Tokio runtime (feature `tokio`), so that a logout is never
    /// lost; the handler's other changes are dropped. [`ResponseFuture`](super::ResponseFuture)
    /// calls it when it is dropped before the inner service answered.
    pub fn abandon(&self) {
        let Some(session) = self.session.get() else {
            return;
        };
        if let Prepared::Pending(pending) = self.engine.prepare_abandoned(session) {
            background(
                Box::pin(pending.run()),
                "the session expiry of a request whose handler never finished",
            );
        }
    }

    /// The late commit of the session ([`Session::late_store`]), for a response body that runs it
    /// when it ends; `None` if the handler never started the session.
    pub fn late_commit(&self) -> Option<LateCommit> {
        let session = self.session.get()?;
        Some(LateCommit::new(self.engine.clone(), session.clone()))
    }

    /// The session, started from `request` if this is the first call (later calls ignore
    /// `request` and return the same session).
    pub fn start(&self, request: &RequestView<'_>) -> &Session {
        self.session.get_or_init(|| self.engine.start(request))
    }
}

impl fmt::Debug for LazySession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazySession")
            .field("started", &self.session.get().is_some())
            .finish_non_exhaustive()
    }
}
