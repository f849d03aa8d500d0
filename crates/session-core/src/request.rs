//! [`RequestState`]: where one request's session is, as a type: the ids the client sent, the data
//! (not read yet, or read with the changes the store does not have yet), what the handler asked of
//! the commit, and how far the commit has gone.
//!
//! Other modules move it through its methods (reads, changes, what is asked of the commit, the
//! commit's stage); each method keeps one rule. A loaded record is plain data that the commit
//! updates once the store has it.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::error::Error;
use crate::id::{Id, Key};
use crate::record::{Changes, Lifetime, Record, Timestamp, is_id_bound};
use crate::state::CookieOptions;
use crate::subject::Binding;
use crate::value::Value;

/// One request's session state, behind the [`Session`](crate::Session)'s lock.
pub(crate) struct RequestState {
    /// What the client sent in the id's place.
    pub(crate) sent: Sent,
    /// The handler used the session (read it, or asked something of it): only then is it
    /// committed. A client-side session is read when the request starts, before any use.
    touched: bool,
    data: Data,
    asked: Asked,
    stage: Stage,
    /// A client-side session bound to a subject, opened from the request but not adopted until
    /// the revocation store says it was not ended (its data stays [`Data::Unread`] until then).
    unverified: Option<Box<Unverified>>,
    /// The client's sealed session was refused as ended ("log out everywhere"): its cookie is
    /// removed unless the request stores a new session.
    refused: bool,
}

/// A bound client-side session waiting for its revocation check.
pub(crate) struct Unverified {
    pub(crate) id: Id,
    pub(crate) key: Key,
    pub(crate) record: Record,
    /// It was opened with an older key: seal it again.
    pub(crate) reseal: bool,
}

/// What the client sent in the id's place: the well-formed ids (at most [`IdList::CAPACITY`]),
/// whether it sent anything at all (a malformed id still earns a removal on expiry), and whether it
/// sent more candidates than are tried (`crowded`: none is adopted then, since the one left out
/// could be the only other live session).
#[derive(Default)]
pub(crate) struct Sent {
    pub(crate) candidates: IdList,
    pub(crate) any: bool,
    pub(crate) crowded: bool,
    /// The form the State found the id in.
    pub(crate) form: crate::state::Form,
}

/// The session's data.
enum Data {
    /// Not read yet. A lifetime set before the first read waits here.
    Unread { lifetime: Option<Option<Lifetime>> },
    /// Read from the store (or new and empty), with this request's changes.
    Loaded(Loaded),
}

/// A read session: its record, whether and under which id it is stored, and the changes the store
/// does not have yet.
pub(crate) struct Loaded {
    pub(crate) stored: Stored,
    pub(crate) record: Record,
    pending: Pending,
}

/// Whether and under which id a loaded session is stored.
#[derive(Clone)]
pub(crate) enum Stored {
    /// A new session, not stored yet.
    New,
    /// Stored under this id.
    Live(Id, Key),
    /// Was stored under this id, but the store reported it gone (ended elsewhere) during the
    /// request: nothing of it may be written again (and no removal is sent: it could race with a
    /// newer cookie).
    Ended(Id, Key),
}

impl Stored {
    /// The id and key, stored or ended.
    pub(crate) fn id(&self) -> Option<(&Id, &Key)> {
        match self {
            Stored::New => None,
            Stored::Live(id, key) | Stored::Ended(id, key) => Some((id, key)),
        }
    }
}

/// This request's key-level changes that the store does not have yet.
#[derive(Default)]
struct Pending {
    keys: Vec<String>,
    cleared: bool,
    lifetime: Option<Option<Lifetime>>,
    /// A new binding (`Some(None)`: unbound), written with the id change it comes with.
    binding: Option<Option<Box<Binding>>>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.keys.is_empty() && !self.cleared && self.lifetime.is_none()
    }
}

/// What the session's commit does with it; a later call never lowers it (an expiry wins over
/// everything, skipping the store over an id change).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Fate {
    /// Commit the changes.
    #[default]
    Keep,
    /// Commit under a new id, data kept.
    Cycle,
    /// Write nothing for this request.
    Skip,
    /// Delete the session and tell the client to forget it.
    Expire,
}

/// What the handler asked of the commit.
#[derive(Default)]
struct Asked {
    fate: Fate,
    /// Late store: changes made after the response head are committed when the body ends.
    late: bool,
    /// The id must be sent to the client again (after `save`, new cookie options, a stale key).
    resend: bool,
    /// This response's own cookie attributes.
    options: Option<Box<CookieOptions>>,
}

/// How far the commit has gone.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Stage {
    /// The handler runs: changes are committed with the response head.
    Open,
    /// The head's commit ran; changes made since are committed when the body ends.
    LateDue,
    /// Committed for good: a later change is not stored, and reported once (`warned`).
    Closed { warned: bool },
}

impl RequestState {
    /// A session not read yet.
    pub(crate) fn unread(sent: Sent) -> Self {
        RequestState {
            sent,
            touched: false,
            data: Data::Unread { lifetime: None },
            asked: Asked::default(),
            stage: Stage::Open,
            unverified: None,
            refused: false,
        }
    }

    /// Whether the client's sealed session was refused as ended: its cookie is to be removed.
    pub(crate) fn is_refused(&self) -> bool {
        self.refused
    }

    /// A client-side session bound to a subject, adopted only once its revocation check passes
    /// ([`finish_unverified`](RequestState::finish_unverified)).
    pub(crate) fn unverified(sent: Sent, unverified: Unverified) -> Self {
        RequestState {
            unverified: Some(Box::new(unverified)),
            ..RequestState::unread(sent)
        }
    }

    /// Whether a bound client-side session waits for its revocation check.
    pub(crate) fn is_unverified(&self) -> bool {
        self.unverified.is_some()
    }

    /// The subject and binding time of the client-side session waiting for its revocation check.
    pub(crate) fn unverified_binding(&self) -> Option<(String, Timestamp)> {
        let binding = self.unverified.as_ref()?.record.binding.as_ref()?;
        Some((binding.subject.clone(), binding.bound_at))
    }

    /// A session read at once (a client-side session, opened from the request).
    pub(crate) fn opened(sent: Sent, stored: Stored, record: Record, resend: bool) -> Self {
        RequestState {
            sent,
            touched: false,
            data: Data::Loaded(Loaded {
                stored,
                record,
                pending: Pending::default(),
            }),
            asked: Asked {
                resend,
                ..Asked::default()
            },
            stage: Stage::Open,
            unverified: None,
            refused: false,
        }
    }

    /// Whether the handler used the session at all (an untouched session needs no commit).
    pub(crate) fn is_touched(&self) -> bool {
        self.touched
    }

    /// The handler uses the session (a read, even one that fails, counts: the response depended
    /// on the session).
    pub(crate) fn touch(&mut self) {
        self.touched = true;
    }

    /// The loaded session, if it was read.
    pub(crate) fn loaded(&self) -> Option<&Loaded> {
        match &self.data {
            Data::Loaded(loaded) => Some(loaded),
            Data::Unread { .. } => None,
        }
    }

    /// The loaded session, mutably, if it was read.
    pub(crate) fn loaded_mut(&mut self) -> Option<&mut Loaded> {
        match &mut self.data {
            Data::Loaded(loaded) => Some(loaded),
            Data::Unread { .. } => None,
        }
    }

    /// The loaded session's data, if it was read.
    pub(crate) fn data(&self) -> Option<&BTreeMap<String, Value>> {
        self.loaded().map(|loaded| &loaded.record.data)
    }

    /// The store reported the session gone (ended elsewhere): nothing of it is written again.
    pub(crate) fn end(&mut self) {
        if let Some(loaded) = self.loaded_mut()
            && let Stored::Live(id, key) = &loaded.stored
        {
            loaded.stored = Stored::Ended(id.clone(), *key);
        }
    }

    /// Takes the result of the first read: `found` (an id and its live record), or a new, empty
    /// session created at `now`. A concurrent first read that finished first stands.
    pub(crate) fn finish_load(&mut self, found: Option<(Id, Key, Record)>, now: Timestamp) {
        if let Data::Unread { lifetime } = self.data {
            let (stored, mut record) = match found {
                Some((id, key, record)) => (Stored::Live(id, key), record),
                None => (Stored::New, Record::new(now, now)),
            };
            if let Some(lifetime) = lifetime {
                record.lifetime = lifetime;
            }
            self.data = Data::Loaded(Loaded {
                stored,
                record,
                pending: Pending {
                    lifetime,
                    ..Pending::default()
                },
            });
            // An id change asked before the first read: what is bound to the old id goes now.
            if self.asked.fate == Fate::Cycle {
                self.drop_id_bound();
            }
        }
    }

    /// Takes the outcome of a bound client-side session's revocation check: adopted, or (ended
    /// by its subject's "log out everywhere") replaced by a new, empty session created at `now`.
    /// A concurrent check that finished first stands.
    pub(crate) fn finish_unverified(&mut self, revoked: bool, now: Timestamp) {
        let Some(unverified) = self.unverified.take() else {
            return;
        };
        let Unverified {
            id,
            key,
            record,
            reseal,
        } = *unverified;
        if revoked {
            self.refused = true;
            self.finish_load(None, now);
        } else {
            self.asked.resend |= reseal;
            self.finish_load(Some((id, key, record)), now);
        }
    }

    /// What the handler asked the commit to do with the session.
    pub(crate) fn fate(&self) -> Fate {
        self.asked.fate
    }

    /// Whether late store was asked for.
    pub(crate) fn is_late(&self) -> bool {
        self.asked.late
    }

    /// This response's own cookie options.
    pub(crate) fn options(&self) -> Option<&CookieOptions> {
        self.asked.options.as_deref()
    }

    /// A copy of this response's own cookie options, for the commit's headers.
    pub(crate) fn options_boxed(&self) -> Option<Box<CookieOptions>> {
        self.asked.options.clone()
    }

    /// Whether the id must be sent again even if nothing else changed.
    pub(crate) fn is_resend_due(&self) -> bool {
        self.asked.resend
    }

    /// Takes the "send the id again" request (it is carried out by this commit).
    pub(crate) fn take_resend(&mut self) -> bool {
        std::mem::take(&mut self.asked.resend)
    }

    /// Marks the id as due to be sent again at commit.
    pub(crate) fn resend(&mut self) {
        self.asked.resend = true;
    }

    /// Whether anything changed that the store does not have yet (a lifetime set before the first
    /// read counts).
    pub(crate) fn is_dirty(&self) -> bool {
        match &self.data {
            Data::Loaded(loaded) => !loaded.pending.is_empty(),
            Data::Unread { lifetime } => lifetime.is_some(),
        }
    }

    /// Takes an id change that is due: it is carried out (or refused) by this commit.
    pub(crate) fn take_cycle(&mut self) -> bool {
        if self.asked.fate == Fate::Cycle {
            self.asked.fate = Fate::Keep;
            return true;
        }
        false
    }

    /// Where the commit is.
    pub(crate) fn stage(&self) -> Stage {
        self.stage
    }

    /// The head's commit has decided: a late commit follows if late store was asked for and
    /// `late_follows` (the head wrote, and the backend can write later).
    pub(crate) fn committed(&mut self, late_follows: bool) {
        self.stage = if late_follows && self.asked.late {
            Stage::LateDue
        } else {
            Stage::Closed { warned: false }
        };
    }

    /// Nothing may be assumed written (a failed commit), or the late commit has run: any later
    /// change is reported as not stored.
    pub(crate) fn close(&mut self) {
        if let Stage::Open | Stage::LateDue = self.stage {
            self.stage = Stage::Closed { warned: false };
        }
    }

    // What a handler does. Each change after the commit is reported once (`note_change`).

    /// Stores `value` under `key` in the loaded session.
    pub(crate) fn insert(&mut self, key: &str, value: Value) {
        self.note_change("a value");
        if let Data::Loaded(loaded) = &mut self.data {
            let data = &mut loaded.record.data;
            match data.get_mut(key) {
                Some(slot) => *slot = value,
                None => {
                    data.insert(key.to_owned(), value);
                }
            }
            loaded.pending.mark(key);
        }
    }

    /// Removes `key` from the loaded session.
    pub(crate) fn remove(&mut self, key: &str) -> Option<Value> {
        self.note_change("a value");
        let Data::Loaded(loaded) = &mut self.data else {
            return None;
        };
        let old = loaded.record.data.remove(key);
        loaded.pending.mark(key);
        old
    }

    /// Removes every key of the loaded session.
    pub(crate) fn clear(&mut self) {
        self.note_change("clear");
        if let Data::Loaded(loaded) = &mut self.data {
            loaded.record.data.clear();
            loaded.pending.keys.clear();
            loaded.pending.cleared = true;
        }
    }

    /// Gives the session its own lifetime (`None`: the default), kept current in the loaded record
    /// for the expiry maths.
    pub(crate) fn set_lifetime(&mut self, lifetime: Option<Lifetime>) {
        self.touched = true;
        self.note_change("the lifetime");
        match &mut self.data {
            Data::Unread { lifetime: pending } => *pending = Some(lifetime),
            Data::Loaded(loaded) => {
                loaded.pending.lifetime = Some(lifetime);
                loaded.record.lifetime = lifetime;
            }
        }
    }

    /// Binds the loaded session to a subject (`None`: unbinds it), with a new id at commit: the
    /// binding is written only by the id change.
    pub(crate) fn rebind(&mut self, binding: Option<Box<Binding>>) {
        self.touched = true;
        self.note_change("the subject");
        if let Data::Loaded(loaded) = &mut self.data {
            loaded.record.binding.clone_from(&binding);
            loaded.pending.binding = Some(binding);
        }
        self.ask(Fate::Cycle);
    }

    /// Asks for `fate` at commit (never lowering what was asked before).
    pub(crate) fn ask(&mut self, fate: Fate) {
        self.touched = true;
        match fate {
            Fate::Expire => self.note_change("expire"),
            Fate::Cycle => {
                self.note_change("cycle_id");
                self.drop_id_bound();
            }
            Fate::Keep | Fate::Skip => {}
        }
        self.asked.fate = self.asked.fate.max(fate);
    }

    /// Hides the keys bound to the session's id ([`is_id_bound`]) from this request: its id is
    /// about to change. Keys bound to the id set after this (in the same request) belong to the
    /// new id and stay.
    ///
    /// Only the loaded copy loses them; no removal is queued for the store. The id change drops
    /// them from the stored record it rebuilds (`execute::cycle`), and a client-side session
    /// seals this copy; if the id does not change after all (a 5xx, `skip_store`, a `cycle_id`
    /// after the head), the stored session keeps them under its unchanged id.
    fn drop_id_bound(&mut self) {
        if let Data::Loaded(loaded) = &mut self.data {
            loaded.record.data.retain(|key, _| !is_id_bound(key));
        }
    }

    /// Asks for late store.
    pub(crate) fn ask_late(&mut self) {
        self.touched = true;
        self.asked.late = true;
    }

    /// Gives this response's cookie its own attributes; the cookie is sent again with them.
    pub(crate) fn set_options(&mut self, options: CookieOptions) {
        self.touched = true;
        self.note_change("the cookie options");
        self.asked.options = Some(Box::new(options));
        self.asked.resend = true;
    }

    /// Reports (once per request, as a `tracing` warning) a change made after the commit that will
    /// not be stored: the response head has gone, and late store is off (or its commit has run).
    fn note_change(&mut self, what: &'static str) {
        if let Stage::Closed {
            warned: warned @ false,
        } = &mut self.stage
        {
            *warned = true;
            tracing::warn!(
                change = what,
                "a session change made after the response was committed is not stored; \
                 call Session::late_store() before the response head to keep changes made \
                 while the body streams"
            );
        }
    }
}

impl Loaded {
    /// Takes this request's key-level changes, ready for
    /// [`Store::apply`](crate::store::Store::apply).
    pub(crate) fn take_changes(&mut self, last_active: Timestamp, expires: Timestamp) -> Changes {
        // A binding change is not a key-level change: it stays for the id change that writes it
        // (`save` takes the changes before the commit's id change).
        let binding = self.pending.binding.take();
        let pending = std::mem::take(&mut self.pending);
        self.pending.binding = binding;
        let data = &self.record.data;
        let updates = pending
            .keys
            .into_iter()
            .map(|key| {
                let value = data.get(&key).cloned();
                (key, value)
            })
            .collect();
        Changes {
            clear: pending.cleared,
            updates,
            last_active,
            expires,
            lifetime: pending.lifetime,
        }
    }

    /// Gives a client-side session what it is sealed with: a new session its first record and an
    /// id, and any session a fresh id if `fresh` (an id change).
    pub(crate) fn issue_client_id(
        &mut self,
        config: &Config,
        now: Timestamp,
        fresh: bool,
    ) -> Result<(), Error> {
        let new = matches!(self.stored, Stored::New);
        if new {
            self.record = config.fresh_record(&self.record, now);
        }
        if new || fresh {
            let (id, key) = config.new_id()?;
            self.stored = Stored::Live(id, key);
        }
        Ok(())
    }

    /// Takes the binding change this request made, if any (for the id change that writes it).
    pub(crate) fn take_binding(&mut self) -> Option<Option<Box<Binding>>> {
        self.pending.binding.take()
    }

    /// Whether this request changed the session's lifetime (not stored yet).
    pub(crate) fn has_lifetime_change(&self) -> bool {
        self.pending.lifetime.is_some()
    }

    /// Forgets the pending changes: the whole record was written.
    pub(crate) fn written(&mut self) {
        self.pending = Pending::default();
    }

    /// The session's keys changed in this request and not yet stored (for `Debug`).
    pub(crate) fn changed_keys(&self) -> &[String] {
        &self.pending.keys
    }
}

impl Pending {
    fn mark(&mut self, key: &str) {
        if !self.keys.iter().any(|k| k == key) {
            self.keys.push(key.to_owned());
        }
    }
}

/// Which of a request's candidate sessions to adopt, by the rule against cookie tossing (a
/// sibling subdomain's cookie of the session's name, sent first): the only live one. Server-side
/// ids and client-side sessions both go through it.
pub(crate) struct SoleLive<T> {
    first: Option<T>,
    others: usize,
}

/// More than one live session was offered: none is adopted (logged, with counts only).
pub(crate) struct Tossed;

impl<T> SoleLive<T> {
    pub(crate) fn new() -> Self {
        SoleLive {
            first: None,
            others: 0,
        }
    }

    /// The first live session offered, if any.
    pub(crate) fn first(&self) -> Option<&T> {
        self.first.as_ref()
    }

    /// Counts a live session, another than those offered before (the caller leaves copies out).
    pub(crate) fn offer(&mut self, live: T) {
        match self.first {
            None => self.first = Some(live),
            Some(_) => self.others += 1,
        }
    }

    /// The session to adopt: the one offered, or none if none was; [`Tossed`] if several were.
    pub(crate) fn adopt(self) -> Result<Option<T>, Tossed> {
        if self.others == 0 {
            return Ok(self.first);
        }
        // Counts only: ids and sealed sessions are someone's credentials.
        tracing::warn!(
            live = self.others + 1,
            "the request carries several live sessions under the session's name (a cookie \
             tossed from a sibling domain?): adopting none, starting a fresh session"
        );
        Err(Tossed)
    }
}

/// The candidate ids of a request, at most [`IdList::CAPACITY`], held inline (no allocation).
#[derive(Default)]
pub(crate) struct IdList {
    ids: [Option<Id>; IdList::CAPACITY],
}

impl IdList {
    /// At most this many candidate ids are tried per request (Plack takes one); more is an attack
    /// that would cost a store read each.
    pub(crate) const CAPACITY: usize = 4;

    /// Adds `id` unless it is listed already (a browser may send the same cookie twice); `false`
    /// (and `id` dropped) when the list is full.
    pub(crate) fn push(&mut self, id: Id) -> bool {
        if self.iter().any(|listed| *listed == id) {
            return true;
        }
        match self.ids.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => {
                *slot = Some(id);
                true
            }
            None => false,
        }
    }

    /// How many ids are listed.
    pub(crate) fn len(&self) -> usize {
        self.iter().count()
    }

    /// The id at `index`.
    pub(crate) fn get(&self, index: usize) -> Option<&Id> {
        self.ids.get(index)?.as_ref()
    }

    /// The ids, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Id> {
        self.ids.iter().map_while(Option::as_ref)
    }
}
