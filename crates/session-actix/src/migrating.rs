//! Migrating from actix-session 0.11: its methods, builder options and stores, and what changes.
//!
//! Every example below compiles as a doc test against this crate; actix-session's side is shown
//! in tables and `text` blocks only.
//!
//! # Steps
//!
//! 1. Dependencies: replace `actix-session` with `session-actix`, `session-state-cookie` (the
//!    cookie) and a store crate (`session-store-redis`, say; the in-memory store comes with
//!    this crate).
//! 2. Handlers: take [`Session`](crate::Session) from this crate, add `.await` to every method
//!    that reads or writes data, and return [`Error`](crate::Error) (or convert it, see
//!    [below](#errors-in-handlers)).
//! 3. The middleware: [`SessionMiddleware::new`](crate::SessionMiddleware::new) takes a State
//!    (where the id travels: `CookieState`) and a store; options go through
//!    [`Engine::builder`](crate::Engine::builder).
//! 4. The secret key: drop it, unless the whole session lives in the cookie (then it becomes a
//!    `SealKey`).
//! 5. Expect every user to start a fresh session once: neither actix-session's cookies nor its
//!    stored sessions are read (an old cookie is no valid id here, and is replaced by the next
//!    cookie the application sends).
//!
//! ```toml
//! [dependencies]
//! session-actix = "0.1"
//! session-state-cookie = "0.1"
//! session-store-redis = "0.1"    # or another store; MemoryStore needs none
//! ```
//!
//! # The session's methods
//!
//! Handlers take [`session_actix::Session`](crate::Session), an extractor that derefs to
//! [`session_core::Session`]. Its data methods are `async` and return
//! `Result<_, session_core::Error>`: the first one a request calls loads the session from the
//! store, which can fail. Values are typed through serde and kept as JSON, as in
//! actix-session.
//!
//! | actix-session 0.11 | session-actix |
//! |---|---|
//! | `session.get::<T>(k)?` | `session.get::<T>(k).await?` |
//! | `session.contains_key(k)` | `session.get_value(k).await?.is_some()` |
//! | `session.entries()` | `session.keys().await?`, then `session.get_value(&k).await?` each |
//! | `session.status()` | no equivalent: see below |
//! | `session.insert(k, v)?` | `session.insert(k, v).await?` (`k` is a `&str`) |
//! | `session.update(k, f)?` | `get`, then `insert` if the key was there |
//! | `session.update_or(k, default, f)?` | `get`, then `insert` of `f(v)` or `default` |
//! | `session.remove(k)` | `session.remove_value(k).await?` |
//! | `session.remove_as::<T>(k)` | `session.remove::<T>(k).await?` |
//! | `session.clear()` | `session.clear().await?` |
//! | `session.purge()` | `session.expire()` |
//! | `session.renew()` | `session.cycle_id()` |
//! | `request.get_session()` | `request.session()` ([`SessionExt`](crate::SessionExt)) |
//!
//! Where they differ:
//!
//! - **`get`**: a stored value that is not a `T` fails with
//!   [`Error::Decode`](session_core::Error::Decode) (actix-session: `SessionGetError`).
//! - **`entries`**: there is no borrowed map. [`keys`](session_core::Session::keys) lists the
//!   keys in sorted order; [`get_value`](session_core::Session::get_value) returns a
//!   [`Value`](session_core::Value) whose [`as_json`](session_core::Value::as_json) is the JSON
//!   text actix-session's map held.
//! - **`remove`** returns the raw [`Value`](session_core::Value) rather than a `String`.
//!   **`remove_as`**: with a value that is not a `T`, both remove the key; actix-session hands
//!   back the JSON text, [`remove`](session_core::Session::remove) an `Error::Decode` (call
//!   `remove_value` to keep the text).
//! - **`update`, `update_or`**: read, then insert. Two concurrent requests doing this on one key:
//!   the later commit wins, as in actix-session. Requests changing *different* keys keep each
//!   other's writes here (only changed keys are written: see
//!   [What behaves differently](#what-behaves-differently)).
//! - **`purge`** → [`expire`](session_core::Session::expire): at commit the record is deleted
//!   and the cookie removed. It wins over every other change in the request and is carried out
//!   even when the response is a server error.
//! - **`renew`** → [`cycle_id`](session_core::Session::cycle_id): a new id at commit, the data
//!   kept, the old id dead. Keys under
//!   [`Session::ID_BOUND_PREFIX`](session_core::Session::ID_BOUND_PREFIX) (`~id.`) are dropped
//!   with the old id. Call it at every login and privilege change.
//! - **`status`** has no equivalent: a session does not report what its commit will do. Code
//!   that calls `expire` or `cycle_id` knows it already; a later middleware that needs to know
//!   can be told through the request's extensions. In unit tests,
//!   [`testing::TestSession`](crate::testing::TestSession) commits a session and its
//!   [`Outcome`](crate::testing::Outcome) says what happened: `sends_id`, `removes_id`,
//!   `is_stored`, `stored`, `id`.
//! - **`get_session`** returns `Option<session_core::Session>`: `None` when no
//!   `SessionMiddleware` wraps the route. It is implemented for `HttpRequest`, `ServiceRequest`
//!   and `GuardContext`; from a `ServiceResponse`, call `response.request().session()`.
//!
//! What actix-session has no counterpart for: [`len`](session_core::Session::len),
//! [`is_empty`](session_core::Session::is_empty), [`id`](session_core::Session::id),
//! [`save`](session_core::Session::save) (write now and learn the id),
//! [`skip_store`](session_core::Session::skip_store) (write nothing for this request),
//! [`set_lifetime`](session_core::Session::set_lifetime) and
//! [`reset_lifetime`](session_core::Session::reset_lifetime) ("remember me" per session),
//! [`set_cookie_options`](session_core::Session::set_cookie_options) (this response's cookie
//! path, domain, partitioned), [`late_store`](session_core::Session::late_store) (changes
//! made while a streamed body is sent) and [`bind`](session_core::Session::bind) (sessions per
//! user).
//!
//! The table's right-hand column, run:
//!
//! ```
//! use std::collections::BTreeMap;
//!
//! use actix_web::dev::ServiceResponse;
//! use actix_web::{HttpRequest, HttpResponse};
//! use session_actix::testing::TestSession;
//! use session_actix::{Error, Session, SessionExt};
//!
//! async fn handler(session: Session) -> Result<(), Error> {
//!     // get
//!     let theme: Option<String> = session.get("theme").await?;
//!     assert_eq!(theme.as_deref(), Some("dark"));
//!     // contains_key
//!     assert!(session.get_value("theme").await?.is_some());
//!     // insert
//!     session.insert("visits", 1_u32).await?;
//!     // update_or("visits", 1, |n| n + 1)
//!     let visits = session.get::<u32>("visits").await?.map_or(1, |n| n + 1);
//!     session.insert("visits", visits).await?;
//!     // update("cart", |n: u32| n * 2): only if the key is there
//!     if let Some(n) = session.get::<u32>("cart").await? {
//!         session.insert("cart", n * 2).await?;
//!     }
//!     // entries
//!     let mut entries = BTreeMap::new();
//!     for key in session.keys().await? {
//!         if let Some(value) = session.get_value(&key).await? {
//!             entries.insert(key, value.as_json().to_owned());
//!         }
//!     }
//!     assert_eq!(entries["cart"], "6");
//!     // remove_as::<String>
//!     let theme: Option<String> = session.remove("theme").await?;
//!     assert_eq!(theme.as_deref(), Some("dark"));
//!     // remove: the raw value
//!     let cart = session.remove_value("cart").await?;
//!     assert_eq!(cart.map(|value| value.as_json().to_owned()).as_deref(), Some("6"));
//!     Ok(())
//! }
//!
//! async fn login(session: Session) -> Result<(), Error> {
//!     session.cycle_id(); // renew()
//!     session.insert("user", "alice").await?;
//!     Ok(())
//! }
//!
//! async fn logout(session: Session) {
//!     session.expire(); // purge()
//! }
//!
//! async fn forget(request: HttpRequest) -> Result<HttpResponse, Error> {
//!     let session = request.session().expect("inside a SessionMiddleware"); // get_session()
//!     session.clear().await?; // clear()
//!     Ok(HttpResponse::Ok().finish())
//! }
//!
//! // In a middleware: ServiceResponse::get_session()
//! fn session_of(response: &ServiceResponse) -> Option<session_actix::session_core::Session> {
//!     response.request().session()
//! }
//!
//! # actix_rt::System::new().block_on(async {
//! let test = TestSession::with_values([("theme", "dark")]).await?;
//! test.session().insert("cart", 3_u32).await?;
//! handler(Session(test.session())).await?;
//! let outcome = test.commit(http::StatusCode::OK).await?;
//! assert_eq!(outcome.stored_keys(), ["visits"]);
//! assert_eq!(outcome.stored::<u32>("visits")?, Some(2));
//!
//! let test = outcome.next();
//! let old_id = test.session().id().await?;
//! login(Session(test.session())).await?;
//! let outcome = test.commit(http::StatusCode::OK).await?;
//! assert!(outcome.sends_id() && outcome.id() != old_id.as_ref(), "a new id");
//! assert_eq!(outcome.stored::<u32>("visits")?, Some(2), "the data kept");
//!
//! let test = outcome.next();
//! logout(Session(test.session())).await;
//! let outcome = test.commit(http::StatusCode::OK).await?;
//! assert!(outcome.removes_id() && !outcome.is_stored());
//! # let _ = actix_web::web::get().to(forget);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ## Errors in handlers
//!
//! `?` converts a `session_core::Error` into [`session_actix::Error`](crate::Error), an
//! actix-web `ResponseError` that answers a bare `500 Internal Server Error` with an empty body
//! and logs the cause with `tracing` (never the session id). A handler that returns
//! `actix_web::Result` converts explicitly:
//!
//! ```
//! use session_actix::Session;
//!
//! async fn visits(session: Session) -> actix_web::Result<String> {
//!     let n = session.get::<u32>("visits").await.map_err(session_actix::Error::from)?;
//!     Ok(n.unwrap_or(0).to_string())
//! }
//! # let _ = actix_web::web::get().to(visits);
//! ```
//!
//! # The middleware and its options
//!
//! actix-session's `SessionMiddleware<Store>` takes a store and a `Key`; ours is one type,
//! built from a State (where the id travels: `session_state_cookie::CookieState` for a cookie)
//! and a store, or from a configured [`Engine`](crate::Engine):
//!
//! ```text
//! // actix-session
//! SessionMiddleware::new(store, key)
//! SessionMiddleware::builder(store, key).cookie_name("sid".into()).build()
//! ```
//!
//! | actix-session 0.11 | session-actix |
//! |---|---|
//! | `SessionMiddleware::new(store, key)` | `SessionMiddleware::new(cookie_state, store)` |
//! | `SessionMiddleware::builder(store, key)` | `Engine::builder(cookie_state, store)` |
//! | `.build()` | `.build()`, then `SessionMiddleware::from(engine)` |
//! | `.cookie_name(name)` | `CookieState::builder().name(name)` |
//! | `.cookie_secure(b)` | `CookieState::builder().secure(b)` |
//! | `.cookie_http_only(b)` | `CookieState::builder().http_only(b)` |
//! | `.cookie_same_site(s)` | `CookieState::builder().same_site(s)` (or `no_same_site()`) |
//! | `.cookie_path(p)` | `CookieState::builder().path(p)` |
//! | `.cookie_domain(Some(d))` | `CookieState::builder().domain(d)` (`None`: leave it out) |
//! | `.cookie_content_security(..)` | nothing with a server-side store; `SealMode` when sealed |
//! | `.session_lifecycle(..)` | `EngineBuilder::lifetime(..)`, see below |
//!
//! The cookie defaults are actix-session's: name `id`, `Secure`, `HttpOnly`, `SameSite=Lax`,
//! `Path=/`, no `Domain`, a browser-session cookie, 24 hours of server-side lifetime.
//! `CookieStateBuilder::build` checks the settings and refuses (with a `CookieConfigError`)
//! what would break the header or what browsers reject, such as `SameSite=None` without
//! `Secure`. `SameSite` is `session_state_cookie::SameSite`, not actix-web's. In production,
//! prefer a `__Host-` name (`CookieState::new("__Host-id")?`): browsers then refuse the cookie
//! from sibling subdomains.
//!
//! **The key.** actix-session signs or encrypts the cookie that carries its session key (with
//! `CookieSessionStore`, the whole session). With a server-side store ours takes no key: ids are
//! 256 random bits from the OS CSPRNG, validated against the id scheme before any store sees
//! them, and a store is keyed by the id's SHA-256 digest. An id the client made up or altered
//! names no session and is never adopted. Only the sealed cookie store needs a key (a
//! `SealKey`, see [below](#cookiesessionstore--sealedcookie)).
//!
//! ## Lifetimes
//!
//! | actix-session 0.11 | session-actix |
//! |---|---|
//! | `BrowserSession::default()` (the default) | `Lifetime::default()`: browser session, 24 h |
//! | `BrowserSession::default().state_ttl(ttl)` | `Lifetime::browser_session(ttl)` |
//! | `PersistentSession::default().session_ttl(ttl)` | `Lifetime::persistent(ttl)` |
//! | `TtlExtensionPolicy::OnEveryRequest` | what ours does, on requests that use the session |
//! | `TtlExtensionPolicy::OnStateChanges` (their default) | no equivalent |
//! | none | `EngineBuilder::absolute_timeout(cap)` |
//! | none | `session.set_lifetime(Lifetime::persistent(ttl))`, one session |
//!
//! [`Lifetime::browser_session`](crate::Lifetime::browser_session) and
//! [`Lifetime::persistent`](crate::Lifetime::persistent) take a `std::time::Duration` (whole
//! seconds), not `actix_web::cookie::time::Duration`: `Duration::days(7)` becomes
//! `Duration::from_secs(7 * 86_400)`. The duration is a sliding idle timeout: every request that
//! uses the session extends it, reads included, so there is no "extend on changes only". To
//! spare the store, a read extends it only when more than
//! [`touch_interval`](crate::EngineBuilder::touch_interval) has passed since the last write
//! (default: a tenth of the idle timeout, at most a minute); a persistent cookie is then sent
//! again with the new `Max-Age`. Requests whose handler never touches the session extend
//! nothing. [`absolute_timeout`](crate::EngineBuilder::absolute_timeout) ends sessions a fixed
//! time after they were created, however active.
//!
//! ## The builder's other options
//!
//! [`EngineBuilder`](crate::EngineBuilder) has no counterpart in actix-session for the rest:
//! [`ids`](crate::EngineBuilder::ids) (the id scheme), [`clock`](crate::EngineBuilder::clock)
//! (a manual clock in tests),
//! [`commit_on_server_error`](crate::EngineBuilder::commit_on_server_error),
//! [`cache_control_no_store`](crate::EngineBuilder::cache_control_no_store),
//! [`store_timeout`](crate::EngineBuilder::store_timeout) (a bound on every store call),
//! [`max_sessions_per_subject`](crate::EngineBuilder::max_sessions_per_subject) and
//! [`revocation_store`](crate::EngineBuilder::revocation_store).
//!
//! ```
//! use std::time::Duration;
//!
//! use actix_web::{App, HttpResponse, test, web};
//! use session_actix::{Engine, Error, Lifetime, MemoryStore, Session, SessionMiddleware};
//! use session_state_cookie::{CookieState, SameSite};
//!
//! async fn visit(session: Session) -> Result<HttpResponse, Error> {
//!     session.insert("seen", true).await?;
//!     Ok(HttpResponse::Ok().finish())
//! }
//!
//! // No actix-session equivalent: "remember me", for this session only.
//! async fn remember_me(session: Session) -> HttpResponse {
//!     session.set_lifetime(Lifetime::persistent(Duration::from_secs(30 * 86_400)));
//!     HttpResponse::Ok().finish()
//! }
//!
//! # actix_rt::System::new().block_on(async {
//! // SessionMiddleware::new(store, key)
//! let plain = SessionMiddleware::new(CookieState::default(), MemoryStore::default());
//!
//! // BrowserSession::default(), and BrowserSession::default().state_ttl(Duration::hours(2))
//! assert_eq!(Lifetime::default(), Lifetime::browser_session(Duration::from_secs(86_400)));
//! let two_hours = Lifetime::browser_session(Duration::from_secs(2 * 3_600));
//!
//! // SessionMiddleware::builder(store, key)...build()
//! let cookie = CookieState::builder()
//!     .name("sid")                  // cookie_name
//!     .secure(true)                 // cookie_secure
//!     .http_only(true)              // cookie_http_only
//!     .same_site(SameSite::Strict)  // cookie_same_site
//!     .path("/")                    // cookie_path
//!     .domain("example.com")        // cookie_domain
//!     .build()?;
//! let engine = Engine::builder(cookie, MemoryStore::default())
//!     // session_lifecycle(PersistentSession::default().session_ttl(Duration::days(7)))
//!     .lifetime(Lifetime::persistent(Duration::from_secs(7 * 86_400)))
//!     .absolute_timeout(Duration::from_secs(30 * 86_400))
//!     .touch_interval(Duration::from_secs(60))
//!     .build();
//! let configured = SessionMiddleware::from(engine);
//!
//! let app = test::init_service(
//!     App::new()
//!         .wrap(configured)
//!         .route("/", web::get().to(visit))
//!         .route("/remember", web::post().to(remember_me)),
//! )
//! .await;
//! let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
//! let set_cookie = response.headers().get("set-cookie").unwrap().to_str()?;
//! assert!(set_cookie.starts_with("sid="));
//! assert!(set_cookie.contains("Max-Age="), "a persistent cookie");
//! # let _ = (plain, two_hours);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Stores
//!
//! | actix-session 0.11 | session-actix |
//! |---|---|
//! | `storage::CookieSessionStore` | `session_state_cookie::SealedCookie`, `client_side` |
//! | `storage::RedisSessionStore` | `session_store_redis::RedisStore` |
//!
//! Beyond these: [`MemoryStore`](crate::MemoryStore) (in process, bounded, the default of the
//! examples), `session_store_file::FileStore` (a file per session, shared by one machine's
//! processes), `session_store_cache::CacheStore` (a bounded moka cache),
//! `session_store_sqlx::{PgStore, SqliteStore}` (PostgreSQL or SQLite through sqlx) and
//! `session_store_null::NullStore` (keeps nothing).
//!
//! ## `CookieSessionStore` → `SealedCookie`
//!
//! The whole session in the cookie, no server storage. Give a `SealedCookie` to
//! [`SessionMiddleware::client_side`](crate::SessionMiddleware::client_side), or to
//! [`Engine::client_side_builder`](crate::Engine::client_side_builder) to configure the
//! lifetime. actix-web's `Key` holds 64 master bytes: `SealKey::from_bytes(key.master())` makes
//! the sealing key from them (under a label of its own, so it never equals the jar's key).
//!
//! | actix-session 0.11 | session-actix |
//! |---|---|
//! | `SessionMiddleware::new(CookieSessionStore::default(), key)` | see the example |
//! | `CookieContentSecurity::Private` (default) | `SealMode::Private` (default): AES-256-GCM |
//! | `CookieContentSecurity::Signed` | `SealMode::Signed`: HMAC-SHA256, readable by the client |
//! | `cookie_name`, `cookie_path`, ... | `SealedCookie::builder(key).cookie(cookie_state)` |
//! | one key | `SealedCookie::builder(key).old_key(previous)`: key rotation |
//!
//! What differs:
//!
//! - **Expiry is sealed inside and checked** on every request (idle timeout and absolute cap),
//!   so a stale copy of the cookie is a fresh session. actix-session's cookie store ignores the
//!   state TTL: a copied cookie opens for as long as someone keeps it.
//! - **Key rotation**: cookies sealed with an `old_key` still open, and are sealed again with
//!   the current key on that response.
//! - **Size**: our cookie also carries the id and the timestamps, so it is larger for the same
//!   data; about 3,000 bytes of encoded session fit. A session that would not fit the
//!   4096-byte cookie is a logged error (a bare 500; [`save`](session_core::Session::save)
//!   reports it to the handler first), never a truncated cookie.
//! - As with actix-session, a copied cookie cannot be revoked before its expiry (logout and
//!   `cycle_id` replace only the browser's copy), and concurrent requests do not merge their
//!   writes. Keep such sessions small and their idle timeout short.
//!
//! ```
//! use std::time::Duration;
//!
//! use actix_web::{App, HttpResponse, test, web};
//! use session_actix::{Engine, Error, Lifetime, Session, SessionMiddleware};
//! use session_state_cookie::{CookieState, KeyError, SealKey, SealMode, SealedCookie};
//!
//! /// `master`: the 64 bytes of actix-web's `Key`, `key.master()`.
//! fn seal_key(master: &[u8]) -> Result<SealKey, KeyError> {
//!     SealKey::from_bytes(master)
//! }
//!
//! async fn remember(session: Session) -> Result<HttpResponse, Error> {
//!     session.insert("user", "alice").await?;
//!     Ok(HttpResponse::Ok().finish())
//! }
//!
//! # actix_rt::System::new().block_on(async {
//! # let master: Vec<u8> = (0..64_u8).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect();
//! # let previous = SealKey::generate()?;
//! let key = seal_key(&master)?;
//!
//! // SessionMiddleware::new(CookieSessionStore::default(), key)
//! let simple = SessionMiddleware::client_side(SealedCookie::new(key.clone()));
//!
//! // cookie_content_security(CookieContentSecurity::Signed)
//! let signed = SealedCookie::builder(key.clone()).mode(SealMode::Signed).build();
//!
//! // The builder: cookie attributes, content security, lifetime, and an older key.
//! let sealed = SealedCookie::builder(key)
//!     .mode(SealMode::Private)
//!     .cookie(CookieState::builder().name("id").build()?)
//!     .old_key(previous)
//!     .build();
//! let engine = Engine::client_side_builder(sealed)
//!     .lifetime(Lifetime::persistent(Duration::from_secs(7 * 86_400)))
//!     .build();
//!
//! let app = test::init_service(
//!     App::new().wrap(SessionMiddleware::from(engine)).route("/", web::get().to(remember)),
//! )
//! .await;
//! let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
//! let set_cookie = response.headers().get("set-cookie").unwrap().to_str()?;
//! assert!(set_cookie.starts_with("id=") && !set_cookie.contains("alice"));
//! # let _ = (simple, signed);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ## `RedisSessionStore` → `RedisStore`
//!
//! | actix-session 0.11 | session-actix |
//! |---|---|
//! | `RedisSessionStore::new(url).await?` | `RedisStore::connect(url).await?` |
//! | `RedisSessionStore::builder(url)` | `RedisStore::builder(url)` |
//! | `.build().await?` | `.connect().await?` |
//! | `.cache_keygen(f)` | `.prefix(p)`: keys are `{p}{hex SHA-256 of the id}` |
//! | `builder_pooled(pool)` | none: one multiplexed connection that reconnects by itself |
//!
//! Each session is one Redis hash (default prefix `session:`), changed a key at a time by Lua
//! scripts that first check the session is still live; every call is bounded by
//! `RedisStoreBuilder::timeout` (default 1 s). `RedisStoreBuilder::client_cache` serves reads
//! from this process's memory until Redis reports a change; `RedisStore::cluster_builder`
//! connects to a Redis Cluster. Sessions actix-session stored (a JSON string under the raw
//! session key) are not read.
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use session_actix::{Error, Session, SessionMiddleware};
//! use session_state_cookie::CookieState;
//! use session_store_redis::{ClientCache, RedisStore};
//!
//! async fn counter(session: Session) -> Result<String, Error> {
//!     let n: u64 = session.get("counter").await?.unwrap_or(0);
//!     session.insert("counter", n + 1).await?;
//!     Ok(n.to_string())
//! }
//!
//! # actix_rt::System::new().block_on(async {
//! // RedisSessionStore::new(url).await?
//! let defaults = RedisStore::connect("redis://127.0.0.1:6379/0").await?;
//!
//! // RedisSessionStore::builder(url).cache_keygen(..).build().await?
//! let store = RedisStore::builder("redis://127.0.0.1:6379/0")
//!     .prefix("myapp:session:")
//!     .client_cache(ClientCache::new()) // optional
//!     .connect() // fails here if Redis cannot be reached
//!     .await?;
//! // No key: the cookie holds a random id only.
//! let sessions = SessionMiddleware::new(CookieState::default(), store);
//! HttpServer::new(move || App::new().wrap(sessions.clone()).route("/", web::get().to(counter)))
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await?;
//! # let _ = defaults;
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ## Other stores
//!
//! Each is passed to `SessionMiddleware::new` with the State, as above:
//!
//! ```
//! use session_actix::{MemoryStore, SessionMiddleware};
//! use session_state_cookie::CookieState;
//! use session_store_cache::CacheStore;
//! use session_store_file::FileStore;
//! use session_store_null::NullStore;
//!
//! # actix_rt::System::new().block_on(async {
//! let memory = SessionMiddleware::new(CookieState::default(), MemoryStore::default());
//! let moka = SessionMiddleware::new(CookieState::default(), CacheStore::new(50_000));
//! // FileStore::open("/var/lib/myapp/sessions") for a directory of your own.
//! let files = SessionMiddleware::new(CookieState::default(), FileStore::temporary()?);
//! let nothing = SessionMiddleware::new(CookieState::default(), NullStore);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use session_actix::SessionMiddleware;
//! use session_state_cookie::CookieState;
//! use session_store_sqlx::sqlx::PgPool;
//! use session_store_sqlx::{PgStore, SqliteStore};
//!
//! # actix_rt::System::new().block_on(async {
//! // PostgreSQL, on the application's pool.
//! let store = PgStore::new(PgPool::connect("postgres://app@db.internal/app").await?);
//! store.migrate().await?; // creates or upgrades the tables
//! let _cleanup = store.spawn_cleanup(Duration::from_secs(600));
//! let postgres = SessionMiddleware::new(CookieState::default(), store);
//!
//! // SQLite: opens (or creates) the file and migrates it.
//! let store = SqliteStore::open("sessions.db").await?;
//! let sqlite = SessionMiddleware::new(CookieState::default(), store);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # What behaves differently
//!
//! - **`Send` and `Sync`.** actix-session's `Session` is an `Rc<RefCell<..>>`, neither `Send`
//!   nor `Sync`. Ours can be moved into spawned tasks and held across `.await` in any future,
//!   `Send` ones included. (Changes made after the response is committed are not written.)
//! - **Async and fallible.** Data methods load the session on first use and may fail with a
//!   store error; `?` turns it into a bare 500, logged (see
//!   [Errors in handlers](#errors-in-handlers)).
//! - **Lazy.** actix-session loads the session before the handler runs, on every request that
//!   carries its cookie; a store failure then answers 500 even on routes that never use the
//!   session. Here nothing is parsed or loaded until the handler first asks: a request whose
//!   handler never touches its session costs no store I/O, gets no cookie, and is served while
//!   the store is down.
//! - **Key-level writes.** Only the keys a request changed are written, atomically per session
//!   (memory, moka, files, Redis, PostgreSQL, SQLite), so concurrent requests on one session
//!   keep each other's keys; on one key, the later commit wins. actix-session rewrites the whole
//!   state (its Redis store with a blind `SET`): of two concurrent requests, the later drops the
//!   other's writes, and a request that raced a logout can bring the session back under a new
//!   key. Ours writes nothing to a session that has ended. (The sealed cookie cannot merge: the
//!   last response the browser keeps wins, as with actix-session's cookie store.)
//! - **Reads extend the expiry**, not only changes (see [Lifetimes](#lifetimes)).
//! - **No cookie for an empty new session**, as in actix-session: a new session is stored, and
//!   its cookie sent, only once it holds data (or is saved or bound).
//! - **Caching headers.** Every response whose handler used the session gets `Vary: Cookie`;
//!   every response that sets or removes the id gets `Cache-Control: no-store`
//!   ([`cache_control_no_store`](crate::EngineBuilder::cache_control_no_store) turns that off).
//!   actix-session adds neither.
//! - **Server errors.** actix-session commits whatever the status. Here a 5xx response commits
//!   nothing but an expiry
//!   ([`commit_on_server_error`](crate::EngineBuilder::commit_on_server_error) changes that), and
//!   so does an error returned by the wrapped service.
//! - **Stores see digests.** Stores get the SHA-256 digest of each id, never the id, so a dump
//!   of the store yields no usable cookie. (actix-session keys Redis by the raw session key; its
//!   signed or encrypted cookie is what protects it.)
//! - **A missing middleware is an error.** actix-session's extractor then hands out a session
//!   that is never saved; ours is refused with [`MissingSession`](crate::MissingSession), a 500
//!   naming the problem.
//! - **Late store.** Both commit when the handler's response is ready, before a streamed body is
//!   sent. Changes made while the body streams are dropped here with a `tracing` warning, or
//!   stored when the body ends if the handler called
//!   [`late_store`](session_core::Session::late_store) (see
//!   [Streaming and late store](crate#streaming-and-late-store)).
//!
//! The first requests of a session through the middleware: an untouched route, a read, a login,
//! and a 5xx that commits nothing.
//!
//! ```
//! use actix_web::{App, HttpResponse, test, web};
//! use session_actix::{Error, MemoryStore, Session, SessionMiddleware};
//! use session_state_cookie::CookieState;
//!
//! async fn whoami(session: Session) -> Result<String, Error> {
//!     Ok(session.get::<String>("user").await?.unwrap_or_default())
//! }
//!
//! async fn login(session: Session) -> Result<HttpResponse, Error> {
//!     session.cycle_id();
//!     session.insert("user", "alice").await?;
//!     Ok(HttpResponse::Ok().finish())
//! }
//!
//! async fn broken(session: Session) -> Result<HttpResponse, Error> {
//!     session.insert("user", "mallory").await?;
//!     Ok(HttpResponse::InternalServerError().finish())
//! }
//!
//! # actix_rt::System::new().block_on(async {
//! let app = test::init_service(
//!     App::new()
//!         .wrap(SessionMiddleware::new(CookieState::default(), MemoryStore::default()))
//!         .route("/health", web::get().to(|| async { HttpResponse::Ok().finish() }))
//!         .route("/whoami", web::get().to(whoami))
//!         .route("/login", web::post().to(login))
//!         .route("/broken", web::post().to(broken)),
//! )
//! .await;
//!
//! // Untouched: no cookie, no `Vary`.
//! let request = test::TestRequest::get().uri("/health");
//! let response = test::call_service(&app, request.to_request()).await;
//! assert!(!response.headers().contains_key("set-cookie"));
//! assert!(!response.headers().contains_key("vary"));
//!
//! // Read, still empty: no cookie, but `Vary: Cookie`.
//! let request = test::TestRequest::get().uri("/whoami");
//! let response = test::call_service(&app, request.to_request()).await;
//! assert!(!response.headers().contains_key("set-cookie"));
//! assert!(response.headers().get("vary").unwrap().to_str()?.eq_ignore_ascii_case("cookie"));
//!
//! // Login: a cookie, and `Cache-Control: no-store`.
//! let request = test::TestRequest::post().uri("/login");
//! let response = test::call_service(&app, request.to_request()).await;
//! assert_eq!(response.headers().get("cache-control").unwrap().to_str()?, "no-store");
//! let set_cookie = response.headers().get("set-cookie").unwrap().to_str()?.to_owned();
//! let cookie = set_cookie.split(';').next().unwrap();
//!
//! // A 5xx: nothing written.
//! let request = test::TestRequest::post().uri("/broken").insert_header(("cookie", cookie));
//! let response = test::call_service(&app, request.to_request()).await;
//! assert_eq!(response.status(), 500);
//! assert!(!response.headers().contains_key("set-cookie"));
//! let request = test::TestRequest::get().uri("/whoami").insert_header(("cookie", cookie));
//! assert_eq!(test::call_and_read_body(&app, request.to_request()).await, "alice");
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! Two concurrent requests on one session, each changing its own key, keep both:
//!
//! ```
//! use http::StatusCode;
//! use session_actix::testing::TestSession;
//!
//! # actix_rt::System::new().block_on(async {
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
