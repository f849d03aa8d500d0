//! The axum extractor: [`Session`] in a handler's arguments.

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

session_core::adapter::session_extractor! {
    /// The request's session, as an axum extractor.
    ///
    /// Derefs to [`session_core::Session`], whose methods it offers: `get`, `insert`, `remove`,
    /// `clear`, `keys`, `expire`, `cycle_id`, ...
    ///
    /// Extraction fails with [`MissingSession`] (a 500 naming the problem) when no [`SessionLayer`]
    /// wraps the route.
    ///
    /// [`SessionLayer`]: crate::SessionLayer
    pub struct Session;
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = MissingSession;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        crate::SessionExt::session(&*parts)
            .map(Session)
            .ok_or(MissingSession)
    }
}

/// The rejection when a handler asks for a [`Session`] on a route no `SessionLayer` wraps: a
/// server misconfiguration, answered with 500 and a message saying so.
#[derive(Clone, Copy, Debug)]
pub struct MissingSession;

impl IntoResponse for MissingSession {
    fn into_response(self) -> Response {
        tracing::error!("a handler extracted a Session but no SessionLayer wraps the route");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Session extractor used without SessionLayer: add `.layer(SessionLayer::new(..))`",
        )
            .into_response()
    }
}
