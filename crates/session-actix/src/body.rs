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
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use pin_project_lite::pin_project;
use session_core::adapter::LateCommit;

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
    commit: LateCommit,
    /// Counts down a known size.
    remaining: Option<u64>,
    /// The chunk that completed a sized body, sent only once the commit has run.
    held: Option<Bytes>,
    /// The inner body has ended.
    ended: bool,
}

impl<B> SessionBody<B> {
    /// The body of a response with no late commit.
    pub(crate) fn plain(inner: B) -> Self {
        SessionBody { inner, late: None }
    }
}

impl<B: MessageBody> SessionBody<B> {
    /// The body of a response whose session commits again when the body ends.
    pub(crate) fn late(inner: B, commit: LateCommit) -> Self {
        let remaining = match inner.size() {
            BodySize::Sized(size) => Some(size),
            BodySize::None | BodySize::Stream => None,
        };
        let late = Late {
            commit,
            remaining,
            held: None,
            ended: false,
        };
        SessionBody {
            inner,
            late: Some(Box::new(late)),
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
        while !late.ended {
            match ready!(this.inner.as_mut().poll_next(cx)) {
                Some(Ok(chunk)) if chunk.is_empty() => {}
                Some(Ok(chunk)) => {
                    if let Some(previous) = late.held.replace(chunk) {
                        // More than the size announced: pass it on (actix-web reports the
                        // mismatch), holding the newest chunk.
                        return Poll::Ready(Some(Ok(previous)));
                    }
                    let Some(remaining) = &mut late.remaining else {
                        return Poll::Ready(late.held.take().map(Ok));
                    };
                    let len = late.held.as_ref().map_or(0, |chunk| chunk.len() as u64);
                    if len < *remaining {
                        *remaining -= len;
                        return Poll::Ready(late.held.take().map(Ok));
                    }
                    // The last chunk of a sized body: held until the inner body ends and the
                    // commit has run.
                    *remaining = 0;
                }
                // The late commit stays due: it runs when the body is dropped.
                Some(Err(error)) => return Poll::Ready(Some(Err(error.into()))),
                None => late.ended = true,
            }
        }
        if let Err(failed) = ready!(late.commit.poll_end(cx)) {
            late.held = None;
            return Poll::Ready(Some(Err(Box::new(failed))));
        }
        Poll::Ready(late.held.take().map(Ok))
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
        let late = self.late.as_deref().map(|late| &late.commit);
        f.debug_struct("SessionBody")
            .field("late", &late)
            .finish_non_exhaustive()
    }
}
