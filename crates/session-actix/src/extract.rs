//! The actix-web extractor: [`Session`] in a handler's arguments.

use std::fmt;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};

use crate::SessionExt;

session_core::adapter::session_extractor! {
    /// The request's session, as an actix-web extractor.
    ///
    /// Derefs to [`session_core::Session`], whose methods it offers: `get`, `insert`, `remove`,
    /// `clear`, `keys`, `expire`, `cycle_id`, ...
    ///
    /// Unlike actix-session's, it is `Send` and `Sync`: it can be moved into spawned tasks and held
    /// across `.await` in any future.
    ///
    /// Extraction fails with [`MissingSession`] (a 500 naming the problem) when no
    /// [`SessionMiddleware`](crate::SessionMiddleware) wraps the route.
    pub struct Session;
}

impl FromRequest for Session {
    type Error = MissingSession;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(request.session().map(Session).ok_or(MissingSession))
    }
}

/// The rejection when a handler asks for a [`Session`] on a route no `SessionMiddleware` wraps: a
/// server misconfiguration, answered with 500 and a message saying so.
#[derive(Clone, Copy, Debug)]
pub struct MissingSession;

impl fmt::Display for MissingSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "Session extractor used without SessionMiddleware: add `.wrap(SessionMiddleware::new(..))`",
        )
    }
}

impl std::error::Error for MissingSession {}

impl ResponseError for MissingSession {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        tracing::error!("a handler extracted a Session but no SessionMiddleware wraps the route");
        HttpResponse::InternalServerError().body(self.to_string())
    }
}
