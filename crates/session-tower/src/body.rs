//! [`SessionBody`]: the response body of a [`SessionService`](crate::SessionService), which runs
//! a late-store session's second commit when the body ends.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use std::any::Any;

use bytes::Bytes;
use http::Response;
use http::header::CONTENT_LENGTH;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use pin_project_lite::pin_project;
use session_core::{Commit, Engine, LateCommitFailed, Prepared, Session};

/// The error type of [`SessionBody`]: the inner body's error, or a late commit that failed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

type Committing = Pin<Box<dyn Future<Output = Result<Commit, session_core::Error>> + Send>>;

pin_project! {
    /// The response body of a [`SessionService`](crate::SessionService): the inner body, and for
    /// a session with [late store](session_core::Session::late_store) the commit of the changes
    /// made while the body streamed.
    ///
    /// When the inner body ends, that commit runs before the end is reported, so the client sees
    /// the end of the response only once the changes are stored, and its next request cannot race
    /// the write. (Such a body reports no exact length, so it is sent chunked: with a known
    /// length the client would have the whole response at its last byte.) If the commit fails, the body ends with an error instead (the client sees an aborted response) and the
    /// cause is logged. If the body is dropped before its end (the client went away), the commit
    /// still runs, spawned on the current Tokio runtime. For every other response it only passes
    /// the inner body through.
    pub struct SessionBody<B> {
        #[pin]
        inner: B,
        late: Late,
    }

    impl<B> PinnedDrop for SessionBody<B> {
        fn drop(this: Pin<&mut Self>) {
            this.project().late.abandon();
        }
    }
}

enum Late {
    /// Not a late-store response, or its commit has run.
    Idle,
    /// The late commit is due when the inner body ends.
    Due(Engine, Session),
    /// The late commit is running.
    Running(Committing),
}

impl<B> SessionBody<B> {
    /// The body of a response whose session commits again when the body ends.
    pub fn late(inner: B, engine: Engine, session: Session) -> Self {
        SessionBody {
            inner,
            late: Late::Due(engine, session),
        }
    }
}

/// Wraps `response`'s body in a [`SessionBody`] for a late-store session, keeping the body type:
/// the service answers with its inner service's own body type (so `axum::serve` takes it, and
/// axum does not box it again), which is possible for the body types that box any body: axum's
/// `Body` (feature `axum`) and `http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>`.
/// For any other body type late store cannot follow the body: the late commit runs now (it finds
/// nothing to write yet), later changes are reported as not stored, and a warning says why.
pub(crate) fn with_late_commit<B: Default + 'static>(
    response: Response<B>,
    engine: &Engine,
    session: &Session,
) -> Response<B> {
    let (mut parts, body) = response.into_parts();
    let mut slot = Some(body);
    #[cfg(feature = "axum")]
    let wrapped = wrap_as::<axum_core::body::Body, B>(&mut slot, |inner| {
        axum_core::body::Body::new(SessionBody::late(inner, engine.clone(), session.clone()))
    });
    #[cfg(not(feature = "axum"))]
    let wrapped = false;
    let wrapped = wrapped
        || wrap_as::<UnsyncBoxBody<Bytes, BoxError>, B>(&mut slot, |inner| {
            UnsyncBoxBody::new(SessionBody::late(inner, engine.clone(), session.clone()))
        });
    if wrapped {
        // Sent chunked, whatever length the handler declared: with a length, the client has the
        // whole response at its last byte, before the late commit has run.
        parts.headers.remove(CONTENT_LENGTH);
    } else {
        tracing::warn!(
            body = std::any::type_name::<B>(),
            "late store cannot follow this response body type; changes made while it streams \
             are not stored (answer with axum's Body or an UnsyncBoxBody)"
        );
        if let Prepared::Pending(pending) = engine.prepare_late(session)
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                if let Err(error) = pending.run().await {
                    tracing::error!(error = %error.report(), "late session commit failed");
                }
            });
        }
    }
    Response::from_parts(parts, slot.unwrap_or_default())
}

/// If the body in `slot` is a `T`, replaces it with `wrap` of it; whether it was.
fn wrap_as<T: 'static, B: 'static>(slot: &mut Option<B>, wrap: impl FnOnce(T) -> T) -> bool {
    let any: &mut dyn Any = slot;
    match any.downcast_mut::<Option<T>>() {
        Some(typed) => {
            *typed = typed.take().map(wrap);
            true
        }
        None => false,
    }
}

impl Late {
    /// The late commit's store I/O, if it has any.
    fn start(engine: &Engine, session: &Session) -> Option<Committing> {
        match engine.prepare_late(session) {
            Prepared::Ready(_) => None,
            Prepared::Pending(pending) => Some(Box::pin(pending.run())),
        }
    }

    /// The body is dropped: a commit not yet run (or still running) goes on in the background.
    fn abandon(&mut self) {
        let committing = match std::mem::replace(self, Late::Idle) {
            Late::Idle => return,
            Late::Due(engine, session) => match Late::start(&engine, &session) {
                Some(committing) => committing,
                None => return,
            },
            Late::Running(committing) => committing,
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(error) = committing.await {
                        tracing::error!(
                            error = %error.report(),
                            "late session commit failed after the response body was dropped"
                        );
                    }
                });
            }
            Err(_) => tracing::warn!(
                "a late-store response body was dropped before its end outside a Tokio runtime: \
                 the changes made while it streamed are not stored"
            ),
        }
    }
}

impl<B> Body for SessionBody<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        loop {
            if let Late::Running(committing) = this.late {
                let result = ready!(committing.as_mut().poll(cx));
                *this.late = Late::Idle;
                return Poll::Ready(match result {
                    Ok(_) => None,
                    Err(error) => {
                        tracing::error!(
                            error = %error.report(),
                            "late session commit failed; ending the response body with an error"
                        );
                        Some(Err(Box::new(LateCommitFailed)))
                    }
                });
            }
            match ready!(this.inner.as_mut().poll_frame(cx)) {
                Some(frame) => return Poll::Ready(Some(frame.map_err(Into::into))),
                None => match std::mem::replace(this.late, Late::Idle) {
                    Late::Due(engine, session) => match Late::start(&engine, &session) {
                        Some(committing) => *this.late = Late::Running(committing),
                        None => return Poll::Ready(None),
                    },
                    other => {
                        *this.late = other;
                        return Poll::Ready(None);
                    }
                },
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        // A due late commit must still be driven by a poll, even after an empty body.
        matches!(self.late, Late::Idle) && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        match self.late {
            Late::Idle => self.inner.size_hint(),
            // With a known length the client has the whole body at its last byte, before the
            // end is polled (hyper may not even poll it): a late-store body is sent chunked, so
            // that its end, which waits for the commit, is what completes it.
            _ => {
                let mut hint = SizeHint::new();
                hint.set_lower(self.inner.size_hint().lower());
                hint
            }
        }
    }
}

impl<B> fmt::Debug for SessionBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let late = match self.late {
            Late::Idle => "idle",
            Late::Due(..) => "due",
            Late::Running(_) => "running",
        };
        f.debug_struct("SessionBody")
            .field("late", &late)
            .finish_non_exhaustive()
    }
}
