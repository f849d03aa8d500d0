//! [`EngineBuilder`]: an engine's configuration (lifetimes, ids, clock, store time limit).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::client::ClientStore;
use crate::clock::{Clock, SystemClock};
use crate::config::{Backend, Config};
use crate::engine::Engine;
use crate::id::{DefaultIds, IdScheme};
use crate::record::Lifetime;
use crate::state::State;
use crate::store::Store;

impl Engine {
    /// An engine with the default configuration: 24-hour idle timeout, browser-session cookies, no
    /// absolute timeout, 256-bit ids.
    pub fn new(state: impl State, store: impl Store) -> Self {
        Engine::builder(state, store).build()
    }

    /// Starts configuring an engine.
    pub fn builder(state: impl State, store: impl Store) -> EngineBuilder {
        EngineBuilder::with(Backend::Server {
            state: Box::new(state),
            store: Box::new(store),
        })
    }

    /// An engine whose sessions the client keeps (a sealed cookie, say), with the default
    /// configuration: no server-side storage at all. See [`ClientStore`] for what such sessions
    /// cannot do.
    pub fn client_side(client: impl ClientStore) -> Self {
        Engine::client_side_builder(client).build()
    }

    /// Starts configuring an engine whose sessions the client keeps.
    pub fn client_side_builder(client: impl ClientStore) -> EngineBuilder {
        EngineBuilder::with(Backend::Client(Box::new(client)))
    }
}

/// Configures an [`Engine`]; start with [`Engine::builder`].
pub struct EngineBuilder {
    config: Config,
    #[cfg(feature = "tokio")]
    pub(crate) store_timeout: Option<Duration>,
}

impl EngineBuilder {
    fn with(backend: Backend) -> Self {
        EngineBuilder {
            config: Config {
                backend,
                ids: Box::new(DefaultIds),
                clock: Box::new(SystemClock),
                lifetime: Lifetime::default(),
                absolute: None,
                touch_interval: None,
                commit_on_server_error: false,
                no_store: true,
                max_per_subject: None,
                revocations: None,
            },
            #[cfg(feature = "tokio")]
            store_timeout: None,
        }
    }

    /// The default lifetime of sessions (default: browser-session cookies, 24-hour idle timeout).
    pub fn lifetime(mut self, lifetime: Lifetime) -> Self {
        self.config.lifetime = lifetime;
        self
    }

    /// Sessions end this long after they were created, however active (default: no cap).
    ///
    /// At least one second.
    pub fn absolute_timeout(mut self, cap: Duration) -> Self {
        self.config.absolute = Some(cap.max(Duration::from_secs(1)));
        self
    }

    /// Reads within this interval of the last write do not extend the session's expiry (default:
    /// a tenth of the idle timeout, at most one minute; never more than half the idle timeout).
    /// Extending costs a store write.
    pub fn touch_interval(mut self, interval: Duration) -> Self {
        self.config.touch_interval = Some(interval);
        self
    }

    /// How ids are generated and validated (default: [`DefaultIds`], 256 bits).
    pub fn ids(mut self, scheme: impl IdScheme) -> Self {
        self.config.ids = Box::new(scheme);
        self
    }

    /// Where time comes from (default: [`SystemClock`]); tests use a
    /// [`ManualClock`](crate::store::ManualClock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.config.clock = Box::new(clock);
        self
    }

    /// Whether a response with a 5xx status still commits the session's changes (default: no).
    ///
    /// An expiry is carried out either way. A request whose handler never finished (it panicked,
    /// or the request was dropped before its response head) commits nothing but an expiry
    /// whatever this says: its changes may be half made.
    pub fn commit_on_server_error(mut self, commit: bool) -> Self {
        self.config.commit_on_server_error = commit;
        self
    }

    /// Whether a response that sets or removes the session id gets `Cache-Control: no-store`
    /// (default: yes).
    pub fn cache_control_no_store(mut self, no_store: bool) -> Self {
        self.config.no_store = no_store;
        self
    }

    /// Bounds every store call (load, create, save, apply, touch, delete) by `limit`: a call that
    /// has not finished by then fails with
    /// [`StoreErrorKind::Timeout`](crate::store::StoreErrorKind::Timeout), which the handler sees
    /// as an error and the commit turns into a bare 500, logged with the operation and the limit
    /// (default: no limit; the Redis store bounds its own calls too).
    ///
    /// A store that hangs (a lost network peer, a lock held elsewhere) then costs a request at most
    /// `limit` per call instead of holding it open forever; routes that never touch the session are
    /// not affected either way. A write cut off may still complete in the backend, as with any
    /// timeout. A zero `limit` means no limit.
    ///
    /// The limit runs on Tokio's timer (feature `tokio`, which both adapters turn on), so the
    /// engine must run inside a Tokio runtime with its timer enabled, as under axum, hyper and
    /// actix-web. Outside any Tokio runtime the calls run unbounded; inside a runtime built without
    /// `enable_time`, a store call panics, as every Tokio timer does there. Client-side sessions do
    /// no store I/O, so the limit does not apply to them.
    ///
    /// It also bounds the commits the adapters finish in the background (a logout whose handler
    /// panicked, a commit under way when its client went away, a late commit): without a limit, a
    /// hung store keeps each of them, and its session, until the store answers.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_core::{Engine, MemoryStore, ParamState};
    ///
    /// let engine = Engine::builder(ParamState::default(), MemoryStore::default())
    ///     .store_timeout(Duration::from_secs(2))
    ///     .build();
    /// # drop(engine);
    /// ```
    #[cfg(feature = "tokio")]
    pub fn store_timeout(mut self, limit: Duration) -> Self {
        self.store_timeout = (!limit.is_zero()).then_some(limit);
        self
    }

    /// At most `max` live sessions per subject (default: no limit): a login
    /// ([`Session::bind`](crate::Session::bind)) that passes it ends the subject's least recently
    /// active sessions, never the one logging in. `0` is taken as `1`.
    ///
    /// Needs a store that lists sessions per subject
    /// ([`Store::lists_subjects`](crate::store::Store::lists_subjects)); with another, the limit
    /// is not enforced and a warning is logged at each login (a client-side engine ignores it).
    /// The limit is applied after each login, by listing and ending the excess: logins racing
    /// each other may leave a few more sessions until the next login.
    pub fn max_sessions_per_subject(mut self, max: usize) -> Self {
        self.config.max_per_subject = Some(max.max(1));
        self
    }

    /// Lets a client-side engine end a subject's sessions ("log out everywhere" for sealed
    /// cookies): [`Session::end_all_sessions`](crate::Session::end_all_sessions) and
    /// [`Engine::end_all_sessions_of`](crate::Engine::end_all_sessions_of) record a "not before"
    /// time for the subject in `store` (any server-side store shared by the application's
    /// processes), and every sealed session of that subject bound at or before it is refused at
    /// its next request: the request starts a fresh session.
    ///
    /// Off by default. Costs one `load` from `store` per request that uses a bound sealed session
    /// (sessions not bound to a subject cost nothing). The time is kept for 400 days (the longest
    /// a browser keeps a cookie) or the configured idle timeout if longer. Times come from each
    /// process's clock: keep the clocks in step (NTP). Sealed sessions still cannot be listed or
    /// revoked one by one. Ignored by a server-side engine, whose store ends sessions itself. The
    /// store judges the time's own expiry by its clock: on a manual clock, give it the engine's.
    ///
    /// The store must keep what it is given: one that evicts (a bounded memory or moka store
    /// that is full, Redis under an `allkeys-*` eviction policy) forgets times, and the sessions
    /// they ended open again. A session with its own lifetime longer than 400 days can outlive
    /// its time. It fails closed: while the store fails, requests that use a bound sealed session
    /// fail (a 500), and sessions not bound are served.
    pub fn revocation_store(mut self, store: impl Store) -> Self {
        self.config.revocations = Some(Box::new(store));
        self
    }

    /// Builds the engine.
    pub fn build(self) -> Engine {
        #[cfg_attr(not(feature = "tokio"), allow(unused_mut))]
        let mut config = self.config;
        #[cfg(feature = "tokio")]
        if let Some(limit) = self.store_timeout {
            config.backend = match config.backend {
                Backend::Server { state, store } => Backend::Server {
                    state,
                    store: Box::new(crate::timeout::TimeoutStore {
                        inner: store,
                        limit,
                    }),
                },
                client => client,
            };
        }
        Engine {
            config: Arc::new(config),
        }
    }
}

impl fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineBuilder").finish_non_exhaustive()
    }
}
