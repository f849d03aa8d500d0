//! [`ResponseFuture`]: the future of a [`SessionService`](crate::SessionService) response.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use actix_web::body::EitherBody;
use actix_web::dev::ServiceResponse;
use actix_web::{Error, HttpResponse};
use http::StatusCode;
use pin_project_lite::pin_project;
use session_core::{Commit, LazySession, Prepared};

use crate::headers::ActixHeaders;

type Output<B> = Result<ServiceResponse<EitherBody<B>>, Error>;
type Committing<B> = Pin<Box<dyn Future<Output = Output<B>>>>;

pin_project! {
    /// Runs the inner service's future, then commits the session if the handler used it: at once
    /// when that needs no store I/O, otherwise in one boxed future.
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        Running { #[pin] inner: F, lazy: Option<Arc<LazySession>> },
        Committing { future: Committing<B> },
        Done,
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn new(inner: F, lazy: Arc<LazySession>) -> Self {
        ResponseFuture {
            state: State::Running {
                inner,
                lazy: Some(lazy),
            },
        }
    }
}

impl<F, B> fmt::Debug for ResponseFuture<F, B> {
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

impl<F, B> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: 'static,
{
    type Output = Output<B>;

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
        // An inner error has no response to carry headers (actix turns it into one later), but an
        // expiry (logout) must still happen: commit as for a server error, which carries out
        // expiries only. This is what the tower adapter does with an inner error.
        let status = match &output {
            Ok(response) => StatusCode::from_u16(response.status().as_u16())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let Some(prepared) = lazy.and_then(|lazy| lazy.prepare(status)) else {
            // The handler never asked for its session: nothing to commit.
            state.set(State::Done);
            return Poll::Ready(output.map(ServiceResponse::map_into_left_body));
        };
        let pending = match prepared {
            Prepared::Ready(commit) => {
                state.set(State::Done);
                return Poll::Ready(output.map(|response| with_headers(commit, response)));
            }
            Prepared::Pending(pending) => pending,
        };
        let mut future: Committing<B> = Box::pin(async move {
            let result = pending.run().await;
            if let (Err(_), Err(error)) = (&output, &result) {
                // No response to replace: the inner error goes on, but this one is logged too.
                tracing::error!(error = %error.report(), "session commit failed after the inner service failed");
            }
            output.map(|response| match result {
                Ok(commit) => with_headers(commit, response),
                Err(error) => bare_500(&error, response),
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

fn with_headers<B>(
    commit: Commit,
    mut response: ServiceResponse<B>,
) -> ServiceResponse<EitherBody<B>> {
    commit.apply_to(&mut ActixHeaders(response.headers_mut()));
    response.map_into_left_body()
}

/// A bare 500 with an empty body in place of `response`, the cause logged (never the session id).
fn bare_500<B>(
    error: &session_core::Error,
    response: ServiceResponse<B>,
) -> ServiceResponse<EitherBody<B>> {
    tracing::error!(error = %error.report(), "session commit failed; answering 500");
    response
        .into_response(HttpResponse::InternalServerError().finish())
        .map_into_right_body()
}
