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
