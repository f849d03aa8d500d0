//! The framework-free request lifecycle: [`Engine::start`] before the handler, [`Engine::commit`]
//! after it. Both adapters call it, so every lifecycle rule is written once, here.

use std::fmt;
use std::sync::Arc;

use http::StatusCode;

use crate::builder::{EngineBuilder, Shared};
use crate::plan::{PendingCommit, Plan, Prepared, Step, plan};
use crate::session::IdList;
use crate::{
    ClientStore, Commit, Delivery, Error, Id, Key, Lifetime, Record, RequestHeaders, RequestView,
    Session, State, Store, Timestamp, client, id,
};

/// The session lifecycle, configured once and shared by every request.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use session_core::{Engine, MemoryStore, ParamState, RequestView};
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
    pub(crate) shared: Arc<Shared>,
}

impl Engine {
    /// An engine with the default configuration: 24-hour idle timeout, browser-session cookies, no
    /// absolute timeout, 256-bit ids.
    pub fn new(state: impl State, store: impl Store) -> Self {
        Engine::builder(state, store).build()
    }

    /// Starts configuring an engine.
    pub fn builder(state: impl State, store: impl Store) -> EngineBuilder {
        EngineBuilder::new(Box::new(state), Box::new(store))
    }

    /// An engine whose sessions the client keeps (a sealed cookie, say), with the default
    /// configuration: no server-side storage at all. See [`ClientStore`] for what such sessions
    /// cannot do.
    pub fn client_side(client: impl ClientStore) -> Self {
        Engine::client_side_builder(client).build()
    }

    /// Starts configuring an engine whose sessions the client keeps.
    pub fn client_side_builder(client: impl ClientStore) -> EngineBuilder {
        EngineBuilder::client_side(Box::new(client))
    }

    /// Whether the sessions of this engine are kept by the client ([`Engine::client_side`]).
    pub fn is_client_side(&self) -> bool {
        self.shared.client.is_some()
    }

    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Engine { shared }
    }

    /// The request headers the State reads ([`State::request_headers`]): an adapter that must
    /// copy headers into a [`RequestView`] copies only these.
    pub fn request_headers(&self) -> RequestHeaders {
        match &self.shared.client {
            Some(client) => client.request_headers(),
            None => self.shared.state.request_headers(),
        }
    }

    /// Before the handler: reads the candidate ids from the request, drops those the id scheme
    /// rejects (and any beyond the fourth), and returns the request's lazy [`Session`]. No store
    /// I/O happens here.
    pub fn start(&self, request: &RequestView<'_>) -> Session {
        let shared = &self.shared;
        if let Some(client) = &shared.client {
            let work = client::start(&**client, shared, request);
            return Session::from_working(shared.clone(), work);
        }
        let candidates = shared.state.extract(request);
        let mut ids = IdList::default();
        for candidate in candidates.iter().take(IdList::CAPACITY) {
            match id::parse(&*shared.ids, candidate) {
                Some(id) => {
                    ids.push(id);
                }
                // Never log the value itself: it may be someone's id, or an attack payload.
                None => tracing::debug!(len = candidate.len(), "dropping malformed session id"),
            }
        }
        Session::new(shared.clone(), ids, !candidates.is_empty())
    }

    /// After the handler: writes the session's changes to the store and returns the headers to add
    /// to the response (`status` is the response's status: a server error commits nothing but an
    /// expiry, unless configured otherwise). A second commit of the same session does nothing.
    ///
    /// On error nothing may be assumed committed; adapters answer with a bare 500 and log the cause.
    /// Adapters on a hot path use [`prepare`](Engine::prepare), which needs no future at all when
    /// there is no store work.
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
        let shared = &*self.shared;
        let mut out = Commit::default();
        let mut work = session.lock();
        // Committed from here on, touched or not: a change made later is reported, not lost silently.
        let again = std::mem::replace(&mut work.committed, true);
        if !work.accessed || again {
            return Prepared::Ready(out);
        }
        let server_error = status.is_server_error() && !shared.commit_on_server_error;
        out.options = work.cookie_options.clone();
        // Client-side sessions have no late commit (their cookie goes with the head).
        out.late = work.late && shared.client.is_none();
        if let Some(client) = &shared.client {
            let done = client::commit(&**client, shared, &mut work, server_error, &mut out);
            drop(work);
            return match done {
                Ok(()) => Prepared::Ready(out),
                Err(error) => self.pending(session, Step::Fail(error), out),
            };
        }
        out.vary = shared.state.vary();
        if work.expire {
            let keys: Vec<Key> = match work.loaded.as_ref() {
                // Loaded: only the adopted id names a live record.
                Some(loaded) => loaded.current.iter().map(|(_, key)| *key).collect(),
                // Not loaded: delete whatever the client's ids name, without reading it first.
                None => work.candidates.iter().map(Id::key).collect(),
            };
            // The client holds an id (live, unknown or malformed): tell it to forget it.
            if work.client_sent_id || !keys.is_empty() {
                let delivery = Delivery {
                    options: out.options.as_deref().cloned(),
                    ..Delivery::default()
                };
                shared.state.expire_with(&delivery, &mut out.headers);
                out.sets_id = shared.no_store;
            }
            // Deleted now: nothing is left for a late commit.
            work.late_done = true;
            out.late = false;
            drop(work);
            return self.pending(session, Step::Expire(keys), out);
        }
        // Ended elsewhere (seen by an earlier `save`): never bring it back. A stale id in the client
        // is harmless (unknown ids are never adopted), so no removal is sent that could race with a
        // newer cookie.
        if server_error || work.skip || work.ended {
            // Nothing was written at the head: the late commit writes nothing either.
            work.late_done = true;
            out.late = false;
            return Prepared::Ready(out);
        }
        if work.loaded.is_none()
            && (work.cycle || work.lifetime_change.is_some() || work.deliver_pending || work.late)
        {
            drop(work);
            return self.pending(session, Step::LoadThenPlan, out);
        }
        // The commit's own time: a long request must not write an expiry from when it loaded.
        let now = shared.clock.now();
        let plan = plan(&mut work, shared, now);
        drop(work);
        match plan {
            Plan::Nothing => Prepared::Ready(out),
            Plan::Deliver {
                id,
                lifetime,
                expires,
            } => {
                self.finalize(&id, lifetime, expires, now, &mut out);
                Prepared::Ready(out)
            }
            plan => self.pending(session, Step::Plan(plan, now), out),
        }
    }

    /// Late store ([`Session::late_store`]): after the response body has ended, writes the
    /// changes made since the head's commit. The returned headers are empty (the head has gone);
    /// adapters run it when the body ends, and in the background if the client went away first.
    /// Does nothing unless late store was asked for and the head's commit ran and wrote; a second
    /// call does nothing.
    pub fn prepare_late(&self, session: &Session) -> Prepared {
        let shared = &*self.shared;
        let out = Commit::default();
        let mut work = session.lock();
        if !work.late || !work.committed || std::mem::replace(&mut work.late_done, true) {
            return Prepared::Ready(out);
        }
        if shared.client.is_some() {
            if work.is_dirty() || work.expire || work.cycle {
                tracing::warn!(
                    "late changes to a client-side session are not stored: its cookie went with \
                     the response head"
                );
            }
            return Prepared::Ready(out);
        }
        if work.skip || work.ended {
            return Prepared::Ready(out);
        }
        let Some((id, key, record)) = work.loaded.as_ref().and_then(|l| {
            l.current
                .clone()
                .map(|(id, key)| (id, key, l.record.clone()))
        }) else {
            return Prepared::Ready(out);
        };
        if work.expire {
            drop(work);
            return self.pending(session, Step::Expire(vec![key]), out);
        }
        if std::mem::take(&mut work.cycle) {
            tracing::warn!(
                "cycle_id after the response head was sent is ignored: the new id could not \
                 reach the client"
            );
        }
        if std::mem::take(&mut work.deliver_pending) || work.lifetime_change.is_some() {
            tracing::warn!(
                "a cookie change (lifetime or cookie options) made after the response head was \
                 sent cannot reach the client; a new lifetime is still stored"
            );
        }
        if !work.is_dirty() {
            return Prepared::Ready(out);
        }
        let now = shared.clock.now();
        let expires = shared.expires_at(record.created, now, record.lifetime);
        let lifetime = record.lifetime.unwrap_or(shared.lifetime);
        let changes = work.take_changes(now, expires);
        drop(work);
        let plan = Plan::Apply {
            id,
            key,
            changes,
            lifetime,
            deliver: false,
        };
        self.pending(session, Step::Plan(plan, now), out)
    }

    fn pending(&self, session: &Session, step: Step, out: Commit) -> Prepared {
        if matches!(&step, Step::Expire(keys) if keys.is_empty()) {
            return Prepared::Ready(out);
        }
        let engine = self.clone();
        Prepared::Pending(PendingCommit {
            engine,
            session: session.clone(),
            step,
            out,
        })
    }

    /// Carries out a plan's store I/O and adds the State's headers to `out`.
    /// Returns the id and key of a session created under a new id (a new session, a cycle).
    pub(crate) async fn execute(
        &self,
        plan: Plan,
        now: Timestamp,
        out: &mut Commit,
    ) -> Result<Option<(Id, Key)>, Error> {
        let shared = &*self.shared;
        // The store itself, not the `Box` forwarding impl (one boxed future less per call).
        let store: &dyn Store = &*shared.store;
        match plan {
            Plan::Nothing => {}
            Plan::Create { record } => {
                let (id, key) = shared.create(&record).await?;
                self.deliver(&id, &record, now, out);
                return Ok(Some((id, key)));
            }
            Plan::Cycle { old, changes } => {
                // Rebuild from the stored record, so that keys other requests wrote meanwhile move
                // too; create the new record before deleting the old one, so a failure loses nothing.
                match store.load(&old).await? {
                    Some(mut record) if !shared.is_dead(&record, now) => {
                        changes.apply_to(&mut record);
                        let (id, key) = shared.create(&record).await?;
                        match store.delete(&old).await {
                            Ok(true) => {
                                self.deliver(&id, &record, now, out);
                                return Ok(Some((id, key)));
                            }
                            // Logged out elsewhere meanwhile: the logout wins.
                            Ok(false) => {
                                store.delete(&key).await?;
                            }
                            // The old session stays; its new copy would be unreachable (its id
                            // is never sent), so take it back, as far as the store lets us.
                            Err(error) => {
                                if let Err(cleanup) = store.delete(&key).await {
                                    tracing::warn!(
                                        key = ?key,
                                        error = %Error::from(cleanup).report(),
                                        "could not remove the new copy of a session whose id \
                                         change failed; it expires unused"
                                    );
                                }
                                return Err(error.into());
                            }
                        }
                    }
                    _ => {}
                }
            }
            Plan::Apply {
                id,
                key,
                changes,
                lifetime,
                deliver,
            } => {
                let applied = if changes.is_touch() {
                    store
                        .touch(&key, changes.last_active, changes.expires)
                        .await?
                } else {
                    store.apply(&key, &changes).await?
                };
                // Not applied: ended elsewhere (logout, expiry) meanwhile; never bring it back.
                if applied && deliver {
                    self.finalize(&id, lifetime, changes.expires, now, out);
                }
            }
            Plan::Deliver {
                id,
                lifetime,
                expires,
            } => self.finalize(&id, lifetime, expires, now, out),
        }
        Ok(None)
    }

    /// Asks the State to deliver `id` for a session of `record`'s lifetime and expiry.
    fn deliver(&self, id: &Id, record: &Record, now: Timestamp, out: &mut Commit) {
        let lifetime = record.lifetime.unwrap_or(self.shared.lifetime);
        self.finalize(id, lifetime, record.expires, now, out);
    }

    /// Asks the State to deliver `id`, and marks the response uncacheable if it wrote anything.
    fn finalize(
        &self,
        id: &Id,
        lifetime: Lifetime,
        expires: Timestamp,
        now: Timestamp,
        out: &mut Commit,
    ) {
        let shared = &*self.shared;
        let delivery = shared.delivery(lifetime, expires, now, out.options.as_deref());
        shared.state.finalize(id, &delivery, &mut out.headers);
        out.sets_id = !out.headers.is_empty() && shared.no_store;
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &*self.shared;
        let mut f = f.debug_struct("Engine");
        match &shared.client {
            Some(client) => f.field("client", client),
            None => f.field("state", &shared.state),
        };
        f.field("ids", &shared.ids)
            .field("lifetime", &shared.lifetime)
            .field("absolute", &shared.absolute)
            .finish_non_exhaustive()
    }
}
