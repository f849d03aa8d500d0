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
//! and tower-sessions' `tower-memory` (its `MemoryStore`), `tower-moka` (tower-sessions-moka-store,
//! sized to hold them all) and `tower-redis` (tower-sessions-redis-store on fred). Redis runs as a
//! `redis-server` of the run's own.
//!
//! Everything runs on one thread (a current-thread Tokio runtime). The run creates COUNT sessions
//! through the app itself (each a first visit to the counter route, 64 at a time), keeping the
//! cookies of 1 000 of them spread over the whole store. It then sends the counter route, one request at a time in process (no HTTP), to those 1 000 sessions in
//! a shuffled order: 2 000 requests to warm up, then three rounds of REQUESTS (default 20 000),
//! and prints one line:
//!
//! ```text
//! contender=ours-memory sessions=1000000 ns_per_request=2510 bytes_per_session=231 fill_secs=4.1
//! ```
//!
//! `ns_per_request` is the median round's; `bytes_per_session` the growth of the process's
//! resident memory over the fill (in-process stores), of Redis's `used_memory` (Redis stores) or
//! of the directory's allocated blocks (the file store), divided by COUNT.
//! `benches/many_sessions.sh` runs every contender at every size, pinned to one CPU with its
//! `redis-server`, and keeps the lines.

#[path = "common/apps.rs"]
mod apps;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use apps::send;
use axum::Router;
use session_state_cookie::CookieState;
use session_store_redis::testing::RedisServer;
use session_tower::SessionLayer;
use tokio::task::JoinSet;

/// How many sessions' cookies the measured requests go to.
const SAMPLE: usize = 1_000;

/// How many first visits run at once while filling.
const FILLING: usize = 64;

/// Where the sessions are kept, and what measures its size.
enum Backing {
    /// In this process: its resident memory.
    Process,
    /// In a directory: its allocated blocks.
    Dir(tempfile::TempDir),
    /// In Redis: its `used_memory`.
    Redis(RedisServer),
}

impl Backing {
    /// The bytes the store takes now.
    fn bytes(&self) -> u64 {
        match self {
            Backing::Process => resident_bytes(),
            Backing::Dir(dir) => dir_bytes(dir.path()),
            Backing::Redis(server) => redis_used_memory(&server.url()),
        }
    }
}

/// This process's resident memory, from `/proc/self/statm`.
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("resident pages");
    pages * 4096
}

/// The blocks allocated to the files of `dir` (recursively), in bytes.
fn dir_bytes(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for entry in std::fs::read_dir(dir).expect("read the store's directory") {
        let entry = entry.expect("a directory entry");
        let meta = entry.metadata().expect("metadata");
        total += meta.blocks() * 512;
        if meta.is_dir() {
            total += dir_bytes(&entry.path());
        }
    }
    total
}

/// Redis's `used_memory`.
fn redis_used_memory(url: &str) -> u64 {
    let client = redis::Client::open(url).expect("a Redis URL");
    let mut connection = client.get_connection().expect("connect to Redis");
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query(&mut connection)
        .expect("INFO memory");
    info.lines()
        .find_map(|line| line.strip_prefix("used_memory:"))
        .and_then(|value| value.trim().parse().ok())
        .expect("used_memory")
}

/// Our routes over `store`.
fn ours(store: impl session_core::store::Store) -> Router {
    apps::ours()
        .layer(SessionLayer::new(CookieState::default(), store))
        .with_state(())
}

/// tower-sessions' routes over `store`.
fn theirs(store: impl tower_sessions::SessionStore + Clone) -> Router {
    apps::theirs()
        .layer(tower_sessions::SessionManagerLayer::new(store))
        .with_state(())
}

/// A connected fred client for tower-sessions' Redis store.
async fn fred(url: &str) -> tower_sessions_redis_store::fred::prelude::Client {
    use tower_sessions_redis_store::fred::prelude::{Client, ClientLike, Config};
    let config = Config::from_url(url).expect("a redis URL");
    let client = Client::new(config, None, None, None);
    let _connection = client.init().await.expect("fred connects");
    client
}

/// The app of `contender` over its store, sized for `count` sessions, and where the store keeps
/// them.
async fn app(contender: &str, count: usize) -> (Router, Backing) {
    let capacity = (count as u64).saturating_mul(2).max(10_000);
    match contender {
        "ours-memory" => {
            let store = session_core::MemoryStore::with_max_bytes(usize::MAX);
            (ours(store), Backing::Process)
        }
        "ours-cache" => {
            let store = session_store_cache::CacheStore::new(capacity);
            (ours(store), Backing::Process)
        }
        "ours-file" => {
            let dir =
                tempfile::tempdir_in(std::env::var_os("SESSION_BENCH_DIR").unwrap_or(".".into()))
                    .expect("a directory for the file store");
            let store = session_store_file::FileStore::open(dir.path().join("sessions"))
                .expect("open the file store");
            (ours(store), Backing::Dir(dir))
        }
        "ours-redis" => {
            let server = RedisServer::start();
            let store = session_store_redis::RedisStore::builder(server.url().as_str())
                .connect()
                .await
                .expect("RedisStore connects");
            (ours(store), Backing::Redis(server))
        }
        "tower-memory" => (
            theirs(tower_sessions::MemoryStore::default()),
            Backing::Process,
        ),
        "tower-moka" => (
            theirs(tower_sessions_moka_store::MokaStore::new(Some(capacity))),
            Backing::Process,
        ),
        "tower-redis" => {
            let server = RedisServer::start();
            let store = tower_sessions_redis_store::RedisStore::new(fred(&server.url()).await);
            (theirs(store), Backing::Redis(server))
        }
        other => panic!("unknown contender {other}"),
    }
}

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
        let before = backing.bytes();
        let started = Instant::now();
        let mut cookies = fill(&app, count).await;
        let fill_secs = started.elapsed().as_secs_f64();
        let after = backing.bytes();
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
