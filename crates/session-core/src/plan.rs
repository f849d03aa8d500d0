//! The commit decision: from a request's state, the response status and the configuration, what
//! the commit must do ([`Plan`]). No I/O happens here; the `execute` module carries plans out.

use http::StatusCode;

use crate::config::{Backend, Config};
use crate::id::{Id, Key};
use crate::record::{Changes, Lifetime, Record, Timestamp};
use crate::request::{Fate, RequestState, Stage, Stored};
use crate::state::{CookieOptions, Form};
use crate::subject::Binding;

/// What a commit must do.
pub(crate) enum Plan {
    /// Nothing to write or send.
    Nothing,
    /// Delete these records and, if `removal`, tell the client to forget its id.
    Expire { keys: Vec<Key>, removal: bool },
    /// Read the session first (the handler never did), then decide with [`after_load`] (or, for
    /// a client-side session waiting for its revocation check, [`seal`]).
    LoadFirst,
    /// Store a new session under a fresh id, and send the id.
    Create { record: Record },
    /// Move the stored session under `old` to a fresh id with `changes` (and a new `binding`, if
    /// `Some`), and send the new id.
    Cycle {
        old: Key,
        changes: Changes,
        binding: Option<Option<Box<Binding>>>,
    },
    /// Apply changes to a stored session.
    Apply(Apply),
    /// Send the id again, with nothing to write.
    Deliver {
        id: Id,
        lifetime: Lifetime,
        expires: Timestamp,
    },
    /// Seal the loaded session into the response (client-side), under a fresh id if `fresh`.
    Seal { fresh: bool },
}

impl Plan {
    /// What the plan does, for the request's span; `None` for a read that decides nothing by
    /// itself (the plan after it does).
    pub(crate) fn outcome(&self) -> Option<&'static str> {
        Some(match self {
            Plan::Nothing => "unchanged",
            Plan::Expire { .. } => "ended",
            Plan::LoadFirst => return None,
            Plan::Create { .. } => "created",
            Plan::Cycle { .. } => "id_changed",
            Plan::Apply(apply) if apply.changes.is_touch() => "touched",
            Plan::Apply(_) => "written",
            Plan::Deliver { .. } => "sent",
            Plan::Seal { .. } => "sealed",
        })
    }
}

/// Apply `changes` to the session stored under `key`; send `id` if `deliver`.
pub(crate) struct Apply {
    pub(crate) id: Id,
    pub(crate) key: Key,
    pub(crate) changes: Changes,
    pub(crate) lifetime: Lifetime,
    pub(crate) deliver: bool,
}

/// A commit's decision: its plan, the time it was made at, and what the response carries besides.
pub(crate) struct Decision {
    pub(crate) plan: Plan,
    pub(crate) now: Timestamp,
    /// The handler's own cookie options, for the headers the plan writes.
    pub(crate) options: Option<Box<CookieOptions>>,
    /// A late commit follows when the response body ends.
    pub(crate) late: bool,
    /// The head's commit (its response gets `Vary`), not a late one.
    pub(crate) head: bool,
    /// The form the request carried its id in, for the headers the plan writes.
    pub(crate) form: Form,
}

/// Decides the commit of the response head.
///
/// `None` when there is nothing to commit at all: the handler never used the session, or it was
/// committed already.
pub(crate) fn decide(
    state: &mut RequestState,
    config: &Config,
    status: StatusCode,
) -> Option<Decision> {
    let server_error = status.is_server_error() && !config.commit_on_server_error;
    decide_head(state, config, server_error)
}

/// Decides the commit of a request whose handler never finished: it panicked, or the request was
/// dropped before its response head. Only an expiry is carried out (a logout must not be lost);
/// the handler's other changes may be half made, and are dropped, whatever
/// `commit_on_server_error` says. Nothing is sent: there is no response.
pub(crate) fn decide_abandoned(state: &mut RequestState, config: &Config) -> Option<Decision> {
    let expired = state.fate() == Fate::Expire;
    let mut decision = decide_head(state, config, true)?;
    // No response: no headers to make (and no State code to run while a panic unwinds).
    decision.head = false;
    decision.options = None;
    if let Plan::Expire { removal, .. } = &mut decision.plan {
        *removal = false;
    }
    if expired && matches!(config.backend, Backend::Client(_)) {
        tracing::warn!(
            "a client-side session was ended by a request whose handler never finished: with no \
             response there is no removal cookie, and the session stays valid in the client until \
             it expires (a panic-catching layer inside the session layer makes a response of it)"
        );
    }
    Some(decision)
}

/// [`decide`], with `server_error` meaning that nothing but an expiry is committed.
fn decide_head(state: &mut RequestState, config: &Config, server_error: bool) -> Option<Decision> {
    if state.stage() != Stage::Open {
        return None;
    }
    if !state.is_touched() {
        state.committed(false);
        return None;
    }
    let client_side = matches!(config.backend, Backend::Client(_));
    if client_side && state.is_late() {
        tracing::debug!(
            "late store does not apply to client-side sessions: their cookie goes with the head"
        );
    }
    // The commit's own time: a long request must not write an expiry from when it loaded.
    let now = config.clock.now();
    let options = state.options_boxed();
    // With each plan, whether a late commit may follow: it builds on what the head wrote, so none
    // after an expiry, a skip, a server error or a session ended elsewhere, and none for a
    // client-side session (its cookie goes with the head).
    let (plan, late_follows) = match state.fate() {
        Fate::Expire => (expire(state, client_side), false),
        _ if server_error => (Plan::Nothing, false),
        Fate::Skip => (Plan::Nothing, false),
        // Ended elsewhere (seen by an earlier `save`): never bring it back. A stale id in the
        // client is harmless (unknown ids are never adopted), so no removal is sent that could
        // race with a newer cookie.
        _ if is_ended(state) => (Plan::Nothing, false),
        // A bound client-side session not checked yet: check it before anything is sealed.
        _ if client_side && state.is_unverified() => (Plan::LoadFirst, false),
        _ if client_side => (seal(state, config, now), false),
        _ if state.loaded().is_none() => {
            let needs_load = state.fate() == Fate::Cycle
                || state.is_dirty()
                || state.is_resend_due()
                || state.is_late();
            let plan = if needs_load {
                Plan::LoadFirst
            } else {
                Plan::Nothing
            };
            (plan, true)
        }
        _ => (after_load(state, config, now), true),
    };
    state.committed(late_follows);
    Some(Decision {
        plan,
        now,
        options,
        late: state.stage() == Stage::LateDue,
        head: true,
        form: state.sent.form,
    })
}

fn is_ended(state: &RequestState) -> bool {
    matches!(state.loaded().map(|l| &l.stored), Some(Stored::Ended(..)))
}

/// An expiry: delete what the client's id names, and tell it to forget the id.
///
/// A client-side session has no record to delete.
fn expire(state: &RequestState, client_side: bool) -> Plan {
    if client_side {
        return Plan::Expire {
            keys: Vec::new(),
            removal: state.sent.any,
        };
    }
    let adopted = state.loaded().map(|loaded| loaded.stored.id());
    let keys: Vec<Key> = match adopted {
        // Loaded and adopted: only the adopted id names a live record.
        Some(Some((_, key))) => vec![*key],
        // Not loaded, or none adopted (none was live, or several were: cookie tossing): delete
        // whatever the client's ids name, without reading it again.
        Some(None) | None => state.sent.candidates.iter().map(Id::key).collect(),
    };
    // The client holds an id (live, unknown or malformed): tell it to forget it.
    let removal = state.sent.any || !keys.is_empty();
    Plan::Expire { keys, removal }
}

/// The plan for a loaded server-side session.
pub(crate) fn after_load(state: &mut RequestState, config: &Config, now: Timestamp) -> Plan {
    let dirty = state.is_dirty();
    let resend = state.take_resend();
    let cycle = state.take_cycle();
    let late = state.is_late();
    let Some(loaded) = state.loaded_mut() else {
        return Plan::Nothing;
    };
    let lifetime = config.lifetime_of(loaded.record.lifetime);
    let Some((id, key)) = loaded.stored.id().map(|(id, key)| (id.clone(), *key)) else {
        // A new session: stored only if it holds something (values or a subject), or if late
        // store needs its id now.
        if loaded.record.data.is_empty() && loaded.record.binding.is_none() && !late {
            return Plan::Nothing;
        }
        let record = config.fresh_record(&loaded.record, now);
        // The whole record is written: nothing is left for a later (late) commit to apply.
        loaded.written();
        return Plan::Create { record };
    };
    let expires = config.expires_at(loaded.record.created, now, loaded.record.lifetime);
    if cycle {
        // The binding first: taking the changes takes everything else pending.
        let binding = loaded.take_binding();
        return Plan::Cycle {
            old: key,
            changes: loaded.take_changes(now, expires),
            binding,
        };
    }
    if dirty {
        let changes = loaded.take_changes(now, expires);
        return Plan::Apply(Apply {
            id,
            key,
            changes,
            lifetime,
            deliver: true,
        });
    }
    if config.is_touch_due(&loaded.record, now) {
        return Plan::Apply(Apply {
            id,
            key,
            changes: Changes::touch(now, expires),
            lifetime,
            deliver: lifetime.is_persistent() || resend,
        });
    }
    if resend {
        return Plan::Deliver {
            id,
            lifetime,
            expires: loaded.record.expires,
        };
    }
    Plan::Nothing
}

/// The plan for a client-side session: sealed again when it changed, `save` asked for it, it was
/// opened with an older key, its id changes, or its rolling expiry is due.
pub(crate) fn seal(state: &mut RequestState, config: &Config, now: Timestamp) -> Plan {
    let asked = state.take_resend();
    let dirty = state.is_dirty();
    let cycle = state.take_cycle();
    let Some(loaded) = state.loaded() else {
        return Plan::Nothing;
    };
    let due = asked || dirty || config.is_touch_due(&loaded.record, now);
    match &loaded.stored {
        // A new session is sent only if it holds something (values or a subject); one that
        // replaces a sealed session refused as ended removes that session's cookie.
        Stored::New if loaded.record.data.is_empty() && loaded.record.binding.is_none() => {
            if state.is_refused() {
                Plan::Expire {
                    keys: Vec::new(),
                    removal: true,
                }
            } else {
                Plan::Nothing
            }
        }
        Stored::New => Plan::Seal { fresh: true },
        _ if !due && !cycle => Plan::Nothing,
        _ => Plan::Seal { fresh: cycle },
    }
}

/// Decides the late commit, after the response body has ended: the changes made since the head's
/// commit. `None` unless late store was asked for and the head's commit left it due; a second
/// call gives `None`.
pub(crate) fn decide_late(state: &mut RequestState, config: &Config) -> Option<Decision> {
    if state.stage() != Stage::LateDue {
        return None;
    }
    state.close();
    let fate = state.fate();
    if fate == Fate::Skip || is_ended(state) {
        return None;
    }
    let (id, key, created, lifetime) = {
        let loaded = state.loaded()?;
        let (id, key) = loaded.stored.id()?;
        (
            id.clone(),
            *key,
            loaded.record.created,
            loaded.record.lifetime,
        )
    };
    let now = config.clock.now();
    let form = state.sent.form;
    let late_decision = |plan| Decision {
        plan,
        now,
        options: None,
        late: false,
        head: false,
        form,
    };
    if fate == Fate::Expire {
        return Some(late_decision(Plan::Expire {
            keys: vec![key],
            removal: false,
        }));
    }
    if state.take_cycle() {
        tracing::warn!(
            "cycle_id after the response head was sent is ignored: the new id could not \
             reach the client"
        );
    }
    if state.take_resend() || state.loaded().is_some_and(|l| l.has_lifetime_change()) {
        tracing::warn!(
            "a cookie change (lifetime or cookie options) made after the response head was \
             sent cannot reach the client; a new lifetime is still stored"
        );
    }
    if !state.is_dirty() {
        return None;
    }
    let expires = config.expires_at(created, now, lifetime);
    let changes = state.loaded_mut()?.take_changes(now, expires);
    Some(late_decision(Plan::Apply(Apply {
        id,
        key,
        changes,
        lifetime: config.lifetime_of(lifetime),
        deliver: false,
    })))
}
