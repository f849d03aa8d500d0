//! The demo's HTTP contract over `--store cache` (moka), on axum and actix-web: the counter and
//! the caching headers, skip_store and 5xx, login and logout, concurrent writes, and the idle
//! timeout on a manual clock. (The Plack nine steps over it are in `plack.rs`.)

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use session_core::store::ManualClock;
use session_tests::{Framework, Setup, TestServer, contract, counter_body};

async fn demo_contract(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie().cache()).await;
    let id = contract::counter_counts(&server).await;
    contract::untouched_nostore_and_5xx_store_nothing(&server, &id).await;
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
    let server = TestServer::demo(framework, &Setup::cookie().cache()).await;
    contract::concurrent_writes_lose_nothing(Arc::new(server)).await;
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
