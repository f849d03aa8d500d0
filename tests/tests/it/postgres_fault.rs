//! PostgreSQL going down under load and coming back, on axum and actix-web: a demo server over a
//! PostgreSQL server of the test's own (`fsync` on), with a store time-out of one second;
//! writers run on several sessions; the server is shut down at once (`pg_ctl stop -m immediate`,
//! like a crash) mid-load. While it is down, routes that use the session answer a bare 500
//! (empty body, no `Set-Cookie`) within the store time-out, and `/static`, which never touches
//! the session, keeps answering 200. PostgreSQL is then started again on the same port: the same
//! demo server recovers by itself, and every write acknowledged with a 200, before the stop or
//! after the restart, is there.
//!
//! The figures (time to a 500, recovery time) are printed (`--nocapture` shows them); only
//! generous bounds are asserted: speed is for benchmarks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;
use session_store_sqlx::testing::PostgresServer;
use session_tests::{Framework, Reply, Setup, TestServer};
use tokio::sync::mpsc;

/// Sessions written to concurrently.
const SESSIONS: usize = 4;
/// Writer tasks (spread over the sessions).
const WRITERS: usize = 8;
/// Writes acknowledged before PostgreSQL is stopped, and again after it is back.
const ACKED_PER_ROUND: usize = 200;
/// The demo's `--store-timeout-ms` (also its pool's wait for a connection).
const STORE_TIMEOUT: Duration = Duration::from_secs(1);
/// The bound on a 500 while PostgreSQL is down: the store time-out, and slack for a busy machine.
const ERROR_WITHIN: Duration = Duration::from_millis(2500);
/// The bound on recovery after PostgreSQL is back.
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

/// Writers, each writing its own keys (`{round}{writer}-{n}`, value `v{n}`) on one session in a
/// loop until `stop`, reporting each write answered 200 on `acks`; each ends with the number
/// of its writes that failed (a 500).
struct Writers {
    tasks: tokio::task::JoinSet<usize>,
    stop: Arc<AtomicBool>,
    acks: mpsc::UnboundedReceiver<Ack>,
}

impl Writers {
    fn spawn(server: &Arc<TestServer>, ids: &Arc<Vec<String>>, round: &'static str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (ack_tx, acks) = mpsc::unbounded_channel();
        let mut tasks = tokio::task::JoinSet::new();
        for writer in 0..WRITERS {
            let (server, ids, stop, acks) =
                (server.clone(), ids.clone(), stop.clone(), ack_tx.clone());
            tasks.spawn(async move {
                let session = writer % SESSIONS;
                let mut failed = 0;
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let (key, value) = (format!("{round}{writer}-{n}"), format!("v{n}"));
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
        Writers { tasks, stop, acks }
    }

    /// Waits until `count` more writes are acknowledged, adding them to `acked`.
    async fn wait_for(&mut self, count: usize, acked: &mut Vec<Ack>) {
        let deadline = Instant::now() + Duration::from_secs(30);
        for _ in 0..count {
            let left = deadline.saturating_duration_since(Instant::now());
            let ack = tokio::time::timeout(left, self.acks.recv())
                .await
                .expect("writes acknowledged in time")
                .expect("writers running");
            acked.push(ack);
        }
    }

    /// Stops the writers, adds their last acknowledgements to `acked`, and returns how many of
    /// their writes failed.
    async fn stop(mut self, acked: &mut Vec<Ack>) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        let mut failed = 0;
        while let Some(count) = self.tasks.join_next().await {
            failed += count.expect("writer");
        }
        while let Some(ack) = self.acks.recv().await {
            acked.push(ack);
        }
        failed
    }
}

async fn postgres_down_and_back(framework: Framework) {
    let postgres = PostgresServer::start();
    let setup = Setup::cookie()
        .postgres(postgres.url())
        .store_timeout(STORE_TIMEOUT);
    let server = Arc::new(TestServer::demo(framework, &setup).await);
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

    // Load, then the stop once enough writes are acknowledged.
    let mut acked = Vec::new();
    let mut writers = Writers::spawn(&server, &ids, "w");
    writers.wait_for(ACKED_PER_ROUND, &mut acked).await;
    tokio::task::block_in_place(|| postgres.stop());
    let stopped = Instant::now();

    // Down: each route that uses the session answers a bare 500, within the store time-out (the
    // five at once, as the writers keep going).
    let mut probes = tokio::task::JoinSet::new();
    for (path, id) in [
        ("/get/origin", Some(0)),
        ("/set/x/1", Some(1)),
        ("/", None),
        ("/login", Some(2)),
        ("/get/origin", Some(3)),
    ] {
        let (server, ids) = (server.clone(), ids.clone());
        probes.spawn(async move {
            let started = Instant::now();
            let reply = match id {
                Some(n) => server.get_as(path, &ids[n]).await,
                None => server.get(path).await,
            };
            (path, reply, started.elapsed())
        });
    }
    let mut slowest = Duration::ZERO;
    while let Some(probe) = probes.join_next().await {
        let (path, reply, took) = probe.expect("probe");
        assert_bare_500(&reply, path);
        assert!(took < ERROR_WITHIN, "{path} took {took:?}");
        slowest = slowest.max(took);
    }
    let all_500 = stopped.elapsed();
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

    let failed_writes = writers.stop(&mut acked).await;
    assert!(failed_writes > 0, "no writer saw PostgreSQL down");
    let acked_before = acked.len();

    // Back: the same demo server recovers by itself.
    tokio::task::block_in_place(|| postgres.start_again());
    let restarted = Instant::now();
    let recovered = loop {
        let reply = server.get_as("/get/origin", &ids[0]).await;
        // Answering at all (the data is checked below) means the store reached PostgreSQL again.
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

    // Load again: writes are acknowledged as before.
    let mut writers = Writers::spawn(&server, &ids, "after");
    writers.wait_for(ACKED_PER_ROUND, &mut acked).await;
    let failed_after = writers.stop(&mut acked).await;

    // Every acknowledged write is there, before the stop and after the restart.
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
    // And new sessions work as before.
    let fresh = server.get("/set/a/1").await.expect_new_id();
    assert_eq!(server.get_as("/get/a", &fresh).await.body, "1");

    eprintln!(
        "{framework:?}: {acked_before} writes acknowledged before the stop, {failed_writes} \
         failed while down; slowest 500 while down {slowest:?} (all five within {all_500:?} of \
         the stop); slowest /static while down {slowest_static:?}; recovered {recovered:?} \
         after the restart; {} acknowledged after it, {failed_after} failed",
        acked.len() - acked_before
    );
}

session_tests::per_framework!(postgres_down_and_back);
