//! Unit tests: the store's answers, and what an application sees through the engine.

use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};
use session_core::state::{Candidates, Delivery, RequestView, State};
use session_core::store::{Changes, Key, Record, Store, Timestamp};
use session_core::{Engine, Error, Id, Session};

use super::NullStore;

/// A minimal cookie-like State: `Cookie: sid=ID` in, `Set-Cookie: sid=ID` out.
#[derive(Debug)]
struct TestCookie;

impl State for TestCookie {
    fn extract<'a>(&self, request: &RequestView<'a>) -> Candidates<'a> {
        let mut found = Candidates::new();
        for value in request.headers().get_all(COOKIE) {
            if let Some(id) = value.to_str().ok().and_then(|v| v.strip_prefix("sid=")) {
                found.push(id);
            }
        }
        found
    }

    fn finalize(&self, id: &Id, _delivery: &Delivery, headers: &mut HeaderMap) {
        let value = HeaderValue::from_str(&format!("sid={}", id.as_str())).expect("header-safe id");
        headers.append(SET_COOKIE, value);
    }

    fn expire(&self, headers: &mut HeaderMap) {
        headers.append(SET_COOKIE, HeaderValue::from_static("sid=; Max-Age=0"));
    }
}

fn engine() -> Engine {
    Engine::new(TestCookie, NullStore)
}

fn start(engine: &Engine, id: Option<&str>) -> Session {
    let mut headers = HeaderMap::new();
    if let Some(id) = id {
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("sid={id}")).expect("header"),
        );
    }
    engine.start(&RequestView::new(&headers, None))
}

/// The `Set-Cookie` values of a commit.
async fn commit(engine: &Engine, session: &Session) -> Vec<String> {
    let commit = engine
        .commit(session, StatusCode::OK)
        .await
        .expect("commit");
    let headers = commit.state_headers().get_all(SET_COOKIE);
    headers
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect()
}

fn issued_id(cookies: &[String]) -> String {
    match cookies {
        [one] => one
            .strip_prefix("sid=")
            .filter(|id| !id.is_empty())
            .expect("an id")
            .to_owned(),
        other => panic!("expected one Set-Cookie with an id, got {other:?}"),
    }
}

#[tokio::test]
async fn the_store_keeps_nothing() {
    let key = Key::from_digest([1; 32]);
    let record = Record::new(Timestamp::from_millis(0), Timestamp::from_millis(u64::MAX));
    let store = NullStore::new();
    assert_eq!(store.load(&key).await.expect("load"), None);
    assert!(store.create(&key, &record).await.expect("create"));
    assert!(
        store.create(&key, &record).await.expect("create"),
        "create always pretends"
    );
    assert_eq!(store.load(&key).await.expect("load"), None);
    assert!(!store.save(&key, &record).await.expect("save"));
    assert!(!store.apply(&key, &Changes::default()).await.expect("apply"));
    assert!(
        !store
            .touch(&key, Timestamp::default(), Timestamp::default())
            .await
            .expect("touch")
    );
    assert!(!store.delete(&key).await.expect("delete"));
    assert!(!store.applies_atomically());
}

#[tokio::test]
async fn every_request_starts_empty_but_a_cookie_is_issued() {
    let engine = engine();
    let session = start(&engine, None);
    session.insert("user", "alice").await.expect("insert");
    assert_eq!(
        session.get::<String>("user").await.expect("get").as_deref(),
        Some("alice")
    );
    let id = issued_id(&commit(&engine, &session).await);

    let session = start(&engine, Some(&id));
    assert_eq!(
        session.id().await.expect("id"),
        None,
        "the id is not adopted"
    );
    assert_eq!(session.get::<String>("user").await.expect("get"), None);
    session.insert("user", "bob").await.expect("insert");
    let next = issued_id(&commit(&engine, &session).await);
    assert_ne!(next, id, "a fresh id every time something is set");
}

#[tokio::test]
async fn a_request_that_sets_nothing_gets_no_cookie() {
    let engine = engine();
    let session = start(&engine, None);
    assert_eq!(session.get::<u64>("counter").await.expect("get"), None);
    assert!(commit(&engine, &session).await.is_empty());
}

/// An id the engine issued (and the store forgot).
async fn old_id(engine: &Engine) -> String {
    let session = start(engine, None);
    session.insert("a", &1).await.expect("insert");
    issued_id(&commit(engine, &session).await)
}

#[tokio::test]
async fn logout_is_harmless() {
    let engine = engine();
    let old = old_id(&engine).await;
    // Expiring without reading: the client is told to forget the id it sent.
    let session = start(&engine, Some(&old));
    session.expire();
    assert_eq!(commit(&engine, &session).await, ["sid=; Max-Age=0"]);
    // Expiring after reading: the id named nothing, but the client still holds it: forget it.
    let session = start(&engine, Some(&old));
    assert_eq!(session.get::<u64>("a").await.expect("get"), None);
    session.expire();
    assert_eq!(commit(&engine, &session).await, ["sid=; Max-Age=0"]);
    // Expiring a session that was never stored: nothing to delete, nothing to say.
    let session = start(&engine, None);
    session.insert("a", &1).await.expect("insert");
    session.expire();
    assert!(commit(&engine, &session).await.is_empty());
}

#[tokio::test]
async fn cycle_id_is_harmless() {
    let engine = engine();
    let old = old_id(&engine).await;
    let session = start(&engine, Some(&old));
    session.cycle_id();
    assert!(
        commit(&engine, &session).await.is_empty(),
        "nothing to move"
    );

    let session = start(&engine, Some(&old));
    session.insert("user", "alice").await.expect("insert");
    session.cycle_id();
    let id = issued_id(&commit(&engine, &session).await);
    assert_ne!(id, old);
}

#[tokio::test]
async fn writing_after_save_ends_the_session() {
    let engine = engine();
    let session = start(&engine, None);
    session.insert("a", &1).await.expect("insert");
    session.save().await.expect("the first save creates");
    session.insert("b", &2).await.expect("insert");
    assert!(matches!(session.save().await, Err(Error::SessionEnded)));

    let session = start(&engine, None);
    session.insert("a", &1).await.expect("insert");
    session.save().await.expect("save");
    session.insert("b", &2).await.expect("insert");
    assert!(
        commit(&engine, &session).await.is_empty(),
        "the dead id is not delivered"
    );
}
