//! [`Error`]: the session error as a handler's error type.

session_core::adapter::handler_error! {
    /// A session error returned from a handler.
    ///
    /// `?` converts a [`session_core::Error`] into it. With the `axum` feature it is
    /// `IntoResponse`: a bare `500 Internal Server Error` with an empty body, the cause logged with
    /// `tracing` (the client learns nothing about the store).
    pub struct Error;
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for Error {
    fn into_response(self) -> axum_core::response::Response {
        session_core::adapter::log_handler_error(self.inner());
        http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}
