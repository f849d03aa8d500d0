//! Carrying out a commit's [`Plan`]: [`carry_out`] writes the headers a plan needs at once and
//! hands its store I/O ([`Io`]) to a [`PendingCommit`]; each I/O step ends in the plan that follows
//! it (sending the new id, say), carried out by the same function.

use std::fmt;

use crate::commit::Commit;
use crate::config::{Backend, Config};
use crate::error::Error;
use crate::id::{Id, Key};
use crate::observe::{self, Event};
use crate::plan::{self, Apply, Decision, Plan};
use crate::record::{Changes, Lifetime, Record, Timestamp, is_id_bound};
use crate::request::Stored;
use crate::session::Session;
use crate::store::Store;
use crate::subject::{Binding, Subjects};

/// The outcome of [`Engine::prepare`](crate::Engine::prepare).
#[must_use = "a pending commit does nothing until it is run"]
#[derive(Debug)]
pub enum Prepared {
    /// The commit is complete: add these headers to the response.
    Ready(Commit),
    /// The commit needs store I/O: run it, then add the headers it returns.
    Pending(PendingCommit),
}

/// A commit that needs store I/O; see [`Engine::prepare`](crate::Engine::prepare).
#[must_use = "a pending commit does nothing until it is run"]
pub struct PendingCommit {
    session: Session,
    io: Io,
    now: Timestamp,
    out: Commit,
    /// What the commit does, for the request's span: the last plan with store I/O that decides
    /// something ([`Plan::outcome`]).
    outcome: &'static str,
}

/// The store I/O of a plan.
enum Io {
    /// The commit failed before any I/O (a client-side session that cannot be sealed).
    Fail(Error),
    Delete(Vec<Key>),
    LoadFirst,
    Create(Record),
    Cycle {
        old: Key,
        changes: Changes,
        binding: Option<Option<Box<Binding>>>,
    },
    Apply(Apply),
}

/// Starts carrying out `decision` for `session`: complete at once when the plan needs no store
/// I/O, which is most requests, or when there is no decision (nothing to commit).
pub(crate) fn start(session: &Session, decision: Option<Decision>) -> Prepared {
    let Some(decision) = decision else {
        return Prepared::Ready(Commit::default());
    };
    let config = session.config();
    let mut out = Commit {
        vary: if decision.head {
            config.backend.vary()
        } else {
            [None, None]
        },
        options: decision.options,
        form: decision.form,
        late: decision.late,
        ..Commit::default()
    };
    let outcome = decision.plan.outcome();
    let io = match carry_out(session, decision.plan, decision.now, &mut out) {
        Ok(None) => {
            observe::record(session.span(), "outcome", outcome.unwrap_or("unchanged"));
            return Prepared::Ready(out);
        }
        Ok(Some(io)) => io,
        Err(error) => Io::Fail(error),
    };
    Prepared::Pending(PendingCommit {
        session: session.clone(),
        io,
        now: decision.now,
        out,
        outcome: outcome.unwrap_or("unchanged"),
    })
}

impl PendingCommit {
    /// Carries out the store I/O and returns the headers to add to the response.
    ///
    /// On error nothing may be assumed committed.
    pub async fn run(self) -> Result<Commit, Error> {
        let PendingCommit {
            session,
            mut io,
            mut now,
            mut out,
            mut outcome,
        } = self;
        let timer = observe::start_timer(session.span());
        loop {
            let next = match io.run(&session, &mut now).await {
                Ok(next) => {
                    let decides = next.outcome();
                    let more = carry_out(&session, next, now, &mut out);
                    if let (Ok(Some(_)), Some(decides)) = (&more, decides) {
                        outcome = decides;
                    }
                    more
                }
                Err(error) => Err(error),
            };
            match next {
                Ok(None) => {
                    observe::stop_timer(session.span(), "commit_us", timer);
                    observe::record(session.span(), "outcome", outcome);
                    return Ok(out);
                }
                Ok(Some(more)) => io = more,
                Err(error) => {
                    observe::stop_timer(session.span(), "commit_us", timer);
                    observe::record(session.span(), "outcome", "failed");
                    observe::count(Event::Failed);
                    // Nothing may be assumed written: no late commit builds on it, and later
                    // changes are reported as not stored.
                    session.lock().close();
                    return Err(error);
                }
            }
        }
    }
}

impl fmt::Debug for PendingCommit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingCommit").finish_non_exhaustive()
    }
}

/// Carries out what of `plan` needs no store I/O, writing its headers to `out`; returns the store
/// I/O that remains, if any.
fn carry_out(
    session: &Session,
    plan: Plan,
    now: Timestamp,
    out: &mut Commit,
) -> Result<Option<Io>, Error> {
    let config = &**session.config();
    Ok(Some(match plan {
        Plan::Nothing => return Ok(None),
        Plan::Expire { keys, removal } => {
            observe::count(Event::Expired);
            if removal {
                config.backend.expire(&out.delivery(), &mut out.headers);
                out.sets_id = config.no_store;
            }
            if keys.is_empty() {
                return Ok(None);
            }
            Io::Delete(keys)
        }
        Plan::Deliver {
            id,
            lifetime,
            expires,
        } => {
            deliver(config, &id, lifetime, expires, now, out);
            return Ok(None);
        }
        Plan::Seal { fresh } => {
            seal(session, config, fresh, now, out)?;
            return Ok(None);
        }
        Plan::LoadFirst => Io::LoadFirst,
        Plan::Create { record } => Io::Create(record),
        Plan::Cycle {
            old,
            changes,
            binding,
        } => Io::Cycle {
            old,
            changes,
            binding,
        },
        Plan::Apply(apply) => Io::Apply(apply),
    }))
}

/// Asks the State to deliver `id`, and marks the response uncacheable if it wrote anything.
fn deliver(
    config: &Config,
    id: &Id,
    lifetime: Lifetime,
    expires: Timestamp,
    now: Timestamp,
    out: &mut Commit,
) {
    let Backend::Server { state, .. } = &config.backend else {
        return;
    };
    let delivery = config.delivery(lifetime, expires, now, out.delivery());
    state.finalize(id, &delivery, &mut out.headers);
    out.sets_id = !out.headers.is_empty() && config.no_store;
}

/// Seals a client-side session into the response: a new one (or one whose id changes) under a
/// fresh id, with its expiry refreshed.
fn seal(
    session: &Session,
    config: &Config,
    fresh: bool,
    now: Timestamp,
    out: &mut Commit,
) -> Result<(), Error> {
    let Backend::Client(client) = &config.backend else {
        return Ok(());
    };
    let mut state = session.lock();
    let Some(loaded) = state.loaded_mut() else {
        return Ok(());
    };
    loaded.issue_client_id(config, now, fresh)?;
    let Some((id, _)) = loaded.stored.id() else {
        return Ok(());
    };
    config.refresh(&mut loaded.record, now);
    let delivery = out.delivery();
    config.seal(
        &**client,
        id,
        &loaded.record,
        now,
        delivery,
        &mut out.headers,
    )?;
    out.sets_id = config.no_store;
    loaded.written();
    Ok(())
}

impl Io {
    /// Runs this store I/O; returns the plan that follows it.
    ///
    /// A step that reads the session again moves `now` to its own time.
    async fn run(self, session: &Session, now: &mut Timestamp) -> Result<Plan, Error> {
        let config = &**session.config();
        let span = session.span();
        // Only server-side plans have store I/O.
        let Some(store) = config.backend.store() else {
            return match self {
                Io::Fail(error) => Err(error),
                // A bound client-side session's revocation check.
                Io::LoadFirst => {
                    session.load().await?;
                    *now = config.clock.now();
                    Ok(plan::seal(&mut session.lock(), config, *now))
                }
                _ => Ok(Plan::Nothing),
            };
        };
        match self {
            Io::Fail(error) => Err(error),
            Io::Delete(keys) => {
                for key in &keys {
                    observe::store_call!(span, "delete", store.delete(key))?;
                }
                Ok(Plan::Nothing)
            }
            Io::LoadFirst => {
                session.load().await?;
                *now = config.clock.now();
                Ok(plan::after_load(&mut session.lock(), config, *now))
            }
            Io::Create(record) => {
                let (id, key) =
                    observe::store_call!(span, "create", config.create(store, &record))?;
                observe::count(Event::Created);
                observe::count(Event::Committed);
                if let Some(binding) = &record.binding {
                    cap(config, store, binding).await;
                }
                Ok(adopt(session, config, id, key, &record))
            }
            Io::Cycle {
                old,
                changes,
                binding,
            } => {
                let cycle = cycle(session, config, store, old, changes, binding, *now);
                observe::store_call!(span, "cycle", cycle)
            }
            Io::Apply(Apply {
                id,
                key,
                changes,
                lifetime,
                deliver,
            }) => {
                let applied = if changes.is_touch() {
                    let touch = store.touch(&key, changes.last_active, changes.expires);
                    observe::store_call!(span, "touch", touch)?
                } else {
                    observe::store_call!(span, "apply", store.apply(&key, &changes))?
                };
                if applied {
                    observe::count(Event::Committed);
                }
                // Not applied: ended elsewhere (logout, expiry) meanwhile; never bring it back.
                Ok(if applied && deliver {
                    Plan::Deliver {
                        id,
                        lifetime,
                        expires: changes.expires,
                    }
                } else {
                    Plan::Nothing
                })
            }
        }
    }
}

/// Moves the session stored under `old` to a fresh id: rebuilt from the stored record, so that
/// keys other requests wrote meanwhile move too; the new record is created before the old one is
/// deleted, so a failure loses nothing.
///
/// A new `binding` (a login) is written with the new record. That an id change deletes its new
/// record when the old one was gone is what lets "log out everywhere" end a session whose id
/// changes at that moment ([`Subjects`](crate::subject::Subjects)).
async fn cycle(
    session: &Session,
    config: &Config,
    store: &dyn Store,
    old: Key,
    changes: Changes,
    binding: Option<Option<Box<Binding>>>,
    now: Timestamp,
) -> Result<Plan, Error> {
    let Some(mut record) = store.load(&old).await? else {
        return Ok(Plan::Nothing);
    };
    if config.is_dead(&record, now) {
        return Ok(Plan::Nothing);
    }
    // What belonged to the old id does not move to the new one, whoever wrote it; what this
    // request set after asking for the new id is in `changes`, and stays.
    record.data.retain(|key, _| !is_id_bound(key));
    changes.apply_to(&mut record);
    let login = binding.is_some();
    if let Some(binding) = binding {
        record.binding = binding;
    }
    let (id, key) = config.create(store, &record).await?;
    match store.delete(&old).await {
        Ok(true) => {
            observe::count(Event::Committed);
            if let Some(binding) = record.binding.as_ref().filter(|_| login) {
                cap(config, store, binding).await;
            }
            Ok(adopt(session, config, id, key, &record))
        }
        // Logged out elsewhere meanwhile: the logout wins.
        Ok(false) => {
            store.delete(&key).await?;
            Ok(Plan::Nothing)
        }
        // The old session stays; its new copy would be unreachable (its id is never sent), so
        // take it back, as far as the store lets us.
        Err(error) => {
            if let Err(cleanup) = store.delete(&key).await {
                tracing::warn!(
                    key = ?key,
                    error = %Error::from(cleanup).report(),
                    "could not remove the new copy of a session whose id change failed; it \
                     expires unused"
                );
            }
            Err(error.into())
        }
    }
}

/// Ends the least recently active sessions of a subject that a login took past the configured
/// limit. A failure is logged, not reported: the login itself is stored.
pub(crate) async fn cap(config: &Config, store: &dyn Store, binding: &Binding) {
    let Some(max) = config.max_per_subject else {
        return;
    };
    let subjects = Subjects::with(store, &*config.clock, config.absolute);
    if let Err(error) = subjects
        .cap(&binding.subject, max, Some(&binding.handle))
        .await
    {
        tracing::warn!(
            error = %error.report(),
            "could not end the sessions past the limit per subject after a login"
        );
    }
}

/// Records the id a commit created (a new session, a cycle) as the session's current one (for
/// `Session::id` after the commit, and for a late commit); the id is then sent.
fn adopt(session: &Session, config: &Config, id: Id, key: Key, record: &Record) -> Plan {
    if let Some(loaded) = session.lock().loaded_mut() {
        loaded.stored = Stored::Live(id.clone(), key);
    }
    Plan::Deliver {
        id,
        lifetime: config.lifetime_of(record.lifetime),
        expires: record.expires,
    }
}
