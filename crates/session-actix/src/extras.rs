//! Flash messages and CSRF tokens as actix-web extractors (feature `extras`): [`Flash`] and
//! [`Csrf`], over the request's session; see `session-extras` for what they do.
//!
//! ```
//! use actix_web::{App, HttpResponse, web};
//! use session_actix::extras::{Csrf, Flash};
//! use session_actix::{Error, MemoryStore, SessionMiddleware};
//! use session_state_cookie::CookieState;
//!
//! async fn save(flash: Flash) -> Result<HttpResponse, Error> {
//!     flash.success("Saved.").await?;
//!     Ok(HttpResponse::SeeOther().insert_header(("location", "/")).finish())
//! }
//!
//! async fn form(csrf: Csrf) -> Result<String, Error> {
//!     Ok(format!("<input type=hidden name=csrf value={}>", csrf.token().await?))
//! }
//!
//! let sessions = SessionMiddleware::new(CookieState::default(), MemoryStore::default());
//! let app = App::new()
//!     .wrap(sessions)
//!     .route("/save", web::get().to(save))
//!     .route("/form", web::get().to(form));
//! # let _ = app;
//! ```

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use crate::{MissingSession, SessionExt};

pub use session_extras::{Level, Message};

session_extras::extractor! {
    /// The request's flash messages, as an actix-web extractor: derefs to
    /// [`session_extras::Flash`] (`push`, `info`, ..., `take`). Fails like
    /// [`Session`](crate::Session) when no `SessionMiddleware` wraps the route.
    pub struct Flash(session_extras::Flash);
}

session_extras::extractor! {
    /// The request's CSRF token, as an actix-web extractor: derefs to [`session_extras::Csrf`]
    /// (`token`, `verify`). Fails like [`Session`](crate::Session) when no `SessionMiddleware`
    /// wraps the route.
    pub struct Csrf(session_extras::Csrf);
}

/// `FromRequest` for an extractor made from the request's session.
macro_rules! from_session {
    ($($name:ident),+) => {$(
        impl FromRequest for $name {
            type Error = MissingSession;
            type Future = Ready<Result<Self, Self::Error>>;

            fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
                ready(request.session().map(|s| $name::from(&s)).ok_or(MissingSession))
            }
        }
    )+};
}

from_session!(Flash, Csrf);
