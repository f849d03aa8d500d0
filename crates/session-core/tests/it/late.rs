//! Late store and per-request cookie options, driven through the engine: the
//! head's commit, changes made while a body streams, and the commit when the body ends.

use std::future::Future;

use http::{HeaderMap, HeaderValue, StatusCode};
use session_core::adapter::Prepared;
use session_core::state::{Candidates, Delivery, RequestView, State};
use session_core::{CookieOptions, Engine, Id, MemoryStore, Session};

use crate::warnings_of;

/// Carries the id in an `x-session` header; writes the options it was given after it.
#[derive(Debug)]
struct HeaderState;

impl State for HeaderState {
    fn extract<'a>(&self, request: &RequestView<'a>) -> Candidates<'a> {
        let mut found = Candidates::new();
        if let Some(text) = request
            .headers()
            .get("x-session")
            .and_then(|v| v.to_str().ok())
        {
            found.push(text);
        }
        found
    }
    fn finalize(&self, id: &Id, delivery: &Delivery, headers: &mut HeaderMap) {
        let path = delivery.options.as_ref().and_then(|o| o.path.clone());
        let value = format!("{};path={}", id.as_str(), path.unwrap_or_default());
        headers.append("x-session", HeaderValue::from_str(&value).expect("ascii"));
    }
    fn expire(&self, headers: &mut HeaderMap) {
        headers.append("x-session", HeaderValue::from_static("-"));
    }
    fn expire_with(&self, delivery: &Delivery, headers: &mut HeaderMap) {
        let path = delivery.options.as_ref().and_then(|o| o.path.clone());
        let value = format!("-;path={}", path.unwrap_or_default());
        headers.append("x-session", HeaderValue::from_str(&value).expect("ascii"));
    }
}

fn engine() -> Engine {
    Engine::new(HeaderState, MemoryStore::default())
}

fn start(engine: &Engine, id: Option<&str>) -> Session {
    let mut headers = HeaderMap::new();
    if let Some(id) = id {
        headers.insert("x-session", HeaderValue::from_str(id).expect("ascii"));
    }
    engine.start(&RequestView::new(&headers, None))
}

/// The head's commit: the response headers.
async fn head(engine: &Engine, session: &Session, status: StatusCode) -> HeaderMap {
    let commit = engine.commit(session, status).await.expect("commit");
    let mut out = HeaderMap::new();
    commit.apply_to(&mut out);
    out
}

/// The commit when the body ends; its headers must be empty (the head has gone).
async fn body_end(engine: &Engine, session: &Session) {
    let commit = match engine.prepare_late(session) {
        Prepared::Ready(commit) => commit,
        Prepared::Pending(pending) => pending.run().await.expect("late commit"),
    };
    assert!(
        commit.state_headers().is_empty(),
        "a late commit sends nothing"
    );
}

fn id_of(headers: &HeaderMap) -> String {
    let value = headers["x-session"].to_str().expect("ascii");
    value.split(';').next().expect("id").to_owned()
}

async fn get(engine: &Engine, id: &str, key: &str) -> Option<String> {
    start(engine, Some(id))
        .get::<String>(key)
        .await
        .expect("get")
}

#[tokio::test]
async fn late_store_keeps_changes_made_while_the_body_streams() {
    let engine = engine();
    // A new visitor: nothing is set before the head, but late store needs the id now.
    let session = start(&engine, None);
    session.late_store();
    let headers = head(&engine, &session, StatusCode::OK).await;
    let id = id_of(&headers);
    assert_eq!(
        session
            .id()
            .await
            .expect("id")
            .map(|i| i.as_str().to_owned()),
        Some(id.clone())
    );
    // While the body streams.
    session.insert("streamed", "1").await.expect("insert");
    assert_eq!(
        get(&engine, &id, "streamed").await,
        None,
        "not before the body ends"
    );
    body_end(&engine, &session).await;
    assert_eq!(get(&engine, &id, "streamed").await.as_deref(), Some("1"));
    // A second late commit does nothing; later changes are not stored.
    session.insert("after", "x").await.expect("insert");
    body_end(&engine, &session).await;
    assert_eq!(get(&engine, &id, "after").await, None);
}

#[tokio::test]
async fn without_late_store_changes_after_the_head_are_not_stored() {
    let engine = engine();
    let session = start(&engine, None);
    session.insert("before", "1").await.expect("insert");
    let id = id_of(&head(&engine, &session, StatusCode::OK).await);
    session.insert("streamed", "1").await.expect("insert");
    body_end(&engine, &session).await;
    assert_eq!(get(&engine, &id, "before").await.as_deref(), Some("1"));
    assert_eq!(get(&engine, &id, "streamed").await, None);
}

#[tokio::test]
async fn late_store_applies_only_the_keys_changed_late() {
    let engine = engine();
    let first = start(&engine, None);
    first.insert("a", "1").await.expect("insert");
    let id = id_of(&head(&engine, &first, StatusCode::OK).await);

    let streaming = start(&engine, Some(&id));
    streaming.late_store();
    streaming.insert("b", "early").await.expect("insert");
    assert!(
        head(&engine, &streaming, StatusCode::OK)
            .await
            .contains_key("x-session")
    );
    // Another request writes `a` while this body streams; the late commit must keep it.
    let other = start(&engine, Some(&id));
    other.insert("a", "2").await.expect("insert");
    head(&engine, &other, StatusCode::OK).await;
    streaming.insert("c", "late").await.expect("insert");
    body_end(&engine, &streaming).await;
    assert_eq!(get(&engine, &id, "a").await.as_deref(), Some("2"));
    assert_eq!(get(&engine, &id, "b").await.as_deref(), Some("early"));
    assert_eq!(get(&engine, &id, "c").await.as_deref(), Some("late"));
}

#[tokio::test]
async fn a_late_expire_deletes_and_a_late_cycle_is_ignored() {
    let engine = engine();
    let first = start(&engine, None);
    first.insert("a", "1").await.expect("insert");
    let id = id_of(&head(&engine, &first, StatusCode::OK).await);

    let session = start(&engine, Some(&id));
    session.late_store();
    assert_eq!(
        session.get::<String>("a").await.expect("get").as_deref(),
        Some("1")
    );
    head(&engine, &session, StatusCode::OK).await;
    session.cycle_id();
    session.insert("b", "2").await.expect("insert");
    body_end(&engine, &session).await;
    assert_eq!(
        get(&engine, &id, "b").await.as_deref(),
        Some("2"),
        "same id, cycle ignored"
    );

    let session = start(&engine, Some(&id));
    session.late_store();
    head(&engine, &session, StatusCode::OK).await;
    session.expire();
    body_end(&engine, &session).await;
    assert_eq!(
        get(&engine, &id, "a").await,
        None,
        "deleted when the body ended"
    );
}

#[tokio::test]
async fn a_server_error_or_skip_at_the_head_stores_nothing_late_either() {
    let engine = engine();
    for (status, skip) in [
        (StatusCode::INTERNAL_SERVER_ERROR, false),
        (StatusCode::OK, true),
    ] {
        let session = start(&engine, None);
        session.late_store();
        session.insert("a", "1").await.expect("insert");
        if skip {
            session.skip_store();
        }
        let headers = head(&engine, &session, status).await;
        assert!(!headers.contains_key("x-session"));
        session.insert("b", "2").await.expect("insert");
        body_end(&engine, &session).await;
        assert_eq!(session.id().await.expect("id"), None, "nothing was stored");
    }
}

#[tokio::test]
async fn cookie_options_go_to_the_state_and_resend_the_cookie() {
    let engine = engine();
    let first = start(&engine, None);
    first.insert("a", "1").await.expect("insert");
    let id = id_of(&head(&engine, &first, StatusCode::OK).await);

    // Nothing changed, but the request set options: the cookie is sent again with them.
    let session = start(&engine, Some(&id));
    session.set_cookie_options(CookieOptions::new().path("/app"));
    let headers = head(&engine, &session, StatusCode::OK).await;
    assert_eq!(headers["x-session"], format!("{id};path=/app").as_str());

    // The next request without options: nothing to send.
    let session = start(&engine, Some(&id));
    assert_eq!(
        session.get::<String>("a").await.expect("get").as_deref(),
        Some("1")
    );
    assert!(
        !head(&engine, &session, StatusCode::OK)
            .await
            .contains_key("x-session")
    );

    // A removal in a request with options carries them too.
    let session = start(&engine, Some(&id));
    session.set_cookie_options(CookieOptions::new().path("/app"));
    session.expire();
    let headers = head(&engine, &session, StatusCode::OK).await;
    assert_eq!(headers["x-session"], "-;path=/app");

    // A new, empty session with options still sends nothing.
    let session = start(&engine, None);
    session.set_cookie_options(CookieOptions::new().path("/app"));
    assert!(
        !head(&engine, &session, StatusCode::OK)
            .await
            .contains_key("x-session")
    );
}

/// The late commit of a session created at the head applies only what changed after the head: a
/// write another request made meanwhile (with the cookie just sent) is kept.
#[tokio::test]
async fn a_late_commit_does_not_rewrite_what_the_head_created() {
    let engine = engine();
    let session = start(&engine, None);
    session.late_store();
    session.insert("a", "1").await.expect("insert");
    let id = id_of(&head(&engine, &session, StatusCode::OK).await);
    let other = start(&engine, Some(&id));
    other.insert("a", "2").await.expect("insert");
    head(&engine, &other, StatusCode::OK).await;
    body_end(&engine, &session).await;
    assert_eq!(get(&engine, &id, "a").await.as_deref(), Some("2"));
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// Without late store, a change after the commit is not stored, and it is reported.
#[test]
fn a_change_after_the_commit_is_reported() {
    let warnings = warnings_of(|| {
        block_on(async {
            let engine = engine();
            let session = start(&engine, None);
            session.insert("a", "1").await.expect("insert");
            head(&engine, &session, StatusCode::OK).await;
            session.insert("late", "1").await.expect("insert");
        })
    });
    assert!(warnings.contains("not stored"), "{warnings:?}");
}

/// A login (`cycle_id` before the head) with late store raises no false alarm when the body ends.
#[test]
fn a_cycle_before_the_head_is_not_reported_as_late() {
    let warnings = warnings_of(|| {
        block_on(async {
            let engine = engine();
            let first = start(&engine, None);
            first.insert("a", "1").await.expect("insert");
            let id = id_of(&head(&engine, &first, StatusCode::OK).await);
            let session = start(&engine, Some(&id));
            session.late_store();
            session.cycle_id();
            head(&engine, &session, StatusCode::OK).await;
            session.insert("b", "2").await.expect("insert");
            body_end(&engine, &session).await;
        })
    });
    assert!(warnings.is_empty(), "{warnings:?}");
}
