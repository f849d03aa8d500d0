#![cfg_attr(docsrs, feature(doc_cfg))]
//! What applications build around a session: one-shot [flash messages](flash) that survive a
//! redirect, and per-session [CSRF tokens](csrf).
//!
//! Both work over a [`session_core::Session`], whatever the framework, store or State; the
//! adapters offer them as extractors behind their `extras` feature
//! (`session_tower::extras::{Flash, Csrf}`, `session_actix::extras::{Flash, Csrf}`).
//!
//! # Example
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use session_core::{Engine, MemoryStore, ParamState};
//! use session_core::state::RequestView;
//! use session_extras::{Csrf, Flash, Level};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let engine = Engine::new(ParamState::default(), MemoryStore::default());
//! let headers = HeaderMap::new();
//!
//! // A form post: check the token the form carried, then flash and redirect.
//! let session = engine.start(&RequestView::new(&headers, None));
//! let token = Csrf::new(&session).token().await?; // what the form was rendered with
//! assert!(Csrf::new(&session).verify(&token).await?);
//! Flash::new(&session).push(Level::Success, "Saved.").await?;
//! let id = session.save().await?;
//! engine.commit(&session, StatusCode::SEE_OTHER).await?;
//!
//! // The page redirected to shows the message once.
//! let query = format!("plack_session={}", id.as_str());
//! let session = engine.start(&RequestView::new(&headers, Some(&query)));
//! let shown = Flash::new(&session).take().await?;
//! assert_eq!(shown[0].text, "Saved.");
//! assert!(Flash::new(&session).take().await?.is_empty());
//! # Ok::<_, session_core::Error>(())
//! # }).unwrap();
//! ```

pub mod csrf;
pub mod flash;

pub use csrf::Csrf;
pub use flash::{Flash, Level, Message};

#[cfg(test)]
mod test_support;

/// Defines an adapter's extractor newtype over [`Flash`] or [`Csrf`]: it derefs to the wrapped
/// type and is made from a session; the adapter then gives it its framework's extractor trait
/// (the orphan rule keeps that impl out of this crate).
///
/// ```
/// session_extras::extractor! {
///     /// The request's flash messages.
///     pub struct Flash(session_extras::Flash);
/// }
/// # let _ = |session: &session_core::Session| Flash::from(session);
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! extractor {
    ($(#[$meta:meta])* $vis:vis struct $name:ident($inner:path);) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        $vis struct $name(pub $inner);

        impl ::core::ops::Deref for $name {
            type Target = $inner;

            fn deref(&self) -> &$inner {
                &self.0
            }
        }

        impl ::core::convert::From<&::session_core::Session> for $name {
            fn from(session: &::session_core::Session) -> Self {
                $name(<$inner>::new(session))
            }
        }
    };
}
