//! A store's backend going down under load and coming back, the parts its fault suites share
//! (`redis_fault`, `postgres_fault`): sessions to write to, [`Writers`] that keep writing and
//! report each acknowledged write, the checks while the backend is down, the wait for recovery
//! and the check that no acknowledged write was lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;
use tokio::sync::mpsc;

use crate::{Reply, TestServer};

/// Sessions written to concurrently.
pub const SESSIONS: usize = 4;
/// Writer tasks (spread over the sessions).
pub const WRITERS: usize = 8;

/// One acknowledged write: the session (index), key and value.
pub type Ack = (usize, String, String);

/// [`SESSIONS`] new sessions, session `n` holding `origin = n`: their ids.
pub async fn sessions(server: &TestServer) -> Arc<Vec<String>> {
    let mut ids = Vec::new();
    for n in 0..SESSIONS {
        ids.push(
            server
                .get(&format!("/set/origin/{n}"))
                .await
                .expect_new_id(),
        );
    }
    Arc::new(ids)
}

/// A bare 500: empty body, no cookie.
#[track_caller]
pub fn assert_bare_500(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{what}");
    assert!(reply.body.is_empty(), "{what}: body {:?}", reply.body);
    assert!(!reply.has_set_cookie(), "{what}: {:?}", reply.headers);
}

/// Writers, each writing its own keys (`{round}{writer}-{n}`, value `v{n}`) on one session in a
/// loop until stopped, reporting each write answered 200; each ends with the number of its
/// writes that failed (a 500).
#[derive(Debug)]
pub struct Writers {
    tasks: tokio::task::JoinSet<usize>,
    stop: Arc<AtomicBool>,
    acks: mpsc::UnboundedReceiver<Ack>,
}

impl Writers {
    /// Starts [`WRITERS`] writers on the sessions `ids`.
    pub fn spawn(server: &Arc<TestServer>, ids: &Arc<Vec<String>>, round: &'static str) -> Self {
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
    pub async fn wait_for(&mut self, count: usize, acked: &mut Vec<Ack>) {
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
    pub async fn stop(mut self, acked: &mut Vec<Ack>) -> usize {
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

/// While the backend is down: five routes that use the session, requested at once, each answer
/// a bare 500 within `within`; the slowest's time.
pub async fn assert_session_routes_fail(
    server: &Arc<TestServer>,
    ids: &Arc<Vec<String>>,
    within: Duration,
) -> Duration {
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
        assert!(took < within, "{path} took {took:?}");
        slowest = slowest.max(took);
    }
    slowest
}

/// While the backend is down: `/static`, which never touches the session, keeps answering 200,
/// with or without a cookie; the slowest's time.
pub async fn assert_static_answers(server: &TestServer, ids: &[String]) -> Duration {
    let mut slowest = Duration::ZERO;
    for n in 0..20 {
        let started = Instant::now();
        let page = server.get_as("/static", &ids[n % ids.len()]).await;
        slowest = slowest.max(started.elapsed());
        page.assert_ok();
        assert_eq!(page.body, "static");
        assert!(!page.has_set_cookie());
    }
    assert_eq!(server.get("/static").await.status, StatusCode::OK);
    slowest
}

/// Once the backend is back: waits until a session route answers anything but a (bare) 500,
/// within `within`; the time it took.
pub async fn wait_for_recovery(server: &TestServer, id: &str, within: Duration) -> Duration {
    let restarted = Instant::now();
    loop {
        let reply = server.get_as("/get/origin", id).await;
        // Answering at all (the data is checked apart) means the store reached its backend.
        if reply.status != StatusCode::INTERNAL_SERVER_ERROR {
            return restarted.elapsed();
        }
        assert_bare_500(&reply, "while recovering");
        assert!(
            restarted.elapsed() < within,
            "not recovered after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every write in `acked` reads back, and every session still holds its `origin`.
pub async fn assert_nothing_lost(server: &TestServer, ids: &[String], acked: &[Ack]) {
    let mut lost = Vec::new();
    for (session, key, value) in acked {
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
}
