//! [`Error`]: the session error as a handler's error type.

use std::error::Error as StdError;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// A session error returned from a handler.
///
/// `?` converts a [`session_core::Error`] into it. As an actix-web `ResponseError` it answers a
/// bare `500 Internal Server Error` with an empty body, the cause logged with `tracing` (the
/// client learns nothing about the store).
#[derive(Debug)]
pub struct Error(session_core::Error);

impl Error {
    /// The session error inside.
    pub fn inner(&self) -> &session_core::Error {
        &self.0
    }

    /// Unwraps the session error.
    pub fn into_inner(self) -> session_core::Error {
        self.0
    }
}

impl From<session_core::Error> for Error {
    fn from(error: session_core::Error) -> Self {
        Error(error)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.0)
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        tracing::error!(error = %self.0.report(), "session error in handler; answering 500");
        HttpResponse::InternalServerError().finish()
    }
}
