//! [`Engine`]: the request lifecycle, for every framework: [`Engine::start`] before the handler,
//! [`Engine::prepare`] (or [`Engine::commit`]) after it, [`Engine::prepare_late`] when a late-store
//! body ends.

use std::fmt;
use std::sync::Arc;

use http::StatusCode;

use crate::client::{ClientStore, Opened, Unsealed};
use crate::commit::Commit;
use crate::config::{Backend, Config};
use crate::error::Error;
use crate::execute::{self, Prepared};
use crate::id::{self, Id};
use crate::plan;
use crate::record::{Record, Timestamp};
use crate::request::{IdList, RequestState, Sent, SoleLive, Stored, Tossed, Unverified};
use crate::session::Session;
use crate::state::{Form, RequestHeaders, RequestView};
use crate::subject::Subjects;

/// The session lifecycle, configured once and shared by every request.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use session_core::{Engine, MemoryStore, ParamState};
/// use session_core::state::RequestView;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let engine = Engine::new(ParamState::default(), MemoryStore::default());
/// let headers = HeaderMap::new();
///
/// // Before the handler: a lazy session, nothing loaded yet.
/// let session = engine.start(&RequestView::new(&headers, None));
/// // The handler.
/// session.insert("counter", 1).await.unwrap();
/// let id = session.save().await.unwrap();
/// // After the handler: commit, then add the returned headers to the response.
/// engine.commit(&session, StatusCode::OK).await.unwrap();
///
/// // The next request carries the id.
/// let query = format!("plack_session={}", id.as_str());
/// let session = engine.start(&RequestView::new(&headers, Some(&query)));
/// assert_eq!(session.get::<u64>("counter").await.unwrap(), Some(1));
/// # });
/// ```
#[derive(Clone)]
pub struct Engine {
    pub(crate) config: Arc<Config>,
}

impl Engine {
    /// Whether the sessions of this engine are kept by the client ([`Engine::client_side`]).
    pub fn is_client_side(&self) -> bool {
        matches!(self.config.backend, Backend::Client(_))
    }

    /// The operations over the sessions of a subject (list, revoke, end all), for code outside
    /// any request: an admin task, a password change.
    ///
    /// Fails with a store error of kind
    /// [`Unsupported`](crate::store::StoreErrorKind::Unsupported) on a client-side engine (sealed
    /// sessions are not listed anywhere) and on a store that keeps no index per subject.
    pub fn subjects(&self) -> Result<Subjects<'_>, Error> {
        self.config.subjects()
    }

    /// Ends every session of `subject` ("log out everywhere", after a password change, say) from
    /// outside any request; how many were ended.
    ///
    /// On a server-side engine, the same as `subjects()?.end_all(subject)`. On a client-side engine
    /// with a [`revocation_store`](crate::EngineBuilder::revocation_store), records the subject's
    /// "not before" time, which refuses every sealed session of the subject bound until now at its
    /// next request (they are not counted: 0). Without one, a store error of kind
    /// [`Unsupported`](crate::store::StoreErrorKind::Unsupported).
    pub async fn end_all_sessions_of(&self, subject: &str) -> Result<usize, Error> {
        self.config.end_all(subject).await
    }

    /// The request headers the State reads
    /// ([`State::request_headers`](crate::state::State::request_headers)): an adapter that must
    /// copy headers into a [`RequestView`] copies only these.
    pub fn request_headers(&self) -> RequestHeaders {
        self.config.backend.request_headers()
    }

    /// Before the handler: reads the candidate ids from the request, drops those the id scheme
    /// rejects (and any beyond the fourth: a request with more adopts none), and returns the
    /// request's lazy [`Session`]. No store I/O happens here. A client-side session is opened here
    /// (the request is gone later).
    pub fn start(&self, request: &RequestView<'_>) -> Session {
        let config = &*self.config;
        let state = match &config.backend {
            Backend::Server { state, .. } => {
                let candidates = state.extract(request);
                let mut ids = IdList::default();
                for candidate in candidates.iter().take(IdList::CAPACITY) {
                    match id::parse(&*config.ids, candidate) {
                        Some(id) => {
                            ids.push(id);
                        }
                        // Never log the value itself: it may be someone's id, or an attack payload.
                        None => {
                            tracing::debug!(len = candidate.len(), "dropping malformed session id")
                        }
                    }
                }
                RequestState::unread(Sent {
                    candidates: ids,
                    any: !candidates.is_empty(),
                    crowded: candidates.iter().nth(IdList::CAPACITY).is_some(),
                    form: candidates.form(),
                })
            }
            Backend::Client(client) => open(&**client, config, request),
        };
        Session::new(self.config.clone(), state)
    }

    /// After the handler: writes the session's changes to the store and returns the headers to add
    /// to the response (`status` is the response's status: a server error commits nothing but an
    /// expiry, unless configured otherwise). A second commit of the same session does nothing.
    ///
    /// On error nothing may be assumed committed; adapters answer with a bare 500 and log the
    /// cause. Adapters on a hot path use [`prepare`](Engine::prepare), which needs no future at all
    /// when there is no store work.
    pub async fn commit(&self, session: &Session, status: StatusCode) -> Result<Commit, Error> {
        match self.prepare(session, status) {
            Prepared::Ready(commit) => Ok(commit),
            Prepared::Pending(pending) => pending.run().await,
        }
    }

    /// The first, synchronous half of [`commit`](Engine::commit): decides what the commit must do
    /// and finishes it at once when that needs no store I/O (an untouched or read-only session, a
    /// skipped store, a server error), which is most requests.
    pub fn prepare(&self, session: &Session, status: StatusCode) -> Prepared {
        let decision = plan::decide(&mut session.lock(), &self.config, status);
        execute::start(session, decision)
    }

    /// The commit of a request whose handler never finished (it panicked, or the request was
    /// dropped before its response head): only an expiry is carried out, so that a logout is
    /// never lost; the handler's other changes are dropped. Its headers have no response to go
    /// to. Adapters run it from their response future's `Drop`
    /// ([`LazySession::abandon`](crate::adapter::LazySession::abandon)).
    pub(crate) fn prepare_abandoned(&self, session: &Session) -> Prepared {
        let decision = plan::decide_abandoned(&mut session.lock(), &self.config);
        execute::start(session, decision)
    }

    /// Late store ([`Session::late_store`]): after the response body has ended, writes the
    /// changes made since the head's commit. The returned headers are empty (the head has gone);
    /// adapters run it when the body ends, and in the background if the client went away first.
    /// Does nothing unless late store was asked for and the head's commit ran and wrote; a second
    /// call does nothing.
    pub fn prepare_late(&self, session: &Session) -> Prepared {
        let decision = plan::decide_late(&mut session.lock(), &self.config);
        execute::start(session, decision)
    }
}

/// Opens a client-side session from the request.
///
/// `ClientStore::open` offers each session that opens to the engine's check (alive, and an id the
/// id scheme accepts), so that a stale cookie sent first does not hide a live one. The session is
/// adopted only if it is the only one accepted (copies of one session count once: [`SoleLive`],
/// the rule server-side ids follow too); anything else starts a fresh session.
fn open(client: &dyn ClientStore, config: &Config, request: &RequestView<'_>) -> RequestState {
    let now = config.clock.now();
    let mut sole = SoleLive::new();
    let mut accept = |unsealed: &Unsealed| {
        let Some(id) = usable(config, unsealed, now) else {
            return false;
        };
        if sole.first() != Some(&id) {
            sole.offer(id);
        }
        true
    };
    let opened = client.open(request, &mut accept);
    let (any, found) = match opened {
        Opened::Nothing => (false, None),
        Opened::Refused => {
            tracing::debug!("no client-side session the request carries opens; starting afresh");
            (true, None)
        }
        Opened::Session(unsealed) => match sole.adopt() {
            Err(Tossed) => (true, None),
            Ok(accepted) => {
                // Checked again if the store returned another session than the one accepted first.
                let id = accepted
                    .filter(|id| id.as_str() == unsealed.id)
                    .or_else(|| usable(config, &unsealed, now));
                (true, id.map(|id| (id, unsealed)))
            }
        },
    };
    let sent = Sent {
        candidates: IdList::default(),
        any,
        crowded: false,
        form: Form::default(),
    };
    match found {
        // A bound session is adopted once the revocation store says it was not ended since.
        Some((id, unsealed))
            if unsealed.record.binding.is_some() && config.revocations.is_some() =>
        {
            let key = id.key();
            RequestState::unverified(
                sent,
                Unverified {
                    id,
                    key,
                    record: unsealed.record,
                    reseal: unsealed.reseal,
                },
            )
        }
        Some((id, unsealed)) => {
            let key = id.key();
            RequestState::opened(
                sent,
                Stored::Live(id, key),
                unsealed.record,
                unsealed.reseal,
            )
        }
        None => RequestState::opened(sent, Stored::New, Record::new(now, now), false),
    }
}

/// The id of an opened session the engine adopts: alive at `now` (idle and absolute expiry) and
/// holding an id the id scheme accepts.
fn usable(config: &Config, unsealed: &Unsealed, now: Timestamp) -> Option<Id> {
    if config.is_dead(&unsealed.record, now) {
        tracing::debug!("a client-side session has expired");
        return None;
    }
    let id = id::parse(&*config.ids, &unsealed.id);
    if id.is_none() {
        tracing::warn!("a client-side session holds an id the id scheme refuses");
    }
    id
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &*self.config;
        let mut f = f.debug_struct("Engine");
        match &config.backend {
            Backend::Server { state, .. } => f.field("state", state),
            Backend::Client(client) => f.field("client", client),
        };
        f.field("ids", &config.ids)
            .field("lifetime", &config.lifetime)
            .field("absolute", &config.absolute)
            .finish_non_exhaustive()
    }
}
