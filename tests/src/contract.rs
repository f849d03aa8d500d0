//! Store-independent pieces of the demo's HTTP contract, run by the suites of each store against
//! a server they set up (the test modules `demo` for memory, `cache_store`, `file_store` and
//! `sealed`).

use std::sync::Arc;

use http::StatusCode;

use crate::{Browser, Framework, Setup, TestServer, counter_body};

/// The counter three times with its caching headers; returns the session's id.
pub async fn counter_counts(server: &TestServer) -> String {
    let first = server.get("/").await;
    assert_eq!(first.body, counter_body(0));
    assert!(
        first.is_no_store() && first.varies_on_id(),
        "{:?}",
        first.headers
    );
    let id = first.expect_new_id();
    assert_eq!(server.get_as("/", &id).await.body, counter_body(1));
    assert_eq!(server.get_as("/", &id).await.body, counter_body(2));
    id
}

/// The counter three times with its caching headers, as a [`Browser`] that sends back the latest
/// cookie it was given: for client-side stores, whose cookie value changes on every write. Every
/// write sends a new value; the id sealed inside stays. Returns the latest cookie.
pub async fn counter_counts_following(server: &TestServer) -> String {
    let mut browser = Browser::new(server);
    let mut previous = String::new();
    for n in 0..3 {
        let reply = browser.get("/").await;
        assert_eq!(reply.body, counter_body(n));
        assert!(
            reply.is_no_store() && reply.varies_on_cookie(),
            "request {n}"
        );
        let cookie = reply.expect_new_id();
        assert_ne!(cookie, previous, "request {n}: a write sent the same value");
        previous = cookie;
    }
    let id = browser.id().await;
    assert_eq!(browser.get("/get/counter").await.body, "3");
    assert_eq!(browser.id().await, id, "the sealed id changed");
    browser.expect_cookie()
}

/// With the live session `id`: `/static` sends no id (no cookie, no id header) and no `Vary`;
/// `/nostore` stores nothing (no id for a new session, no key for `id`); `/fail` (a 500) stores
/// nothing.
pub async fn untouched_nostore_and_5xx_store_nothing(server: &TestServer, id: &str) {
    let untouched = server.get_as("/static", id).await;
    assert!(!untouched.sends_id() && !untouched.varies_on_id());

    assert!(!server.get("/nostore").await.sends_id());
    // No `Set-Cookie` either: for a client-side store, a cookie is a write.
    let nostore = server.get_as("/nostore", id).await;
    nostore.assert_ok();
    assert!(!nostore.sends_id(), "{:?}", nostore.headers);
    assert_eq!(
        server.get_as("/get/nostore", id).await.status,
        StatusCode::NOT_FOUND
    );
    let failed = server.get_as("/fail", id).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!failed.sends_id(), "{:?}", failed.headers);
    assert_eq!(
        server.get_as("/get/failed", id).await.status,
        StatusCode::NOT_FOUND
    );
}

/// 50 concurrent requests on one session, each writing its own key, lose no write and keep the
/// id; the counter written before them is kept too. Returns the session's id.
pub async fn concurrent_writes_lose_nothing(server: Arc<TestServer>) -> String {
    const N: usize = 50;
    let id = server.get("/").await.expect_new_id();

    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..N {
        let server = server.clone();
        let id = id.clone();
        tasks.spawn(async move { (n, server.get_as(&format!("/set/k{n}/v{n}"), &id).await) });
    }
    while let Some(joined) = tasks.join_next().await {
        let (n, reply) = joined.expect("request task");
        assert_eq!(reply.status, StatusCode::OK, "/set/k{n}: {}", reply.body);
        if let Some(sent) = reply.new_id() {
            assert_eq!(sent, id, "/set/k{n} changed the id");
        }
    }

    let mut lost = Vec::new();
    for n in 0..N {
        let reply = server.get_as(&format!("/get/k{n}"), &id).await;
        if reply.status != StatusCode::OK || reply.body != format!("v{n}") {
            lost.push(n);
        }
    }
    assert!(lost.is_empty(), "lost writes: {lost:?}");
    assert_eq!(server.get_as("/", &id).await.body, counter_body(1));
    id
}

/// Sessions live in the store, not in the server: for each setup (a persistent store, with cookie
/// or param state), a new server (a new store value) on the same storage serves a session the
/// first one created, and a logout there is final for a third.
pub async fn sessions_outlive_the_server(framework: Framework, setups: &[Setup]) {
    for setup in setups {
        let first = TestServer::demo(framework, setup).await;
        let id = first.get("/id").await.body;
        first.get_as("/set/user/alice", &id).await.assert_ok();
        drop(first);

        let second = TestServer::demo(framework, setup).await;
        let user = second.get_as("/get/user", &id).await;
        assert_eq!((user.status, user.body.as_str()), (StatusCode::OK, "alice"));
        second.get_as("/logout", &id).await.assert_ok();
        drop(second);

        let third = TestServer::demo(framework, setup).await;
        assert_eq!(
            third.get_as("/get/user", &id).await.status,
            StatusCode::NOT_FOUND
        );
    }
}
