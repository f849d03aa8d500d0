//! What a commit does: [`Prepared`] and [`PendingCommit`] (the outcome of
//! [`Engine::prepare`](crate::Engine::prepare)), and the plan decided under the session's lock.

use std::fmt;

use crate::builder::Shared;
use crate::session::Working;
use crate::{Changes, Commit, Engine, Error, Id, Key, Lifetime, Record, Session, Timestamp};

/// The outcome of [`Engine::prepare`].
#[must_use = "a pending commit does nothing until it is run"]
#[derive(Debug)]
pub enum Prepared {
    /// The commit is complete: add these headers to the response.
    Ready(Commit),
    /// The commit needs store I/O: run it, then add the headers it returns.
    Pending(PendingCommit),
}

/// A commit that needs store I/O; see [`Engine::prepare`].
#[must_use = "a pending commit does nothing until it is run"]
pub struct PendingCommit {
    pub(crate) engine: Engine,
    pub(crate) session: Session,
    pub(crate) step: Step,
    pub(crate) out: Commit,
}

pub(crate) enum Step {
    /// The commit failed before any I/O (a client-side session that cannot be sealed).
    Fail(Error),
    Expire(Vec<Key>),
    LoadThenPlan,
    Plan(Plan, Timestamp),
}

impl PendingCommit {
    /// Carries out the store I/O and returns the headers to add to the response. On error nothing
    /// may be assumed committed.
    pub async fn run(self) -> Result<Commit, Error> {
        let PendingCommit {
            engine,
            session,
            step,
            mut out,
        } = self;
        match run_step(&engine, &session, step, &mut out).await {
            Ok(()) => Ok(out),
            Err(error) => {
                // Nothing may be assumed written: no late commit builds on it, and later changes
                // are reported as not stored.
                session.lock().late_done = true;
                Err(error)
            }
        }
    }
}

/// A pending commit's store I/O.
async fn run_step(
    engine: &Engine,
    session: &Session,
    step: Step,
    out: &mut Commit,
) -> Result<(), Error> {
    let shared = &*engine.shared;
    match step {
        Step::Fail(error) => return Err(error),
        Step::Expire(keys) => {
            for key in &keys {
                (*shared.store).delete(key).await?;
            }
        }
        Step::LoadThenPlan => {
            session.load().await?;
            let (plan, now) = {
                let mut work = session.lock();
                let now = shared.clock.now();
                (plan(&mut work, shared, now), now)
            };
            let created = engine.execute(plan, now, out).await?;
            adopt(session, created);
        }
        Step::Plan(plan, now) => {
            let created = engine.execute(plan, now, out).await?;
            adopt(session, created);
        }
    }
    Ok(())
}

/// Records the id a commit created (a new session, a cycle) as the session's current one: for
/// `Session::id` after the commit, and for a late commit.
fn adopt(session: &Session, created: Option<(Id, Key)>) {
    if let Some(current) = created {
        let mut work = session.lock();
        work.loaded().current = Some(current);
    }
}

impl fmt::Debug for PendingCommit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingCommit").finish_non_exhaustive()
    }
}

/// What a commit must do, decided under the session's lock and carried out after it.
pub(crate) enum Plan {
    Nothing,
    Create {
        record: Record,
    },
    Cycle {
        old: Key,
        changes: Changes,
    },
    Apply {
        id: Id,
        key: Key,
        changes: Changes,
        lifetime: Lifetime,
        deliver: bool,
    },
    Deliver {
        id: Id,
        lifetime: Lifetime,
        expires: Timestamp,
    },
}

pub(crate) fn plan(work: &mut Working, shared: &Shared, now: Timestamp) -> Plan {
    let dirty = work.is_dirty();
    let deliver_pending = std::mem::take(&mut work.deliver_pending);
    let cycle = work.cycle;
    let Some(loaded) = work.loaded.as_ref() else {
        return Plan::Nothing;
    };
    let lifetime = loaded.record.lifetime.unwrap_or(shared.lifetime);
    let Some((id, key)) = loaded.current.clone() else {
        // A new session: stored only if it holds something, or if late store needs its id now.
        if loaded.record.data.is_empty() && !work.late {
            return Plan::Nothing;
        }
        let record = shared.fresh_record(&loaded.record, now);
        // The whole record is written: nothing is left for a later (late) commit to apply.
        work.changed.clear();
        work.cleared = false;
        work.lifetime_change = None;
        return Plan::Create { record };
    };
    let expires = shared.expires_at(loaded.record.created, now, loaded.record.lifetime);
    let last_active = loaded.record.last_active;
    if cycle {
        work.cycle = false;
        return Plan::Cycle {
            old: key,
            changes: work.take_changes(now, expires),
        };
    }
    if dirty {
        let changes = work.take_changes(now, expires);
        return Plan::Apply {
            id,
            key,
            changes,
            lifetime,
            deliver: true,
        };
    }
    if now.saturating_since(last_active) >= shared.touch_interval(lifetime) {
        let changes = Changes::touch(now, expires);
        let deliver = lifetime.is_persistent() || deliver_pending;
        return Plan::Apply {
            id,
            key,
            changes,
            lifetime,
            deliver,
        };
    }
    if deliver_pending {
        return Plan::Deliver {
            id,
            lifetime,
            expires: loaded.record.expires,
        };
    }
    Plan::Nothing
}
