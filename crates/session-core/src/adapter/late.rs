//! [`LateCommit`]: a late-store response's second commit, run when its body ends.

use std::fmt;
use std::task::{Context, Poll};

use super::{Committing, background};
use crate::engine::Engine;
use crate::error::LateCommitFailed;
use crate::execute::Prepared;
use crate::session::Session;

/// The late commit of one response ([`Session::late_store`]), for an adapter's response body.
///
/// The body polls [`poll_end`](LateCommit::poll_end) once its inner body has ended, and reports
/// its own end only when that is ready, so the client sees the end of the response only once the
/// changes made while it streamed are stored. Dropped before that (the client went away, the body
/// failed), the commit goes on in the background on the current Tokio runtime (feature `tokio`),
/// so what was changed until then is still stored.
pub struct LateCommit {
    step: Step,
}

enum Step {
    /// Due when the body ends.
    Due(Engine, Session),
    /// Running.
    Running(Committing),
    /// Run (or nothing to run).
    Done,
}

impl LateCommit {
    /// The late commit of `session`, due when the response body ends.
    pub fn new(engine: Engine, session: Session) -> Self {
        LateCommit {
            step: Step::Due(engine, session),
        }
    }

    /// Whether it has run (or found nothing to do).
    pub fn is_done(&self) -> bool {
        matches!(self.step, Step::Done)
    }

    /// Runs the late commit once the response body has ended: `Ready(Ok(()))` once the changes
    /// are stored (or there were none), `Ready(Err(_))` if storing them failed (the cause is
    /// logged at `error`): the body should then end with that error, so the client never sees a
    /// clean end.
    pub fn poll_end(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), LateCommitFailed>> {
        loop {
            // Taken out while polled: a commit that panicked is never resumed by `Drop`.
            match std::mem::replace(&mut self.step, Step::Done) {
                Step::Done => return Poll::Ready(Ok(())),
                Step::Due(engine, session) => self.step = start(&engine, &session),
                Step::Running(mut committing) => {
                    let Poll::Ready(result) = committing.as_mut().poll(cx) else {
                        self.step = Step::Running(committing);
                        return Poll::Pending;
                    };
                    return Poll::Ready(result.map(drop).map_err(|error| {
                        tracing::error!(
                            error = %error.report(),
                            "late session commit failed"
                        );
                        LateCommitFailed
                    }));
                }
            }
        }
    }
}

/// Starts a due commit: its store I/O, if it has any.
fn start(engine: &Engine, session: &Session) -> Step {
    match engine.prepare_late(session) {
        Prepared::Ready(_) => Step::Done,
        Prepared::Pending(pending) => Step::Running(Box::pin(pending.run())),
    }
}

impl Drop for LateCommit {
    /// A commit not yet run (or still running) goes on in the background.
    fn drop(&mut self) {
        let committing = match std::mem::replace(&mut self.step, Step::Done) {
            Step::Due(engine, session) => match start(&engine, &session) {
                Step::Running(committing) => committing,
                _ => return,
            },
            Step::Running(committing) => committing,
            Step::Done => return,
        };
        background(
            committing,
            "the late session commit of a response body dropped before its end",
        );
    }
}

impl fmt::Debug for LateCommit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self.step {
            Step::Due(..) => "due",
            Step::Running(_) => "running",
            Step::Done => "done",
        };
        f.debug_struct("LateCommit").field("step", &step).finish()
    }
}
