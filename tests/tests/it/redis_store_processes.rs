//! Two demo server processes on one Redis (one on axum, one on actix-web): each continues the
//! other's sessions, concurrent requests writing different keys of one session through both lose
//! nothing, and a logout in one is final in the other. A demo started while Redis is down exits
//! with a failure status and says why.
//!
//! The server processes are this test binary started again, running the demo as its binary does
//! (`Args::parse` on the command line, then `demo::bind`, an error printed and a failure status):
//! no extra build step, so it works on a clean clone under `cargo test --workspace`.

use std::io::Read;
use std::process::Stdio;
use std::sync::Arc;

use http::StatusCode;
use session_store_redis::testing::RedisServer;
use session_tests::counter_body;
use session_tests::process::{self, DemoProcess, client, demo_command};

/// The full name of [`demo_server_process`] in this test binary: the child processes run it alone
/// (`--exact`), so this must follow the test wherever it moves. A stale name runs nothing, and the
/// tests here fail at once (the demo process ends before listening).
const ENTRY: &str = "redis_store_processes::demo_server_process";

/// A demo server process (run only by the tests below).
#[test]
#[ignore = "a demo server process for the tests in this file, not a test by itself"]
fn demo_server_process() {
    process::serve_demo_if_child();
}

/// A demo process on `framework` over the Redis at `url`.
fn start(framework: &str, url: &str) -> DemoProcess {
    start_with(framework, url, &[])
}

/// A demo process on `framework` over the Redis at `url`, with the demo options `more`.
pub(crate) fn start_with(framework: &str, url: &str, more: &[&str]) -> DemoProcess {
    let mut words = vec![
        "--framework",
        framework,
        "--store",
        "redis",
        "--redis-url",
        url,
    ];
    words.extend(more);
    DemoProcess::start(ENTRY, &words)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_share_sessions_and_lose_no_write() {
    if process::is_child() {
        return;
    }
    const PER_SERVER: usize = 50;
    let redis = RedisServer::start();
    let servers = Arc::new([start("axum", &redis.url()), start("actix", &redis.url())]);
    let client = client();

    // The counter, each visit on the other process: each continues the other's session.
    let id = servers[0].get(&client, "/", None).await.expect_new_id();
    for n in 1..6 {
        let reply = servers[n % 2].get(&client, "/", Some(&id)).await;
        assert_eq!(reply.body, counter_body(n as u64), "visit {n}");
        assert!(reply.new_id().is_none_or(|sent| sent == id), "visit {n}");
    }

    // Both processes at once, each request setting its own key of the one session.
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..2 * PER_SERVER {
        let (servers, client, id) = (servers.clone(), client.clone(), id.clone());
        tasks.spawn(async move {
            let path = format!("/set/k{n}/v{n}");
            (n, servers[n % 2].get(&client, &path, Some(&id)).await)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (n, reply) = joined.expect("task");
        assert_eq!(reply.status, StatusCode::OK, "/set/k{n}: {}", reply.body);
    }
    let mut lost = Vec::new();
    for n in 0..2 * PER_SERVER {
        // Read back through the other process than the one that wrote it.
        let reply = servers[(n + 1) % 2]
            .get(&client, &format!("/get/k{n}"), Some(&id))
            .await;
        if (reply.status, reply.body.as_str()) != (StatusCode::OK, format!("v{n}").as_str()) {
            lost.push(n);
        }
    }
    assert!(lost.is_empty(), "writes lost across processes: {lost:?}");
    let counter = servers[1].get(&client, "/get/counter", Some(&id)).await;
    assert_eq!(
        counter.body, "6",
        "the counter written before them was lost"
    );

    // A logout in one process is final in the other, for every key and for a write.
    servers[1]
        .get(&client, "/logout", Some(&id))
        .await
        .assert_ok();
    for path in ["/get/k0", "/get/counter"] {
        let gone = servers[0].get(&client, path, Some(&id)).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND, "{path}");
    }
    let fresh = servers[0].get(&client, "/set/k0/again", Some(&id)).await;
    assert_ne!(fresh.expect_new_id(), id, "the logged-out id was adopted");
    assert_eq!(
        servers[1].get(&client, "/get/k1", Some(&id)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn a_demo_started_while_redis_is_down_exits_with_a_failure_and_says_why() {
    if process::is_child() {
        return;
    }
    let mut redis = RedisServer::start();
    let url = redis.url();
    redis.stop();
    let words = [
        "--store",
        "redis",
        "--redis-url",
        &url,
        "--addr",
        "127.0.0.1:0",
    ];
    let mut child = demo_command(ENTRY, &words)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a demo process");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr)
        .expect("read its errors");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut stdout)
        .expect("read its output");
    let status = child.wait().expect("it exits");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(!stdout.contains("listening on"), "{stdout}");
    assert!(
        stderr.contains(&format!("demo: --store redis: cannot use Redis at {url}"))
            && stderr.contains("could not connect to Redis"),
        "{stderr}"
    );
}
