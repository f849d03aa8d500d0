//! Flash messages and CSRF tokens as axum extractors (feature `extras`): [`Flash`] and [`Csrf`],
//! over the request's session; see `session-extras` for what they do.
//!
//! ```
//! use axum::{Router, routing::get, response::Redirect};
//! use session_tower::extras::{Csrf, Flash};
//! use session_tower::{Error, MemoryStore, SessionLayer};
//! use session_state_cookie::CookieState;
//!
//! async fn save(flash: Flash) -> Result<Redirect, Error> {
//!     flash.success("Saved.").await?;
//!     Ok(Redirect::to("/"))
//! }
//!
//! async fn form(csrf: Csrf) -> Result<String, Error> {
//!     Ok(format!("<input type=hidden name=csrf value={}>", csrf.token().await?))
//! }
//!
//! let app: Router = Router::new()
//!     .route("/save", get(save))
//!     .route("/form", get(form))
//!     .layer(SessionLayer::new(CookieState::default(), MemoryStore::default()));
//! ```

use axum_core::extract::FromRequestParts;
use http::request::Parts;

use crate::MissingSession;

pub use session_extras::{Level, Message};

session_extras::extractor! {
    /// The request's flash messages, as an axum extractor: derefs to
    /// [`session_extras::Flash`] (`push`, `info`, ..., `take`). Fails like
    /// [`Session`](crate::Session) when no `SessionLayer` wraps the route.
    pub struct Flash(session_extras::Flash);
}

session_extras::extractor! {
    /// The request's CSRF token, as an axum extractor: derefs to [`session_extras::Csrf`]
    /// (`token`, `verify`). Fails like [`Session`](crate::Session) when no `SessionLayer` wraps
    /// the route.
    pub struct Csrf(session_extras::Csrf);
}

/// `FromRequestParts` for an extractor made from the request's session.
macro_rules! from_session {
    ($($name:ident),+) => {$(
        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = MissingSession;

            async fn from_request_parts(
                parts: &mut Parts,
                _state: &S,
            ) -> Result<Self, Self::Rejection> {
                let session = crate::SessionExt::session(&*parts).ok_or(MissingSession)?;
                Ok($name::from(&session))
            }
        }
    )+};
}

from_session!(Flash, Csrf);
