//! A session engine driven by hand for the unit tests: requests with an id in the query string.

use http::{HeaderMap, StatusCode};
use session_core::state::RequestView;
use session_core::{Engine, MemoryStore, ParamState, Session};

/// An engine over a `MemoryStore`, and the store to look into.
pub(crate) struct Server {
    pub(crate) engine: Engine,
    pub(crate) store: MemoryStore,
}

impl Server {
    pub(crate) fn new() -> Self {
        let store = MemoryStore::default();
        Server {
            engine: Engine::new(ParamState::default(), store.clone()),
            store,
        }
    }

    /// The session of a request carrying `id` (none: a new session).
    pub(crate) fn start(&self, id: Option<&str>) -> Session {
        let headers = HeaderMap::new();
        let query = id.map(|id| format!("plack_session={id}"));
        self.engine
            .start(&RequestView::new(&headers, query.as_deref()))
    }

    /// Commits `session` for a 200, and returns its id after the commit (`None`: not stored).
    pub(crate) async fn finish(&self, session: &Session) -> Option<String> {
        self.engine
            .commit(session, StatusCode::OK)
            .await
            .expect("a memory store commits");
        let id = session.id().await.expect("the id");
        id.map(|id| id.as_str().to_owned())
    }
}
