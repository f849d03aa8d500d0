//! The counter route with many live sessions in the store: what one request costs, and what a
//! session costs the store, as the store grows.
//!
//! ```sh
//! cargo build --release -p session-benches --example many_sessions
//! target/release/examples/many_sessions ours-memory 1000000
//! ```
//!
//! One contender and one store size per run (a process of its own, so that each size's memory is
//! measured from an empty process). Contenders: `ours-memory` (`MemoryStore`, bounded well above
//! what the run stores), `ours-cache` (`CacheStore` on moka, sized to hold them all), `ours-file`
//! (`FileStore` in a temporary directory on this machine's disk), `ours-redis` (`RedisStore`),
//! `ours-pg` (`PgStore`), `ours-sqlite` (`SqliteStore`), and tower-sessions' `tower-memory` (its
//! `MemoryStore`), `tower-moka` (tower-sessions-moka-store, sized to hold them all),
//! `tower-redis` (tower-sessions-redis-store on fred), `tower-pg` and `tower-sqlite`
//! (tower-sessions-sqlx-store's `PostgresStore` and `SqliteStore`). Redis runs as a
//! `redis-server` of the run's own, PostgreSQL as a `session_store_sqlx::testing::PostgresServer`
//! (`fsync` on) of the run's own, reached through `session_benches::sql::pg_pool`; SQLite is a
//! database file in a temporary directory (as the file store's), opened with
//! `session_store_sqlx::sqlite_pool` (WAL, `synchronous = FULL`). Each store's tables are made by
//! its own `migrate()`.
//!
//! Everything runs on one thread (a current-thread Tokio runtime; SQLite on sqlx's worker
//! threads, one per connection). The run creates COUNT sessions through the app itself (each a
//! first visit to the counter route, 64 at a time), keeping the cookies of 1 000 of them spread
//! over the whole store. It then sends the counter route, one request at a time in process (no
//! HTTP), to those 1 000 sessions in a shuffled order: 2 000 requests to warm up, then three
//! rounds of REQUESTS (default 20 000), and prints one line:
//!
//! ```text
//! contender=ours-memory sessions=1000000 ns_per_request=2510 bytes_per_session=231 fill_secs=4.1
//! ```
//!
//! `ns_per_request` is the median round's; `bytes_per_session` the growth over the fill, divided
//! by COUNT, of the process's resident memory (in-process stores), of Redis's `used_memory`
//! (Redis stores), of the directory's allocated blocks (the file store), of the size of
//! PostgreSQL's tables with their indexes and TOAST (`pg_total_relation_size` of every table
//! outside the catalog: the store's), or of the SQLite directory's allocated blocks (the database
//! file, its write-ahead log and shared-memory file) after a `wal_checkpoint(TRUNCATE)` has moved
//! the log into the database file.
//!
//! `benches/many_sessions.sh` runs every contender at every size, pinned to one CPU with its
//! `redis-server` or PostgreSQL server, and keeps the lines. The file and SQL stores wait for an
//! fsync on every write: it runs them once per size, with 2 000 REQUESTS, and the SQL stores at
//! 1 000 and 100 000 sessions only (their fill takes about a millisecond a session).

#[path = "common/apps.rs"]
mod apps;
#[path = "many_sessions/contenders.rs"]
mod contenders;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use apps::send;
use axum::Router;
use contenders::app;
use tokio::task::JoinSet;

/// How many sessions' cookies the measured requests go to.
const SAMPLE: usize = 1_000;

/// How many first visits run at once while filling.
const FILLING: usize = 64;

/// Creates `count` sessions (first visits to the counter route); the cookies of [`SAMPLE`] of
/// them, evenly spread.
async fn fill(app: &Router, count: usize) -> Vec<String> {
    let every = (count / SAMPLE).max(1);
    let mut kept = Vec::with_capacity(SAMPLE);
    let mut keep = |done: Result<(usize, String), tokio::task::JoinError>| {
        let (i, cookie) = done.expect("a first visit");
        if i % every == 0 && kept.len() < SAMPLE {
            kept.push(cookie);
        }
    };
    let mut running = JoinSet::new();
    for i in 0..count {
        if running.len() == FILLING
            && let Some(done) = running.join_next().await
        {
            keep(done);
        }
        let app = app.clone();
        running.spawn(async move {
            let cookie = send(&app, "/rmw", None)
                .await
                .expect("a new session's cookie");
            (i, cookie)
        });
    }
    while let Some(done) = running.join_next().await {
        keep(done);
    }
    kept
}

/// A fixed shuffle of `0..len` (a linear congruential walk), so that requests do not follow the
/// store's creation order.
fn shuffled(len: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for i in (1..len).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let j = (state >> 33) as usize % (i + 1);
        order.swap(i, j);
    }
    order
}

/// `requests` counter requests, round-robin over `cookies` in `order`; the time they took.
async fn round(app: &Router, cookies: &mut [String], order: &[usize], requests: usize) -> Duration {
    let started = Instant::now();
    for n in 0..requests {
        let at = order[n % order.len()];
        if let Some(renewed) = send(app, "/rmw", Some(&cookies[at])).await {
            cookies[at] = renewed;
        }
    }
    started.elapsed()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: many_sessions CONTENDER COUNT [REQUESTS]";
    let (Some(contender), Some(count)) = (args.first(), args.get(1)) else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let (Ok(count), Ok(requests)) = (
        count.parse::<usize>(),
        args.get(2).map_or(Ok(20_000), |n| n.parse::<usize>()),
    ) else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    // One thread: a request, and the Redis connection's reading and writing, run on it without
    // waking another thread, so that the time is the store's and not the runtime's hand-overs.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (app, backing) = app(contender, count).await;
        let before = backing.bytes().await;
        let started = Instant::now();
        let mut cookies = fill(&app, count).await;
        let fill_secs = started.elapsed().as_secs_f64();
        let after = backing.bytes().await;
        let order = shuffled(cookies.len());
        round(&app, &mut cookies, &order, 2_000).await;
        let mut rounds: Vec<Duration> = Vec::new();
        for _ in 0..3 {
            rounds.push(round(&app, &mut cookies, &order, requests).await);
        }
        rounds.sort();
        let median = rounds[1].as_nanos() / requests as u128;
        let per_session = after.saturating_sub(before) / count as u64;
        println!(
            "contender={contender} sessions={count} ns_per_request={median} \
             bytes_per_session={per_session} fill_secs={fill_secs:.1}"
        );
        drop(backing);
    });
    ExitCode::SUCCESS
}
