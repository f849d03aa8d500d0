#![cfg_attr(docsrs, feature(doc_cfg))]
//! Sessions in cookies: the session id ([`CookieState`]) or the whole session ([`SealedCookie`]).
//!
//! [`CookieState`] is validated when built, and its removal cookie mirrors the live one.
//! [`SealedCookie`] seals the session in an encrypted or signed cookie.
//!
//! # Two ways to use a cookie
//!
//! - [`CookieState`] carries only the session id; a store keeps the data. The usual choice.
//! - [`SealedCookie`] carries the whole session, encrypted and authenticated (or signed), with no
//!   server-side storage: give it to `Engine::client_side` or an adapter's `client_side`. Read its
//!   docs for what it cannot do (revoke a copied cookie, merge concurrent writes, hold more than
//!   about 3 KB) before picking it.
//!
//! [`CookieState`] implements [`session_core::state::State`]: give it to an adapter's layer (or an
//! [`Engine`](session_core::Engine)) together with a store. Its defaults follow OWASP: a generic
//! name (`id`), `Path=/`, `HttpOnly`, `Secure`, `SameSite=Lax`, no `Domain`, and a
//! browser-session cookie unless the engine's lifetime makes sessions persistent. `Partitioned`
//! (CHIPS) and the `__Host-` / `__Secure-` name prefixes are supported, and their rules are
//! enforced when the state is built: a name, path or domain that could inject attributes into the
//! `Set-Cookie` header is a [`CookieConfigError`], never a broken header.
//!
//! # Cookie tossing, and the `__Host-` prefix
//!
//! Name the cookie with the `__Host-` prefix in production: browsers then refuse it from sibling
//! subdomains and over plain HTTP. Without it, a sibling subdomain can set a cookie of the same
//! name for the parent domain on a longer path, which browsers send before the application's own.
//! When a request carries more than one cookie of the name, the engine adopts a session only if
//! exactly one of them holds a live session (copies of one count once; the same rule for
//! [`SealedCookie`]), and none if it carries more than four; otherwise it starts a fresh session
//! and logs a warning with counts only. While the victim holds a live session, the attacker's
//! cannot follow them through login. But a tossed cookie outlives the victim's logout (the removal
//! reaches only the application's own cookie), a victim with no live session of their own (a
//! first visit, after a logout or an expiry) is given the tossed one, which a login carries on,
//! and the victim's session ends whenever the attacker's is live beside it. Only the prefix
//! prevents all of this.
//!
//! How long a session lives is the engine's business
//! ([`EngineBuilder::lifetime`](session_core::EngineBuilder::lifetime)): the cookie's `Max-Age`
//! only mirrors it, so there is a single source of truth.
//!
//! # Example
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use session_core::{Engine, MemoryStore};
//! use session_core::state::RequestView;
//! use session_state_cookie::{CookieState, SameSite};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let state = CookieState::builder().name("__Host-sid").same_site(SameSite::Strict).build()?;
//! let engine = Engine::new(state, MemoryStore::default());
//!
//! // First request: no cookie, a new session, a Set-Cookie on the response.
//! let session = engine.start(&RequestView::new(&HeaderMap::new(), None));
//! session.insert("counter", &1u64).await?;
//! let mut response = HeaderMap::new();
//! engine.commit(&session, StatusCode::OK).await?.apply_to(&mut response);
//! let set_cookie = response["set-cookie"].to_str()?;
//! assert!(set_cookie.starts_with("__Host-sid="));
//! assert!(set_cookie.ends_with("; HttpOnly; SameSite=Strict; Secure; Path=/"));
//!
//! // Second request: the browser sends the cookie back.
//! let (pair, _attributes) = set_cookie.split_once(';').unwrap();
//! let mut request = HeaderMap::new();
//! request.insert("cookie", format!("theme=dark; {pair}").parse()?);
//! let session = engine.start(&RequestView::new(&request, None));
//! assert_eq!(session.get::<u64>("counter").await?, Some(1));
//!
//! // Logging out: the removal cookie has the live cookie's attributes.
//! session.expire();
//! let mut response = HeaderMap::new();
//! engine.commit(&session, StatusCode::OK).await?.apply_to(&mut response);
//! assert_eq!(
//!     response["set-cookie"],
//!     "__Host-sid=; HttpOnly; SameSite=Strict; Secure; Path=/; Max-Age=0; \
//!      Expires=Thu, 01 Jan 1970 00:00:00 GMT"
//! );
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod config;
mod envelope;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod key;
mod legacy;
mod payload;
mod sealed;
mod state;
mod validate;
mod wire;

pub use config::{CookieStateBuilder, DEFAULT_COOKIE_NAME, SameSite};
pub use error::CookieConfigError;
pub use key::{KEY_LEN, KeyError, MASTER_KEY_MIN_LEN, SealKey};
pub use sealed::{MAX_COOKIE_BYTES, SealError, SealMode, SealedCookie, SealedCookieBuilder};
pub use state::CookieState;

#[cfg(test)]
mod tests;
