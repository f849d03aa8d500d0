//! Redis going down under load and coming back, on axum and actix-web: a demo server over a
//! `redis-server` with an fsync'd append-only file; writers run on several sessions; Redis is
//! killed (SIGKILL) mid-load. While it is down, routes that use the session answer a bare 500
//! (empty body, no `Set-Cookie`) within a bound, and `/static`, which never touches the session,
//! keeps answering 200. Redis is then restarted on the same port: the same server recovers by
//! itself, and every write acknowledged with a 200 before the kill is still there.
//!
//! The figures (time to a 500, recovery time) are printed (`--nocapture` shows them); only
//! generous bounds are asserted: speed is for benchmarks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;
use session_store_redis::testing::RedisServer;
use session_tests::{Framework, Reply, Setup, TestServer};
use tokio::sync::mpsc;

/// Sessions written to concurrently.
const SESSIONS: usize = 4;
/// Writer tasks (spread over the sessions).
const WRITERS: usize = 8;
/// Writes acknowledged before Redis is killed.
const ACKED_BEFORE_KILL: usize = 200;
/// The bound on a 500 while Redis is down (the store's time-out is 1 s).
const ERROR_WITHIN: Duration = Duration::from_secs(5);
/// The bound on recovery after Redis is back.
const RECOVER_WITHIN: Duration = Duration::from_secs(15);

/// One acknowledged write: the session (index), key and value.
type Ack = (usize, String, String);

/// A bare 500: empty body, no cookie.
#[track_caller]
fn assert_bare_500(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{what}");
    assert!(reply.body.is_empty(), "{what}: body {:?}", reply.body);
    assert!(!reply.has_set_cookie(), "{what}: {:?}", reply.headers);
}

/// Writers: each writes its own keys (`w{writer}-{n}`, value `v{n}`) on one session in a loop
/// until `stop`, and reports each write answered 200 on `acks`.
fn spawn_writers(
    server: &Arc<TestServer>,
    ids: &Arc<Vec<String>>,
    stop: &Arc<AtomicBool>,
    acks: &mpsc::UnboundedSender<Ack>,
) -> tokio::task::JoinSet<usize> {
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let (server, ids, stop, acks) = (server.clone(), ids.clone(), stop.clone(), acks.clone());
        writers.spawn(async move {
            let session = writer % SESSIONS;
            let mut failed = 0;
            for n in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let (key, value) = (format!("w{writer}-{n}"), format!("v{n}"));
                let reply = server
                    .get_as(&format!("/set/{key}/{value}"), &ids[session])
                    .await;
                match reply.status {
                    StatusCode::OK => drop(acks.send((session, key, value))),
                    StatusCode::INTERNAL_SERVER_ERROR => failed += 1,
                    other => panic!("/set answered {other}"),
                }
            }
            failed
        });
    }
    writers
}

async fn redis_down_and_back(framework: Framework) {
    let mut redis = RedisServer::start_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let server = Arc::new(TestServer::demo(framework, &Setup::cookie().redis(redis.url())).await);
    let mut ids = Vec::new();
    for n in 0..SESSIONS {
        ids.push(
            server
                .get(&format!("/set/origin/{n}"))
                .await
                .expect_new_id(),
        );
    }
    let ids = Arc::new(ids);

    // Load, then the kill once enough writes are acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel();
    let mut writers = spawn_writers(&server, &ids, &stop, &ack_tx);
    drop(ack_tx);
    let mut acked = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.len() < ACKED_BEFORE_KILL {
        let left = deadline.saturating_duration_since(Instant::now());
        let ack = tokio::time::timeout(left, ack_rx.recv())
            .await
            .expect("writes acknowledged in time")
            .expect("writers running");
        acked.push(ack);
    }
    tokio::task::block_in_place(|| redis.stop());
    let killed = Instant::now();

    // Down: each route that uses the session answers a bare 500, soon.
    let mut slowest = Duration::ZERO;
    for (path, id) in [
        ("/get/origin", Some(&ids[0])),
        ("/set/x/1", Some(&ids[1])),
        ("/", None),
        ("/login", Some(&ids[2])),
        ("/get/origin", Some(&ids[3])),
    ] {
        let started = Instant::now();
        let reply = match id {
            Some(id) => server.get_as(path, id).await,
            None => server.get(path).await,
        };
        let took = started.elapsed();
        assert_bare_500(&reply, path);
        assert!(took < ERROR_WITHIN, "{path} took {took:?}");
        slowest = slowest.max(took);
    }
    let first_500 = killed.elapsed();
    // ... and `/static` keeps answering, with or without a cookie.
    let mut slowest_static = Duration::ZERO;
    for n in 0..20 {
        let started = Instant::now();
        let page = server.get_as("/static", &ids[n % SESSIONS]).await;
        slowest_static = slowest_static.max(started.elapsed());
        page.assert_ok();
        assert_eq!(page.body, "static");
        assert!(!page.has_set_cookie());
    }
    assert_eq!(server.get("/static").await.status, StatusCode::OK);

    stop.store(true, Ordering::Relaxed);
    let mut failed_writes = 0;
    while let Some(failed) = writers.join_next().await {
        failed_writes += failed.expect("writer");
    }
    while let Some(ack) = ack_rx.recv().await {
        acked.push(ack);
    }
    assert!(failed_writes > 0, "no writer saw Redis down");
    assert!(!redis.is_running());

    // Back: the same server recovers by itself.
    tokio::task::block_in_place(|| redis.restart());
    let restarted = Instant::now();
    let recovered = loop {
        let reply = server.get_as("/get/origin", &ids[0]).await;
        // Answering at all (the data is checked below) means the store reached Redis again.
        if reply.status != StatusCode::INTERNAL_SERVER_ERROR {
            break restarted.elapsed();
        }
        assert_bare_500(&reply, "while recovering");
        assert!(
            restarted.elapsed() < RECOVER_WITHIN,
            "not recovered after {RECOVER_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };

    // Every write acknowledged before the kill is there.
    let mut lost = Vec::new();
    for (session, key, value) in &acked {
        let reply = server.get_as(&format!("/get/{key}"), &ids[*session]).await;
        if (reply.status, reply.body.as_str()) != (StatusCode::OK, value.as_str()) {
            lost.push(format!("session {session} {key}={value}: {}", reply.status));
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes lost: {lost:?}",
        lost.len(),
        acked.len()
    );
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(
            server.get_as("/get/origin", id).await.body,
            n.to_string(),
            "session {n}"
        );
    }
    // And it works as before: writes, new sessions.
    server.get_as("/set/after/1", &ids[0]).await.assert_ok();
    let fresh = server.get("/set/a/1").await.expect_new_id();
    assert_eq!(server.get_as("/get/a", &fresh).await.body, "1");

    eprintln!(
        "{framework:?}: {} writes acknowledged before the kill, {failed_writes} failed while \
         down; slowest 500 while down {slowest:?} (all five within {first_500:?} of the kill); \
         slowest /static while down {slowest_static:?}; recovered {recovered:?} after the \
         restart",
        acked.len()
    );
}

session_tests::per_framework!(redis_down_and_back);
