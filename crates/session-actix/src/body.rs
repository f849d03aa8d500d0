//! [`SessionBody`]: the response body of a [`SessionService`](crate::SessionService), which runs
//! a late-store session's second commit when the body ends.
//!
//! For every response whose session did not ask for
//! [late store](session_core::Session::late_store) it only passes the inner body through: no
//! allocation, one branch per poll. For a late-store response it holds the request's session and
//! commits the changes made while the body streamed ([`Engine::prepare_late`]) when the inner body
//! ends, before reporting that end; a body dropped before its end commits in the background.
//!
//! [`Engine::prepare_late`]: session_core::Engine::prepare_late

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use pin_project_lite::pin_project;
use session_core::{Commit, LateCommitFailed, LazySession, Prepared};

type Committing = Pin<Box<dyn Future<Output = Result<Commit, session_core::Error>> + Send>>;

pin_project! {
    /// The response body of a [`SessionService`](crate::SessionService): the inner body, and for
    /// a session with [late store](session_core::Session::late_store) the commit of the changes
    /// made while the body streamed.
    ///
    /// - When the inner body ends, that commit runs before the end is reported, so the client
    ///   sees the end of the body only once the changes are stored (the next request cannot race
    ///   the write). For a body of a known size, the last chunk is held back until then (the
    ///   client would otherwise see the end with it).
    /// - If the commit fails, the body ends with an error instead of its end (actix-web aborts the
    ///   response: the client never sees a clean end), and the cause is logged with `tracing` at
    ///   `error` level.
    /// - If the body is dropped before its end (the client went away, the inner body failed), the
    ///   commit of what was changed until then still runs, spawned on the worker's Tokio runtime;
    ///   a failure is logged.
    ///
    /// An empty body (size `None` or `Sized(0)`) is never polled by actix-web: for it the late
    /// commit runs in the middleware, right after the head's, before the head is sent (see the
    /// crate docs, "Streaming and late store"). Nor is the body of a `HEAD` response over
    /// HTTP/2: it is dropped unpolled, so its late commit runs in the background as above.
    pub struct SessionBody<B> {
        #[pin]
        inner: B,
        late: Option<Box<Late>>,
    }
}

/// The late commit of one response, and where the body is in it.
struct Late {
    lazy: Arc<LazySession>,
    step: Step,
}

enum Step {
    /// The inner body is streaming. `remaining` counts down a known size; `held` is the chunk that
    /// completed it, sent only once the commit has run.
    Streaming {
        remaining: Option<u64>,
        held: Option<Bytes>,
    },
    /// The inner body has ended; the commit is running.
    Running {
        committing: Committing,
        held: Option<Bytes>,
    },
    /// The commit has run: the held chunk, if any, then the end.
    Ending { held: Option<Bytes> },
    /// The end was reported (or the commit failed and the body ended with an error).
    Done,
}

impl<B> SessionBody<B> {
    /// The body of a response with no late commit.
    pub(crate) fn plain(inner: B) -> Self {
        SessionBody { inner, late: None }
    }
}

impl<B: MessageBody> SessionBody<B> {
    /// The body of a response whose session commits again when the body ends.
    pub(crate) fn late(inner: B, lazy: Arc<LazySession>) -> Self {
        let remaining = match inner.size() {
            BodySize::Sized(size) => Some(size),
            BodySize::None | BodySize::Stream => None,
        };
        let step = Step::Streaming {
            remaining,
            held: None,
        };
        SessionBody {
            inner,
            late: Some(Box::new(Late { lazy, step })),
        }
    }
}

impl Late {
    /// Runs `prepare_late`: the store I/O of the late commit, if it has any.
    fn start(&self) -> Option<Committing> {
        let session = self.lazy.session()?;
        match self.lazy.engine().prepare_late(session) {
            Prepared::Ready(_) => None,
            Prepared::Pending(pending) => Some(Box::pin(pending.run())),
        }
    }

    /// The inner body has ended: starts the commit, keeping `held` for after it.
    fn body_ended(&mut self, held: Option<Bytes>) {
        self.step = match self.start() {
            Some(committing) => Step::Running { committing, held },
            None => Step::Ending { held },
        };
    }
}

impl Drop for Late {
    /// The body is dropped before its end: a commit not yet run (or still running) goes on in the
    /// background, on the current worker's Tokio runtime.
    fn drop(&mut self) {
        let committing = match std::mem::replace(&mut self.step, Step::Done) {
            Step::Streaming { .. } => match self.start() {
                Some(committing) => committing,
                None => return,
            },
            Step::Running { committing, .. } => committing,
            Step::Ending { .. } | Step::Done => return,
        };
        let background = async move {
            if let Err(error) = committing.await {
                tracing::error!(
                    error = %error.report(),
                    "late session commit failed after the response body was dropped"
                );
            }
        };
        // The Tokio runtime of the worker (actix-web runs on Tokio, with or without an actix
        // `System`: under `#[tokio::main]` its workers have no actix Arbiter).
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(background);
            }
            Err(_) => tracing::error!(
                "a late-store response body was dropped before its end outside a Tokio runtime: \
                 the changes made while it streamed are not stored"
            ),
        }
    }
}

impl<B> MessageBody for SessionBody<B>
where
    B: MessageBody,
{
    type Error = Box<dyn StdError>;

    fn size(&self) -> BodySize {
        // Unchanged: an empty body never reaches here with a commit due (the middleware ran it),
        // and a streamed one is polled to its end anyway.
        self.inner.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let mut this = self.project();
        let Some(late) = this.late.as_deref_mut() else {
            // Not late store: the fast path.
            return this.inner.poll_next(cx).map_err(Into::into);
        };
        loop {
            match &mut late.step {
                Step::Streaming { remaining, held } => {
                    match ready!(this.inner.as_mut().poll_next(cx)) {
                        Some(Ok(chunk)) if chunk.is_empty() => {}
                        Some(Ok(chunk)) => {
                            if let Some(previous) = held.replace(chunk) {
                                // More than the size announced: pass it on (actix-web reports
                                // the mismatch), holding the newest chunk.
                                return Poll::Ready(Some(Ok(previous)));
                            }
                            let Some(remaining) = remaining else {
                                return Poll::Ready(held.take().map(Ok));
                            };
                            let len = held.as_ref().map_or(0, |chunk| chunk.len() as u64);
                            if len < *remaining {
                                *remaining -= len;
                                return Poll::Ready(held.take().map(Ok));
                            }
                            // The last chunk of a sized body: held until the inner body ends
                            // and the commit has run.
                            *remaining = 0;
                        }
                        // The late commit stays due: it runs when the body is dropped.
                        Some(Err(error)) => return Poll::Ready(Some(Err(error.into()))),
                        None => {
                            let held = held.take();
                            late.body_ended(held);
                        }
                    }
                }
                Step::Running { committing, held } => {
                    let result = ready!(committing.as_mut().poll(cx));
                    match result {
                        Ok(_) => {
                            let held = held.take();
                            late.step = Step::Ending { held };
                        }
                        Err(error) => {
                            late.step = Step::Done;
                            tracing::error!(
                                error = %error.report(),
                                "late session commit failed; ending the response body with an error"
                            );
                            return Poll::Ready(Some(Err(Box::new(LateCommitFailed))));
                        }
                    }
                }
                Step::Ending { held } => {
                    if let Some(chunk) = held.take() {
                        return Poll::Ready(Some(Ok(chunk)));
                    }
                    late.step = Step::Done;
                    return Poll::Ready(None);
                }
                Step::Done => return Poll::Ready(None),
            }
        }
    }

    fn try_into_bytes(self) -> Result<Bytes, Self> {
        match self.late {
            // A late-store body is polled, so that its commit runs when it ends.
            Some(_) => Err(self),
            None => self.inner.try_into_bytes().map_err(SessionBody::plain),
        }
    }
}

impl<B> fmt::Debug for SessionBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let late = match self.late.as_deref().map(|late| &late.step) {
            None => "none",
            Some(Step::Streaming { .. }) => "streaming",
            Some(Step::Running { .. }) => "running",
            Some(Step::Ending { .. }) => "ending",
            Some(Step::Done) => "done",
        };
        f.debug_struct("SessionBody")
            .field("late", &late)
            .finish_non_exhaustive()
    }
}
