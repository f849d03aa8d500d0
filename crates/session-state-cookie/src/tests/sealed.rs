//! [`SealedCookie`] driven by the engine, as an adapter drives it: round trips, hostile input,
//! keys, rotation, expiry, size, the request lifecycle, and the conformance kit's scenarios.

mod conformance;
mod expiry;
mod fixtures;
mod format;
mod input;
mod keys;
mod lifecycle;
mod revocation;
mod rotation;
mod size;

use std::time::Duration;

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue, StatusCode};
use session_core::state::RequestView;
use session_core::store::{ClientStore, ManualClock, Opened, Timestamp, Unsealed};
use session_core::{Engine, EngineBuilder, Session};

use super::set_cookies;
use crate::{SealKey, SealMode, SealedCookie};

/// Both modes: every test that applies to both runs for each.
const MODES: [SealMode; 2] = [SealMode::Private, SealMode::Signed];

/// Where the manual clocks start: Tue, 14 Nov 2023 22:13:20 GMT.
const START: Timestamp = Timestamp::from_millis(1_700_000_000_000);

/// One hour.
const HOUR: Duration = Duration::from_secs(60 * 60);

/// A fresh random key.
fn key() -> SealKey {
    SealKey::generate().expect("the OS random source")
}

/// A sealed cookie in `mode` with `key`, in the default cookie (`id`).
fn sealed(mode: SealMode, key: &SealKey) -> SealedCookie {
    SealedCookie::builder(key.clone()).mode(mode).build()
}

/// An engine builder over `sealed`, on a manual clock standing at [`START`].
fn builder(sealed: SealedCookie) -> (EngineBuilder, ManualClock) {
    let clock = ManualClock::new(START);
    (
        Engine::client_side_builder(sealed).clock(clock.clone()),
        clock,
    )
}

/// A default client-side engine over `sealed`, on a manual clock standing at [`START`].
fn engine(sealed: SealedCookie) -> (Engine, ManualClock) {
    let (builder, clock) = builder(sealed);
    (builder.build(), clock)
}

/// Request headers with one `Cookie` header (none for `None`).
fn cookie_header(cookie: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(cookie) = cookie {
        headers.insert(COOKIE, HeaderValue::from_str(cookie).expect("header value"));
    }
    headers
}

/// Starts a request carrying `cookie` (a whole `Cookie` header, `name=value; ...`).
fn start(engine: &Engine, cookie: Option<&str>) -> Session {
    engine.start(&RequestView::new(&cookie_header(cookie), None))
}

/// Commits with `status`; the `Set-Cookie` values.
async fn commit_with(engine: &Engine, session: &Session, status: StatusCode) -> Vec<String> {
    let commit = engine.commit(session, status).await.expect("commit");
    set_cookies(commit.state_headers())
}

/// Commits with `200 OK`; the `Set-Cookie` values.
async fn commit(engine: &Engine, session: &Session) -> Vec<String> {
    commit_with(engine, session, StatusCode::OK).await
}

/// The one `Set-Cookie` among `cookies`, as the `name=value` pair a browser sends back.
fn pair(cookies: &[String]) -> String {
    assert_eq!(cookies.len(), 1, "expected one Set-Cookie: {cookies:?}");
    let (pair, _) = cookies[0].split_once(';').expect("attributes");
    pair.to_owned()
}

/// The value of a `name=value` pair.
fn value_of(pair: &str) -> &str {
    pair.split_once('=').expect("name=value").1
}

/// A new session holding `data` (string values), committed: its cookie as `name=value`.
async fn new_session(engine: &Engine, data: &[(&str, &str)]) -> String {
    let session = start(engine, None);
    for (key, value) in data {
        session.insert(key, value).await.expect("insert");
    }
    pair(&commit(engine, &session).await)
}

/// What `sealed` opens from a request carrying `cookie`.
fn open(sealed: &SealedCookie, cookie: &str) -> Option<Unsealed> {
    let headers = cookie_header(Some(cookie));
    match sealed.open(&RequestView::new(&headers, None), &mut |_| true) {
        Opened::Session(unsealed) => Some(unsealed),
        Opened::Nothing | Opened::Refused => None,
        other => panic!("unexpected {other:?}"),
    }
}

/// Asserts that a request with `headers` opens a session whose `user` is `user`; returns the
/// session (not committed).
async fn assert_opens_with(engine: &Engine, headers: &HeaderMap, user: &str) -> Session {
    let session = engine.start(&RequestView::new(headers, None));
    assert_eq!(
        session.get::<String>("user").await.expect("get").as_deref(),
        Some(user)
    );
    assert!(session.id().await.expect("id").is_some());
    session
}

/// Asserts that a request carrying `cookie` opens a session whose `user` is `user`.
async fn assert_opens(engine: &Engine, cookie: &str, user: &str) -> Session {
    assert_opens_with(engine, &cookie_header(Some(cookie)), user).await
}

/// Asserts that a request with `headers` starts a fresh, empty session (no id), and that its
/// read-only commit sends nothing back.
async fn assert_fresh_with(engine: &Engine, headers: &HeaderMap, what: &str) {
    let session = engine.start(&RequestView::new(headers, None));
    assert_eq!(session.id().await.expect("id"), None, "{what}: adopted");
    assert!(
        session.is_empty().await.expect("is_empty"),
        "{what}: holds data"
    );
    assert!(
        commit(engine, &session).await.is_empty(),
        "{what}: a read-only commit of a fresh session sent a cookie"
    );
}

/// Asserts that a request carrying `cookie` starts a fresh, empty session.
async fn assert_fresh(engine: &Engine, cookie: &str, what: &str) {
    assert_fresh_with(engine, &cookie_header(Some(cookie)), what).await;
}
