//! A Redis Cluster master killed (SIGKILL) under load, on axum and actix-web: a demo server over
//! `--store redis-cluster`; clients count on sessions of their own (`GET /` in a loop, each
//! reply telling the count stored before it); the master holding the first session is killed,
//! and its replica is promoted by the cluster (`cluster-node-timeout` 1 s). Run with
//! `cluster-require-full-coverage yes` (Redis's default) and `no`.
//!
//! What must hold, asserted: every reply is a 200 or a bare 500 (a store failure, as when Redis
//! is down: no panic, no detail); every client is served again within [`RECOVER_WITHIN`] of the
//! kill and keeps being served; sessions on the masters that stayed up lose no acknowledged
//! write (and, without full coverage required, see no error); nothing acknowledged after the
//! fail-over is lost. What is measured and printed
//! (`--nocapture`): the fail-over time, the errors (how many, on which sessions, the window in
//! which they came), and the acknowledged writes lost with the killed master (replication is
//! asynchronous: a write the master acknowledged but had not sent to its replica is gone).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;
use session_examples::demo::DEFAULT_REDIS_PREFIX;
use session_store_redis::testing::RedisCluster;
use session_tests::outage::assert_bare_500;
use session_tests::redis::key_of;
use session_tests::{Framework, Setup, TestServer};

/// Clients, each counting on a session of its own.
const CLIENTS: usize = 24;
/// Load before the kill.
const WARM_UP: Duration = Duration::from_millis(1_500);
/// The bound on every client being served again after the kill.
const RECOVER_WITHIN: Duration = Duration::from_secs(20);
/// Load kept up once every client was served again after the kill.
const AFTER_RECOVERY: Duration = Duration::from_secs(2);

/// What one client saw.
#[derive(Debug, Default)]
struct Seen {
    /// The count its session holds by the acknowledged replies.
    acked: u64,
    /// Increments acknowledged, then missing from a later reply.
    lost: u64,
    /// Times its session was gone altogether (a fresh session answered).
    sessions_lost: usize,
    /// Acknowledged replies.
    ok: u64,
    /// Increments answered with a 500 that landed all the same (a call that timed out at the
    /// client, or whose reply was lost, may have run).
    landed_unacked: u64,
    /// 500s, with when they came (since the start).
    errors: Vec<Duration>,
    /// When it was first served after the kill (since the start).
    served_after_kill: Option<Duration>,
    /// Its slowest request.
    slowest: Duration,
}

/// The count a counter page reports (stored before this request).
fn count_of(body: &str) -> u64 {
    body.strip_prefix("Hello, you've been here for ")
        .and_then(|rest| rest.strip_suffix("th time!"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a counter page: {body:?}"))
}

/// One client: `GET /` on its session until stopped.
async fn count(
    server: Arc<TestServer>,
    mut id: String,
    start: Instant,
    killed: Arc<std::sync::OnceLock<Duration>>,
    stop: Arc<AtomicBool>,
) -> Seen {
    let mut seen = Seen {
        acked: 1,
        ..Seen::default()
    };
    let mut errors_since_ok = 0;
    while !stop.load(Ordering::Relaxed) {
        let sent = Instant::now();
        let reply = server.get_as("/", &id).await;
        let at = start.elapsed();
        seen.slowest = seen.slowest.max(sent.elapsed());
        match reply.status {
            StatusCode::OK => {
                let n = count_of(&reply.body);
                if let Some(new) = reply.new_id().filter(|new| *new != id) {
                    // The session was gone: a fresh one answered.
                    assert_eq!(n, 0, "a new session that counts");
                    seen.sessions_lost += 1;
                    id = new;
                }
                if n < seen.acked {
                    seen.lost += seen.acked - n;
                }
                assert!(
                    n <= seen.acked + errors_since_ok,
                    "a count from nowhere: {n} after {} and {errors_since_ok} 500s",
                    seen.acked
                );
                seen.landed_unacked += n.saturating_sub(seen.acked);
                seen.acked = n + 1;
                errors_since_ok = 0;
                seen.ok += 1;
                if seen.served_after_kill.is_none() && killed.get().is_some_and(|k| *k < at) {
                    seen.served_after_kill = Some(at);
                }
            }
            _ => {
                assert_bare_500(&reply, "a store failure during the fail-over");
                seen.errors.push(at);
                errors_since_ok += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
    let last = server.get_as("/get/counter", &id).await;
    assert_eq!(
        (last.status, last.body.as_str()),
        (StatusCode::OK, seen.acked.to_string().as_str()),
        "the count at the end is the last acknowledged one"
    );
    seen
}

/// The fail-over with `cluster-require-full-coverage` as given: `yes` (Redis's default: while a
/// master's slots are unserved the whole cluster refuses commands, so every session sees errors)
/// or `no` (the other masters keep serving: only the killed master's sessions see errors).
async fn master_killed_under_load(framework: Framework, full_coverage: bool) {
    let mut cluster = RedisCluster::start_with(&[
        "--cluster-require-full-coverage",
        if full_coverage { "yes" } else { "no" },
    ]);
    let setup = Setup::cookie().redis_cluster(cluster.urls());
    let server = Arc::new(TestServer::demo(framework, &setup).await);
    let mut ids = Vec::new();
    for _ in 0..CLIENTS {
        let first = server.get("/").await;
        ids.push(first.expect_new_id());
    }
    // Which master holds each session.
    let mut slots = Vec::new();
    for id in &ids {
        let key = key_of(DEFAULT_REDIS_PREFIX, id);
        let slot = cluster
            .query(cluster.ports()[0], &["CLUSTER", "KEYSLOT", &key])
            .expect("CLUSTER KEYSLOT");
        slots.push(slot.parse::<u16>().expect("a slot"));
    }
    let victim = cluster.master_of(slots[0]).expect("a master for the slot");
    let on_victim: Vec<bool> = slots
        .iter()
        .map(|slot| cluster.master_of(*slot) == Some(victim))
        .collect();

    let start = Instant::now();
    let killed = Arc::new(std::sync::OnceLock::new());
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = tokio::task::JoinSet::new();
    for (n, id) in ids.iter().enumerate() {
        let task = count(
            server.clone(),
            id.clone(),
            start,
            killed.clone(),
            stop.clone(),
        );
        clients.spawn(async move { (n, task.await) });
    }
    tokio::time::sleep(WARM_UP).await;

    tokio::task::block_in_place(|| cluster.kill(victim));
    let kill_at = start.elapsed();
    killed.set(kill_at).expect("killed once");
    let failover = tokio::task::block_in_place(|| cluster.wait_until_ok(RECOVER_WITHIN));
    let promoted = cluster.master_of(slots[0]).expect("a master again");
    assert_ne!(promoted, victim);

    // Load goes on until the killed master's first session is served again, and a while after.
    let deadline = Instant::now() + RECOVER_WITHIN;
    while server.get_as("/get/counter", &ids[0]).await.status == StatusCode::INTERNAL_SERVER_ERROR {
        assert!(
            Instant::now() < deadline,
            "not served again within {RECOVER_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(AFTER_RECOVERY).await;
    stop.store(true, Ordering::Relaxed);

    let mut seen: Vec<Option<Seen>> = (0..CLIENTS).map(|_| None).collect();
    while let Some(done) = clients.join_next().await {
        let (n, client) = done.expect("a client ran to its end");
        seen[n] = Some(client);
    }
    let seen: Vec<Seen> = seen.into_iter().map(|s| s.expect("every client")).collect();

    let mut report = Report::default();
    for (client, on_victim) in seen.iter().zip(&on_victim) {
        let served = client
            .served_after_kill
            .unwrap_or_else(|| panic!("a client never served after the kill: {client:?}"));
        assert!(
            served - kill_at < RECOVER_WITHIN,
            "served again {:?} after the kill",
            served - kill_at
        );
        let after_kill: Vec<Duration> = client
            .errors
            .iter()
            .filter(|at| **at >= kill_at)
            .map(|at| *at - kill_at)
            .collect();
        assert_eq!(
            after_kill.len(),
            client.errors.len(),
            "errors before the kill: {client:?}"
        );
        if !on_victim {
            assert_eq!(
                (client.lost, client.sessions_lost),
                (0, 0),
                "a session on a master that stayed up lost writes"
            );
            if !full_coverage {
                assert!(
                    after_kill.is_empty(),
                    "a session on a master that stayed up saw errors: {after_kill:?}"
                );
            }
        }
        report.add(client, *on_victim, &after_kill, served - kill_at);
    }
    report.failover = failover;
    eprintln!(
        "{framework:?}, cluster-require-full-coverage {}: {CLIENTS} clients, {} on the killed \
         master; {report}",
        if full_coverage { "yes" } else { "no" },
        on_victim.iter().filter(|v| **v).count()
    );
}

/// The figures printed.
#[derive(Debug, Default)]
struct Report {
    failover: Duration,
    acked: u64,
    errors_victim: usize,
    errors_others: usize,
    last_error: Duration,
    slowest_recovery: Duration,
    slowest_request: Duration,
    lost: u64,
    sessions_lost: usize,
    landed_unacked: u64,
}

impl Report {
    fn add(&mut self, client: &Seen, on_victim: bool, errors: &[Duration], served: Duration) {
        self.acked += client.ok;
        if on_victim {
            self.errors_victim += errors.len();
        } else {
            self.errors_others += errors.len();
        }
        if let Some(last) = errors.iter().max() {
            self.last_error = self.last_error.max(*last);
        }
        self.slowest_recovery = self.slowest_recovery.max(served);
        self.slowest_request = self.slowest_request.max(client.slowest);
        self.lost += client.lost;
        self.sessions_lost += client.sessions_lost;
        self.landed_unacked += client.landed_unacked;
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cluster_state:ok again {:?} after the kill; 500s: {} on the killed master's \
             sessions, {} on the others', the last {:?} after the kill; every client served \
             again within {:?} of the kill; slowest request {:?}; {} writes acknowledged in \
             all, {} acknowledged increments lost, {} sessions lost whole, {} increments \
             answered 500 that landed",
            self.failover,
            self.errors_victim,
            self.errors_others,
            self.last_error,
            self.slowest_recovery,
            self.slowest_request,
            self.acked,
            self.lost,
            self.sessions_lost,
            self.landed_unacked
        )
    }
}

async fn full_coverage_required(framework: Framework) {
    master_killed_under_load(framework, true).await;
}

async fn full_coverage_not_required(framework: Framework) {
    master_killed_under_load(framework, false).await;
}

session_tests::per_framework!(full_coverage_required, full_coverage_not_required);
