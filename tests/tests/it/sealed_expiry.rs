//! Idle timeout (sliding) and absolute cap of the sealed cookie store over HTTP, on the engine's
//! manual clock: the expiry lives inside the sealed cookie and the engine checks it on every
//! request. A stale cookie is a fresh session with 200, never an error. No sleeps.

use std::time::Duration;

use http::StatusCode;
use session_core::store::ManualClock;
use session_tests::{Browser, Framework, Setup, TestServer, counter_body};

const IDLE: Duration = Duration::from_secs(60);
const CAP: Duration = Duration::from_secs(120);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

async fn server(framework: Framework, absolute: Option<Duration>) -> (TestServer, ManualClock) {
    TestServer::demo_on_clock(framework, Setup::sealed(), IDLE, absolute).await
}

/// A cookie older than the idle timeout opens no session: 200 and a fresh one, with a new id.
async fn idle_timeout_gives_a_fresh_session(framework: Framework) {
    let (server, clock) = server(framework, None).await;
    let mut browser = Browser::new(&server);
    browser.get("/set/a/1").await.assert_ok();
    let id = browser.id().await;
    clock.advance(IDLE + secs(1));

    let gone = browser.get("/get/a").await;
    assert_eq!(
        gone.status,
        StatusCode::NOT_FOUND,
        "alive after the idle timeout"
    );
    let fresh = browser.get("/").await;
    assert_eq!(fresh.status, StatusCode::OK);
    assert_eq!(fresh.body, counter_body(0));
    assert!(fresh.new_id().is_some());
    assert_ne!(browser.id().await, id, "an expired session's id was kept");
}

/// A read within the touch interval (a tenth of the idle timeout: 6 s) sends nothing; a read after
/// it reseals, so the idle timeout slides: the old copy dies at its own expiry, the new one lives.
async fn reads_after_the_touch_interval_reseal(framework: Framework) {
    let (server, clock) = server(framework, None).await;
    let mut browser = Browser::new(&server);
    browser.get("/set/a/1").await.assert_ok();
    let first = browser.expect_cookie();

    clock.advance(secs(3));
    let early = browser.get("/get/a").await;
    assert_eq!(early.body, "1");
    assert!(
        !early.has_set_cookie(),
        "resealed within the touch interval"
    );

    clock.advance(secs(47)); // 50 s
    let late = browser.get("/get/a").await;
    assert_eq!(late.body, "1");
    let second = late.expect_new_id();
    assert_ne!(
        second, first,
        "a read after the touch interval did not reseal"
    );

    clock.advance(secs(50)); // 100 s: the first cookie expired at 60 s, the second lives to 110 s
    let old = server.get_as("/get/a", &first).await;
    assert_eq!(
        old.status,
        StatusCode::NOT_FOUND,
        "the first cookie outlived its expiry"
    );
    // Reads alone, 50 s apart, keep it alive for well over three idle timeouts.
    for step in 0..4 {
        let reply = browser.get("/get/a").await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (StatusCode::OK, "1"),
            "read {step}"
        );
        assert!(reply.new_id().is_some(), "read {step} did not reseal");
        clock.advance(secs(50));
    }
    clock.advance(IDLE);
    let gone = browser.get("/get/a").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "alive after silence");
}

/// The absolute cap ends a session however active it is.
async fn absolute_cap_ends_an_active_session(framework: Framework) {
    let (server, clock) = server(framework, Some(CAP)).await;
    let mut browser = Browser::new(&server);
    assert_eq!(browser.get("/").await.body, counter_body(0));
    let id = browser.id().await;
    for expected in 1..=2 {
        clock.advance(secs(40));
        assert_eq!(browser.get("/").await.body, counter_body(expected));
    }
    clock.advance(secs(39)); // 119 s
    assert_eq!(browser.get("/").await.body, counter_body(3));

    clock.advance(secs(2)); // 121 s: past the cap, 2 s after the last write
    let gone = browser.get("/get/counter").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "alive past the cap");
    let fresh = browser.get("/").await;
    assert_eq!(
        (fresh.status, fresh.body),
        (StatusCode::OK, counter_body(0))
    );
    assert_ne!(browser.id().await, id);
}

/// A login near the cap does not reset it: the new sealed id keeps the creation time.
async fn login_does_not_reset_the_cap(framework: Framework) {
    let (server, clock) = server(framework, Some(CAP)).await;
    let mut browser = Browser::new(&server);
    browser.get("/set/a/1").await.assert_ok();
    clock.advance(secs(100));
    browser.get("/login").await.assert_ok();
    clock.advance(secs(10));
    assert_eq!(browser.get("/get/user").await.status, StatusCode::OK);
    clock.advance(secs(11)); // 121 s after the session was created
    let gone = browser.get("/get/a").await;
    assert_eq!(
        gone.status,
        StatusCode::NOT_FOUND,
        "login reset the absolute cap"
    );
}

session_tests::per_framework!(
    idle_timeout_gives_a_fresh_session,
    reads_after_the_touch_interval_reseal,
    absolute_cap_ends_an_active_session,
    login_does_not_reset_the_cap,
);
