//! [`Config`]: what every request of one engine shares: where sessions live ([`Backend`]), the id
//! scheme, the clock, and the expiry rules.

use std::fmt;
use std::time::Duration;

use http::HeaderMap;
use http::header::HeaderName;

use crate::client::ClientStore;
use crate::clock::Clock;
use crate::error::{Error, StoreError};
use crate::id::{self, Id, IdScheme, Key};
use crate::record::{Lifetime, Record, Timestamp};
use crate::state::{Delivery, RequestHeaders, State};
use crate::store::Store;
use crate::subject::{NOT_BEFORE_KEPT, NoSubjectIndex, Subjects, not_before, set_not_before};

/// How many fresh ids are tried when `create` reports a collision.
const CREATE_ATTEMPTS: usize = 4;

/// Where an engine's sessions live: a State and a Store on the server, or a [`ClientStore`]
/// that keeps the whole session with the client.
pub(crate) enum Backend {
    /// The id travels with the request (`state`); the data stays on the server (`store`).
    Server {
        state: Box<dyn State>,
        store: Box<dyn Store>,
    },
    /// The whole session travels with the request.
    Client(Box<dyn ClientStore>),
}

impl Backend {
    /// The store of a server-side backend.
    pub(crate) fn store(&self) -> Option<&dyn Store> {
        match self {
            Backend::Server { store, .. } => Some(&**store),
            Backend::Client(_) => None,
        }
    }

    /// The request headers the id travels in, named in `Vary`.
    pub(crate) fn vary(&self) -> [Option<HeaderName>; 2] {
        match self {
            Backend::Server { state, .. } => [state.vary(), state.vary_also()],
            Backend::Client(client) => [client.vary(), None],
        }
    }

    /// The request headers the State (or the client store) reads.
    pub(crate) fn request_headers(&self) -> RequestHeaders {
        match self {
            Backend::Server { state, .. } => state.request_headers(),
            Backend::Client(client) => client.request_headers(),
        }
    }

    /// Tells the client to forget its id (or its sealed session).
    pub(crate) fn expire(&self, delivery: &Delivery, headers: &mut HeaderMap) {
        match self {
            Backend::Server { state, .. } => state.expire_with(delivery, headers),
            Backend::Client(client) => client.expire_with(delivery, headers),
        }
    }
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Server { state, .. } => f.debug_tuple("Server").field(state).finish(),
            Backend::Client(client) => f.debug_tuple("Client").field(client).finish(),
        }
    }
}

/// Everything a request's session and its commit need, shared by all requests of an engine.
pub(crate) struct Config {
    pub(crate) backend: Backend,
    pub(crate) ids: Box<dyn IdScheme>,
    pub(crate) clock: Box<dyn Clock>,
    pub(crate) lifetime: Lifetime,
    pub(crate) absolute: Option<Duration>,
    pub(crate) touch_interval: Option<Duration>,
    pub(crate) commit_on_server_error: bool,
    pub(crate) no_store: bool,
    /// At most this many live sessions per subject: a login past it ends the least recently
    /// active ones.
    pub(crate) max_per_subject: Option<usize>,
    /// Where a client-side engine keeps each subject's "not before" time, if anywhere.
    pub(crate) revocations: Option<Box<dyn Store>>,
}

impl Config {
    /// When a session created at `created` and used at `now` expires.
    pub(crate) fn expires_at(
        &self,
        created: Timestamp,
        now: Timestamp,
        own: Option<Lifetime>,
    ) -> Timestamp {
        let idle = now.saturating_add(self.lifetime_of(own).idle_timeout());
        match self.absolute {
            Some(cap) => idle.min(created.saturating_add(cap)),
            None => idle,
        }
    }

    /// A session's own lifetime, or the configured default.
    pub(crate) fn lifetime_of(&self, own: Option<Lifetime>) -> Lifetime {
        own.unwrap_or(self.lifetime)
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
        record.binding.clone_from(&from.binding);
        record
    }

    /// Marks `record` used at `now`: its last activity and its expiry.
    pub(crate) fn refresh(&self, record: &mut Record, now: Timestamp) {
        record.last_active = now;
        record.expires = self.expires_at(record.created, now, record.lifetime);
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

    /// Whether a session last written at `last_active` is due for an expiry refresh at `now`.
    pub(crate) fn is_touch_due(&self, record: &Record, now: Timestamp) -> bool {
        let lifetime = self.lifetime_of(record.lifetime);
        now.saturating_since(record.last_active) >= self.touch_interval(lifetime)
    }

    /// The operations over the sessions of a subject in this engine's store, judged by its clock
    /// and absolute cap; an error of kind `Unsupported` for a store that keeps no index per
    /// subject, and for a client-side engine, whose sessions are listed nowhere.
    pub(crate) fn subjects(&self) -> Result<Subjects<'_>, Error> {
        match self.backend.store() {
            Some(store) if store.lists_subjects() => {
                Ok(Subjects::with(store, &*self.clock, self.absolute))
            }
            _ => Err(Error::Store(NoSubjectIndex::error())),
        }
    }

    /// The revocation store of a client-side engine.
    pub(crate) fn revocations(&self) -> Option<&dyn Store> {
        match self.backend {
            Backend::Client(_) => self.revocations.as_deref(),
            Backend::Server { .. } => None,
        }
    }

    /// Ends every session of `subject`: through the store's index on a server-side engine, by a
    /// "not before" time in the revocation store on a client-side one (whose sessions are not
    /// counted: 0).
    pub(crate) async fn end_all(&self, subject: &str) -> Result<usize, Error> {
        match self.revocations() {
            Some(store) => {
                let kept = self.lifetime.idle_timeout().max(NOT_BEFORE_KEPT);
                set_not_before(store, subject, self.clock.now(), kept).await?;
                Ok(0)
            }
            None => self.subjects()?.end_all(subject).await,
        }
    }

    /// Whether a client-side session bound to `subject` at `bound_at` was ended since.
    pub(crate) async fn is_revoked(
        &self,
        subject: &str,
        bound_at: Timestamp,
    ) -> Result<bool, Error> {
        let Some(store) = self.revocations() else {
            return Ok(false);
        };
        Ok(not_before(store, subject)
            .await?
            .is_some_and(|time| bound_at <= time))
    }

    /// A fresh id from the id scheme.
    pub(crate) fn new_id(&self) -> Result<(Id, Key), Error> {
        let id = id::generate(&*self.ids)?;
        let key = id.key();
        Ok((id, key))
    }

    /// Stores `record` under a fresh id, retrying on collisions.
    pub(crate) async fn create(
        &self,
        store: &dyn Store,
        record: &Record,
    ) -> Result<(Id, Key), Error> {
        for _ in 0..CREATE_ATTEMPTS {
            let (id, key) = self.new_id()?;
            if store.create(&key, record).await? {
                return Ok((id, key));
            }
            tracing::warn!(key = ?key, "session id collision; generating another");
        }
        Err(Error::IdCollision)
    }

    /// What the State is asked to deliver for a session of `lifetime` expiring at `expires`:
    /// `delivery` (the request's own part: its cookie options and form) with the lifetime's.
    pub(crate) fn delivery(
        &self,
        lifetime: Lifetime,
        expires: Timestamp,
        now: Timestamp,
        mut delivery: Delivery,
    ) -> Delivery {
        if lifetime.is_persistent() {
            delivery.max_age = Some(expires.saturating_since(now));
            // From the engine's clock, like `Max-Age`, so the two always agree.
            delivery.expires = Some(expires.to_system_time());
        }
        delivery
    }

    /// Seals `record` under `id` for a client-side backend, delivered for its lifetime and expiry.
    pub(crate) fn seal(
        &self,
        client: &dyn ClientStore,
        id: &Id,
        record: &Record,
        now: Timestamp,
        delivery: Delivery,
        headers: &mut HeaderMap,
    ) -> Result<(), StoreError> {
        let lifetime = self.lifetime_of(record.lifetime);
        let delivery = self.delivery(lifetime, record.expires, now, delivery);
        client.seal(id, record, &delivery, headers)
    }
}
