//! [`Error`]: the session error as a handler's error type.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

session_core::adapter::handler_error! {
    /// A session error returned from a handler.
    ///
    /// `?` converts a [`session_core::Error`] into it. As an actix-web `ResponseError` it answers
    /// a bare `500 Internal Server Error` with an empty body, the cause logged with `tracing` (the
    /// client learns nothing about the store).
    pub struct Error;
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        session_core::adapter::log_handler_error(self.inner());
        HttpResponse::InternalServerError().finish()
    }
}
