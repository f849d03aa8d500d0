//! The Redis store's client-side cache across processes: two demo server processes (one on axum,
//! one on actix-web) on one Redis, both with `--redis-client-cache true`. Each reads its own
//! writes at once; the other's writes and logouts are seen once Redis's invalidation arrives
//! (polled, the window measured and printed), and an ended session is never served after that.
//!
//! The server processes are this test binary started again, through `redis_store_processes`'s
//! entry point.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;
use session_store_redis::testing::RedisServer;
use session_tests::process::{self, DemoProcess, client};

/// A demo process on `framework` over the Redis at `url`, with the client-side cache (run by
/// `redis_store_processes`'s entry point).
fn start(framework: &str, url: &str) -> DemoProcess {
    crate::redis_store_processes::start_with(framework, url, &["--redis-client-cache", "true"])
}

/// Polls `GET path` on `server` until it answers `want` (status and body); how long that took.
async fn until_seen(
    server: &DemoProcess,
    client: &reqwest::Client,
    path: &str,
    id: &str,
    want: (StatusCode, &str),
) -> Duration {
    let started = Instant::now();
    loop {
        let reply = server.get(client, path, Some(id)).await;
        if (reply.status, reply.body.as_str()) == want {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{path} never answered {want:?}: still {} {}",
            reply.status,
            reply.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_processes_read_their_own_writes_and_see_each_others() {
    if process::is_child() {
        return;
    }
    let redis = RedisServer::start();
    let url = redis.url();
    let servers = Arc::new([start("axum", &url), start("actix", &url)]);
    let client = client();
    let id = servers[0]
        .get(&client, "/set/k/v0", None)
        .await
        .expect_new_id();

    // Each process writes and reads back at once, many times over, while the other process
    // keeps reading the session (so it stays cached there and is invalidated on every write).
    for (writer, reader) in [(0, 1), (1, 0)] {
        let stop = Arc::new(AtomicBool::new(false));
        let reading = {
            let (servers, client, id, stop) =
                (servers.clone(), client.clone(), id.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let reply = servers[reader].get(&client, "/get/k", Some(&id)).await;
                    assert_eq!(reply.status, StatusCode::OK);
                }
            })
        };
        for i in 1..=50 {
            let value = format!("w{writer}-{i}");
            servers[writer]
                .get(&client, &format!("/set/k/{value}"), Some(&id))
                .await
                .assert_ok();
            let read = servers[writer].get(&client, "/get/k", Some(&id)).await;
            assert_eq!(read.body, value, "process {writer} read its own write {i}");
        }
        stop.store(true, Ordering::Relaxed);
        reading.await.expect("reader");
    }

    // The other process's write: seen once its invalidation has arrived.
    let mut windows = Vec::new();
    for i in 0..20 {
        let (writer, reader) = (i % 2, (i + 1) % 2);
        assert_eq!(
            servers[reader]
                .get(&client, "/get/k", Some(&id))
                .await
                .status,
            StatusCode::OK
        );
        let value = format!("x{i}");
        servers[writer]
            .get(&client, &format!("/set/k/{value}"), Some(&id))
            .await
            .assert_ok();
        let path = "/get/k";
        windows.push(
            until_seen(
                &servers[reader],
                &client,
                path,
                &id,
                (StatusCode::OK, &value),
            )
            .await,
        );
    }
    windows.sort();
    eprintln!(
        "another process's write seen after (polling over HTTP): median {:?}, max {:?}",
        windows[windows.len() / 2],
        windows[windows.len() - 1]
    );

    // A logout in one process: the other serves a fresh session once the invalidation is in,
    // and never the ended one again.
    assert_eq!(
        servers[0].get(&client, "/get/k", Some(&id)).await.status,
        StatusCode::OK
    );
    servers[1]
        .get(&client, "/logout", Some(&id))
        .await
        .assert_ok();
    let gone = until_seen(
        &servers[0],
        &client,
        "/get/k",
        &id,
        (StatusCode::NOT_FOUND, "not found"),
    )
    .await;
    eprintln!("another process's logout seen after {gone:?}");
    for _ in 0..20 {
        let reply = servers[0].get(&client, "/get/k", Some(&id)).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "the ended session came back"
        );
    }
}
