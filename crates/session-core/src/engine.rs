//! The framework-free request lifecycle: [`Engine::start`] before the handler, [`Engine::commit`]
//! after it. Both adapters call it, so every lifecycle rule is written once, here.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::{CACHE_CONTROL, COOKIE, VARY};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::id::{self, DefaultIds, IdScheme};
use crate::{
    Clock, Delivery, Error, Id, Key, Lifetime, Record, RequestView, Session, State, Store,
    SystemClock, Timestamp,
};

/// How many fresh ids are tried when `create` reports a collision.
const CREATE_ATTEMPTS: usize = 4;

/// Everything a request's [`Session`] and its commit need, shared by all requests.
pub(crate) struct Shared {
    pub(crate) state: Box<dyn State>,
    pub(crate) store: Box<dyn Store>,
    pub(crate) ids: Box<dyn IdScheme>,
    pub(crate) clock: Box<dyn Clock>,
    pub(crate) lifetime: Lifetime,
    pub(crate) absolute: Option<Duration>,
    pub(crate) touch_interval: Option<Duration>,
    pub(crate) commit_on_server_error: bool,
    pub(crate) no_store: bool,
}

impl Shared {
    /// When a session created at `created` and used at `now` expires.
    pub(crate) fn expires_at(
        &self,
        created: Timestamp,
        now: Timestamp,
        own: Option<Lifetime>,
    ) -> Timestamp {
        let idle = now.saturating_add(own.unwrap_or(self.lifetime).idle_timeout());
        match self.absolute {
            Some(cap) => idle.min(created.saturating_add(cap)),
            None => idle,
        }
    }

    /// A record for a session stored for the first time at `now`, with `from`'s data and lifetime.
    pub(crate) fn fresh_record(&self, from: &Record, now: Timestamp) -> Record {
        let mut record = Record::new(now, self.expires_at(now, now, from.lifetime));
        record.data = from.data.clone();
        record.lifetime = from.lifetime;
        record
    }

    /// Stores `record` under a fresh id, retrying on collisions.
    pub(crate) async fn create(&self, record: &Record) -> Result<(Id, Key), Error> {
        for _ in 0..CREATE_ATTEMPTS {
            let id = id::generate(&*self.ids)?;
            let key = id.key();
            if self.store.create(&key, record).await? {
                return Ok((id, key));
            }
            tracing::warn!(key = ?key, "session id collision; generating another");
        }
        Err(Error::IdCollision)
    }

    /// The interval within which reads do not extend a session's expiry.
    fn touch_interval(&self, lifetime: Lifetime) -> Duration {
        self.touch_interval
            .unwrap_or_else(|| (lifetime.idle_timeout() / 10).min(Duration::from_secs(60)))
    }

    fn delivery(&self, lifetime: Lifetime, expires: Timestamp, now: Timestamp) -> Delivery {
        let mut delivery = Delivery::default();
        if lifetime.is_persistent() {
            delivery.max_age = Some(expires.saturating_since(now));
        }
        delivery
    }
}

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
/// session.insert("counter", &1).await.unwrap();
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
    shared: Arc<Shared>,
}

impl Engine {
    /// An engine with the default configuration: 24-hour idle timeout, browser-session cookies, no
    /// absolute timeout, 256-bit ids.
    pub fn new(state: impl State, store: impl Store) -> Self {
        Engine::builder(state, store).build()
    }

    /// Starts configuring an engine.
    pub fn builder(state: impl State, store: impl Store) -> EngineBuilder {
        EngineBuilder {
            shared: Shared {
                state: Box::new(state),
                store: Box::new(store),
                ids: Box::new(DefaultIds),
                clock: Box::new(SystemClock),
                lifetime: Lifetime::default(),
                absolute: None,
                touch_interval: None,
                commit_on_server_error: false,
                no_store: true,
            },
        }
    }

    /// Before the handler: reads the candidate ids from the request, drops those the id scheme
    /// rejects, and returns the request's lazy [`Session`]. No store I/O happens here.
    pub fn start(&self, request: &RequestView<'_>) -> Session {
        let shared = &self.shared;
        let candidates = shared.state.extract(request);
        let mut ids = Vec::new();
        for candidate in candidates.iter() {
            match id::parse(&*shared.ids, candidate) {
                Some(id) => ids.push(id),
                // Never log the value itself: it may be someone's id, or an attack payload.
                None => tracing::debug!(len = candidate.len(), "dropping malformed session id"),
            }
        }
        Session::new(shared.clone(), ids)
    }

    /// After the handler: writes the session's changes to the store and returns the headers to add
    /// to the response (`status` is the response's status: a server error commits nothing but an
    /// expiry, unless configured otherwise).
    ///
    /// On error nothing may be assumed committed; adapters answer with a bare 500 and log the cause.
    pub async fn commit(&self, session: &Session, status: StatusCode) -> Result<Commit, Error> {
        let shared = &*self.shared;
        let mut out = Commit::default();
        let (expire, cycle, skip, needs_load) = {
            let work = session.lock();
            if !work.accessed {
                return Ok(out);
            }
            let needs_load =
                work.loaded.is_none() && (work.cycle || work.lifetime_change.is_some());
            (work.expire, work.cycle, work.skip, needs_load)
        };
        out.vary = shared.state.writes_id();
        if expire {
            return self.commit_expire(session, out).await;
        }
        if (status.is_server_error() && !shared.commit_on_server_error) || skip {
            return Ok(out);
        }
        if session.lock().ended {
            // Ended elsewhere (seen by an earlier `save`): never bring it back.
            shared.state.expire(&mut out.headers);
            out.sets_id = shared.no_store;
            return Ok(out);
        }
        if needs_load {
            session.load().await?;
        }
        let now = shared.clock.now();
        let plan = {
            let mut work = session.lock();
            let id_pending = std::mem::take(&mut work.id_pending);
            plan(&mut work, shared, now, cycle, id_pending)
        };
        match plan {
            Plan::Nothing => {}
            Plan::Create { record } => {
                let (id, _) = shared.create(&record).await?;
                self.deliver(&id, &record, now, &mut out);
            }
            Plan::Cycle { old, record } => {
                if shared.store.delete(&old).await? {
                    let (id, _) = shared.create(&record).await?;
                    self.deliver(&id, &record, now, &mut out);
                } else {
                    shared.state.expire(&mut out.headers);
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
                    shared
                        .store
                        .touch(&key, changes.last_active, changes.expires)
                        .await?
                } else {
                    shared.store.apply(&key, &changes).await?
                };
                if !applied {
                    // Ended elsewhere (logout, expiry) meanwhile: never bring it back.
                    shared.state.expire(&mut out.headers);
                } else if deliver {
                    let delivery = shared.delivery(lifetime, changes.expires, now);
                    shared.state.finalize(&id, &delivery, &mut out.headers);
                }
            }
            Plan::Deliver {
                id,
                lifetime,
                expires,
            } => {
                let delivery = shared.delivery(lifetime, expires, now);
                shared.state.finalize(&id, &delivery, &mut out.headers);
            }
        }
        out.sets_id = !out.headers.is_empty() && shared.no_store;
        Ok(out)
    }

    async fn commit_expire(&self, session: &Session, mut out: Commit) -> Result<Commit, Error> {
        let shared = &*self.shared;
        let (keys, client_has_id) = {
            let work = session.lock();
            let keys: Vec<Key> = match work.loaded.as_ref() {
                // Loaded: only the adopted id names a live record.
                Some(loaded) => loaded.current.iter().map(|(_, key)| *key).collect(),
                // Not loaded: delete whatever the client's ids name, without reading it first.
                None => work.candidates.iter().map(Id::key).collect(),
            };
            let client_has_id = !keys.is_empty() || !work.candidates.is_empty();
            (keys, client_has_id)
        };
        for key in &keys {
            shared.store.delete(key).await?;
        }
        if client_has_id {
            // The client holds an id (live or not): tell it to forget it.
            shared.state.expire(&mut out.headers);
            out.sets_id = shared.no_store;
        }
        Ok(out)
    }

    fn deliver(&self, id: &Id, record: &Record, now: Timestamp, out: &mut Commit) {
        let shared = &*self.shared;
        let lifetime = record.lifetime.unwrap_or(shared.lifetime);
        let delivery = shared.delivery(lifetime, record.expires, now);
        shared.state.finalize(id, &delivery, &mut out.headers);
    }
}

/// What a commit must do, decided under the session's lock and carried out after it.
enum Plan {
    Nothing,
    Create {
        record: Record,
    },
    Cycle {
        old: Key,
        record: Record,
    },
    Apply {
        id: Id,
        key: Key,
        changes: crate::Changes,
        lifetime: Lifetime,
        deliver: bool,
    },
    Deliver {
        id: Id,
        lifetime: Lifetime,
        expires: Timestamp,
    },
}

fn plan(
    work: &mut crate::session::Working,
    shared: &Shared,
    now: Timestamp,
    cycle: bool,
    id_pending: bool,
) -> Plan {
    let dirty = work.is_dirty();
    let Some(loaded) = work.loaded.as_ref() else {
        return Plan::Nothing;
    };
    let lifetime = loaded.record.lifetime.unwrap_or(shared.lifetime);
    match loaded.current.clone() {
        None => {
            // A new session: stored only if it holds something.
            if loaded.record.data.is_empty() {
                return Plan::Nothing;
            }
            let record = shared.fresh_record(&loaded.record, now);
            work.changed.clear();
            work.cleared = false;
            work.lifetime_change = None;
            Plan::Create { record }
        }
        Some((_, old)) if cycle => {
            let mut record = shared.fresh_record(&loaded.record, now);
            record.created = loaded.record.created;
            record.expires = shared.expires_at(record.created, now, record.lifetime);
            work.changed.clear();
            work.cleared = false;
            work.lifetime_change = None;
            Plan::Cycle { old, record }
        }
        Some((id, key)) => {
            let created = loaded.record.created;
            let last_active = loaded.record.last_active;
            let expires = shared.expires_at(created, now, loaded.record.lifetime);
            if dirty {
                let changes = work.take_changes(now, expires);
                Plan::Apply {
                    id,
                    key,
                    changes,
                    lifetime,
                    deliver: true,
                }
            } else if now.saturating_since(last_active) >= shared.touch_interval(lifetime) {
                let changes = crate::Changes::touch(now, expires);
                Plan::Apply {
                    id,
                    key,
                    changes,
                    lifetime,
                    deliver: lifetime.is_persistent() || id_pending,
                }
            } else if id_pending {
                Plan::Deliver {
                    id,
                    lifetime,
                    expires: loaded.record.expires,
                }
            } else {
                Plan::Nothing
            }
        }
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &*self.shared;
        f.debug_struct("Engine")
            .field("state", &shared.state)
            .field("ids", &shared.ids)
            .field("lifetime", &shared.lifetime)
            .field("absolute", &shared.absolute)
            .finish_non_exhaustive()
    }
}

/// Configures an [`Engine`]; start with [`Engine::builder`].
pub struct EngineBuilder {
    shared: Shared,
}

impl EngineBuilder {
    /// The default lifetime of sessions (default: browser-session cookies, 24-hour idle timeout).
    pub fn lifetime(mut self, lifetime: Lifetime) -> Self {
        self.shared.lifetime = lifetime;
        self
    }

    /// Sessions end this long after they were created, however active (default: no cap).
    pub fn absolute_timeout(mut self, cap: Duration) -> Self {
        self.shared.absolute = Some(cap);
        self
    }

    /// Reads within this interval of the last write do not extend the session's expiry (default:
    /// a tenth of the idle timeout, at most one minute). Extending costs a store write.
    pub fn touch_interval(mut self, interval: Duration) -> Self {
        self.shared.touch_interval = Some(interval);
        self
    }

    /// How ids are generated and validated (default: [`DefaultIds`], 256 bits).
    pub fn ids(mut self, scheme: impl IdScheme) -> Self {
        self.shared.ids = Box::new(scheme);
        self
    }

    /// Where time comes from (default: [`SystemClock`]); tests use a [`ManualClock`](crate::ManualClock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.shared.clock = Box::new(clock);
        self
    }

    /// Whether a response with a 5xx status still commits the session's changes (default: no).
    pub fn commit_on_server_error(mut self, commit: bool) -> Self {
        self.shared.commit_on_server_error = commit;
        self
    }

    /// Whether a response that sets or removes the session id gets `Cache-Control: no-store`
    /// (default: yes).
    pub fn cache_control_no_store(mut self, no_store: bool) -> Self {
        self.shared.no_store = no_store;
        self
    }

    /// Builds the engine.
    pub fn build(self) -> Engine {
        Engine {
            shared: Arc::new(self.shared),
        }
    }
}

impl fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineBuilder").finish_non_exhaustive()
    }
}

/// The headers a commit adds to the response.
#[derive(Debug, Default)]
pub struct Commit {
    headers: HeaderMap,
    vary: bool,
    sets_id: bool,
}

impl Commit {
    /// The headers the State wrote (`Set-Cookie`, say), without the caching headers.
    pub fn state_headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Adds everything to a response's headers: the State's headers, `Vary: Cookie` when the
    /// response depended on the session, and `Cache-Control: no-store` when it sets or removes the
    /// id (an existing `Cache-Control` that already says `no-store` or `private` is kept).
    pub fn apply_to(self, headers: &mut HeaderMap) {
        for (name, value) in self.headers {
            if let Some(name) = name {
                headers.append(name, value);
            }
        }
        if self.vary {
            let already = headers.get_all(VARY).iter().any(|v| {
                v.to_str().is_ok_and(|v| {
                    v.split(',')
                        .any(|p| p.trim().eq_ignore_ascii_case("cookie") || p.trim() == "*")
                })
            });
            if !already {
                headers.append(VARY, HeaderValue::from_name(COOKIE));
            }
        }
        if self.sets_id {
            let keep = headers
                .get(CACHE_CONTROL)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| {
                    let v = v.to_ascii_lowercase();
                    v.contains("no-store") || v.contains("private")
                });
            if !keep {
                headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
        }
    }
}
