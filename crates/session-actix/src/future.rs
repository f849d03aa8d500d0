//! [`ResponseFuture`]: the future of a [`SessionService`](crate::SessionService) response.

use std::marker::PhantomData;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::{Error, HttpResponse};
use http::StatusCode;
use session_core::adapter::{Commit, Finished, LazySession, Respond};

use crate::body::SessionBody;
use crate::headers::ActixHeaders;

/// Runs the inner service's future, then commits the session if the handler used it: at once
/// when that needs no store I/O, otherwise in one boxed future. A late-store session's body is
/// wrapped to commit again when it ends (see [`SessionBody`]).
pub type ResponseFuture<F, B> = session_core::adapter::ResponseFuture<F, ActixResponse<B>>;

/// The actix-web side of a [`ResponseFuture`]: a `ServiceResponse` whose body is a
/// [`SessionBody`], or the bare 500 of a failed commit.
#[derive(Debug)]
pub struct ActixResponse<B>(PhantomData<fn() -> B>);

impl<B: MessageBody + 'static> Respond for ActixResponse<B> {
    type Input = Result<ServiceResponse<B>, Error>;
    type Output = Result<ServiceResponse<EitherBody<SessionBody<B>>>, Error>;

    fn status(input: &Self::Input) -> StatusCode {
        // An inner error has no response to carry headers (actix turns it into one later), but an
        // expiry (logout) must still happen: commit as for a server error.
        match input {
            Ok(response) => StatusCode::from_u16(response.status().as_u16())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn is_response(input: &Self::Input) -> bool {
        input.is_ok()
    }

    fn pass(input: Self::Input) -> Self::Output {
        input.map(plain)
    }

    /// Adds the head commit's headers; for a late-store session, wraps the body so the session
    /// commits again when it ends. actix-web does not poll an empty body (size `None` or
    /// `Sized(0)`): there is no "while the body streams" then, so its late commit runs right
    /// after the head's, before the head is sent.
    fn finish(commit: Commit, input: Self::Input, lazy: &LazySession) -> Finished<Self> {
        let mut response = match input {
            Ok(response) => response,
            Err(error) => return Finished::Done(Err(error)),
        };
        let late = commit.late_store();
        commit.apply_to(&mut ActixHeaders(response.headers_mut()));
        if !late {
            return Finished::Done(Ok(plain(response)));
        }
        if response.response().body().size().is_eof() {
            return Finished::LateAtHead(Ok(response));
        }
        match lazy.late_commit() {
            Some(late) => Finished::Done(Ok(response
                .map_body(|_, body| SessionBody::late(body, late))
                .map_into_left_body())),
            None => Finished::Done(Ok(plain(response))),
        }
    }

    fn fail(input: Self::Input) -> Self::Output {
        input.map(|response| {
            response
                .into_response(HttpResponse::InternalServerError().finish())
                .map_into_right_body()
        })
    }
}

/// A response whose session has nothing more to commit.
fn plain<B>(response: ServiceResponse<B>) -> ServiceResponse<EitherBody<SessionBody<B>>> {
    response
        .map_body(|_, body| SessionBody::plain(body))
        .map_into_left_body()
}
