//! Idle timeout (sliding) and absolute lifetime cap over HTTP, on a manual clock shared by the
//! engine and the `MemoryStore`: no sleeps.

use std::time::Duration;

use http::StatusCode;
use session_core::store::ManualClock;
use session_tests::{Framework, Setup, TestServer, counter_body};

const IDLE: Duration = Duration::from_secs(60);
const CAP: Duration = Duration::from_secs(120);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

async fn server(framework: Framework, absolute: Option<Duration>) -> (TestServer, ManualClock) {
    TestServer::demo_on_clock(framework, Setup::cookie(), IDLE, absolute).await
}

/// A session left alone longer than the idle timeout is gone: its data unreadable, and the next
/// write starts a new session under a new id.
async fn idle_timeout_expires_the_session(framework: Framework) {
    let (server, clock) = server(framework, None).await;
    let id = server.get("/set/a/1").await.expect_new_id();
    clock.advance(secs(30));
    let alive = server.get_as("/get/a", &id).await;
    assert_eq!((alive.status, alive.body.as_str()), (StatusCode::OK, "1"));

    clock.advance(IDLE + secs(1));
    let gone = server.get_as("/get/a", &id).await;
    assert_eq!(
        gone.status,
        StatusCode::NOT_FOUND,
        "alive after the idle timeout"
    );
    let fresh = server.get_as("/", &id).await;
    assert_eq!(fresh.body, counter_body(0));
    assert_ne!(fresh.expect_new_id(), id, "an expired id was adopted");
}

/// Requests within the idle timeout keep the session alive well past one idle timeout (reads
/// extend it too); then silence ends it.
async fn activity_slides_the_idle_timeout(framework: Framework) {
    let (server, clock) = server(framework, None).await;
    let id = server.get("/set/a/1").await.expect_new_id();
    // Reads only, 50 s apart: 200 s in all, more than three idle timeouts.
    for step in 1..=4 {
        clock.advance(secs(50));
        let reply = server.get_as("/get/a", &id).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (StatusCode::OK, "1"),
            "read {step} found the session gone"
        );
    }
    // Writes slide it as well.
    for expected in 0..3 {
        clock.advance(secs(50));
        assert_eq!(server.get_as("/", &id).await.body, counter_body(expected));
    }
    clock.advance(IDLE + secs(1));
    let gone = server.get_as("/get/a", &id).await;
    assert_eq!(
        gone.status,
        StatusCode::NOT_FOUND,
        "alive after the idle timeout"
    );
}

/// The absolute cap ends a session however active it is.
async fn absolute_cap_ends_an_active_session(framework: Framework) {
    let (server, clock) = server(framework, Some(CAP)).await;
    let first = server.get("/").await;
    assert_eq!(first.body, counter_body(0));
    let id = first.expect_new_id();
    // Active every 40 s, well within the idle timeout, up to just before the cap.
    for expected in 1..=2 {
        clock.advance(secs(40));
        assert_eq!(server.get_as("/", &id).await.body, counter_body(expected));
    }
    clock.advance(secs(39)); // 119 s after creation
    assert_eq!(server.get_as("/", &id).await.body, counter_body(3));

    clock.advance(secs(2)); // 121 s: past the cap, 2 s after the last request
    let gone = server.get_as("/get/counter", &id).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "alive past the cap");
    let fresh = server.get_as("/", &id).await;
    assert_eq!(fresh.body, counter_body(0));
    assert_ne!(fresh.expect_new_id(), id);
}

/// A login near the cap does not reset it: the rotated session keeps its creation time.
async fn login_does_not_reset_the_cap(framework: Framework) {
    let (server, clock) = server(framework, Some(CAP)).await;
    let id = server.get("/set/a/1").await.expect_new_id();
    clock.advance(secs(100));
    let new = server.get_as("/login", &id).await.expect_new_id();
    assert_ne!(new, id);
    clock.advance(secs(10));
    let alive = server.get_as("/get/user", &new).await;
    assert_eq!(alive.status, StatusCode::OK);
    clock.advance(secs(11)); // 121 s after the session was first created
    let gone = server.get_as("/get/a", &new).await;
    assert_eq!(
        gone.status,
        StatusCode::NOT_FOUND,
        "login reset the absolute cap"
    );
}

session_tests::per_framework!(
    idle_timeout_expires_the_session,
    activity_slides_the_idle_timeout,
    absolute_cap_ends_an_active_session,
    login_does_not_reset_the_cap,
);
