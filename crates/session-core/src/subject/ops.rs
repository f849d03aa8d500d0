//! [`Subjects`]: the operations over a subject's sessions, built on `list_subject` and
//! `delete`.

use std::fmt;
use std::time::Duration;

use super::{BoundSession, Handle, ROUNDS, SessionInfo, check_subject, moving};
use crate::clock::Clock;
use crate::error::Error;
use crate::record::Timestamp;
use crate::store::Store;

/// The operations over a subject's sessions, on a server-side store: list, revoke one, end all,
/// end all but one. From a handler, [`Session`](crate::Session)'s methods do the same for the
/// request's own subject; from an admin task, [`Engine::subjects`](crate::Engine::subjects) or
/// [`Subjects::new`] over the store itself.
///
/// ```
/// use session_core::MemoryStore;
/// use session_core::subject::Subjects;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = MemoryStore::default();
/// let subjects = Subjects::new(&store);
/// assert!(subjects.list("alice").await?.is_empty());
/// assert_eq!(subjects.end_all("alice").await?, 0);
/// # Ok::<_, session_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Copy)]
pub struct Subjects<'a> {
    store: &'a dyn Store,
    clock: Option<&'a dyn Clock>,
    absolute: Option<Duration>,
}

impl<'a> Subjects<'a> {
    /// The operations over `store`'s sessions, with time from the system clock and no absolute
    /// cap (an engine's [`subjects`](crate::Engine::subjects) applies its own).
    pub fn new(store: &'a dyn Store) -> Self {
        Subjects {
            store,
            clock: None,
            absolute: None,
        }
    }

    /// The same, judging liveness by an engine's clock and absolute cap.
    pub(crate) fn with(
        store: &'a dyn Store,
        clock: &'a dyn Clock,
        absolute: Option<Duration>,
    ) -> Self {
        Subjects {
            store,
            clock: Some(clock),
            absolute,
        }
    }

    fn now(&self) -> Timestamp {
        match self.clock {
            Some(clock) => clock.now(),
            None => Timestamp::from_system_time(std::time::SystemTime::now()),
        }
    }

    /// The subject's live sessions as the store lists them, most recently active first.
    async fn listed(&self, subject: &str) -> Result<Vec<BoundSession>, Error> {
        let now = self.now();
        let mut listed = self.all_listed(subject).await?;
        listed.retain(|bound| {
            bound.expires > now
                && self
                    .absolute
                    .is_none_or(|cap| bound.created.saturating_add(cap) > now)
        });
        Ok(listed)
    }

    /// Everything the store lists for the subject, most recently active first, without judging
    /// expiry here: what ends sessions ends whatever the store still holds, so that a process
    /// with a slower clock or a longer absolute cap cannot keep serving one.
    async fn all_listed(&self, subject: &str) -> Result<Vec<BoundSession>, Error> {
        check_subject(subject)?;
        let mut listed = self.store.list_subject(subject).await?;
        listed.retain(|bound| bound.binding.subject == subject);
        listed.sort_by(|a, b| {
            (b.last_active, &b.binding.handle).cmp(&(a.last_active, &a.binding.handle))
        });
        Ok(listed)
    }

    /// The subject's live sessions, most recently active first; `current` marks the session with
    /// that handle.
    pub async fn list_marking(
        &self,
        subject: &str,
        current: Option<&Handle>,
    ) -> Result<Vec<SessionInfo>, Error> {
        let listed = self.listed(subject).await?;
        Ok(listed
            .into_iter()
            .map(|bound| SessionInfo {
                current: current == Some(&bound.binding.handle),
                handle: bound.binding.handle,
                created: bound.created,
                bound_at: bound.binding.bound_at,
                last_active: bound.last_active,
                expires: bound.expires,
                user_agent: bound.binding.user_agent,
                address: bound.binding.address,
            })
            .collect())
    }

    /// The subject's live sessions, most recently active first.
    pub async fn list(&self, subject: &str) -> Result<Vec<SessionInfo>, Error> {
        self.list_marking(subject, None).await
    }

    /// Ends the subject's session with this handle; `false` if the store lists none (`true` if
    /// it was listed: it is gone now, whoever deleted it).
    ///
    /// Ends it even when its id changes at that moment.
    pub async fn revoke(&self, subject: &str, handle: &Handle) -> Result<bool, Error> {
        let (mut ended, mut missed) = (false, false);
        for _ in 0..ROUNDS {
            let listed = self.all_listed(subject).await?;
            let Some(bound) = listed.iter().find(|b| &b.binding.handle == handle) else {
                // Not listed twice in a row: a listing taken while the session changed its id
                // can miss it once (see `end_all_except`).
                if missed {
                    return Ok(ended);
                }
                missed = true;
                continue;
            };
            missed = false;
            if self.store.delete(&bound.key).await? {
                return Ok(true);
            }
            // Gone meanwhile: ended elsewhere, or moved to a new id (created before the old one
            // is deleted, so the next listing shows it).
            ended = true;
        }
        Err(moving())
    }

    /// Ends every session of the subject ("log out everywhere"); how many were ended.
    ///
    /// It lists and ends until a listing finds nothing left, so that sessions changing their ids
    /// meanwhile are followed to their new ids. If the subject's sessions keep changing (or new
    /// logins keep arriving) through 16 listings in a row, this fails with a store error after
    /// ending what it could: call it again.
    pub async fn end_all(&self, subject: &str) -> Result<usize, Error> {
        self.end_all_except(subject, None).await
    }

    /// Ends every session of the subject but the one with handle `keep` (if `None`, all).
    pub async fn end_all_except(
        &self,
        subject: &str,
        keep: Option<&Handle>,
    ) -> Result<usize, Error> {
        let mut ended = 0;
        for _ in 0..ROUNDS {
            let listed = self.all_listed(subject).await?;
            let targets: Vec<&BoundSession> = listed
                .iter()
                .filter(|b| Some(&b.binding.handle) != keep)
                .collect();
            // Done only once a listing finds nothing left to end. A listing is not a snapshot on
            // every store: one taken while a session changed its id may show neither its old
            // record nor its new one (the new one created in a part already read, the old one
            // deleted from a part not read yet); the next listing shows the new one. A delete
            // that finds nothing (a session that moved) is caught the same way.
            if targets.is_empty() {
                return Ok(ended);
            }
            for bound in targets {
                if self.store.delete(&bound.key).await? {
                    ended += 1;
                }
            }
        }
        Err(moving())
    }

    /// Ends the least recently active sessions of the subject until at most `max` are left,
    /// never the one with handle `keep`; how many were ended.
    pub async fn cap(
        &self,
        subject: &str,
        max: usize,
        keep: Option<&Handle>,
    ) -> Result<usize, Error> {
        let listed = self.listed(subject).await?;
        let mut ended = 0;
        let excess = listed.len().saturating_sub(max);
        // Most recently active first: the oldest are at the end.
        let oldest = listed
            .iter()
            .rev()
            .filter(|b| Some(&b.binding.handle) != keep);
        for bound in oldest.take(excess) {
            if self.store.delete(&bound.key).await? {
                ended += 1;
            }
        }
        Ok(ended)
    }
}

impl fmt::Debug for Subjects<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subjects").finish_non_exhaustive()
    }
}
