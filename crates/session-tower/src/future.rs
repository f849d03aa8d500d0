//! [`ResponseFuture`]: the future of a [`SessionService`](crate::SessionService) response.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{Response, StatusCode};
use pin_project_lite::pin_project;
use session_core::{Engine, Session};

type Committing<B> = Pin<Box<dyn Future<Output = Response<B>> + Send>>;

pin_project! {
    /// Runs the inner service's future, then commits the session (only if the handler used it).
    pub struct ResponseFuture<F, B> {
        #[pin]
        inner: F,
        session: Option<(Engine, Session)>,
        committing: Option<Committing<B>>,
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn new(inner: F, engine: Engine, session: Session) -> Self {
        ResponseFuture {
            inner,
            session: Some((engine, session)),
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
        let response = ready!(this.inner.poll(cx))?;
        let Some((engine, session)) = this.session.take() else {
            // The inner future completed before: hand back its output again is impossible, so this
            // is a poll after completion, which the Future contract forbids.
            panic!("ResponseFuture polled after completion");
        };
        if !session.is_accessed() {
            return Poll::Ready(Ok(response));
        }
        let mut committing: Committing<B> = Box::pin(commit(engine, session, response));
        match committing.as_mut().poll(cx) {
            Poll::Ready(response) => Poll::Ready(Ok(response)),
            Poll::Pending => {
                *this.committing = Some(committing);
                Poll::Pending
            }
        }
    }
}

/// Commits the session and adds its headers, or replaces the response with a bare 500.
async fn commit<B: Default>(
    engine: Engine,
    session: Session,
    mut response: Response<B>,
) -> Response<B> {
    match engine.commit(&session, response.status()).await {
        Ok(commit) => {
            commit.apply_to(response.headers_mut());
            response
        }
        Err(error) => {
            tracing::error!(error = %crate::error::Chain(&error), "session commit failed; answering 500");
            let mut bare = Response::new(B::default());
            *bare.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            bare
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    fn assert_send<T: Send>() {}

    #[test]
    fn futures_and_services_are_send() {
        assert_send::<
            ResponseFuture<std::future::Ready<Result<Response<String>, Infallible>>, String>,
        >();
        assert_send::<crate::SessionService<()>>();
        assert_send::<crate::SessionLayer>();
    }
}
