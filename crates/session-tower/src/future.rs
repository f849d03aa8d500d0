//! [`ResponseFuture`]: the future of a [`SessionService`](crate::SessionService) response.

use std::marker::PhantomData;

use http::{Response, StatusCode};
use session_core::adapter::{Commit, Finished, LazySession, Respond};

/// Runs the inner service's future, then commits the session if the handler used it: at once
/// when that needs no store I/O, otherwise in one boxed future.
pub type ResponseFuture<F, B, E> = session_core::adapter::ResponseFuture<F, TowerResponse<B, E>>;

/// The tower side of a [`ResponseFuture`]: an `http::Response` with the inner service's body
/// type, or the inner service's error.
#[derive(Debug)]
pub struct TowerResponse<B, E>(PhantomData<fn() -> (B, E)>);

impl<B, E> Respond for TowerResponse<B, E>
where
    B: Default + Send + 'static,
    E: Send + 'static,
{
    type Input = Result<Response<B>, E>;
    type Output = Result<Response<B>, E>;

    fn status(input: &Self::Input) -> StatusCode {
        match input {
            Ok(response) => response.status(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn is_response(input: &Self::Input) -> bool {
        input.is_ok()
    }

    fn pass(input: Self::Input) -> Self::Output {
        input
    }

    fn finish(commit: Commit, input: Self::Input, lazy: &LazySession) -> Finished<Self> {
        Finished::Done(input.map(|mut response| {
            let late = commit.late_store();
            commit.apply_to(response.headers_mut());
            match late.then(|| lazy.late_commit()).flatten() {
                Some(late) => crate::body::with_late_commit(response, late),
                None => response,
            }
        }))
    }

    fn fail(input: Self::Input) -> Self::Output {
        input.map(|_| {
            let mut bare = Response::new(B::default());
            *bare.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            bare
        })
    }
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
