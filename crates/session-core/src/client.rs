//! [`ClientStore`]: sessions the client keeps (a sealed cookie), with no server-side storage.
//!
//! A client-side store is a [`State`](crate::State) and a [`Store`](crate::Store) at once: the
//! whole session travels with the request and is written back with the response. The engine runs
//! it through the same [`Session`](crate::Session) API ([`Engine::client_side`](crate::Engine::client_side)); what such a store
//! cannot do (revoke a copied cookie, merge concurrent writes) is listed on [`ClientStore`].

use std::fmt;

use http::HeaderMap;
use http::header::{COOKIE, HeaderName};

use crate::builder::Shared;
use crate::session::{Loaded, Working};
use crate::{Commit, Delivery, Error, Id, Record, RequestHeaders, RequestView, StoreError, id};

/// Keeps each session with the client: opens it from the request, seals it into the response.
///
/// The `session-state-cookie` crate's `SealedCookie` is the implementation most applications want;
/// implement this trait for another carrier. The engine ([`Engine::client_side`](crate::Engine::client_side)) decides when to
/// seal (a change, a new id, a rolling expiry, a stale key) and checks expiry itself on every
/// request, from the [`Record`]'s timestamps.
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
    /// matches). Offer each session that opens to `accept`, in the request's order, and return the
    /// first it accepts: the engine refuses expired sessions and ids its id scheme rejects, so that
    /// a stale cookie sent first does not hide a live one. Return [`Opened::Refused`] when
    /// something was sent but nothing was accepted.
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
    /// [`State::request_headers`](crate::State::request_headers)).
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

/// Opens the request's session for [`Engine::start`](crate::Engine::start): the working state of a
/// client-side session is loaded from the start (opening needs the request, which is gone later).
pub(crate) fn start(
    client: &dyn ClientStore,
    shared: &Shared,
    request: &RequestView<'_>,
) -> Working {
    let now = shared.clock.now();
    let mut id = None;
    let mut accept = |unsealed: &Unsealed| {
        // Only the last session accepted counts, whatever was offered before.
        id = usable(shared, unsealed, now);
        id.is_some()
    };
    let (sent, found) = match client.open(request, &mut accept) {
        Opened::Nothing => (false, None),
        Opened::Refused => {
            tracing::debug!("no client-side session the request carries opens; starting afresh");
            (true, None)
        }
        Opened::Session(unsealed) => {
            // Checked again if the store returned another session than the one accepted last.
            let id = id
                .filter(|id| id.as_str() == unsealed.id)
                .or_else(|| usable(shared, &unsealed, now));
            (true, id.map(|id| (id, unsealed)))
        }
    };
    let mut work = Working {
        client_sent_id: sent,
        ..Working::default()
    };
    work.loaded = Some(match found {
        Some((id, unsealed)) => {
            work.reseal = unsealed.reseal;
            let key = id.key();
            Loaded {
                current: Some((id, key)),
                record: unsealed.record,
            }
        }
        None => Loaded {
            current: None,
            record: Record::new(now, now),
        },
    });
    work
}

/// The id of an opened session the engine adopts: alive at `now` (idle and absolute expiry) and
/// holding an id the id scheme accepts.
fn usable(shared: &Shared, unsealed: &Unsealed, now: crate::Timestamp) -> Option<Id> {
    if shared.is_dead(&unsealed.record, now) {
        tracing::debug!("a client-side session has expired");
        return None;
    }
    let id = id::parse(&*shared.ids, &unsealed.id);
    if id.is_none() {
        tracing::warn!("a client-side session holds an id the id scheme refuses");
    }
    id
}

/// Decides and carries out a client-side commit, synchronously: there is no store I/O.
pub(crate) fn commit(
    client: &dyn ClientStore,
    shared: &Shared,
    work: &mut Working,
    server_error: bool,
    out: &mut Commit,
) -> Result<(), Error> {
    out.vary = client.vary();
    if work.late {
        tracing::debug!(
            "late store does not apply to client-side sessions: their cookie goes with the head"
        );
    }
    // No late commit for a client-side session: changes after this one are reported as not
    // stored.
    work.late_done = true;
    if work.expire {
        if work.client_sent_id {
            let delivery = Delivery {
                options: work.cookie_options.as_deref().cloned(),
                ..Delivery::default()
            };
            client.expire_with(&delivery, &mut out.headers);
            out.sets_id = shared.no_store;
        }
        return Ok(());
    }
    if server_error || work.skip {
        return Ok(());
    }
    let now = shared.clock.now();
    let due = is_seal_due(work, shared, now);
    let cycle = std::mem::take(&mut work.cycle);
    let Some(loaded) = work.loaded.as_mut() else {
        return Ok(());
    };
    let fresh = match &loaded.current {
        // A new session is sent only if it holds something.
        None if loaded.record.data.is_empty() => return Ok(()),
        None => {
            loaded.record = shared.fresh_record(&loaded.record, now);
            true
        }
        Some(_) if !due && !cycle => return Ok(()),
        Some(_) => cycle,
    };
    if fresh {
        let id = id::generate(&*shared.ids)?;
        let key = id.key();
        loaded.current = Some((id, key));
    }
    let Some((id, _)) = &loaded.current else {
        return Ok(());
    };
    let record = &mut loaded.record;
    record.last_active = now;
    record.expires = shared.expires_at(record.created, now, record.lifetime);
    seal(
        client,
        shared,
        id,
        record,
        now,
        work.cookie_options.as_deref(),
        &mut out.headers,
    )?;
    out.sets_id = shared.no_store;
    work.changed.clear();
    work.cleared = false;
    work.lifetime_change = None;
    Ok(())
}

/// Whether an existing session must be sealed again: it changed, `save` asked for it, it was opened
/// with an older key, or its rolling expiry is due.
fn is_seal_due(work: &mut Working, shared: &Shared, now: crate::Timestamp) -> bool {
    let asked = std::mem::take(&mut work.deliver_pending) | std::mem::take(&mut work.reseal);
    let Some(loaded) = work.loaded.as_ref() else {
        return false;
    };
    let record = &loaded.record;
    let lifetime = record.lifetime.unwrap_or(shared.lifetime);
    asked
        || work.is_dirty()
        || now.saturating_since(record.last_active) >= shared.touch_interval(lifetime)
}

/// Seals `record` under `id`, delivered for its lifetime and expiry.
pub(crate) fn seal(
    client: &dyn ClientStore,
    shared: &Shared,
    id: &Id,
    record: &Record,
    now: crate::Timestamp,
    options: Option<&crate::CookieOptions>,
    headers: &mut HeaderMap,
) -> Result<(), Error> {
    let lifetime = record.lifetime.unwrap_or(shared.lifetime);
    let delivery = shared.delivery(lifetime, record.expires, now, options);
    client.seal(id, record, &delivery, headers)?;
    Ok(())
}

/// [`Session::save`](crate::Session::save) for a client-side session: gives a new session its id
/// and checks that the session can be sealed now, so that the handler learns of a session too
/// large for its carrier; the seal itself is sent at commit.
pub(crate) fn save(
    client: &dyn ClientStore,
    shared: &Shared,
    work: &mut Working,
) -> Result<Id, Error> {
    let now = shared.clock.now();
    let loaded = work.loaded();
    if loaded.current.is_none() {
        loaded.record = shared.fresh_record(&loaded.record, now);
        let id = id::generate(&*shared.ids)?;
        let key = id.key();
        loaded.current = Some((id, key));
    }
    let loaded = work.loaded();
    let Some((id, _)) = loaded.current.clone() else {
        return Err(Error::SessionEnded);
    };
    let mut record = loaded.record.clone();
    record.last_active = now;
    record.expires = shared.expires_at(record.created, now, record.lifetime);
    // With this request's cookie options, which count towards the cookie's size.
    let options = work.cookie_options.as_deref();
    seal(
        client,
        shared,
        &id,
        &record,
        now,
        options,
        &mut HeaderMap::new(),
    )?;
    work.deliver_pending = true;
    Ok(id)
}

/// The State and Store of a client-side engine: never called, since every path of a client-side
/// engine goes through its [`ClientStore`]; they fail loudly if a path ever does.
#[derive(Debug)]
pub(crate) struct ClientSide;

impl crate::State for ClientSide {
    fn extract<'a>(&self, _: &RequestView<'a>) -> crate::Candidates<'a> {
        crate::Candidates::new()
    }

    fn finalize(&self, _: &Id, _: &Delivery, _: &mut HeaderMap) {
        tracing::error!("a client-side engine reached the server-side State");
    }

    fn expire(&self, _: &mut HeaderMap) {
        tracing::error!("a client-side engine reached the server-side State");
    }
}

#[async_trait::async_trait]
impl crate::Store for ClientSide {
    async fn load(&self, _: &crate::Key) -> Result<Option<Record>, StoreError> {
        Err(unreachable_store())
    }
    async fn create(&self, _: &crate::Key, _: &Record) -> Result<bool, StoreError> {
        Err(unreachable_store())
    }
    async fn save(&self, _: &crate::Key, _: &Record) -> Result<bool, StoreError> {
        Err(unreachable_store())
    }
    async fn delete(&self, _: &crate::Key) -> Result<bool, StoreError> {
        Err(unreachable_store())
    }
}

fn unreachable_store() -> StoreError {
    StoreError::backend("a client-side engine has no server-side store")
}
