//! [`ResponseFuture`]: an adapter's response future, written once: the inner service's future,
//! then the session's commit, then the response with the commit's headers.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::StatusCode;
use pin_project_lite::pin_project;

use super::{Committing, LateCommit, LazySession, background};
use crate::commit::Commit;
use crate::error::Error;
use crate::execute::Prepared;

/// What an adapter's response future needs from its framework: the status of what the inner
/// service answered, and how to add a commit to it or replace it with a bare 500.
pub trait Respond: 'static {
    /// What the inner service's future yields (a response, or an error).
    type Input;
    /// What the adapter's future yields.
    type Output;

    /// The status the session commits for: the response's, or 500 for an error (an expiry is
    /// still carried out then; nothing else is written).
    fn status(input: &Self::Input) -> StatusCode;

    /// Whether the inner service answered with a response (not an error).
    fn is_response(input: &Self::Input) -> bool;

    /// The input as it is: nothing to commit, or nothing more.
    fn pass(input: Self::Input) -> Self::Output;

    /// The response with the head's commit added (`commit.late_store()`: a late commit follows,
    /// see [`LateCommit`]). An error input passes unchanged.
    fn finish(commit: Commit, input: Self::Input, lazy: &LazySession) -> Finished<Self>;

    /// A bare 500 with an empty body in place of a response whose commit failed (the cause is
    /// logged already); an error input passes unchanged.
    fn fail(input: Self::Input) -> Self::Output;
}

/// What [`Respond::finish`] made of a response.
pub enum Finished<R: Respond + ?Sized> {
    /// Ready to go.
    Done(R::Output),
    /// A late-store response whose body will never be polled (an empty body, on some
    /// frameworks): its late commit runs now, before the head is sent; the input is then
    /// [passed](Respond::pass), or [failed](Respond::fail) if the late commit failed.
    LateAtHead(R::Input),
}

impl<R: Respond + ?Sized> fmt::Debug for Finished<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Finished::Done(_) => "Done",
            Finished::LateAtHead(_) => "LateAtHead",
        })
    }
}

pin_project! {
    /// Runs the inner service's future, then commits the session if the handler used it: at once
    /// when that needs no store I/O, otherwise through one boxed future.
    ///
    /// Dropped before it is done, it still carries out what must not be lost. Before the inner
    /// service answered (the handler panicked and the panic unwinds through it, or the request
    /// was dropped before its response head), the session is
    /// [abandoned](LazySession::abandon): an expiry the handler asked for is carried out. During
    /// the commit's store I/O (the client went away), the commit runs on to its end. Both run in
    /// the background on the current Tokio runtime (feature `tokio`).
    pub struct ResponseFuture<F, R: Respond> {
        #[pin]
        state: State<F, R>,
    }

    impl<F, R: Respond> PinnedDrop for ResponseFuture<F, R> {
        fn drop(this: Pin<&mut Self>) {
            let mut state = this.project().state;
            match state.as_mut().project() {
                StateProj::Running { lazy, .. } => {
                    let Some(lazy) = lazy.take() else { return };
                    // The handler's future goes first: a guard in it that ends the session is
                    // then seen by the abandoned commit.
                    state.set(State::Done);
                    lazy.abandon();
                }
                // Taken out while polled: a commit that panicked is never resumed.
                StateProj::Committing { committing, .. } => {
                    if let Some(committing) = committing.take() {
                        background(
                            committing,
                            "the session commit of a response dropped before its head was sent",
                        );
                    }
                }
                // Done, or a late commit whose own `Drop` runs it on.
                _ => {}
            }
        }
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, R: Respond> {
        Running { #[pin] inner: F, lazy: Option<Arc<LazySession>> },
        Committing {
            // `None` while it is polled, and once it is done.
            committing: Option<Committing>,
            input: Option<R::Input>,
            lazy: Arc<LazySession>,
        },
        LateAtHead { late: LateCommit, input: Option<R::Input> },
        Done,
    }
}

impl<F, R: Respond> ResponseFuture<F, R> {
    /// The response future of a request whose session lives in `lazy`.
    pub fn new(inner: F, lazy: Arc<LazySession>) -> Self {
        ResponseFuture {
            state: State::Running {
                inner,
                lazy: Some(lazy),
            },
        }
    }
}

impl<F, R> Future for ResponseFuture<F, R>
where
    F: Future<Output = R::Input>,
    R: Respond,
{
    type Output = R::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R::Output> {
        let mut state = self.project().state;
        loop {
            let next = match state.as_mut().project() {
                StateProj::Running { inner, lazy } => {
                    let input = ready!(inner.poll(cx));
                    let lazy = lazy.take().expect("polled after completion");
                    match lazy.prepare(R::status(&input)) {
                        // The handler never asked for its session: nothing to commit.
                        None => {
                            state.set(State::Done);
                            return Poll::Ready(R::pass(input));
                        }
                        Some(Prepared::Ready(commit)) => finish::<R, F>(commit, input, &lazy),
                        Some(Prepared::Pending(pending)) => Step::Go(State::Committing {
                            committing: Some(Box::pin(pending.run())),
                            input: Some(input),
                            lazy,
                        }),
                    }
                }
                StateProj::Committing {
                    committing,
                    input,
                    lazy,
                } => {
                    let mut running = committing.take().expect("polled after completion");
                    let Poll::Ready(result) = running.as_mut().poll(cx) else {
                        *committing = Some(running);
                        return Poll::Pending;
                    };
                    let input = input.take().expect("polled after completion");
                    match result {
                        Ok(commit) => finish::<R, F>(commit, input, lazy),
                        Err(error) => {
                            commit_failed(&error, R::is_response(&input));
                            Step::Out(R::fail(input))
                        }
                    }
                }
                StateProj::LateAtHead { late, input } => {
                    let result = ready!(late.poll_end(cx));
                    let input = input.take().expect("polled after completion");
                    Step::Out(match result {
                        Ok(()) => R::pass(input),
                        Err(_) => R::fail(input),
                    })
                }
                StateProj::Done => panic!("ResponseFuture polled after completion"),
            };
            match next {
                Step::Out(output) => {
                    state.set(State::Done);
                    return Poll::Ready(output);
                }
                Step::Go(next) => state.set(next),
            }
        }
    }
}

/// What a poll leads to: the output, or another state.
enum Step<F, R: Respond> {
    Out(R::Output),
    Go(State<F, R>),
}

fn finish<R: Respond, F>(commit: Commit, input: R::Input, lazy: &LazySession) -> Step<F, R> {
    match R::finish(commit, input, lazy) {
        Finished::Done(output) => Step::Out(output),
        Finished::LateAtHead(input) => match lazy.late_commit() {
            Some(late) => Step::Go(State::LateAtHead {
                late,
                input: Some(input),
            }),
            None => Step::Out(R::pass(input)),
        },
    }
}

/// Logs a failed commit, once, with its cause (never the session id).
fn commit_failed(error: &Error, answered: bool) {
    if answered {
        tracing::error!(error = %error.report(), "session commit failed; answering 500");
    } else {
        // No response to replace: the inner error goes on, but this one is logged too.
        tracing::error!(
            error = %error.report(),
            "session commit failed after the inner service failed"
        );
    }
}

impl<F, R: Respond> fmt::Debug for ResponseFuture<F, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Running { .. } => "running",
            State::Committing { .. } | State::LateAtHead { .. } => "committing",
            State::Done => "done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
