//! [`SessionBody`]: the response body of a [`SessionService`](crate::SessionService), which runs
//! a late-store session's second commit when the body ends.

use std::any::Any;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::Response;
use http::header::CONTENT_LENGTH;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use pin_project_lite::pin_project;
use session_core::adapter::LateCommit;
use session_core::store::BoxError;

pin_project! {
    /// The body of a late-store response
    /// ([`Session::late_store`](session_core::Session::late_store)): the inner body, then the
    /// commit of the changes made while it streamed.
    ///
    /// When the inner body ends, that commit runs before the end is reported, so the client sees
    /// the end of the response only once the changes are stored, and its next request cannot race
    /// the write. Such a body reports no exact length, so it is sent chunked: with a known length
    /// the client would have the whole response at its last byte. If the commit fails, the body
    /// ends with an error ([`LateCommitFailed`](session_core::adapter::LateCommitFailed)) instead,
    /// and the cause is logged. If the body is dropped before its end (the client went away), the
    /// commit still runs, spawned on the current Tokio runtime.
    pub struct SessionBody<B> {
        #[pin]
        inner: B,
        late: LateCommit,
        ended: bool,
    }
}

impl<B> SessionBody<B> {
    fn new(inner: B, late: LateCommit) -> Self {
        SessionBody {
            inner,
            late,
            ended: false,
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
    late: LateCommit,
) -> Response<B> {
    let (mut parts, body) = response.into_parts();
    let mut slot = Some(body);
    let mut late = Some(late);
    #[cfg(feature = "axum")]
    let wrapped = wrap_as::<axum_core::body::Body, B>(&mut slot, |inner| match late.take() {
        Some(late) => axum_core::body::Body::new(SessionBody::new(inner, late)),
        None => inner,
    });
    #[cfg(not(feature = "axum"))]
    let wrapped = false;
    let wrapped = wrapped
        || wrap_as::<UnsyncBoxBody<Bytes, BoxError>, B>(&mut slot, |inner| match late.take() {
            Some(late) => UnsyncBoxBody::new(SessionBody::new(inner, late)),
            None => inner,
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
        // Dropped: the late commit runs now, in the background (it finds nothing to write yet).
        drop(late);
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
        if !*this.ended {
            match ready!(this.inner.as_mut().poll_frame(cx)) {
                Some(frame) => return Poll::Ready(Some(frame.map_err(Into::into))),
                None => *this.ended = true,
            }
        }
        Poll::Ready(match ready!(this.late.poll_end(cx)) {
            Ok(()) => None,
            Err(failed) => Some(Err(Box::new(failed))),
        })
    }

    fn is_end_stream(&self) -> bool {
        // A due late commit must still be driven by a poll, even after an empty body.
        self.late.is_done() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.late.is_done() {
            return self.inner.size_hint();
        }
        // With a known length the client has the whole body at its last byte, before the end is
        // polled (hyper may not even poll it): a late-store body is sent chunked, so that its
        // end, which waits for the commit, is what completes it.
        let mut hint = SizeHint::new();
        hint.set_lower(self.inner.size_hint().lower());
        hint
    }
}

impl<B> fmt::Debug for SessionBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionBody")
            .field("late", &self.late)
            .finish_non_exhaustive()
    }
}
