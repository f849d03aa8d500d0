//! [`EngineBuilder`] and the configuration every request shares.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::Engine;
use crate::id::{self, DefaultIds, IdScheme};
use crate::{
    ClientStore, Clock, CookieOptions, Delivery, Error, Id, Key, Lifetime, Record, State, Store,
    SystemClock, Timestamp,
};

/// How many fresh ids are tried when `create` reports a collision.
const CREATE_ATTEMPTS: usize = 4;

/// Everything a request's [`Session`](crate::Session) and its commit need, shared by all requests.
pub(crate) struct Shared {
    pub(crate) state: Box<dyn State>,
    pub(crate) store: Box<dyn Store>,
    /// For a client-side engine, the store that keeps sessions with the client; `state` and `store`
    /// are then never used.
    pub(crate) client: Option<Box<dyn ClientStore>>,
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

    /// Whether a stored record is past its expiry or the absolute cap at `now` (checked again here
    /// so that lowering the cap takes effect at once).
    pub(crate) fn is_dead(&self, record: &Record, now: Timestamp) -> bool {
        record.is_expired(now)
            || self
                .absolute
                .is_some_and(|cap| record.created.saturating_add(cap) <= now)
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
            // `&*self.store`: the store itself, not the `Box` forwarding impl (one future less).
            if (*self.store).create(&key, record).await? {
                return Ok((id, key));
            }
            tracing::warn!(key = ?key, "session id collision; generating another");
        }
        Err(Error::IdCollision)
    }

    /// The interval within which reads do not extend a session's expiry: the configured one, or a
    /// tenth of the idle timeout (at most a minute); never more than half the idle timeout, so that
    /// a session that is only read stays alive.
    pub(crate) fn touch_interval(&self, lifetime: Lifetime) -> Duration {
        let idle = lifetime.idle_timeout();
        self.touch_interval
            .unwrap_or_else(|| (idle / 10).min(Duration::from_secs(60)))
            .min(idle / 2)
    }

    /// What the State is asked to deliver for a session of `lifetime` expiring at `expires`.
    pub(crate) fn delivery(
        &self,
        lifetime: Lifetime,
        expires: Timestamp,
        now: Timestamp,
        options: Option<&CookieOptions>,
    ) -> Delivery {
        let mut delivery = Delivery {
            options: options.cloned(),
            ..Delivery::default()
        };
        if lifetime.is_persistent() {
            let max_age = expires.saturating_since(now);
            delivery.max_age = Some(max_age);
            // From the engine's clock, like `Max-Age`, so the two always agree.
            delivery.expires = Some(expires.to_system_time());
        }
        delivery
    }
}

/// Configures an [`Engine`]; start with [`Engine::builder`].
pub struct EngineBuilder {
    shared: Shared,
    #[cfg(feature = "tokio")]
    pub(crate) store_timeout: Option<Duration>,
}

impl EngineBuilder {
    pub(crate) fn new(state: Box<dyn State>, store: Box<dyn Store>) -> Self {
        Self::with(state, store, None)
    }

    pub(crate) fn client_side(client: Box<dyn ClientStore>) -> Self {
        let unused = crate::client::ClientSide;
        Self::with(
            Box::new(unused),
            Box::new(crate::client::ClientSide),
            Some(client),
        )
    }

    fn with(
        state: Box<dyn State>,
        store: Box<dyn Store>,
        client: Option<Box<dyn ClientStore>>,
    ) -> Self {
        EngineBuilder {
            shared: Shared {
                state,
                store,
                client,
                ids: Box::new(DefaultIds),
                clock: Box::new(SystemClock),
                lifetime: Lifetime::default(),
                absolute: None,
                touch_interval: None,
                commit_on_server_error: false,
                no_store: true,
            },
            #[cfg(feature = "tokio")]
            store_timeout: None,
        }
    }

    /// The default lifetime of sessions (default: browser-session cookies, 24-hour idle timeout).
    pub fn lifetime(mut self, lifetime: Lifetime) -> Self {
        self.shared.lifetime = lifetime;
        self
    }

    /// Sessions end this long after they were created, however active (default: no cap). At least
    /// one second.
    pub fn absolute_timeout(mut self, cap: Duration) -> Self {
        self.shared.absolute = Some(cap.max(Duration::from_secs(1)));
        self
    }

    /// Reads within this interval of the last write do not extend the session's expiry (default:
    /// a tenth of the idle timeout, at most one minute; never more than half the idle timeout).
    /// Extending costs a store write.
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

    /// Bounds every store call (load, create, save, apply, touch, delete) by `limit`: a call that
    /// has not finished by then fails with [`StoreErrorKind::Timeout`](crate::StoreErrorKind::Timeout),
    /// which the handler sees as an error and the commit turns into a bare 500, logged with the
    /// operation and the limit (default: no limit; the Redis store bounds its own calls too).
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

    /// Builds the engine.
    pub fn build(self) -> Engine {
        #[cfg_attr(not(feature = "tokio"), allow(unused_mut))]
        let mut shared = self.shared;
        #[cfg(feature = "tokio")]
        if let Some(limit) = self.store_timeout.filter(|_| shared.client.is_none()) {
            shared.store = Box::new(crate::timeout::TimeoutStore {
                inner: shared.store,
                limit,
            });
        }
        Engine::from_shared(Arc::new(shared))
    }
}

impl fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineBuilder").finish_non_exhaustive()
    }
}
