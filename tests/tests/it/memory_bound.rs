//! The memory store's size bound over HTTP: a demo server process (`--store memory
//! --memory-max-bytes 1 MiB`) flooded with anonymous sessions (`GET /` without a cookie, each a
//! new session) ten times more than the bound holds. Its resident memory (`VmRSS` from
//! `/proc/PID/status`) must plateau, a session in use all along must survive the flood while one
//! left alone is evicted, and a login afterwards must work, its counter counting on.
//!
//! `MEMORY_BOUND_SESSIONS` sets how many sessions the flood creates (default [`SESSIONS`]); the
//! figures print with `--nocapture`:
//!
//! ```text
//! cargo test -p session-tests --test it -- memory_bound:: --nocapture
//! ```
//!
//! Why these thresholds (debug build, 2 shared cores, 2 to 5 seconds): the warmed-up demo holds
//! about 14 MiB; with the bound, 12 000 sessions take it 1.2 MiB higher, all of it in the first
//! half of the flood (40 000 sessions under a 2 MiB bound: 2.3 MiB, none in the second half).
//! The same flood on the memory store before it had a bound grows it by 8.7 MiB, 4.4 MiB in the
//! second half (40 000 sessions: 30 MiB, 15 MiB in the second half).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use http::StatusCode;
use session_tests::counter_body;
use session_tests::process::{self, DemoProcess};

/// The full name of [`demo_server_process`] in this test binary (see `session_tests::process`).
const ENTRY: &str = "memory_bound::demo_server_process";

/// The demo's `--memory-max-bytes`: room for about 1 150 one-value sessions.
const MAX_BYTES: usize = 1 << 20;
/// Sessions the flood creates unless `MEMORY_BOUND_SESSIONS` says otherwise: about ten times what
/// the bound holds.
const SESSIONS: usize = 12_000;
/// Concurrent clients creating sessions.
const CLIENTS: usize = 16;
/// The first client uses the long-lived session after every this many sessions it creates.
const HOT_EVERY: usize = 20;
/// The most the resident size may grow over the warmed-up baseline, in MiB: the bound, and three
/// times as much again for the allocator's own keeping (half what the unbounded store grows by).
const GROWTH_CAP_MIB: f64 = 4.0;
/// The most it may grow during the second half of the flood, in MiB (a third of the unbounded
/// store's growth then).
const SECOND_HALF_CAP_MIB: f64 = 1.5;

/// A demo server process (run only by the test below).
#[test]
#[ignore = "a demo server process for the test in this file, not a test by itself"]
fn demo_server_process() {
    process::serve_demo_if_child();
}

/// `VmRSS` of `pid`, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .expect("a VmRSS line");
    let kib: f64 = line["VmRSS:".len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("kB");
    kib / 1024.0
}

fn sessions() -> usize {
    std::env::var("MEMORY_BOUND_SESSIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(SESSIONS)
}

/// Creates `count` anonymous sessions from [`CLIENTS`] tasks; the first task also requests the
/// counter of `hot` after every [`HOT_EVERY`] sessions, counting those requests in `hot_hits`.
async fn flood(
    server: &Arc<DemoProcess>,
    client: &reqwest::Client,
    count: usize,
    hot: &Arc<str>,
    hot_hits: &Arc<AtomicUsize>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..CLIENTS {
        let (server, client) = (server.clone(), client.clone());
        let (hot, hot_hits) = (hot.clone(), hot_hits.clone());
        let share = count / CLIENTS + usize::from(task < count % CLIENTS);
        tasks.spawn(async move {
            for n in 1..=share {
                let reply = server.get(&client, "/", None).await;
                assert_eq!(reply.body, counter_body(0), "a new session");
                reply.expect_new_id();
                if task == 0 && n % HOT_EVERY == 0 {
                    let reply = server.get(&client, "/", Some(&hot)).await;
                    let hits = hot_hits.fetch_add(1, Ordering::Relaxed) + 1;
                    assert_eq!(
                        reply.body,
                        counter_body(u64::try_from(hits).expect("hits")),
                        "the session in use"
                    );
                }
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        if let Err(error) = joined {
            std::panic::resume_unwind(error.into_panic());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_plateaus_under_a_flood_of_new_sessions_and_a_login_still_works() {
    if process::is_child() {
        return;
    }
    let max = MAX_BYTES.to_string();
    let words = ["--store", "memory", "--memory-max-bytes", &max];
    let server = Arc::new(DemoProcess::start(ENTRY, &words));
    let client = process::client();
    let pid = server.pid();

    // A session left alone from the start, and one used all along.
    let forgotten = server.get(&client, "/", None).await.expect_new_id();
    let hot: Arc<str> = server.get(&client, "/", None).await.expect_new_id().into();
    let hot_hits = Arc::new(AtomicUsize::new(0));
    // Warm up: the server's threads, buffers and connections, before the baseline.
    let warm_up = Arc::new(AtomicUsize::new(0));
    flood(&server, &client, 4 * CLIENTS, &"".into(), &warm_up).await;
    let baseline = rss_mib(pid);

    let total = sessions();
    let started = Instant::now();
    flood(&server, &client, total / 2, &hot, &hot_hits).await;
    let half = rss_mib(pid);
    flood(&server, &client, total - total / 2, &hot, &hot_hits).await;
    let end = rss_mib(pid);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "memory_bound: {total} sessions in {secs:.1} s, --memory-max-bytes {MAX_BYTES}: \
         VmRSS {baseline:.1} MiB warmed up, {half:.1} MiB at half, {end:.1} MiB at the end"
    );

    assert!(
        end - baseline <= GROWTH_CAP_MIB,
        "VmRSS grew from {baseline:.1} to {end:.1} MiB ({half:.1} at half)"
    );
    assert!(
        end - half <= SECOND_HALF_CAP_MIB,
        "VmRSS still growing: {half:.1} MiB at half, {end:.1} MiB at the end"
    );

    // The least recently used session went; the one in use stayed, every request counted.
    let gone = server.get(&client, "/get/counter", Some(&forgotten)).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "the forgotten session");
    let hits = hot_hits.load(Ordering::Relaxed);
    let kept = server.get(&client, "/get/counter", Some(&hot)).await;
    assert_eq!(
        (kept.status, kept.body),
        (StatusCode::OK, (hits + 1).to_string())
    );

    // A login still works, and its counter counts on.
    let visitor = server.get(&client, "/", None).await.expect_new_id();
    let login = server.get(&client, "/login", Some(&visitor)).await;
    login.assert_ok();
    let id = login.expect_new_id();
    for n in 1..=2 {
        let reply = server.get(&client, "/", Some(&id)).await;
        assert_eq!(reply.body, counter_body(n), "after the login");
    }
    let user = server.get(&client, "/get/user", Some(&id)).await;
    assert_eq!(
        (user.status, user.body.as_str()),
        (StatusCode::OK, "demo-user")
    );
}
