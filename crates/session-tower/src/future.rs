//! [`ResponseFuture`]: the future of a [`SessionService`](crate::SessionService) response.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{Response, StatusCode};
use pin_project_lite::pin_project;
use session_core::{Commit, Prepared};

use crate::context::{self, Slot};

type Committing<B> = Pin<Box<dyn Future<Output = Response<B>> + Send>>;

pin_project! {
    /// Runs the inner service's future with the request's session context installed, then commits
    /// the session if the handler used it: at once when that needs no store I/O, otherwise in one
    /// boxed future.
    pub struct ResponseFuture<F, B> {
        #[pin]
        inner: F,
        slot: Option<Slot>,
        // The commit's store I/O, owning the response (boxed: keeps this future small, which every
        // request pays for in moves).
        committing: Option<Committing<B>>,
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn new(inner: F, slot: Option<Slot>) -> Self {
        ResponseFuture {
            inner,
            slot,
            committing: None,
        }
    }
}

impl<F, B> fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("committing", &self.committing.is_some())
            .finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default + Send + 'static,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Some(committing) = this.committing.as_mut() {
            let response = ready!(committing.as_mut().poll(cx));
            *this.committing = None;
            return Poll::Ready(Ok(response));
        }
        let inner = this.inner;
        let mut response = ready!(context::enter(this.slot, || inner.poll(cx)))?;
        let Some(Slot {
            engine,
            session: Some(session),
        }) = this.slot.take()
        else {
            // The handler never asked for its session: nothing to commit.
            return Poll::Ready(Ok(response));
        };
        let pending = match engine.prepare(&session, response.status()) {
            Prepared::Ready(commit) => {
                commit.apply_to(response.headers_mut());
                return Poll::Ready(Ok(response));
            }
            Prepared::Pending(pending) => pending,
        };
        let mut committing: Committing<B> =
            Box::pin(async move { finish(pending.run().await, response) });
        match committing.as_mut().poll(cx) {
            Poll::Ready(response) => Poll::Ready(Ok(response)),
            Poll::Pending => {
                *this.committing = Some(committing);
                Poll::Pending
            }
        }
    }
}

/// Adds a commit's headers to the response, or replaces it with a bare 500 if the commit failed.
fn finish<B: Default>(
    result: Result<Commit, session_core::Error>,
    mut response: Response<B>,
) -> Response<B> {
    match result {
        Ok(commit) => {
            commit.apply_to(response.headers_mut());
            response
        }
        Err(error) => bare_500(&error),
    }
}

/// A bare 500 with an empty body, the cause logged (never the session id).
fn bare_500<B: Default>(error: &session_core::Error) -> Response<B> {
    tracing::error!(error = %crate::error::Chain(error), "session commit failed; answering 500");
    let mut bare = Response::new(B::default());
    *bare.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    bare
}

/// Compile-time checks (in every build, not only tests): the service, the layer and the response
/// future are `Send` whenever the inner service's future is.
#[allow(dead_code)]
fn send_checks() {
    fn assert_send<T: Send>() {}
    type Inner = std::future::Ready<Result<Response<String>, std::convert::Infallible>>;
    assert_send::<ResponseFuture<Inner, String>>();
    assert_send::<crate::SessionService<()>>();
    assert_send::<crate::SessionLayer>();
}
