//! Migrating from Perl's Plack::Middleware::Session: its options, stores and session API, mapped.
//!
//! This workspace keeps Plack's two seams: a **State** carries the session id (Plack's
//! `Plack::Session::State` classes) and a **Store** keeps the data (the `Plack::Session::Store`
//! classes). What changes is the handler's side: the session is a typed, lazy, `async` handle,
//! [`Session`](crate::Session), instead of a hash, and Plack's per-request options hash
//! (`psgix.session.options`) becomes methods on that handle. The engine, not the application,
//! decides what is written and sent.
//!
//! The compiled examples below use this crate alone and drive the [`Engine`](crate::Engine) by
//! hand, as an adapter does. The other crates' side (`session-state-cookie` and the store crates)
//! is shown as inline code in tables, Plack's side in tables and `perl` blocks.
//!
//! # Steps
//!
//! 1. Pick an adapter: `session-tower` (axum, tonic, hyper) or `session-actix` (actix-web).
//!    `enable 'Session', state => $state, store => $store` becomes
//!    `SessionLayer::new(state, store)` or `SessionMiddleware::new(state, store)`; an engine
//!    configured with [`Engine::builder`](crate::Engine::builder) goes in with
//!    `SessionLayer::from(engine)` or `SessionMiddleware::from(engine)`.
//! 2. Name the State and the Store. Neither has a default, and there are no short names
//!    (`store => 'File'`): build the value. The equivalents of Plack's defaults, a cookie and
//!    memory, are `session_state_cookie::CookieState::default()` and
//!    [`MemoryStore::default()`](crate::MemoryStore).
//! 3. Move the options: the cookie's to the State's builder, the store's to the store's
//!    constructor or builder, lifetimes and ids to [`EngineBuilder`](crate::EngineBuilder).
//! 4. In handlers, replace `$env->{'psgix.session'}` and `psgix.session.options` by the
//!    [`Session`](crate::Session) methods below, with `.await?` on those that read or write.
//! 5. Expect every user to start a fresh session once. Plack's stored sessions and cookies are
//!    not read: stores here file a session under a digest of its id, in another format.
//!
//! ```perl
//! builder {
//!     enable 'Session',
//!         state => Plack::Session::State::Cookie->new(session_key => 'sid', expires => 3600),
//!         store => Plack::Session::Store::File->new(dir => '/var/lib/app/sessions');
//!     $app;
//! };
//! ```
//!
//! becomes, with `session-tower` (`SessionMiddleware` for actix-web):
//!
//! ```text
//! let engine = Engine::builder(
//!     CookieState::builder().name("sid").build()?,
//!     FileStore::open("/var/lib/app/sessions")?,
//! )
//! .lifetime(Lifetime::persistent(Duration::from_secs(3600)))
//! .build();
//! let app = Router::new().route("/", get(handler)).layer(SessionLayer::from(engine));
//! ```
//!
//! # The State: `state` and `session_key`
//!
//! | Plack | session-rs |
//! |---|---|
//! | `Plack::Session::State` (id in a parameter) | [`ParamState::default()`](crate::ParamState) |
//! | its `session_key => 'sid'` | [`ParamState::new("sid")?`](crate::ParamState::new) |
//! | `Plack::Session::State::Cookie` (the default) | `CookieState::default()` |
//! | its `session_key => 'sid'` | `CookieState::builder().name("sid")` |
//! | its `path => '/app'` | `CookieState::builder().path("/app")` (default `/`) |
//! | its `domain => 'example.com'` | `CookieState::builder().domain("example.com")` |
//! | its `expires => 3600` | a [`Lifetime`](crate::Lifetime), see [Lifetimes](#lifetimes-expires) |
//! | its `secure => 1` | `CookieState::builder().secure(true)` (the default) |
//! | its `httponly => 1` | `CookieState::builder().http_only(true)` (the default) |
//! | its `samesite => 'Strict'` | `CookieState::builder().same_site(SameSite::Strict)` |
//! | no `samesite` | `CookieState::builder().no_same_site()` (default: `Lax`) |
//! | its `partitioned => 1` | `CookieState::builder().partitioned(true)` |
//!
//! `CookieState`, its builder and `SameSite` are in `session-state-cookie`; the builder ends
//! with `.build()?`, and `CookieState::new(name)?` is the default cookie under another name.
//!
//! [`ParamState`](crate::ParamState) reads every parameter of its name (default `plack_session`,
//! as in Plack) from the query string only, not from form fields in a request body, and writes
//! nothing: the application passes the id on itself, in the links it renders.
//! [`Session::save`](crate::Session::save) stores a new session at once and returns its id for
//! that. An id in a URL leaks through `Referer`, history and logs: prefer a cookie.
//!
//! Where `CookieState` differs from `State::Cookie`:
//!
//! - **Defaults.** The cookie is named `id` (Plack: `plack_session`) and is `Secure`,
//!   `HttpOnly` and `SameSite=Lax` unless told otherwise; Plack leaves `secure` and `httponly`
//!   out unless asked. For plain-HTTP development, `.secure(false)`. In production prefer a
//!   `__Host-` name (`CookieState::new("__Host-id")?`): browsers then refuse the cookie from
//!   sibling subdomains and over plain HTTP.
//! - **Checked when built.** `build` refuses, with a `CookieConfigError`, what would break the
//!   header or what browsers reject: `Partitioned` or `SameSite=None` together with
//!   `.secure(false)` is an error (Plack forces `Secure` onto a partitioned cookie). An
//!   unconfigured `SameSite` becomes `None` for a partitioned cookie, as in Plack; one configured
//!   with `same_site` is sent as configured.
//! - **Several cookies of the name.** Plack takes the first, which may be one a sibling
//!   subdomain tossed in (browsers send it first). Here each is a candidate, and one is adopted
//!   only if it is the only one naming a live session (none of more than four); otherwise the
//!   request starts a fresh session. Quoted values are unquoted, as in Plack.
//! - **Removal.** An expired session's cookie is removed with the live cookie's attributes, an
//!   empty value, `Max-Age=0` and an `Expires` in 1970.
//!
//! Two States have no Plack counterpart: [`HeaderState`](crate::HeaderState) (the id in an
//! `x-session-id` header both ways, for clients without cookies) and
//! [`HeaderOr`](crate::HeaderOr) (that header when the request carries it, else a cookie).
//!
//! # Lifetimes: `expires`
//!
//! Plack's `expires` is a cookie attribute only; its stores keep a session until it is removed
//! (files stay forever, the memory store keeps it until the process ends). Here one
//! [`Lifetime`](crate::Lifetime) governs both: the store forgets a session after its idle timeout
//! without a request, and a persistent lifetime gives the cookie a matching `Max-Age` (and
//! `Expires`).
//!
//! | Plack | session-rs |
//! |---|---|
//! | no `expires`: a browser-session cookie | `Lifetime::default()`: the same, 24 h idle timeout |
//! | `expires => 3600` | `Lifetime::persistent(Duration::from_secs(3600))` |
//! | none | `Lifetime::browser_session(idle)`: another idle timeout |
//! | none | [`EngineBuilder::absolute_timeout`](crate::EngineBuilder::absolute_timeout)`(cap)` |
//! | per request: `expires`, `max-age` | [`Session::set_lifetime`](crate::Session::set_lifetime) |
//!
//! The engine-wide lifetime is set with
//! [`EngineBuilder::lifetime`](crate::EngineBuilder::lifetime). Lifetimes count whole seconds,
//! at least one. The idle timeout slides: every request that uses the session extends it, reads
//! included, though a read writes the new expiry only when more than
//! [`touch_interval`](crate::EngineBuilder::touch_interval) has passed since the last write
//! (default: a tenth of the idle timeout, at most a minute). Plack recomputes `expires` on every
//! response; here a persistent cookie is sent again, with a new `Max-Age`, when the session is
//! written or its expiry extended. The absolute timeout ends a session a fixed time after its
//! creation, however active; [`Session::cycle_id`](crate::Session::cycle_id) keeps the creation
//! time.
//!
//! The State, the store and the engine's options, with Plack's id format:
//!
//! ```
//! use std::time::Duration;
//!
//! use http::{HeaderMap, StatusCode};
//! use session_core::state::{HexIds, RequestView};
//! use session_core::{Engine, Lifetime, MemoryStore, ParamState};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // Plack's base State with `session_key => 'sid'`, and its in-memory Store.
//! let engine = Engine::builder(ParamState::new("sid")?, MemoryStore::default())
//!     .ids(HexIds::new(20)?) // 40 lowercase hex characters, as Plack's ids
//!     .lifetime(Lifetime::persistent(Duration::from_secs(3_600))) // `expires => 3600`
//!     .absolute_timeout(Duration::from_secs(8 * 3_600)) // no Plack counterpart
//!     .build();
//!
//! assert_eq!(Lifetime::default(), Lifetime::browser_session(Duration::from_secs(86_400)));
//! assert!(!Lifetime::default().is_persistent());
//!
//! // First request: no id. ParamState writes nothing: save to learn the id and pass it on.
//! let no_headers = HeaderMap::new();
//! let session = engine.start(&RequestView::new(&no_headers, None));
//! session.insert("user", "alice").await?;
//! let id = session.save().await?;
//! assert_eq!(id.as_str().len(), 40);
//! engine.commit(&session, StatusCode::OK).await?;
//!
//! // Second request: the id comes back as `?sid=...`.
//! let query = format!("sid={}", id.as_str());
//! let session = engine.start(&RequestView::new(&no_headers, Some(&query)));
//! assert_eq!(session.get::<String>("user").await?.as_deref(), Some("alice"));
//! # Ok::<_, session_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! [`EngineBuilder`](crate::EngineBuilder) has more, without Plack counterparts:
//! [`clock`](crate::EngineBuilder::clock) (a manual clock in tests),
//! [`commit_on_server_error`](crate::EngineBuilder::commit_on_server_error),
//! [`cache_control_no_store`](crate::EngineBuilder::cache_control_no_store),
//! [`store_timeout`](crate::EngineBuilder::store_timeout) (a time limit on every store call,
//! feature `tokio`, which both adapters turn on),
//! [`max_sessions_per_subject`](crate::EngineBuilder::max_sessions_per_subject) and
//! [`revocation_store`](crate::EngineBuilder::revocation_store).
//!
//! # Ids: `sid_generator` and `sid_validator`
//!
//! Plack's ids are 20 random bytes as 40 lowercase hex characters. Ours, by default
//! ([`DefaultIds`](crate::state::DefaultIds)), are 256 bits from the OS CSPRNG, as 43 characters
//! of unpadded base64url. [`EngineBuilder::ids`](crate::EngineBuilder::ids) replaces the scheme:
//!
//! | Plack | session-rs |
//! |---|---|
//! | its default format | [`HexIds::new(20)?`](crate::state::HexIds::new) |
//! | the State's `sid_generator => sub {..}, sid_validator => qr/../` | `FnIds::new(gen, valid)` |
//! | a State subclass that overrides both | an [`IdScheme`](crate::state::IdScheme) of your own |
//!
//! [`FnIds`](crate::state::FnIds) takes two closures: `Fn() -> Result<String, Error>` and
//! `Fn(&str) -> bool`. An [`IdScheme`](crate::state::IdScheme) is a type with the same two
//! methods, `generate` and `is_valid`.
//!
//! - **Validation comes first.** Every id a client sends goes through the scheme's validator
//!   before any store sees it; a rejected id is dropped (logged by its length only) and the
//!   request gets a fresh session. Keep the validator strict and cheap. The built-in schemes
//!   match the whole text: an id with a trailing newline, which Perl's `\Z` lets through, is
//!   refused.
//! - **Generated ids are checked.** The engine refuses an id its own scheme's validator rejects,
//!   or that could not travel in a header (anything but visible ASCII other than `"`, `,`, `;`
//!   and `\`), with [`Error::Config`](crate::Error::Config) rather than issue it.
//! - `HexIds::new` refuses fewer than 16 random bytes (128 bits) and more than 64.
//! - Whatever the scheme, stores see only the SHA-256 digest of an id, a
//!   [`Key`](crate::store::Key).
//!
//! A generator and a validator as closures, here Plack's format behind a prefix:
//!
//! ```
//! use session_core::state::{FnIds, HexIds, IdScheme};
//! use session_core::{Engine, MemoryStore, ParamState};
//!
//! let hex = HexIds::new(20)?;
//! let ids = FnIds::new(
//!     move || Ok(format!("app-{}", hex.generate()?)),
//!     move |candidate| candidate.strip_prefix("app-").is_some_and(|rest| hex.is_valid(rest)),
//! );
//! let id = ids.generate()?;
//! assert!(id.starts_with("app-") && ids.is_valid(&id));
//! assert!(!ids.is_valid("../wrong"));
//! assert!(!ids.is_valid(&format!("{id}\n")));
//!
//! let engine = Engine::builder(ParamState::default(), MemoryStore::default()).ids(ids).build();
//! # drop(engine);
//! # Ok::<_, session_core::Error>(())
//! ```
//!
//! # The session: `psgix.session` and `Plack::Session`
//!
//! Handlers take the adapter's `Session` extractor (`session_tower::Session`,
//! `session_actix::Session`), which derefs to this crate's [`Session`](crate::Session), or reach
//! it with `request.session()` (the adapters' `SessionExt`). Keys are strings; values are any
//! `serde` type, kept as JSON text, where Plack's hash holds any Perl data. The methods that
//! read or write are `async` and return `Result<_, Error>`: the first one a request calls loads
//! the session, which can fail.
//!
//! | Plack | session-rs |
//! |---|---|
//! | `$session->{k}`, `$s->get('k')` | `session.get::<T>(k).await?` |
//! | `$session->{k} = $v`, `$s->set('k', $v)` | `session.insert(k, v).await?` |
//! | `delete $session->{k}`, `$s->remove('k')` | `session.remove::<T>(k).await?` |
//! | `exists $session->{k}` | `session.get_value(k).await?.is_some()` |
//! | `keys %$session`, `$s->keys` | `session.keys().await?` (sorted) |
//! | `scalar keys %$session` | `session.len().await?` |
//! | `%$session = ()` | `session.clear().await?` |
//! | `$options->{id}`, `$s->id` | `session.id().await?`, an `Option<Id>` |
//! | `$s->expire` | `session.expire()` |
//!
//! See [`get`](crate::Session::get), [`insert`](crate::Session::insert),
//! [`remove`](crate::Session::remove), [`get_value`](crate::Session::get_value),
//! [`keys`](crate::Session::keys), [`len`](crate::Session::len),
//! [`clear`](crate::Session::clear), [`id`](crate::Session::id) and
//! [`expire`](crate::Session::expire).
//!
//! - **Typed reads.** `get::<T>` returns `Ok(None)` for a missing key and fails with
//!   [`Error::Decode`](crate::Error::Decode) for a value that is not a `T`;
//!   [`get_value`](crate::Session::get_value) and [`remove_value`](crate::Session::remove_value)
//!   give the raw [`Value`](crate::Value), whose [`as_json`](crate::Value::as_json) is its text.
//! - **The id.** Plack gives a new session its id when the request starts. Here a new session
//!   has none until it is stored: `id` answers `None`, and [`save`](crate::Session::save)
//!   stores it now and returns the id. After [`cycle_id`](crate::Session::cycle_id), `id` is
//!   still the old id until the response is committed.
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use serde::{Deserialize, Serialize};
//! use session_core::state::RequestView;
//! use session_core::{Engine, MemoryStore, ParamState};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Cart {
//!     items: Vec<String>,
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let engine = Engine::new(ParamState::default(), MemoryStore::default());
//! let no_headers = HeaderMap::new();
//! let session = engine.start(&RequestView::new(&no_headers, None));
//!
//! session.insert("counter", 1_u64).await?;
//! session.insert("cart", Cart { items: vec!["apple".into()] }).await?;
//! assert_eq!(session.get::<u64>("counter").await?, Some(1));
//! assert!(session.get_value("theme").await?.is_none());
//! assert_eq!(session.keys().await?, ["cart", "counter"]);
//! assert_eq!(session.len().await?, 2);
//!
//! let cart: Option<Cart> = session.remove("cart").await?;
//! assert_eq!(cart.map(|cart| cart.items.len()), Some(1));
//!
//! // A new session has no id until it is stored.
//! assert_eq!(session.id().await?, None);
//! let id = session.save().await?;
//! assert_eq!(session.id().await?.as_ref(), Some(&id));
//!
//! session.clear().await?;
//! assert!(session.is_empty().await?);
//! engine.commit(&session, StatusCode::OK).await?;
//! # Ok::<_, session_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Per-request options: `psgix.session.options`
//!
//! | Plack | session-rs |
//! |---|---|
//! | `id` (read only) | [`session.id().await?`](crate::Session::id) |
//! | `expire => 1` | [`session.expire()`](crate::Session::expire) |
//! | `change_id => 1` | [`session.cycle_id()`](crate::Session::cycle_id) |
//! | `no_store => 1` | [`session.skip_store()`](crate::Session::skip_store) |
//! | `late_store => 1` | [`session.late_store()`](crate::Session::late_store) |
//! | `path`, `domain`, `partitioned` | `session.set_cookie_options(CookieOptions::new()..)` |
//! | `expires`, `max-age` | `session.set_lifetime(Lifetime::persistent(..))` |
//! | `secure`, `httponly`, `samesite` | none per request: the `CookieState`'s |
//!
//! What each does:
//!
//! - [`expire`](crate::Session::expire): at commit the record is deleted and the client told to
//!   forget its id (whenever it sent one, live, unknown or malformed). It wins over every other
//!   change in the request and is carried out even when the response is a server error.
//! - [`cycle_id`](crate::Session::cycle_id): at commit the session moves to a fresh id, with its
//!   data, and the old id stops working. The old record is read again first, so keys other
//!   requests wrote meanwhile move too. Keys under
//!   [`Session::ID_BOUND_PREFIX`](crate::Session::ID_BOUND_PREFIX) (`~id.`) are dropped with the
//!   old id. Call it at every login and privilege change.
//! - [`skip_store`](crate::Session::skip_store): this request's changes are dropped and no id is
//!   sent, on every store. (Plack's memory store hands out its live hash, so `no_store` has no
//!   effect there.) Asked together with `cycle_id`, it wins: nothing changes, and the session
//!   stays under its old id. Plack then loses the session.
//! - [`late_store`](crate::Session::late_store): the head's commit runs as usual (and stores even
//!   an empty new session, since the cookie goes with the head); what changes while a streamed
//!   body is sent is written when the body ends, before the end reaches the client, so the
//!   client's next request sees it. A late `cycle_id` is ignored with a warning; a late `expire`
//!   deletes the session but cannot remove the cookie. Without late store, a change after the
//!   commit is not stored and is reported once per request as a `tracing` warning (Plack loses
//!   it).
//! - [`set_cookie_options`](crate::Session::set_cookie_options) takes a
//!   [`CookieOptions`](crate::CookieOptions) (`path`, `domain`, `partitioned`), merged by the
//!   State over its defaults for this response only; the cookie is sent again with them even if
//!   nothing else changed (a new, empty session still sends nothing). A cookie given another
//!   path or domain must be removed by a request that sets the same options. Invalid values are
//!   ignored (logged) and a `__Host-` cookie keeps `Path=/` and no `Domain`. `Partitioned`
//!   brings `Secure`, and `SameSite=None` only when the State's `SameSite` was not configured:
//!   over a configured `Strict`, `Lax` or no `SameSite`, the request's `partitioned(true)` is
//!   refused (logged) and the cookie goes out unpartitioned. Plack forces `Secure` and
//!   `SameSite=None`.
//! - [`set_lifetime`](crate::Session::set_lifetime): the session's own lifetime, kept with it so
//!   that the store keeps it as long as the cookie lives, until
//!   [`reset_lifetime`](crate::Session::reset_lifetime). Plack's per-request `expires` changes
//!   only that response's cookie. The absolute timeout still applies.
//! - `secure`, `httponly` and `samesite` are the State's, the same on every response.
//!
//! Each option on a stored session, through [`TestSession`](crate::testing::TestSession) (an
//! engine with a [`HeaderState`](crate::HeaderState), so that "sends the id" is observable):
//!
//! ```
//! use std::time::Duration;
//!
//! use http::StatusCode;
//! use session_core::testing::TestSession;
//! use session_core::{CookieOptions, Lifetime};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let test = TestSession::with_values([("user", "alice")]).await?;
//! let old_id = test.session().id().await?;
//!
//! // change_id: a new id, the data kept.
//! test.session().cycle_id();
//! let outcome = test.commit(StatusCode::OK).await?;
//! assert!(outcome.sends_id() && outcome.id() != old_id.as_ref());
//! assert_eq!(outcome.stored::<String>("user")?.as_deref(), Some("alice"));
//!
//! // no_store: the change is dropped, no id is sent.
//! let test = outcome.next();
//! test.session().insert("user", "mallory").await?;
//! test.session().skip_store();
//! let outcome = test.commit(StatusCode::OK).await?;
//! assert!(!outcome.sends_id());
//! assert_eq!(outcome.stored::<String>("user")?.as_deref(), Some("alice"));
//!
//! // change_id with no_store: nothing changes.
//! let test = outcome.next();
//! test.session().cycle_id();
//! test.session().skip_store();
//! let outcome = test.commit(StatusCode::OK).await?;
//! assert!(!outcome.sends_id());
//! assert_eq!(outcome.stored::<String>("user")?.as_deref(), Some("alice"));
//!
//! // expires / max-age, and path / domain / partitioned, for this request.
//! let options = CookieOptions::new().path("/app").domain("example.com").partitioned(false);
//! assert_eq!(options.path.as_deref(), Some("/app"));
//! let test = outcome.next();
//! test.session().set_lifetime(Lifetime::persistent(Duration::from_secs(30 * 86_400)));
//! test.session().set_cookie_options(options);
//! let outcome = test.commit(StatusCode::OK).await?;
//! assert!(outcome.sends_id());
//!
//! // late_store: asked before the handler returns; the adapter runs the late commit when the
//! // body ends. The head's commit writes what changed so far.
//! let test = outcome.next();
//! test.session().late_store();
//! test.session().insert("seen", true).await?;
//! let outcome = test.commit(StatusCode::OK).await?;
//! assert_eq!(outcome.stored::<bool>("seen")?, Some(true));
//!
//! // expire: deleted, and the client told to forget the id.
//! let test = outcome.next();
//! test.session().expire();
//! let outcome = test.commit(StatusCode::OK).await?;
//! assert!(outcome.removes_id() && !outcome.is_stored());
//! # Ok::<_, session_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Stores: `store`
//!
//! | Plack | session-rs | crate |
//! |---|---|---|
//! | `Plack::Session::Store` (memory) | [`MemoryStore::default()`](crate::MemoryStore) | this one |
//! | `Store::File` | `FileStore::open(dir)?` | `session-store-file` |
//! | `Store::Cache` | `CacheStore::on(cache)`, `CacheStore::new(max)` | `session-store-cache` |
//! | `Store::Null` | `NullStore` | `session-store-null` |
//! | `Store::DBI` | `PgStore::new(pool)`, `SqliteStore::open(path).await?` | `session-store-sqlx` |
//! | a Redis store | `RedisStore::connect(url).await?` | `session-store-redis` |
//! | `Middleware::Session::Cookie` | `Engine::client_side(SealedCookie::new(key))` | see below |
//!
//! Every server-side store here is keyed by the SHA-256 digest of the id, never the id, and
//! never returns an expired session. The memory, moka, file, Redis, PostgreSQL and SQLite stores
//! apply a request's changed keys atomically per session. None of them reads Plack's stored
//! sessions.
//!
//! - **Memory** ([`MemoryStore`](crate::MemoryStore)): bounded by the sessions' estimated size
//!   (256 MiB by default, [`max_bytes`](crate::MemoryStore::max_bytes), or a count with
//!   [`max_sessions`](crate::MemoryStore::max_sessions)); past it, the least recently used
//!   sessions are evicted, never the one being written. Each request works on a copy, so
//!   `skip_store` works here. For development, tests and single-process servers, as in Plack.
//! - **Files** (`session_store_file::FileStore`): `dir` becomes `FileStore::open(dir)?`, which
//!   creates the directory (0700) if missing and refuses one writable by others; Plack's default,
//!   the shared temporary directory, becomes `FileStore::temporary()?`, a private 0700 directory.
//!   Files are named by the id's digest, written crash-safe (a temporary file, `fsync`,
//!   `rename`), changed under a lock across processes, and swept when expired. Unix only.
//! - **Cache** (`session_store_cache::CacheStore`): Plack's `cache` object with `get`, `set` and
//!   `remove` becomes a type implementing `session_store_cache::Cache` (the same three
//!   operations, `async`, on records), wrapped with `CacheStore::on(cache)`. Each entry should
//!   expire at its record's expiry; the store never returns an expired record, whatever the cache
//!   holds. The cache's compound operations (`insert_if_absent`, `update`) default to `get` then
//!   `set`, which is not atomic: override them (and answer `true` from `is_atomic`) for
//!   concurrent requests to keep each other's keys. `CacheStore::new(max_sessions)` is a
//!   bounded in-process moka cache that does all this; `CachingStore::new(front, back)` puts a
//!   cache in front of a slower store.
//! - **Null** (`session_store_null::NullStore`): keeps nothing, as Plack's; every request starts
//!   a new session, and a request that sets something still gets a cookie.
//! - **DBI** (`session_store_sqlx`, PostgreSQL and SQLite through sqlx 0.8, features `postgres`
//!   and `sqlite`): Plack's `dbh` becomes the application's pool, `PgStore::new(pool)` or
//!   `SqliteStore::new(pool)` (`SqliteStore::open(path).await?` creates the file), and
//!   `table_name` becomes `.table(name)` on `PgStore::builder(pool)` or
//!   `SqliteStore::builder(pool)`, then `.build()?` (default `sessions`, as in Plack). The
//!   schema is the store's own, a row per session and a row per value, created and upgraded by
//!   `store.migrate().await?` (`open` migrates by itself); `spawn_cleanup(every)` deletes
//!   expired rows. There is no MySQL store, and no `serializer`: values are stored as JSON text.
//! - **Redis** (`session_store_redis::RedisStore`): one hash per session under
//!   `{prefix}{hex digest}` (`RedisStore::builder(url).prefix(p).connect().await?`, default
//!   prefix `session:`), changed a key at a time by Lua scripts, with TTLs; Redis Cluster too.
//!
//! ## Codecs: `serializer` and `deserializer`
//!
//! Plack's `Store::File` takes `serializer(data, path)` and `deserializer(path)`, which write and
//! read the file themselves (default: Storable). Here a [`Codec`](crate::store::Codec) turns a
//! whole [`Record`](crate::store::Record) (its values as JSON text, and its timestamps) into
//! bytes and back; the store does the file work. Of the stores here, only `FileStore` takes a
//! codec: bincode 2 by default (Storable's analogue, feature `bincode`),
//! `FileStore::builder().json().open(dir)?` for [`JsonCodec`](crate::store::JsonCodec), and
//! `FileStore::builder().codec(codec).open(dir)?` for your own. The Redis and SQL stores keep one
//! field or row per value as JSON text and use no codec; `CacheStore` keeps records. Changing the
//! codec of a directory drops its sessions (their files no longer decode). A codec's `decode`
//! sees bytes from storage that may be damaged: it must fail, never panic.
//!
//! ```
//! use session_core::Value;
//! use session_core::store::{Codec, CodecError, JsonCodec, Record, Timestamp};
//!
//! /// JSON behind a version byte: a `serializer` and `deserializer` pair.
//! #[derive(Debug, Default)]
//! struct Tagged(JsonCodec);
//!
//! impl Codec for Tagged {
//!     fn encode(&self, record: &Record) -> Result<Vec<u8>, CodecError> {
//!         let mut bytes = vec![1];
//!         bytes.extend(self.0.encode(record)?);
//!         Ok(bytes)
//!     }
//!
//!     fn decode(&self, bytes: &[u8]) -> Result<Record, CodecError> {
//!         match bytes.split_first() {
//!             Some((&1, json)) => self.0.decode(json),
//!             _ => Err(CodecError::new("not a version 1 record")),
//!         }
//!     }
//! }
//!
//! let mut record = Record::new(Timestamp::from_millis(0), Timestamp::from_millis(60_000));
//! record.data.insert("user".into(), Value::from_serialize("alice")?);
//! let codec = Tagged::default();
//! let bytes = codec.encode(&record)?;
//! assert_eq!(codec.decode(&bytes)?, record);
//! assert!(codec.decode(b"{}").is_err());
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```
//!
//! ## `Plack::Middleware::Session::Cookie` → `SealedCookie`
//!
//! The whole session in the cookie, no server storage: `session_state_cookie::SealedCookie`, a
//! [`ClientStore`](crate::store::ClientStore), which replaces both the State and the Store. Give
//! it to [`Engine::client_side`](crate::Engine::client_side), or to
//! [`Engine::client_side_builder`](crate::Engine::client_side_builder) to set the lifetime; the
//! adapters have `SessionLayer::client_side` and `SessionMiddleware::client_side`.
//!
//! | Plack | session-rs |
//! |---|---|
//! | `secret => $secret` | `SealKey::from_base64(&text)?`: 64 random bytes or more |
//! | `session_key`, `path`, `domain`, ... | `SealedCookie::builder(key).cookie(cookie_state)` |
//! | `expires` | `Engine::client_side_builder(sealed).lifetime(..)` |
//! | `time:base64:HMAC-SHA1`, readable | `.mode(SealMode::Signed)`: HMAC-SHA256, readable |
//! | none | `SealMode::Private` (the default): AES-256-GCM, unreadable |
//! | one secret | `.old_key(previous)`: cookies sealed with it still open, resealed |
//! | `serializer`, `deserializer` | none: the payload format is the crate's own |
//!
//! - **Expiry is sealed in and checked** on every request (idle timeout and absolute cap); Plack
//!   never checks its time field, so a copied cookie opens forever there.
//! - **A bad cookie is a fresh session**, as in Plack (a bad signature, a damaged value).
//! - **Size**: a session that would not fit the 4096-byte cookie is a logged error (a bare 500;
//!   [`Session::save`](crate::Session::save) reports it to the handler first), never a
//!   truncated cookie.
//! - **Limits**, as with Plack's: a copied cookie cannot be revoked before its expiry (`expire`
//!   and `cycle_id` replace only the browser's copy), and concurrent requests do not merge their
//!   writes (the browser keeps the last response's cookie). Keep such sessions small and their
//!   idle timeout short.
//! - **The key** is random material kept in the application's secrets (for example
//!   `openssl rand -base64 64`), never a password; short or repetitive keys are refused.
//! - Plack's cookies are not read: users start a fresh session once.
//!
//! # What behaves differently
//!
//! - **Lazy.** Plack loads the session before the application runs and sends the cookie on
//!   every response. Here nothing is parsed or loaded until the handler first uses its session:
//!   a request that never touches it costs no store I/O and gets no header at all.
//! - **No cookie for nothing.** A new session is stored, and its id sent, only once it holds
//!   data (or is saved, bound to a user, or late-stored). A stored session's cookie is sent
//!   again when it is written, its id changes, the request sets cookie options, or (for a
//!   persistent lifetime) its expiry is extended; not on every read.
//! - **Key-level writes.** Plack stores the whole hash, so of two concurrent requests on one
//!   session the later drops the other's changes. Here only the keys a request changed are
//!   written, atomically per session on the memory, moka, file, Redis, PostgreSQL and SQLite
//!   stores, so concurrent requests keep each other's keys; on one key, the later commit wins. A
//!   write never brings back a session that was ended meanwhile (a logout elsewhere).
//! - **Expiry is the store's.** Plack's stores keep sessions until they are removed. Here every
//!   store forgets a session after its idle timeout (24 hours by default), never returns an
//!   expired one, and the engine checks the expiry again when it loads, absolute cap included.
//! - **Caching headers.** A response whose handler used the session gets `Vary: Cookie` (the
//!   State's header; none for `ParamState`); one that sets or removes the id gets
//!   `Cache-Control: no-store` (turned off with
//!   [`cache_control_no_store(false)`](crate::EngineBuilder::cache_control_no_store)).
//! - **Server errors.** Plack commits whatever the status. Here a 5xx response commits nothing
//!   but an expiry ([`commit_on_server_error`](crate::EngineBuilder::commit_on_server_error)
//!   changes that), and a handler that panics or is dropped likewise.
//! - **Store failures.** A failed load is an `Err` for the handler; a failed commit is a bare 500
//!   with an empty body, its cause logged.
//! - **Ids.** 256 bits from the OS CSPRNG, validated by the id scheme before any store sees
//!   them; stores see only their SHA-256 digests, so a leaked store or directory yields no
//!   usable cookie. A malformed id, or a well-formed one naming no live session, gives a fresh
//!   session under a new id (never the one the client sent), as in Plack. Ids never appear
//!   whole in logs or `Debug` output.
//!
//! Through [`TestSession`](crate::testing::TestSession), whose id travels in an `x-session-id`
//! header:
//!
//! ```
//! use http::StatusCode;
//! use session_core::testing::TestSession;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // Untouched: no header at all.
//! let outcome = TestSession::new().commit(StatusCode::OK).await?;
//! assert!(outcome.headers().is_empty());
//!
//! // Read, still empty: nothing stored, no id sent, but the response varied with the id header.
//! let test = TestSession::new();
//! assert_eq!(test.session().get::<String>("user").await?, None);
//! let outcome = test.commit(StatusCode::OK).await?;
//! assert!(!outcome.sends_id() && !outcome.is_stored());
//! assert_eq!(outcome.headers()["vary"], "x-session-id");
//!
//! // Login: a new id, and a response no cache may keep.
//! let test = TestSession::with_values([("user", "alice")]).await?;
//! test.session().cycle_id();
//! let outcome = test.commit(StatusCode::OK).await?;
//! assert_eq!(outcome.headers()["cache-control"], "no-store");
//!
//! // A 5xx writes nothing.
//! let test = outcome.next();
//! test.session().insert("user", "mallory").await?;
//! let outcome = test.commit(StatusCode::INTERNAL_SERVER_ERROR).await?;
//! assert_eq!(outcome.stored::<String>("user")?.as_deref(), Some("alice"));
//!
//! // Two concurrent requests on one session, each changing its own key, keep both.
//! let (a, b) = (outcome.next(), outcome.next());
//! a.session().insert("theme", "dark").await?;
//! b.session().insert("lang", "fr").await?;
//! a.commit(StatusCode::OK).await?;
//! let after = b.commit(StatusCode::OK).await?;
//! assert_eq!(after.stored_keys(), ["lang", "theme", "user"]);
//! # Ok::<_, session_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Plack's own tests, run here
//!
//! Plack's nine-step scenario (two sessions, a removal, an expiry, and the hostile id
//! `../wrong` never adopted) runs over HTTP on both adapters, with `CookieState` and
//! `ParamState`, on every server-side store: memory, the moka cache, files, Redis, PostgreSQL
//! and SQLite (`tests/tests/it/plack.rs`). On `NullStore` it runs with the expectations adjusted
//! (nothing is ever kept). On the sealed cookie it runs in both modes with one exception, step
//! 7: a sealed cookie cannot be revoked, so the expired session's last cookie, replayed, still
//! opens (`tests/tests/it/sealed_plack.rs`). Plack's counter check runs as well.
//!
//! To check a store of your own the same way, `session-conformance` exports the scenario
//! (`plack_scenario`), the counter (`plack_counter`) and the store contracts (`check_store`).
