//! The demo's HTTP contract over `--store file`, on axum and actix-web: the counter, the caching
//! headers, skip_store, 5xx, login and logout, concurrent writes, expiry on a manual clock, and
//! sessions that survive a server restart on the same directory.

use std::time::Duration;

use http::StatusCode;
use session_core::store::ManualClock;
use session_tests::{Framework, Setup, TestServer, contract};

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// The session files in `dir`: names only.
fn session_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .filter(|name| !name.starts_with('.'))
        .collect()
}

/// The counter, `/static`, `Vary` and `Cache-Control`, `skip_store` and a 5xx, over files; the
/// files are named by the id's digest, never by the id.
async fn demo_contract(framework: Framework) {
    let dir = dir();
    let server = TestServer::demo(framework, &Setup::cookie().file(dir.path())).await;
    let id = contract::counter_counts(&server).await;

    let files = session_files(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].len() == 64 && !files[0].contains(&id), "{files:?}");

    contract::untouched_nostore_and_5xx_store_nothing(&server, &id).await;
    assert_eq!(
        session_files(dir.path()).len(),
        1,
        "a 5xx or skip_store wrote a file"
    );
}

/// Login moves the data to a new id and kills the old one; logout removes the file.
async fn login_and_logout(framework: Framework) {
    let dir = dir();
    let server = TestServer::demo(framework, &Setup::cookie().file(dir.path())).await;
    let old = server.get("/set/a/1").await.expect_new_id();
    let new = server.get_as("/login", &old).await.expect_new_id();
    assert_ne!(new, old);
    assert_eq!(
        server.get_as("/get/a", &old).await.status,
        StatusCode::NOT_FOUND
    );
    let a = server.get_as("/get/a", &new).await;
    assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, "1"));
    assert_eq!(session_files(dir.path()).len(), 1, "the old file stayed");

    let logout = server.get_as("/logout", &new).await;
    assert!(logout.session_cookie().is_some_and(|c| c.is_removal()));
    assert!(session_files(dir.path()).is_empty(), "logout left the file");
    assert_eq!(
        server.get_as("/get/a", &new).await.status,
        StatusCode::NOT_FOUND
    );
}

/// 50 concurrent requests on one session, each writing its own key: all kept.
async fn concurrent_writes_lose_nothing(framework: Framework) {
    let dir = dir();
    let server = TestServer::demo(framework, &Setup::cookie().file(dir.path())).await;
    contract::concurrent_writes_lose_nothing(std::sync::Arc::new(server)).await;
}

/// A session left alone past the idle timeout is gone, judged on the store's (manual) clock.
async fn idle_timeout(framework: Framework) {
    let dir = dir();
    let clock = ManualClock::starting_now();
    let setup = Setup::cookie()
        .file(dir.path())
        .clock(clock.clone())
        .timeouts(Some(Duration::from_secs(60)), None);
    let server = TestServer::demo(framework, &setup).await;
    let id = server.get("/set/a/1").await.expect_new_id();
    clock.advance(Duration::from_secs(30));
    assert_eq!(server.get_as("/get/a", &id).await.status, StatusCode::OK);
    clock.advance(Duration::from_secs(61));
    assert_eq!(
        server.get_as("/get/a", &id).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        session_files(dir.path()).is_empty(),
        "the expired file stayed"
    );
}

/// Sessions survive a restart: a new server (a new store) on the same directory serves them, and
/// a logout there is final. With `--state param` too (`/id`).
async fn sessions_survive_a_restart(framework: Framework) {
    let dir = dir();
    let setups = [
        Setup::cookie().file(dir.path()),
        Setup::param().file(dir.path()),
    ];
    session_tests::contract::sessions_outlive_the_server(framework, &setups).await;
}

session_tests::per_framework!(
    demo_contract,
    login_and_logout,
    concurrent_writes_lose_nothing,
    idle_timeout,
    sessions_survive_a_restart,
);
