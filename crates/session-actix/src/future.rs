//! [`ResponseFuture`]: the future of a [`SessionService`](crate::SessionService) response.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::{Error, HttpResponse};
use http::StatusCode;
use pin_project_lite::pin_project;
use session_core::{Commit, LazySession, PendingCommit, Prepared};

use crate::body::SessionBody;
use crate::headers::ActixHeaders;

type Output<B> = Result<ServiceResponse<EitherBody<SessionBody<B>>>, Error>;
type Committing<B> = Pin<Box<dyn Future<Output = Output<B>>>>;

pin_project! {
    /// Runs the inner service's future, then commits the session if the handler used it: at once
    /// when that needs no store I/O, otherwise in one boxed future. A late-store session's body
    /// is wrapped to commit again when it ends (see [`SessionBody`]).
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
    B: MessageBody + 'static,
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
        let Some((lazy, prepared)) = lazy.and_then(|lazy| {
            let prepared = lazy.prepare(status)?;
            Some((lazy, prepared))
        }) else {
            // The handler never asked for its session: nothing to commit.
            state.set(State::Done);
            return Poll::Ready(output.map(plain));
        };
        let mut future: Committing<B> = match (prepared, output) {
            (Prepared::Ready(commit), Ok(response)) => match finish(commit, response, lazy) {
                Finish::Done(response) => {
                    state.set(State::Done);
                    return Poll::Ready(Ok(response));
                }
                Finish::Late(future) => future,
            },
            (Prepared::Ready(_), Err(error)) => {
                state.set(State::Done);
                return Poll::Ready(Err(error));
            }
            (Prepared::Pending(pending), output) => Box::pin(async move {
                let result = pending.run().await;
                match (output, result) {
                    (Ok(response), Ok(commit)) => match finish(commit, response, lazy) {
                        Finish::Done(response) => Ok(response),
                        Finish::Late(future) => future.await,
                    },
                    (Ok(response), Err(error)) => Ok(bare_500(&error, response)),
                    (Err(output), Err(error)) => {
                        // No response to replace: the inner error goes on, but this one is logged
                        // too.
                        tracing::error!(error = %error.report(), "session commit failed after the inner service failed");
                        Err(output)
                    }
                    (Err(output), Ok(_)) => Err(output),
                }
            }),
        };
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

/// A response whose session has nothing more to commit.
fn plain<B>(response: ServiceResponse<B>) -> ServiceResponse<EitherBody<SessionBody<B>>> {
    response
        .map_body(|_, body| SessionBody::plain(body))
        .map_into_left_body()
}

/// What is left after the head's commit.
enum Finish<B> {
    /// The response, ready to go.
    Done(ServiceResponse<EitherBody<SessionBody<B>>>),
    /// An empty late-store response whose late commit must run before the head is sent: that
    /// commit, then the response.
    Late(Committing<B>),
}

/// Adds the head commit's headers to `response`; for a late-store session, wraps its body
/// so the session commits again when the body ends.
///
/// actix-web does not poll an empty body (size `None` or `Sized(0)`): it sends the head and is
/// done. There is no "while the body streams" then, so the late commit runs here, right after
/// the head's and before the head is sent; if it fails the response becomes a bare 500 like any
/// failed commit (the client never sees a clean end).
fn finish<B: MessageBody + 'static>(
    commit: Commit,
    mut response: ServiceResponse<B>,
    lazy: Arc<LazySession>,
) -> Finish<B> {
    // Late store: the session commits again when the body ends.
    let late = commit.late_store();
    commit.apply_to(&mut ActixHeaders(response.headers_mut()));
    if !late {
        return Finish::Done(plain(response));
    }
    if !response.response().body().size().is_eof() {
        return Finish::Done(
            response
                .map_body(|_, body| SessionBody::late(body, lazy))
                .map_into_left_body(),
        );
    }
    let prepared = match lazy.session() {
        Some(session) => lazy.engine().prepare_late(session),
        None => return Finish::Done(plain(response)),
    };
    match prepared {
        Prepared::Ready(_) => Finish::Done(plain(response)),
        Prepared::Pending(pending) => Finish::Late(Box::pin(async move {
            Ok(late_at_head(pending, response).await)
        })),
    }
}

/// Runs the late commit of an empty response before its head is sent (see [`finish`]).
async fn late_at_head<B>(
    pending: PendingCommit,
    response: ServiceResponse<B>,
) -> ServiceResponse<EitherBody<SessionBody<B>>> {
    match pending.run().await {
        Ok(_) => plain(response),
        Err(error) => bare_500(&error, response),
    }
}

/// A bare 500 with an empty body in place of `response`, the cause logged (never the session id).
fn bare_500<B>(
    error: &session_core::Error,
    response: ServiceResponse<B>,
) -> ServiceResponse<EitherBody<SessionBody<B>>> {
    tracing::error!(error = %error.report(), "session commit failed; answering 500");
    response
        .into_response(HttpResponse::InternalServerError().finish())
        .map_into_right_body()
}
