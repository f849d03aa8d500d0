//! The demo app over HTTP with CookieState and MemoryStore: the counter, untouched routes, the
//! caching headers, `skip_store`, 5xx responses and concurrent writes.

use http::StatusCode;
use session_core::MemoryStore;
use session_tests::{CountingStore, Framework, Setup, TestServer, counter_body};

/// The counter: 0th, then 1th with the returned cookie sent back, then 2th; a client that sends
/// no cookie starts again at 0th.
async fn counter(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;
    let first = server.get("/").await;
    first.assert_ok();
    assert_eq!(first.body, counter_body(0));
    let id = first.expect_new_id();

    let second = server.get_as("/", &id).await;
    second.assert_ok();
    assert_eq!(second.body, counter_body(1));
    if let Some(again) = second.new_id() {
        assert_eq!(again, id, "an existing session keeps its id");
    }
    assert_eq!(server.get_as("/", &id).await.body, counter_body(2));

    let stranger = server.get("/").await;
    assert_eq!(stranger.body, counter_body(0));
    assert_ne!(
        stranger.expect_new_id(),
        id,
        "each new session gets its own id"
    );
}

/// `/static` never touches the session: no store call at all, no `Set-Cookie`, no `Vary`, with or
/// without a session cookie (a live one, an unknown one, garbage).
async fn untouched_route_costs_nothing(framework: Framework) {
    let store = CountingStore::new(MemoryStore::default());
    let server = TestServer::demo(framework, &Setup::cookie().store(store.clone())).await;

    let reply = server.get("/static").await;
    reply.assert_ok();
    assert_eq!(reply.body, "static");
    assert!(!reply.has_set_cookie(), "{:?}", reply.headers);
    assert!(!reply.headers.contains_key(http::header::VARY));
    assert_eq!(store.calls().total(), 0, "{:?}", store.calls());

    // The wrapper does see the engine's calls: a session route reaches the store.
    let id = server.get("/").await.expect_new_id();
    let after_counter = store.calls();
    assert!(after_counter.create >= 1, "{after_counter:?}");

    let unknown = session_tests::ids::unknown_id();
    for cookie in [id.as_str(), unknown.as_str(), "../wrong"] {
        let reply = server.get_as("/static", cookie).await;
        reply.assert_ok();
        assert!(!reply.has_set_cookie(), "{:?}", reply.headers);
        assert!(!reply.headers.contains_key(http::header::VARY));
    }
    assert_eq!(store.calls(), after_counter, "/static reached the store");
}

/// `Cache-Control: no-store` on responses that set or remove the cookie; `Vary: Cookie` on every
/// response that used the session, and on none that did not.
async fn caching_headers(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;

    let created = server.get("/").await;
    assert!(created.has_set_cookie());
    assert!(created.is_no_store(), "{:?}", created.headers);
    assert!(created.varies_on_cookie(), "{:?}", created.headers);
    let id = created.expect_new_id();

    // A read that writes nothing and sets no cookie still depended on the session.
    let read = server.get_as("/get/counter", &id).await;
    read.assert_ok();
    assert_eq!(read.body, "1");
    assert!(read.varies_on_cookie(), "{:?}", read.headers);
    assert!(
        !read.has_set_cookie(),
        "a read sent a cookie: {:?}",
        read.headers
    );
    assert!(!read.is_no_store(), "no-store without a cookie being set");

    // An empty new session is not stored, yet the page depended on it.
    let empty = server.get("/get/missing").await;
    assert_eq!(empty.status, StatusCode::NOT_FOUND);
    assert!(!empty.has_set_cookie());
    assert!(empty.varies_on_cookie(), "{:?}", empty.headers);

    let written = server.get_as("/set/a/1", &id).await;
    written.assert_ok();
    if written.has_set_cookie() {
        assert!(written.is_no_store(), "{:?}", written.headers);
    }
    assert!(written.varies_on_cookie());

    let logout = server.get_as("/logout", &id).await;
    logout.assert_ok();
    assert!(logout.has_set_cookie());
    assert!(logout.is_no_store(), "{:?}", logout.headers);
    assert!(logout.varies_on_cookie());

    let untouched = server.get("/static").await;
    assert!(!untouched.varies_on_cookie());
    assert!(!untouched.is_no_store());
}

/// `/nostore` (skip_store) writes nothing: no cookie for a new session, and an existing session
/// does not gain `nostore` while keeping what it had.
async fn skip_store_writes_nothing(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;

    let fresh = server.get("/nostore").await;
    fresh.assert_ok();
    assert!(!fresh.has_set_cookie(), "{:?}", fresh.headers);

    let id = server.get("/set/a/1").await.expect_new_id();
    let existing = server.get_as("/nostore", &id).await;
    existing.assert_ok();
    assert!(existing.new_id().is_none(), "{:?}", existing.headers);

    let gone = server.get_as("/get/nostore", &id).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{}", gone.body);
    let kept = server.get_as("/get/a", &id).await;
    assert_eq!((kept.status, kept.body.as_str()), (StatusCode::OK, "1"));
}

/// A 5xx response commits nothing: `/fail` writes `failed`, answers 500, and `failed` is absent
/// afterwards; a new session is not even created.
async fn server_error_does_not_commit(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;

    let fresh = server.get("/fail").await;
    assert_eq!(fresh.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(fresh.new_id().is_none(), "{:?}", fresh.headers);

    let id = server.get("/set/a/1").await.expect_new_id();
    let failed = server.get_as("/fail", &id).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(failed.new_id().is_none(), "{:?}", failed.headers);

    let after = server.get_as("/get/failed", &id).await;
    assert_eq!(after.status, StatusCode::NOT_FOUND, "{}", after.body);
    let kept = server.get_as("/get/a", &id).await;
    assert_eq!((kept.status, kept.body.as_str()), (StatusCode::OK, "1"));
}

/// 50 concurrent requests on one session, each writing its own key, lose no write.
async fn concurrent_writes_lose_nothing(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;
    session_tests::contract::concurrent_writes_lose_nothing(std::sync::Arc::new(server)).await;
}

session_tests::per_framework!(
    counter,
    untouched_route_costs_nothing,
    caching_headers,
    skip_store_writes_nothing,
    server_error_does_not_commit,
    concurrent_writes_lose_nothing,
);
