//! The demo's HTTP contract over `--store cache` (moka), on axum and actix-web: the counter and
//! the caching headers, skip_store and 5xx, login and logout, concurrent writes, and the idle
//! timeout on a manual clock. (The Plack nine steps over it are in `plack.rs`.)

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use session_core::ManualClock;
use session_tests::{Framework, Setup, TestServer, counter_body};

async fn demo_contract(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie().cache()).await;
    let first = server.get("/").await;
    assert_eq!(first.body, counter_body(0));
    assert!(first.is_no_store() && first.varies_on_cookie());
    let id = first.expect_new_id();
    assert_eq!(server.get_as("/", &id).await.body, counter_body(1));
    assert_eq!(server.get_as("/", &id).await.body, counter_body(2));

    let untouched = server.get_as("/static", &id).await;
    assert!(!untouched.has_set_cookie() && !untouched.varies_on_cookie());

    assert!(!server.get("/nostore").await.has_set_cookie());
    server.get_as("/nostore", &id).await.assert_ok();
    assert_eq!(
        server.get_as("/get/nostore", &id).await.status,
        StatusCode::NOT_FOUND
    );
    let failed = server.get_as("/fail", &id).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        server.get_as("/get/failed", &id).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn login_and_logout(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie().cache()).await;
    let id = server.get("/set/colour/blue").await.expect_new_id();
    let login = server.get_as("/login", &id).await;
    let new = login.expect_new_id();
    assert_ne!(new, id, "login rotates the id");
    assert_eq!(server.get_as("/get/colour", &new).await.body, "blue");
    assert_eq!(
        server.get_as("/get/colour", &id).await.status,
        StatusCode::NOT_FOUND
    );

    let logout = server.get_as("/logout", &new).await;
    assert!(
        logout
            .session_cookie()
            .expect("a removal cookie")
            .is_removal()
    );
    assert_eq!(
        server.get_as("/get/user", &new).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn concurrent_writes_lose_nothing(framework: Framework) {
    const N: usize = 50;
    let server = Arc::new(TestServer::demo(framework, &Setup::cookie().cache()).await);
    let id = server.get("/").await.expect_new_id();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..N {
        let (server, id) = (server.clone(), id.clone());
        tasks.spawn(async move { server.get_as(&format!("/set/k{n}/v{n}"), &id).await });
    }
    while let Some(reply) = tasks.join_next().await {
        reply.expect("request task").assert_ok();
    }
    let mut lost = Vec::new();
    for n in 0..N {
        if server.get_as(&format!("/get/k{n}"), &id).await.body != format!("v{n}") {
            lost.push(n);
        }
    }
    assert!(lost.is_empty(), "lost writes: {lost:?}");
}

async fn idle_timeout(framework: Framework) {
    let clock = ManualClock::starting_now();
    let setup = Setup::cookie()
        .cache()
        .clock(clock.clone())
        .timeouts(Some(Duration::from_secs(60)), None);
    let server = TestServer::demo(framework, &setup).await;
    let id = server.get("/").await.expect_new_id();
    clock.advance(Duration::from_secs(59));
    assert_eq!(
        server.get_as("/", &id).await.body,
        counter_body(1),
        "still live"
    );
    clock.advance(Duration::from_secs(60));
    let after = server.get_as("/", &id).await;
    assert_eq!(
        after.body,
        counter_body(0),
        "expired exactly at its idle timeout"
    );
    assert_ne!(after.expect_new_id(), id, "an expired id is never adopted");
}

session_tests::per_framework!(
    demo_contract,
    login_and_logout,
    concurrent_writes_lose_nothing,
    idle_timeout,
);
