//! A bounded load soak per store: a demo server process under many concurrent clients (reads,
//! writes, logins, logouts, concurrent writers on distinct keys of one session), no acknowledged
//! write lost, no 5xx, and the server's memory (its own process's, from `/proc`) bounded. The
//! workload and thresholds are described in `session_tests::soak`.
//!
//! `SOAK_SECS` sets the seconds of load per store (a short run by default), `SOAK_FRAMEWORKS=all`
//! soaks every store on both frameworks; each run prints one summary line (see `--nocapture`):
//!
//! ```text
//! SOAK_SECS=120 cargo test -p session-tests --test it -- soak:: --nocapture
//! ```
//!
//! The server processes are this test binary started again, running the demo as its binary does
//! (see `session_tests::process`).

use session_store_redis::testing::RedisServer;
use session_tests::process;
use session_tests::soak::{self, Probe, Target};

/// The full name of [`demo_server_process`] in this test binary: the child processes run it alone
/// (`--exact`), so this must follow the test wherever it moves. A stale name runs nothing, and the
/// tests here fail at once (the demo process ends before listening).
const ENTRY: &str = "soak::demo_server_process";

/// A demo server process (run only by the tests below).
#[test]
#[ignore = "a demo server process for the tests in this file, not a test by itself"]
fn demo_server_process() {
    process::serve_demo_if_child();
}

fn target(store: &'static str, framework: &'static str, words: &[&str], probe: Probe) -> Target {
    Target {
        entry: ENTRY,
        store,
        framework,
        words: words.iter().map(|word| (*word).to_owned()).collect(),
        probe,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_under_load() {
    if process::is_child() {
        return;
    }
    for framework in soak::frameworks("axum") {
        let target = target("memory", framework, &["--store", "memory"], Probe::None);
        soak::run(&target).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_store_under_load() {
    if process::is_child() {
        return;
    }
    for framework in soak::frameworks("actix") {
        let target = target("cache", framework, &["--store", "cache"], Probe::None);
        soak::run(&target).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_under_load() {
    if process::is_child() {
        return;
    }
    for framework in soak::frameworks("axum") {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_str().expect("utf-8 path");
        let words = ["--store", "file", "--dir", path];
        let probe = Probe::Files(dir.path().to_owned());
        soak::run(&target("file", framework, &words, probe)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_under_load() {
    if process::is_child() {
        return;
    }
    for framework in soak::frameworks("actix") {
        let redis = RedisServer::start();
        let url = redis.url();
        let words = ["--store", "redis", "--redis-url", &url];
        soak::run(&target(
            "redis",
            framework,
            &words,
            Probe::Redis(url.clone()),
        ))
        .await;
    }
}
