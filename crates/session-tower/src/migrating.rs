//! Migrating from tower-sessions 0.14: its methods, layer options and stores, and what changes.
//!
//! Every example below compiles as a doc test against this crate; tower-sessions' side is shown
//! in tables and `text` blocks only.
//!
//! # Steps
//!
//! 1. Dependencies: replace `tower-sessions` and its store crate with `session-tower`,
//!    `session-state-cookie` (the cookie) and a store crate (`session-store-redis`, say; the
//!    in-memory store comes with this crate).
//! 2. Handlers: take [`Session`](crate::Session) from this crate and return
//!    [`Error`](crate::Error) (or convert it, see [below](#errors-in-handlers)). Most data
//!    methods keep their names; the ones that end or renew a session change (see the table).
//! 3. The layer: [`SessionLayer::new`](crate::SessionLayer::new) takes a State (where the id
//!    travels: `CookieState` for a cookie) and a store; options go to `CookieState::builder()`
//!    and [`Engine::builder`](crate::Engine::builder), then
//!    [`SessionLayer::from`](crate::SessionLayer).
//! 4. The key of `with_signed` or `with_private`: drop it, unless the whole session is to live
//!    in the cookie (then it becomes a `SealKey`, see
//!    [Signed and private cookies](#signed-and-private-cookies)).
//! 5. Expect every user to start a fresh session once: neither tower-sessions' cookies nor its
//!    stored sessions are read. Both use the cookie name `id` by default; an old cookie's
//!    128-bit id is no valid id here, so it names no session, and the next cookie the
//!    application sends replaces it.
//!
//! ```toml
//! [dependencies]
//! session-tower = "0.1"
//! session-state-cookie = "0.1"
//! session-store-redis = "0.1"    # or another store; MemoryStore needs none
//! ```
//!
//! # The session's methods
//!
//! Handlers take [`session_tower::Session`](crate::Session), an axum extractor that derefs to
//! [`session_core::Session`]. As in tower-sessions, data methods are `async`, load the session
//! from the store on first use, and keep values as JSON through serde.
//!
//! | tower-sessions 0.14 | session-tower |
//! |---|---|
//! | `session.get::<T>(k).await?` | the same |
//! | `session.get_value(k).await?` | the same; a [`Value`](session_core::Value) (JSON text) |
//! | `session.insert(k, v).await?` | the same |
//! | `session.insert_value(k, v).await?` | the same, but it returns `()`, not the old value |
//! | `session.remove::<T>(k).await?` | the same |
//! | `session.remove_value(k).await?` | the same |
//! | `session.clear().await` | `session.clear().await?` |
//! | `session.is_empty().await` | `session.is_empty().await?`: whether it holds no keys |
//! | `session.id()` | `session.id().await?` |
//! | `session.expiry()` | none |
//! | `session.set_expiry(Some(expiry))` | `session.set_lifetime(lifetime)` |
//! | `session.set_expiry(None)` | `session.reset_lifetime()` |
//! | `session.expiry_date()`, `session.expiry_age()` | none |
//! | `session.is_modified()` | none |
//! | `session.save().await?` | `session.save().await?`, which returns the id |
//! | `session.load().await?` | nothing: the first data method loads |
//! | `session.delete().await?` | `session.expire()` |
//! | `session.flush().await?` | `session.expire()` |
//! | `session.cycle_id().await?` | `session.cycle_id()` |
//! | `Session::new(id, store, expiry)` | `TestSession::new()` in unit tests |
//! | `request.extensions().get::<Session>()` | `request.session()` |
//!
//! Where they differ:
//!
//! - **`get_value`, `insert_value`**: a [`Value`](session_core::Value) is the value's JSON
//!   text, not a `serde_json::Value`:
//!   [`Value::from_serialize`](session_core::Value::from_serialize) makes one,
//!   [`deserialize`](session_core::Value::deserialize) reads it as a type, and
//!   [`as_json`](session_core::Value::as_json) gives the text. `insert_value` does not return
//!   the value it replaced: call `get_value` first when it is needed.
//! - **`clear`** returns a `Result`: it loads the session first (tower-sessions' does not, and
//!   marks the whole record for rewriting). The session and its id live on, as in
//!   tower-sessions.
//! - **`is_empty`** is "holds no keys". tower-sessions' is "has no id and no data", which its
//!   layer uses to decide whether to remove the cookie; nothing here needs that.
//! - **`id`** loads the session first, so it is `async` and can fail. It is `None` for a new
//!   session until it is stored. After `cycle_id` it is still the old id until the response is
//!   committed (tower-sessions: `None` until the next save). An [`Id`](session_core::Id) is a
//!   secret: it has no `Display`, and [`Id::as_str`](session_core::Id::as_str) gives the whole
//!   value where it is really needed. Never log it.
//! - **`expiry`, `expiry_date`, `expiry_age`** are not exposed: the expiry is computed when the
//!   response is committed, from the session's lifetime, its last use and the absolute timeout.
//! - **`set_expiry`** → [`set_lifetime`](session_core::Session::set_lifetime): tower-sessions'
//!   expiry holds for this request's save only (the next request starts from the layer's expiry
//!   again); a lifetime set here is kept with the session until
//!   [`reset_lifetime`](session_core::Session::reset_lifetime), so "remember me" is set once, at
//!   login. How `Expiry` values map to [`Lifetime`](crate::Lifetime)s: see
//!   [Lifetimes](#lifetimes).
//! - **`is_modified`** has no equivalent: changes are tracked per key, and the commit writes
//!   the keys that changed, nothing else. In unit tests,
//!   [`testing::TestSession`](crate::testing::TestSession) commits a session and its
//!   [`Outcome`](crate::testing::Outcome) says what was written and sent (`stored_keys`,
//!   `sends_id`, `removes_id`, `is_stored`).
//! - **`save`** writes now, creating a new session even if it is empty, and returns its id. As
//!   in tower-sessions it is rarely needed: the layer commits the changes after the handler. What
//!   `save` wrote stays written even if the response then turns out to be a server error.
//! - **`load`**: nothing to call. The session is loaded once per request, by whichever data
//!   method comes first.
//! - **`delete`, `flush`** → [`expire`](session_core::Session::expire): tower-sessions deletes
//!   the record at once (`flush` also empties the session and forgets its id, so that its layer
//!   removes the cookie; after `delete` the cookie stays). `expire` is carried out when the
//!   response is committed: the record is deleted and the cookie removed. It wins over every
//!   other change in the request, and is carried out even when the response is a server error.
//! - **`cycle_id`** is not `async`: the new id is given when the response is committed (the
//!   old record reloaded, so keys other requests wrote meanwhile move too, this request's changes
//!   applied, written under a fresh id, the old id deleted). tower-sessions deletes the old record
//!   at once and creates the new one at the save. Keys under
//!   [`Session::ID_BOUND_PREFIX`](session_core::Session::ID_BOUND_PREFIX) (`~id.`) are dropped
//!   with the old id. Call it at every login and privilege change.
//! - **`Session::new`**: sessions are made by the layer.
//!   [`TestSession::new`](crate::testing::TestSession::new) (a first visit) and
//!   [`TestSession::with_values`](crate::testing::TestSession::with_values) (a returning one)
//!   make one for unit tests; [`Engine::start`](crate::Engine::start) drives an engine by hand.
//! - **The request's extensions**: a tower service other than an axum handler (tonic, hyper, a
//!   middleware) reaches the session with [`SessionExt::session`](crate::SessionExt::session),
//!   on an `http::Request` or its `Parts`: `None` when no [`SessionLayer`](crate::SessionLayer)
//!   handled the request.
//!
//! What tower-sessions has no counterpart for: [`keys`](session_core::Session::keys) and
//! [`len`](session_core::Session::len), [`skip_store`](session_core::Session::skip_store)
//! (write nothing for this request),
//! [`set_cookie_options`](session_core::Session::set_cookie_options) (this response's cookie
//! path, domain, partitioned), [`late_store`](session_core::Session::late_store) (store the
//! changes made while a streamed body is sent; see
//! [Streaming and late store](crate#streaming-and-late-store)), and sessions per user:
//! [`bind`](session_core::Session::bind) at login, then
//! [`sessions`](session_core::Session::sessions), [`revoke`](session_core::Session::revoke),
//! [`end_other_sessions`](session_core::Session::end_other_sessions) and
//! [`end_all_sessions`](session_core::Session::end_all_sessions) ("log out everywhere").
//! Flash messages and CSRF tokens are extractors behind this crate's `extras` feature.
//!
//! The table's right-hand column, run:
//!
//! ```
//! use std::time::Duration;
//!
//! use http::StatusCode;
//! use session_tower::session_core::{Error as SessionError, Value};
//! use session_tower::testing::TestSession;
//! use session_tower::{Error, Lifetime, Session};
//!
//! async fn handler(session: Session) -> Result<(), Error> {
//!     // get, get_value
//!     let theme: Option<String> = session.get("theme").await?;
//!     assert_eq!(theme.as_deref(), Some("dark"));
//!     let raw = session.get_value("theme").await?;
//!     assert_eq!(raw.as_ref().map(Value::as_json), Some("\"dark\""));
//!     // insert, insert_value (read the old value first if you need it)
//!     session.insert("visits", 1_u32).await?;
//!     let previous = session.get_value("cart").await?;
//!     assert!(previous.is_none());
//!     let cart = Value::from_serialize(&[1, 2]).map_err(SessionError::Encode)?;
//!     session.insert_value("cart", cart).await?;
//!     // remove, remove_value
//!     let cart: Option<Vec<u32>> = session.remove("cart").await?;
//!     assert_eq!(cart, Some(vec![1, 2]));
//!     assert!(session.remove_value("cart").await?.is_none());
//!     // is_empty; keys and len are new
//!     assert!(!session.is_empty().await?);
//!     assert_eq!(session.keys().await?, ["theme", "visits"]);
//!     // id: `Some` for a stored session
//!     assert!(session.id().await?.is_some());
//!     // set_expiry(Some(Expiry::OnInactivity(Duration::days(30)))), kept with the session
//!     session.set_lifetime(Lifetime::persistent(Duration::from_secs(30 * 86_400)));
//!     // set_expiry(None)
//!     session.reset_lifetime();
//!     Ok(())
//! }
//!
//! async fn login(session: Session) -> Result<(), Error> {
//!     session.cycle_id(); // cycle_id().await?
//!     session.insert("user", "alice").await?;
//!     Ok(())
//! }
//!
//! async fn logout(session: Session) {
//!     session.expire(); // flush().await? or delete().await?
//! }
//!
//! async fn forget(session: Session) -> Result<(), Error> {
//!     session.clear().await?; // clear().await
//!     Ok(())
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // A returning visitor's request: Session::new(Some(id), store, None) in tower-sessions' tests.
//! let test = TestSession::with_values([("theme", "dark")]).await?;
//! handler(Session(test.session())).await?;
//! let outcome = test.commit(StatusCode::OK).await?;
//! assert_eq!(outcome.stored_keys(), ["theme", "visits"]);
//!
//! let test = outcome.next();
//! let old_id = test.session().id().await?;
//! login(Session(test.session())).await?;
//! let outcome = test.commit(StatusCode::OK).await?;
//! assert!(outcome.sends_id() && outcome.id() != old_id.as_ref(), "a new id");
//! assert_eq!(outcome.stored::<String>("theme")?.as_deref(), Some("dark"), "the data kept");
//!
//! let test = outcome.next();
//! forget(Session(test.session())).await?;
//! let outcome = test.commit(StatusCode::OK).await?;
//! assert!(outcome.is_stored() && outcome.stored_keys().is_empty());
//!
//! let test = outcome.next();
//! logout(Session(test.session())).await;
//! let outcome = test.commit(StatusCode::OK).await?;
//! assert!(outcome.removes_id() && !outcome.is_stored());
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ## Errors in handlers
//!
//! tower-sessions' `session::Error` (`SerdeJson`, `Store`) is no response, so handlers mapped
//! it themselves. Here the methods return [`session_core::Error`] (`Encode` and `Decode` where
//! tower-sessions has `SerdeJson`, `Store`, and a few more), and `?` converts it into
//! [`session_tower::Error`](crate::Error), an axum `IntoResponse`: a bare
//! `500 Internal Server Error` with an empty body, the cause logged with `tracing` (never the
//! session id). A handler with an error type of its own converts explicitly, or keeps that
//! response:
//!
//! ```
//! use axum::Router;
//! use axum::response::{IntoResponse, Response};
//! use axum::routing::get;
//! use session_tower::{Error, Session};
//!
//! async fn visits(session: Session) -> Result<String, Error> {
//!     let n: u32 = session.get("visits").await?.unwrap_or(0);
//!     Ok(n.to_string())
//! }
//!
//! async fn visits_or_response(session: Session) -> Result<String, Response> {
//!     let n = session.get::<u32>("visits").await.map_err(|e| Error::from(e).into_response())?;
//!     Ok(n.unwrap_or(0).to_string())
//! }
//! # let _: Router = Router::new().route("/", get(visits).post(visits_or_response));
//! ```
//!
//! A handler that extracts a [`Session`](crate::Session) on a route no layer wraps is refused
//! with [`MissingSession`](crate::MissingSession), a 500 naming the problem, as tower-sessions
//! refuses it with its own message.
//!
//! # The layer and its options
//!
//! tower-sessions' `SessionManagerLayer` takes a store and sets the cookie's attributes itself.
//! Ours takes a State (where the id travels: `session_state_cookie::CookieState` for a cookie;
//! [`HeaderState`](crate::HeaderState) or [`ParamState`](crate::ParamState) for clients
//! without cookies) and a store, or a configured [`Engine`](crate::Engine):
//!
//! ```text
//! // tower-sessions
//! SessionManagerLayer::new(store)
//!     .with_name("sid")
//!     .with_same_site(SameSite::Lax)
//!     .with_expiry(Expiry::OnInactivity(Duration::days(7)))
//! ```
//!
//! | tower-sessions 0.14 | session-tower |
//! |---|---|
//! | `SessionManagerLayer::new(store)` | `SessionLayer::new(CookieState::default(), store)` |
//! | `.with_name(name)` | `CookieState::builder().name(name)` |
//! | `.with_http_only(b)` | `CookieState::builder().http_only(b)` |
//! | `.with_same_site(s)` | `CookieState::builder().same_site(s)` (or `.no_same_site()`) |
//! | `.with_secure(b)` | `CookieState::builder().secure(b)` |
//! | `.with_path(path)` | `CookieState::builder().path(path)` |
//! | `.with_domain(domain)` | `CookieState::builder().domain(domain)` |
//! | none | `CookieState::builder().partitioned(b)` |
//! | `.with_expiry(expiry)` | `Engine::builder(..).lifetime(..)`: [Lifetimes](#lifetimes) |
//! | `.with_always_save(true)` | `EngineBuilder::touch_interval(..)`: [Lifetimes](#lifetimes) |
//! | `.with_signed(key)`, `.with_private(key)` | no key: [see below](#signed-and-private-cookies) |
//! | the configured layer | `.build()`, then `SessionLayer::from(engine)` |
//!
//! The cookie defaults are tower-sessions' (name `id`, `HttpOnly`, `Secure`, `Path=/`, no
//! `Domain`, a browser-session cookie) but for one: `SameSite=Lax` where tower-sessions sends
//! `Strict`. Ask for `same_site(SameSite::Strict)` to keep it. `SameSite` is
//! `session_state_cookie::SameSite`, not the cookie crate's. `CookieStateBuilder::build` checks
//! the settings and refuses (with a `CookieConfigError`) what would break the header or what
//! browsers reject, such as `SameSite=None` without `Secure`, or a `__Host-` name with a
//! `Domain`. In production, prefer a `__Host-` name (`CookieState::new("__Host-id")?`): browsers
//! then refuse the cookie from sibling subdomains.
//!
//! [`EngineBuilder`](crate::EngineBuilder) has no counterpart in tower-sessions for the rest:
//! [`absolute_timeout`](session_core::EngineBuilder::absolute_timeout) (sessions end a fixed
//! time after they were created, however active), [`ids`](session_core::EngineBuilder::ids)
//! (the id scheme), [`clock`](session_core::EngineBuilder::clock) (a manual clock in tests),
//! [`commit_on_server_error`](session_core::EngineBuilder::commit_on_server_error),
//! [`cache_control_no_store`](session_core::EngineBuilder::cache_control_no_store),
//! [`store_timeout`](session_core::EngineBuilder::store_timeout) (a bound on every store call),
//! [`max_sessions_per_subject`](session_core::EngineBuilder::max_sessions_per_subject) and
//! [`revocation_store`](session_core::EngineBuilder::revocation_store).
//!
//! ```
//! use std::time::Duration;
//!
//! use axum::{Router, body::Body, routing::get};
//! use http::{Request, header};
//! use session_state_cookie::{CookieState, SameSite};
//! use session_tower::{Engine, Error, Lifetime, MemoryStore, Session, SessionLayer};
//! use tower::ServiceExt;
//!
//! async fn visit(session: Session) -> Result<(), Error> {
//!     session.insert("seen", true).await?;
//!     Ok(())
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // SessionManagerLayer::new(store)
//! let plain = SessionLayer::new(CookieState::default(), MemoryStore::default());
//!
//! let cookie = CookieState::builder()
//!     .name("sid")                  // with_name("sid")
//!     .http_only(true)              // with_http_only(true)
//!     .same_site(SameSite::Strict)  // with_same_site(SameSite::Strict), their default
//!     .secure(true)                 // with_secure(true)
//!     .path("/")                    // with_path("/")
//!     .domain("example.com")        // with_domain("example.com")
//!     .build()?;
//! let engine = Engine::builder(cookie, MemoryStore::default())
//!     // with_expiry(Expiry::OnInactivity(Duration::days(7)))
//!     .lifetime(Lifetime::persistent(Duration::from_secs(7 * 86_400)))
//!     // No tower-sessions equivalent: at most 30 days, however active.
//!     .absolute_timeout(Duration::from_secs(30 * 86_400))
//!     .build();
//! let app: Router = Router::new().route("/", get(visit)).layer(SessionLayer::from(engine));
//!
//! let response = app.oneshot(Request::new(Body::empty())).await?;
//! let set_cookie = response.headers()[header::SET_COOKIE].to_str()?;
//! assert!(set_cookie.starts_with("sid="));
//! assert!(set_cookie.contains("SameSite=Strict"));
//! assert!(set_cookie.contains("Max-Age="), "a persistent cookie");
//! # let _ = plain;
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ## Lifetimes
//!
//! | tower-sessions 0.14 | session-tower |
//! |---|---|
//! | no `with_expiry` (the default) | `Lifetime::default()`: browser session, 24 h idle |
//! | `Expiry::OnSessionEnd` | `Lifetime::browser_session(idle)` |
//! | `Expiry::OnInactivity(duration)` | `Lifetime::persistent(duration)` |
//! | `Expiry::AtDateTime(when)` | none; `EngineBuilder::absolute_timeout(cap)` is the nearest |
//! | `.with_always_save(true)` | what ours does on requests that use the session; see below |
//! | `session.set_expiry(Some(expiry))` | `session.set_lifetime(lifetime)`, kept with the session |
//!
//! [`Lifetime::browser_session`](crate::Lifetime::browser_session) and
//! [`Lifetime::persistent`](crate::Lifetime::persistent) take a `std::time::Duration` (whole
//! seconds), not a `time::Duration`: `Duration::days(7)` becomes
//! `Duration::from_secs(7 * 86_400)`. Without an expiry, tower-sessions sends a browser-session
//! cookie and keeps the record two weeks after its last save; `Lifetime::default()` keeps it 24
//! hours after its last use (`Lifetime::browser_session(Duration::from_secs(14 * 86_400))`
//! keeps tower-sessions' two weeks). `AtDateTime` has no counterpart: an expiry is always
//! relative, either to the last use (the idle timeout) or to the session's creation
//! ([`absolute_timeout`](session_core::EngineBuilder::absolute_timeout), for every session).
//!
//! The idle timeout slides on every request that uses the session, reads included. tower-sessions
//! counts changes only, unless `with_always_save(true)` makes it save the session (and send the
//! cookie) on every response to a request that carries its cookie, routes that never use the
//! session included (5xx responses excepted). Here a request whose handler never touches its
//! session extends nothing; one that only reads it writes the new expiry when more than the
//! [`touch_interval`](session_core::EngineBuilder::touch_interval) has passed since the last
//! write (default: a tenth of the idle timeout, at most a minute), and a persistent cookie is
//! then sent again with the new `Max-Age`. So for the requests that use the session, the default
//! already does what `with_always_save(true)` was for, with at most one such write per touch
//! interval; `touch_interval(Duration::ZERO)` writes on every request that uses the session, as
//! `with_always_save(true)` does. A route that should count as activity must use the session.
//! There is no way to extend on changes only.
//!
//! ## Signed and private cookies
//!
//! tower-sessions' `with_signed(key)` and `with_private(key)` sign or encrypt the cookie that
//! carries the session id; the data stays in the store. With a server-side store ours takes no
//! key: ids are 256 random bits from the OS CSPRNG, validated against the id scheme before any
//! store sees them, and the store is keyed by the id's SHA-256 digest. An id the client made up
//! or altered names no session and is never adopted, so there is nothing for a signature to add.
//! Drop the key.
//!
//! The closest thing to a key here is `session_state_cookie::SealedCookie`, and it is a
//! different design: the whole session lives in the cookie, encrypted (`SealMode::Private`,
//! AES-256-GCM, the default) or signed (`SealMode::Signed`, HMAC-SHA256, readable by the
//! client), with no server-side store at all. Give it to
//! [`SessionLayer::client_side`](crate::SessionLayer::client_side), or to
//! [`Engine::client_side_builder`](crate::Engine::client_side_builder) to configure the
//! lifetime. Its key is a `SealKey`; from the `cookie::Key` given to tower-sessions,
//! `SealKey::from_cookie_key(&key)` (feature `cookie-key` of session-state-cookie) or
//! `SealKey::from_bytes(key.master())` make the same key, derived under a label of its own so
//! that it never equals the jar's key. Better still, give sessions a key of their own.
//!
//! What a sealed cookie cannot do: revoke a copied cookie before its expiry (logout and
//! `cycle_id` replace only the browser's copy; a copy still opens until its sealed expiry), or
//! merge concurrent requests' writes (the browser keeps whichever response comes last). About
//! 3,000 bytes of encoded session fit; a session that would not fit the 4096-byte cookie is a
//! logged error (a bare 500; [`save`](session_core::Session::save) reports it to the handler
//! first), never a truncated cookie. Keep such sessions small and their idle timeout short.
//!
//! ```
//! use std::time::Duration;
//!
//! use axum::{Router, body::Body, routing::get};
//! use http::{Request, header};
//! use session_state_cookie::{CookieState, KeyError, SealKey, SealMode, SealedCookie};
//! use session_tower::{Engine, Error, Lifetime, Session, SessionLayer};
//! use tower::ServiceExt;
//!
//! /// `master`: the 64 bytes of the `cookie::Key` given to tower-sessions, `key.master()`.
//! fn seal_key(master: &[u8]) -> Result<SealKey, KeyError> {
//!     SealKey::from_bytes(master)
//! }
//!
//! async fn login(session: Session) -> Result<(), Error> {
//!     session.cycle_id();
//!     session.insert("user", "alice").await?;
//!     Ok(())
//! }
//!
//! async fn whoami(session: Session) -> Result<String, Error> {
//!     Ok(session.get::<String>("user").await?.unwrap_or_default())
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! # let master: Vec<u8> = (0..64_u8).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect();
//! let key = seal_key(&master)?;
//!
//! // Encrypted, as with with_private(key), but the whole session is in the cookie.
//! let private = SessionLayer::client_side(SealedCookie::new(key.clone()));
//! // Signed, as with with_signed(key): the client can read the session, not change it.
//! let signed = SealedCookie::builder(key.clone()).mode(SealMode::Signed).build();
//! let signed = SessionLayer::client_side(signed);
//!
//! // The cookie's attributes and the lifetime, as with a store.
//! let sealed = SealedCookie::builder(key)
//!     .cookie(CookieState::builder().name("sid").build()?)
//!     .build();
//! let engine = Engine::client_side_builder(sealed)
//!     .lifetime(Lifetime::browser_session(Duration::from_secs(2 * 3_600)))
//!     .build();
//! let app: Router = Router::new()
//!     .route("/login", get(login))
//!     .route("/whoami", get(whoami))
//!     .layer(SessionLayer::from(engine));
//!
//! let request = Request::builder().uri("/login").body(Body::empty())?;
//! let response = app.clone().oneshot(request).await?;
//! let set_cookie = response.headers()[header::SET_COOKIE].to_str()?;
//! assert!(set_cookie.starts_with("sid=") && !set_cookie.contains("alice"));
//! let cookie = set_cookie.split(';').next().unwrap_or_default().to_owned();
//!
//! let request = Request::builder().uri("/whoami").header(header::COOKIE, cookie);
//! let response = app.oneshot(request.body(Body::empty())?).await?;
//! let body = axum::body::to_bytes(response.into_body(), 1024).await?;
//! assert_eq!(body, "alice");
//! # let _ = (private, signed);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Stores
//!
//! | tower-sessions 0.14 (crate) | session-rs (crate) |
//! |---|---|
//! | `MemoryStore` (tower-sessions) | [`MemoryStore`](crate::MemoryStore) (this crate) |
//! | `MokaStore` (tower-sessions-moka-store) | `CacheStore` (session-store-cache) |
//! | `CachingSessionStore` (tower-sessions) | `CachingStore` (session-store-cache) |
//! | `RedisStore` (tower-sessions-redis-store, on fred) | `RedisStore` (session-store-redis) |
//! | `PostgresStore` (tower-sessions-sqlx-store) | `PgStore` (session-store-sqlx) |
//! | `SqliteStore` (tower-sessions-sqlx-store) | `SqliteStore` (session-store-sqlx) |
//! | `MySqlStore` (tower-sessions-sqlx-store) | none |
//! | none | `FileStore` (session-store-file) |
//! | none | `NullStore` (session-store-null): keeps nothing |
//! | the `SessionStore` trait | [`session_core::store::Store`] |
//!
//! Every store here is given to [`SessionLayer::new`](crate::SessionLayer::new) (or
//! [`Engine::builder`](crate::Engine::builder)) with the State, by value. Sessions that
//! tower-sessions stored are not read by any of them.
//!
//! - **`MemoryStore`**: tower-sessions' is an unbounded map that never removes an expired
//!   session (it only stops returning it). Ours is bounded (by estimated size, 256 MiB unless
//!   `MemoryStore::max_bytes` or `max_sessions` says otherwise; past it, the least recently used
//!   sessions are evicted, so their users are logged out) and removes expired sessions as it
//!   goes.
//! - **`MokaStore::new(Some(n))`** → `CacheStore::new(n)`. `MokaStore::new(None)` (no bound) has
//!   no counterpart: `CacheStore::default()` holds 100 000 sessions, and
//!   `CacheStore::on(MokaCache::builder().max_bytes(..).build())` bounds the cache by size.
//!   Expiry is exact, and a full cache evicts rather than refusing a new session.
//! - **`CachingSessionStore::new(cache, store)`** → `CachingStore::new(front, back)`, in the same
//!   order. Reads that hit the front never reach the back; writes go to the back, then the same
//!   write to the front; a delete empties the front first. Several processes sharing one back
//!   store each have their own front: bound how long a front serves an entry with
//!   `MokaCacheBuilder::max_entry_age`, or use no front there.
//! - **Files** (nothing in tower-sessions): `FileStore::open(dir)`, a file per session named by
//!   the id's digest, crash-safe writes, shared by the processes of one machine.
//!
//! ```
//! use session_state_cookie::CookieState;
//! use session_store_cache::{CacheStore, CachingStore};
//! use session_store_file::FileStore;
//! use session_store_null::NullStore;
//! use session_tower::{MemoryStore, SessionLayer};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // MemoryStore::default()
//! let memory = SessionLayer::new(CookieState::default(), MemoryStore::default());
//! // MokaStore::new(Some(50_000))
//! let moka = SessionLayer::new(CookieState::default(), CacheStore::new(50_000));
//! // FileStore::open("/var/lib/myapp/sessions") for a directory of your own.
//! let files = FileStore::temporary()?;
//! // CachingSessionStore::new(MokaStore::new(Some(10_000)), store)
//! let cached = CachingStore::new(CacheStore::new(10_000), files);
//! let cached = SessionLayer::new(CookieState::default(), cached);
//! let nothing = SessionLayer::new(CookieState::default(), NullStore);
//! # let _ = (memory, moka, cached, nothing);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ## `RedisStore`
//!
//! tower-sessions-redis-store takes a fred client or pool that the application builds, and
//! keeps each session as one MessagePack value under the raw id, rewritten whole with `SET`.
//! session-store-redis connects by itself with the redis crate (one multiplexed connection
//! that reconnects by itself) from a URL:
//!
//! | tower-sessions-redis-store 0.16 | session-store-redis |
//! |---|---|
//! | `RedisStore::new(pool)` | `RedisStore::connect(url).await?` |
//! | a fred `Config` and `Builder` | `RedisStore::builder(url)`, then `.connect().await?` |
//! | a fred cluster config | `RedisStore::cluster_builder(nodes)` |
//!
//! Each session is one Redis hash under `session:` (`RedisStoreBuilder::prefix`) and the hex
//! SHA-256 of its id, changed a key at a time by Lua scripts that first check the session is
//! still live; every call is bounded by `RedisStoreBuilder::timeout` (default 1 s), and
//! `RedisStoreBuilder::client_cache` serves reads from this process's memory until Redis reports
//! a change. `connect` fails, at startup, when Redis cannot be reached (`lazy(true)` connects
//! on first use instead). For TLS, add the redis crate with its TLS feature and use a
//! `rediss://` URL.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use session_state_cookie::CookieState;
//! use session_store_redis::RedisStore;
//! use session_tower::{Error, Session, SessionLayer};
//!
//! async fn counter(session: Session) -> Result<String, Error> {
//!     let n: u64 = session.get("counter").await?.unwrap_or(0);
//!     session.insert("counter", n + 1).await?;
//!     Ok(n.to_string())
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // RedisStore::new(pool), on a pool built from a fred Config
//! let defaults = RedisStore::connect("redis://127.0.0.1:6379/0").await?;
//!
//! let store = RedisStore::builder("redis://127.0.0.1:6379/0")
//!     .prefix("myapp:session:")
//!     .connect() // fails here if Redis cannot be reached
//!     .await?;
//! let app: Router = Router::new()
//!     .route("/", get(counter))
//!     .layer(SessionLayer::new(CookieState::default(), store));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # let _ = defaults;
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ## `PostgresStore` and `SqliteStore`
//!
//! Both crates take the application's sqlx pool; session-store-sqlx re-exports its sqlx
//! (`session_store_sqlx::sqlx`, 0.8) so that the pool types match.
//!
//! | tower-sessions-sqlx-store 0.15 | session-store-sqlx |
//! |---|---|
//! | `PostgresStore::new(pool)` | `PgStore::new(pool)` |
//! | `.with_schema_name(s)?` | `PgStore::builder(pool).schema(s)`, then `.build()?` |
//! | `.with_table_name(t)?` | `PgStore::builder(pool).table(t)`, then `.build()?` |
//! | `SqliteStore::new(pool)` | `SqliteStore::new(pool)`, or `SqliteStore::open(path).await?` |
//! | `SqliteStore::new(pool).with_table_name(t)?` | `SqliteStore::builder(pool).table(t)` |
//! | `store.migrate().await?` | `store.migrate().await?` (returns the schema's version) |
//! | `store.delete_expired().await?` | `store.delete_expired().await?` (returns how many) |
//! | `continuously_delete_expired(period)`, spawned | `store.spawn_cleanup(period)` |
//!
//! tower-sessions keeps each session as one MessagePack blob, upserted whole, in
//! `tower_sessions.session` (PostgreSQL) or `tower_sessions` (SQLite). Ours keeps a row per
//! session and a row per value, in `sessions` and `sessions_values` (and records its migrations in
//! `sessions_migrations`), on the connection's `search_path` unless a schema is given: the old
//! tables are left alone; drop them once nobody needs them. `migrate` is safe at every start and
//! from several processes at once. `spawn_cleanup` logs a failed pass and carries on (the
//! `continuously_delete_expired` future ends at its first error). `SqliteStore::open` opens (or
//! creates) the file in WAL mode and migrates it; `session_store_sqlx::sqlite_pool` opens a pool
//! that way for an application that shares it.
//!
//! ```
//! use session_state_cookie::CookieState;
//! use session_store_sqlx::{SqliteStore, sqlite_pool};
//! use session_tower::SessionLayer;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! # let path = std::env::temp_dir().join(format!("migrating-{}.db", std::process::id()));
//! // SqliteStore::new(pool), then migrate(), on the application's pool
//! let store = SqliteStore::new(sqlite_pool(&path).await?);
//! store.migrate().await?;
//! let shared = SessionLayer::new(CookieState::default(), store);
//!
//! // A database of its own: opened (created if missing) and migrated in one call.
//! let store = SqliteStore::open(&path).await?;
//! let own = SessionLayer::new(CookieState::default(), store);
//! # drop((shared, own));
//! # for end in ["", "-wal", "-shm"] {
//! #     let _ = std::fs::remove_file(format!("{}{end}", path.display()));
//! # }
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use session_state_cookie::CookieState;
//! use session_store_sqlx::PgStore;
//! use session_store_sqlx::sqlx::PgPool;
//! use session_tower::SessionLayer;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let pool = PgPool::connect("postgres://app@db.internal/app").await?;
//! // PostgresStore::new(pool).with_schema_name("app")?.with_table_name("sessions")?
//! let store = PgStore::builder(pool).schema("app").table("sessions").build()?;
//! store.migrate().await?; // creates or upgrades the tables
//! // tokio::spawn(store.clone().continuously_delete_expired(period))
//! let _cleanup = store.spawn_cleanup(Duration::from_secs(600));
//! let layer = SessionLayer::new(CookieState::default(), store);
//! # let _ = layer;
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ## Stores of your own
//!
//! tower-sessions' `SessionStore` (`create`, `save`, `load`, `delete`) works on whole records
//! under their id. [`session_core::store::Store`] works under the id's digest
//! ([`Key`](session_core::store::Key)), never the id: `load`, `create` (never over a live
//! session), `save` and `delete`, and, overridden where the backend can do them atomically,
//! `apply` (one request's key-level changes; the default loads, merges and saves) and `touch`.
//! The `session-conformance` crate checks a store against every contract.
//!
//! # What behaves differently
//!
//! - **Lazy, as in tower-sessions, and cheaper when untouched.** Both read the store only when
//!   the handler first uses the session. tower-sessions still parses the `Cookie` header and
//!   decodes the id on every request, and with `with_always_save(true)` loads and rewrites the
//!   session on every request that carries its cookie, routes that never use it included. Here
//!   a request whose handler never asks for its session parses no cookie, makes no store call
//!   and gets no `Set-Cookie`, whatever the configuration; such routes keep working while the
//!   store is down.
//! - **Key-level writes.** tower-sessions writes the whole record at every save, so of two
//!   concurrent requests on one session the later save drops the other's changes (and its
//!   memory, moka and SQL stores can bring back a session that another request just deleted).
//!   Here only the keys a request changed are written, atomically per session (memory, moka,
//!   files, Redis, PostgreSQL, SQLite), so concurrent requests keep each other's keys; on one
//!   key, the later commit wins. A session that has ended (logged out, expired) is never
//!   written again. (A sealed cookie cannot merge: the last response the browser keeps wins.)
//! - **No cookie for an empty new session**, as in tower-sessions: a new session is stored, and
//!   its cookie sent, only once it holds data (or is saved, or bound to a subject); an untouched
//!   request sends no cookie. One difference: a cookie that names no live session (an expired
//!   session's, or tower-sessions' old one) is not removed when the handler reads the session,
//!   as tower-sessions removes it; the next cookie the application sends replaces it.
//! - **Caching headers.** Every response whose handler used the session gets `Vary: Cookie`;
//!   every response that sets or removes the id gets `Cache-Control: no-store`, replacing any
//!   other `Cache-Control` the handler set
//!   ([`cache_control_no_store(false)`](session_core::EngineBuilder::cache_control_no_store)
//!   turns that off). tower-sessions adds neither.
//! - **Store errors.** A store failure while committing turns the response into a bare
//!   `500 Internal Server Error` with an empty body, the cause logged with `tracing` at `error`
//!   level (never the session id), as tower-sessions does when its save fails. A failure during
//!   the handler reaches it as an `Err`, which `?` turns into the same bare 500.
//!   [`store_timeout`](session_core::EngineBuilder::store_timeout) bounds every store call, so
//!   a store that hangs cannot hold requests forever.
//! - **Server errors.** tower-sessions does not save on a 5xx response either, but its `delete`,
//!   `flush` and `cycle_id` have already acted on the store by then (a `cycle_id` followed by a
//!   5xx loses the session). Here every change waits for the commit, and a 5xx response (or an
//!   error from the wrapped service) commits nothing but an expiry: `expire()` is carried out;
//!   `cycle_id()` and the data changes are not, so the session stays as it was.
//!   [`commit_on_server_error(true)`](session_core::EngineBuilder::commit_on_server_error)
//!   commits them anyway. What [`save`](session_core::Session::save) wrote stays written.
//! - **Ids and digests.** tower-sessions' ids are 128 random bits (22 characters), and its
//!   stores are keyed by the id itself. Ours are 256 bits from the OS CSPRNG (43 characters),
//!   strictly validated before any store sees them, and stores only ever see the id's SHA-256
//!   digest: a dump of the store yields no usable cookie. A malformed or unknown id gives a
//!   fresh session, never one the client chose.
//! - **Errors in handlers.** Handlers return [`session_tower::Error`](crate::Error), which `?`
//!   converts into and which answers a logged, bare 500, instead of mapping tower-sessions'
//!   `session::Error` themselves (see [Errors in handlers](#errors-in-handlers)).
//! - **Reads extend the expiry**, not only changes (see [Lifetimes](#lifetimes)).
//! - **Late changes.** Both commit when the handler's response is ready, before a streamed body
//!   is sent. A change made after that is dropped here with a `tracing` warning, or stored when
//!   the body ends if the handler called [`late_store`](session_core::Session::late_store).
//!
//! The first requests of a session through the layer: an untouched route, a read, a login, and
//! a 5xx that commits nothing.
//!
//! ```
//! use axum::response::Response;
//! use axum::{Router, body::Body, routing::get};
//! use http::{Request, StatusCode, header};
//! use session_state_cookie::CookieState;
//! use session_tower::{Error, MemoryStore, Session, SessionLayer};
//! use tower::ServiceExt;
//!
//! async fn whoami(session: Session) -> Result<String, Error> {
//!     Ok(session.get::<String>("user").await?.unwrap_or_default())
//! }
//!
//! async fn login(session: Session) -> Result<(), Error> {
//!     session.cycle_id();
//!     session.insert("user", "alice").await?;
//!     Ok(())
//! }
//!
//! async fn broken(session: Session) -> Result<StatusCode, Error> {
//!     session.insert("user", "mallory").await?;
//!     Ok(StatusCode::INTERNAL_SERVER_ERROR)
//! }
//!
//! /// Sends one request to `app`, with the cookie if any.
//! async fn call(
//!     app: &Router,
//!     uri: &str,
//!     cookie: Option<&str>,
//! ) -> Result<Response, Box<dyn std::error::Error>> {
//!     let mut request = Request::builder().uri(uri);
//!     if let Some(cookie) = cookie {
//!         request = request.header(header::COOKIE, cookie);
//!     }
//!     Ok(app.clone().oneshot(request.body(Body::empty())?).await?)
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let app: Router = Router::new()
//!     .route("/health", get(|| async { "ok" }))
//!     .route("/whoami", get(whoami))
//!     .route("/login", get(login))
//!     .route("/broken", get(broken))
//!     .layer(SessionLayer::new(CookieState::default(), MemoryStore::default()));
//!
//! // Untouched: no cookie, no `Vary`.
//! let response = call(&app, "/health", None).await?;
//! assert!(!response.headers().contains_key(header::SET_COOKIE));
//! assert!(!response.headers().contains_key(header::VARY));
//!
//! // Read, still empty: no cookie, but `Vary: Cookie`.
//! let response = call(&app, "/whoami", None).await?;
//! assert!(!response.headers().contains_key(header::SET_COOKIE));
//! assert_eq!(response.headers()[header::VARY], "cookie");
//!
//! // Login: a cookie, and `Cache-Control: no-store`.
//! let response = call(&app, "/login", None).await?;
//! assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
//! let set_cookie = response.headers()[header::SET_COOKIE].to_str()?;
//! let cookie = set_cookie.split(';').next().unwrap_or_default().to_owned();
//!
//! // A 5xx: nothing written, no cookie.
//! let response = call(&app, "/broken", Some(&cookie)).await?;
//! assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
//! assert!(!response.headers().contains_key(header::SET_COOKIE));
//! let response = call(&app, "/whoami", Some(&cookie)).await?;
//! let body = axum::body::to_bytes(response.into_body(), 1024).await?;
//! assert_eq!(body, "alice");
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! Two concurrent requests on one session, each changing its own key, keep both (with
//! tower-sessions, the later save would have dropped `theme`):
//!
//! ```
//! use http::StatusCode;
//! use session_tower::testing::TestSession;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let stored = TestSession::with_values([("cart", 1)]).await?;
//! let before = stored.commit(StatusCode::OK).await?;
//! let (a, b) = (before.next(), before.next()); // the same id, in flight together
//! a.session().insert("theme", "dark").await?;
//! b.session().insert("lang", "fr").await?;
//! a.commit(StatusCode::OK).await?;
//! let after = b.commit(StatusCode::OK).await?;
//! assert_eq!(after.stored_keys(), ["cart", "lang", "theme"]);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
