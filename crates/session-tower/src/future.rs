//! [`ResponseFuture`]: the future of a [`SessionService`](crate::SessionService) response.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{Response, StatusCode};
use pin_project_lite::pin_project;
use session_core::{Commit, LazySession, Prepared};

type Committing<B, E> = Pin<Box<dyn Future<Output = Result<Response<B>, E>> + Send>>;

pin_project! {
    /// Runs the inner service's future, then commits the session if the handler used it: at once
    /// when that needs no store I/O, otherwise in one boxed future.
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        state: State<F, B, E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B, E> {
        Running { #[pin] inner: F, lazy: Option<Arc<LazySession>> },
        Committing { future: Committing<B, E> },
        Done,
    }
}

impl<F, B, E> ResponseFuture<F, B, E> {
    pub(crate) fn new(inner: F, lazy: Arc<LazySession>) -> Self {
        ResponseFuture {
            state: State::Running {
                inner,
                lazy: Some(lazy),
            },
        }
    }
}

impl<F, B, E> fmt::Debug for ResponseFuture<F, B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Running { .. } => "running",
            State::Committing { .. } => "committing",
            State::Done => "done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default + Send + 'static,
    E: Send + 'static,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        let (output, lazy) = match state.as_mut().project() {
            StateProj::Running { inner, lazy } => {
                let output = ready!(inner.poll(cx));
                (output, lazy.take())
            }
            StateProj::Committing { future } => {
                let output = ready!(future.as_mut().poll(cx));
                state.set(State::Done);
                return Poll::Ready(output);
            }
            StateProj::Done => panic!("ResponseFuture polled after completion"),
        };
        // An inner error has no response to carry headers, but an expiry (logout) must still
        // happen: commit as for a server error, which carries out expiries only.
        let status = match &output {
            Ok(response) => response.status(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let Some((lazy, prepared)) =
            lazy.and_then(|lazy| lazy.prepare(status).map(|prepared| (lazy, prepared)))
        else {
            // The handler never asked for its session: nothing to commit.
            state.set(State::Done);
            return Poll::Ready(output);
        };
        let pending = match prepared {
            Prepared::Ready(commit) => {
                state.set(State::Done);
                return Poll::Ready(output.map(|response| finish(&lazy, commit, response)));
            }
            Prepared::Pending(pending) => pending,
        };
        let mut future: Committing<B, E> = Box::pin(async move {
            let result = pending.run().await;
            if let (Err(_), Err(error)) = (&output, &result) {
                // No response to replace: the inner error goes on, but this one is logged too.
                tracing::error!(error = %error.report(), "session commit failed after the inner service failed");
            }
            output.map(|response| match result {
                Ok(commit) => finish(&lazy, commit, response),
                Err(error) => bare_500(&error),
            })
        });
        match future.as_mut().poll(cx) {
            Poll::Ready(output) => {
                state.set(State::Done);
                Poll::Ready(output)
            }
            Poll::Pending => {
                state.set(State::Committing { future });
                Poll::Pending
            }
        }
    }
}

/// The response with the commit's headers; for a late-store session, its body wrapped so that the
/// session commits again when the body ends (see [`crate::body`]).
fn finish<B: Default + 'static>(
    lazy: &LazySession,
    commit: Commit,
    mut response: Response<B>,
) -> Response<B> {
    let late = commit.late_store();
    commit.apply_to(response.headers_mut());
    match lazy.session().filter(|_| late) {
        Some(session) => crate::body::with_late_commit(response, lazy.engine(), session),
        None => response,
    }
}

/// A bare 500 with an empty body, the cause logged (never the session id).
fn bare_500<B: Default>(error: &session_core::Error) -> Response<B> {
    tracing::error!(error = %error.report(), "session commit failed; answering 500");
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
    assert_send::<ResponseFuture<Inner, String, std::convert::Infallible>>();
    assert_send::<crate::SessionService<()>>();
    assert_send::<crate::SessionLayer>();
}
