//! [`ClientStore`]: sessions the client keeps (a sealed cookie), with no server-side storage.
//!
//! A client-side store is a [`State`](crate::state::State) and a [`Store`](crate::store::Store) at
//! once: the whole session travels with the request and is written back with the response. The
//! engine runs it through the same [`Session`](crate::Session) API
//! ([`Engine::client_side`](crate::Engine::client_side)); what such a store cannot do (revoke a
//! copied cookie, merge concurrent writes) is listed on [`ClientStore`].

use std::fmt;

use http::HeaderMap;
use http::header::{COOKIE, HeaderName};

use crate::error::StoreError;
use crate::id::Id;
use crate::record::Record;
use crate::state::{Delivery, RequestHeaders, RequestView};

/// Keeps each session with the client: opens it from the request, seals it into the response.
///
/// The `session-state-cookie` crate's `SealedCookie` is the implementation most applications want;
/// implement this trait for another carrier. The engine
/// ([`Engine::client_side`](crate::Engine::client_side)) decides when to seal (a change, a new id,
/// a rolling expiry, a stale key) and checks expiry itself on every request, from the [`Record`]'s
/// timestamps.
///
/// # What a client-side session cannot do
///
/// - **Revocation.** Expiring a session sends a removal, but a copy of an older sealed value (kept
///   by an attacker, or by a client that ignores the removal) still opens until its own expiry.
///   The same holds for [`cycle_id`](crate::Session::cycle_id): the old value is not killed.
/// - **Merging concurrent writes.** Each response carries the whole session; of two concurrent
///   requests that send it back, the client keeps whichever response it processes last. That
///   includes read-only requests that reseal (a rolling-expiry refresh once the touch interval has
///   passed, or a reseal with a newer key): a page's background request that started before a
///   login and ends after it can put the pre-login session back in the browser. Keep requests that
///   change the session (logins above all) apart from concurrent ones where that matters.
/// - **Large sessions.** Everything is sent with every request; a cookie holds about 4 KB.
///
/// # Contract
///
/// - [`open`](ClientStore::open) authenticates before it decodes anything, bounds what it decodes,
///   and never panics on hostile input: anything it cannot open is [`Opened::Refused`].
/// - [`seal`](ClientStore::seal) writes the whole session or nothing: a session too large for the
///   carrier is an error, never a truncated value.
pub trait ClientStore: Send + Sync + fmt::Debug + 'static {
    /// Opens the session a request carries.
    ///
    /// A request may carry several candidates (a browser sends every cookie of the name whose path
    /// matches). Offer every session that opens to `accept`, in the request's order, and return
    /// the first it accepts: the engine refuses expired sessions and ids its id scheme rejects, so
    /// that a stale cookie sent first does not hide a live one, and it adopts none when it
    /// accepted more than one session (a cookie tossed in from a sibling domain), which it can
    /// only tell if every candidate is offered. Bound the work: a request carrying more candidates
    /// than you try (four, say) opens none, since the one left out could be the only other live
    /// session. Return [`Opened::Refused`] when something was sent but nothing was accepted.
    fn open(&self, request: &RequestView<'_>, accept: &mut dyn FnMut(&Unsealed) -> bool) -> Opened;

    /// Seals session `id` with `record` into the response headers, delivered as `delivery` says
    /// (a persistent cookie's `Max-Age`, say). Fails, writing nothing, when the sealed session
    /// does not fit the carrier.
    fn seal(
        &self,
        id: &Id,
        record: &Record,
        delivery: &Delivery,
        headers: &mut HeaderMap,
    ) -> Result<(), StoreError>;

    /// Tells the client to forget its session (a removal cookie, say).
    fn expire(&self, headers: &mut HeaderMap);

    /// [`expire`](ClientStore::expire) for a response whose handler set its own cookie options
    /// (`delivery.options`). The default ignores them and calls `expire`.
    fn expire_with(&self, delivery: &Delivery, headers: &mut HeaderMap) {
        let _ = delivery;
        self.expire(headers);
    }

    /// The request header the session travels in, named in `Vary` on every response that used the
    /// session (default: `Cookie`).
    fn vary(&self) -> Option<HeaderName> {
        Some(COOKIE)
    }

    /// Which request headers [`open`](ClientStore::open) reads (see
    /// [`State::request_headers`](crate::state::State::request_headers)).
    fn request_headers(&self) -> RequestHeaders {
        RequestHeaders::All
    }
}

/// What [`ClientStore::open`] found in a request.
#[derive(Debug)]
#[non_exhaustive]
pub enum Opened {
    /// The request carries no session.
    Nothing,
    /// The request carries something in the session's place that does not open: tampered, signed
    /// with an unknown key, truncated, oversized or garbage. The session starts fresh.
    Refused,
    /// The request carries a session.
    Session(Unsealed),
}

/// A session opened from a request: its id, as sealed, and its record.
#[non_exhaustive]
pub struct Unsealed {
    /// The session id as sealed; the engine validates it with its id scheme.
    pub id: String,
    /// The session's data and timestamps.
    pub record: Record,
    /// The session was opened with an older key: the engine seals it again with the current one.
    pub reseal: bool,
}

impl Unsealed {
    /// A session opened from a request.
    pub fn new(id: String, record: Record, reseal: bool) -> Self {
        Unsealed { id, record, reseal }
    }
}

impl fmt::Debug for Unsealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The id is a secret and the values may be: show neither.
        f.debug_struct("Unsealed")
            .field("keys", &self.record.data.len())
            .field("reseal", &self.reseal)
            .finish_non_exhaustive()
    }
}
