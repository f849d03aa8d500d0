//! The counter route on large sessions, end to end over HTTP: requests per second of each store's
//! contenders at one session size.
//!
//! ```sh
//! cargo build --release -p session-benches --example large_sessions
//! target/release/examples/large_sessions redis 100x500
//! ```
//!
//! `large_sessions [--smoke] STORE SIZE`. SIZE is `COUNTxBYTES`: before the measurement, each
//! session gets COUNT values of BYTES characters besides its counter (`GET /fill/COUNT/BYTES`, see
//! `session_benches::filler`: pseudo-random letters and digits, or all `x` with
//! `SESSION_BENCH_FILL=x`); a size with no values or no bytes (`1x0`) fills nothing, the
//! session holds its counter alone. The route measured is `GET /`: read `counter`, write
//! `counter + 1`, answer "Hello, you've been here for {n}th time!" (`session_benches::apps`).
//!
//! Stores and their contenders, run in turn in one process with the same load, each on a server
//! and a store of its own:
//!
//! - `memory`: this project's `SessionLayer` (`ours-axum`) over session-core's `MemoryStore`;
//!   tower-sessions' `SessionManagerLayer` (`tower-sessions`) over its `MemoryStore`.
//! - `moka`: `ours-axum` over session-store-cache's `CacheStore`; `tower-sessions` over
//!   tower-sessions-moka-store's `MokaStore`; both bounded to 100 000 sessions.
//! - `file`: `ours-axum` over session-store-file's `FileStore`, in a temporary directory under
//!   `SESSION_BENCH_DIR` (default: the current directory). No other project has a file store.
//! - `redis`: `ours-axum` over `RedisStore`, `tower-sessions` over tower-sessions-redis-store's,
//!   and in actix-web this project's `SessionMiddleware` (`ours-actix`) over `RedisStore` against
//!   actix-session's `SessionMiddleware` over its `RedisSessionStore` (`actix-session`); a
//!   `redis-server` of the run's own. (actix-session's other store is its cookie, which cannot
//!   hold a large session: Redis is the only store where it runs.)
//! - `pg`: `ours-axum` over session-store-sqlx's `PgStore`, `tower-sessions` over
//!   tower-sessions-sqlx-store's `PostgresStore`, on a throwaway PostgreSQL server (`fsync` on);
//!   before each measurement the database is vacuumed and checkpointed.
//! - `sqlite`: `ours-axum` over `SqliteStore`, `tower-sessions` over tower-sessions-sqlx-store's,
//!   each on a database file of its own (`session_store_sqlx::sqlite_pool`: WAL,
//!   `synchronous = FULL`) under `SESSION_BENCH_DIR`.
//!
//! The SQL stores are set up as in the `sql` bench (`session_benches::sql`): pools of the same
//! settings, each store's own tables, and 64 idle sessions per connection besides the clients'.
//!
//! The load is the end-to-end benches' (`session_benches::load`): `SESSION_BENCH_CONNECTIONS`
//! (default 32) keep-alive HTTP/1.1 connections, each a browser with a session of its own (made
//! and filled before the measurement), each sending its next request as soon as the last answer
//! is read, every answer checked (status 200 and the counter this connection expects); 1 s of
//! warm-up, then `SESSION_BENCH_SECS` (default 3) measured. `--smoke` runs each contender for a
//! moment with 4 connections instead. The axum servers run on a Tokio runtime of 2 workers, the
//! actix-web ones with 2 workers, the load driver on a runtime of its own with 2; nothing is
//! pinned (`SESSION_BENCH_PIN` must be unset). Prints one line per contender:
//!
//! ```text
//! store=memory contender=ours-axum size=100x500 rps=41234 p50_us=690 p99_us=2110 connections=32 secs=3
//! ```
//!
//! `benches/large_sessions.sh` runs every store at every size and keeps the lines.

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::Router;
use session_benches::apps;
use session_benches::load::{Load, drive, fill, http_clients, runtime};
use session_benches::placement::Placement;
use session_benches::redis::{ours_store, tower_sessions_store};
use session_benches::servers::{ActixServer, AxumServer};
use session_benches::sql::{
    IDLE_PER_CLIENT, pg_store, settle_pg, sqlite_store, tower_pg_store, tower_sqlite_store,
};
use session_store_redis::testing::RedisServer;
use session_store_sqlx::sqlite_pool;
use session_store_sqlx::testing::PostgresServer;
use tokio::runtime::Runtime;

/// The stores this example runs, as named on its command line.
const STORES: [&str; 6] = ["memory", "moka", "file", "redis", "pg", "sqlite"];

/// The bound of both moka stores, in sessions (as in the `tower` bench).
const MOKA_SESSIONS: u64 = 100_000;

/// What every contender of a run shares: the runtimes, the load, the store's and the size's names.
struct Run {
    /// The axum servers' runtime (2 workers); stores are made on it, as in an application.
    servers: Runtime,
    /// The load driver's runtime (2 workers).
    driver: Runtime,
    /// How long and how hard each contender is driven.
    load: Load,
    /// The store, as named on the command line.
    store: String,
    /// The size, as written on the command line.
    size: String,
    /// The values each session is filled with, `(count, bytes)`, if any.
    fill: Option<(usize, usize)>,
    /// A PostgreSQL database to vacuum and checkpoint before each measurement.
    settle: Option<String>,
}

impl Run {
    /// Serves `router` with axum and measures it as `contender`.
    fn axum(&self, contender: &str, router: Router) {
        let server = AxumServer::start(&self.servers, router);
        self.measure(contender, server.addr);
        server.stop();
    }

    /// Measures the actix-web `server` as `contender`, then stops it.
    fn actix(&self, contender: &str, server: ActixServer) {
        self.measure(contender, server.addr);
        server.stop(&self.driver);
    }

    /// Sets up the clients (a session each, filled), drives them, and prints the line.
    fn measure(&self, contender: &str, addr: SocketAddr) {
        let outcome = self.driver.block_on(async {
            let mut clients = http_clients(addr, true, self.load).await;
            if let Some(size) = self.fill {
                fill(&mut clients, size).await;
            }
            if let Some(url) = &self.settle {
                settle_pg(url).await;
            }
            drive(clients, self.load).await.0
        });
        println!(
            "store={} contender={contender} size={} rps={:.0} p50_us={} p99_us={} connections={} \
             secs={}",
            self.store,
            self.size,
            outcome.rps,
            outcome.p50.as_micros(),
            outcome.p99.as_micros(),
            self.load.connections,
            self.load.measure.as_secs_f64(),
        );
    }
}

/// A temporary directory for a store's files: under `SESSION_BENCH_DIR`, else the current
/// directory.
fn bench_dir() -> tempfile::TempDir {
    tempfile::tempdir_in(std::env::var_os("SESSION_BENCH_DIR").unwrap_or(".".into()))
        .expect("a directory for the store")
}

/// Each project's `MemoryStore`.
fn memory(run: &Run) {
    let ours = session_core::MemoryStore::default();
    run.axum("ours-axum", apps::ours_axum(ours));
    let theirs = tower_sessions::MemoryStore::default();
    run.axum("tower-sessions", apps::tower_sessions_axum(theirs));
}

/// Each project's store on moka.
fn moka(run: &Run) {
    let ours = session_store_cache::CacheStore::new(MOKA_SESSIONS);
    run.axum("ours-axum", apps::ours_axum(ours));
    let theirs = tower_sessions_moka_store::MokaStore::new(Some(MOKA_SESSIONS));
    run.axum("tower-sessions", apps::tower_sessions_axum(theirs));
}

/// This project's `FileStore` (opened on the servers' runtime, which runs its sweeper).
fn file(run: &Run) {
    let dir = bench_dir();
    let store = run.servers.block_on(async {
        session_store_file::FileStore::open(dir.path().join("sessions"))
            .expect("open the file store")
    });
    run.axum("ours-axum", apps::ours_axum(store));
}

/// Each project's Redis store, and actix-session's, on a `redis-server` of the run's own.
fn redis(run: &Run) {
    let server = RedisServer::start();
    let url = server.url();
    let ours = run.servers.block_on(ours_store(&url, false));
    run.axum("ours-axum", apps::ours_axum(ours));
    let theirs = run.servers.block_on(tower_sessions_store(&url));
    run.axum("tower-sessions", apps::tower_sessions_axum(theirs));
    let ours_url = url.clone();
    let ours = apps::ours_actix(move || async move { ours_store(&ours_url, false).await });
    run.actix("ours-actix", ours);
    run.actix("actix-session", apps::actix_session_redis(url));
}

/// Each project's PostgreSQL store, each in tables of its own, on a throwaway server.
fn pg(run: &mut Run) {
    let server = PostgresServer::start();
    let url = server.create_database("bench");
    let idle = IDLE_PER_CLIENT * run.load.connections;
    run.settle = Some(url.clone());
    let ours = run.servers.block_on(pg_store(&url, "ours_axum", idle));
    run.axum("ours-axum", apps::ours_axum(ours));
    let theirs = run.servers.block_on(tower_pg_store(&url, idle));
    run.axum("tower-sessions", apps::tower_sessions_axum(theirs));
}

/// Each project's SQLite store, each on a database file of its own.
fn sqlite(run: &Run) {
    let dir = bench_dir();
    let idle = IDLE_PER_CLIENT * run.load.connections;
    let path = |name: &str| dir.path().join(format!("{name}.db"));
    let ours = run.servers.block_on(async {
        let pool = sqlite_pool(path("ours_axum")).await.expect("SQLite opens");
        sqlite_store(pool, idle).await
    });
    run.axum("ours-axum", apps::ours_axum(ours));
    let theirs = run.servers.block_on(async {
        let pool = sqlite_pool(path("tower_sessions"))
            .await
            .expect("SQLite opens");
        tower_sqlite_store(pool, idle).await
    });
    run.axum("tower-sessions", apps::tower_sessions_axum(theirs));
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let smoke = args.iter().any(|arg| arg == "--smoke");
    let words: Vec<&String> = args.iter().filter(|arg| *arg != "--smoke").collect();
    let usage = format!(
        "usage: large_sessions [--smoke] STORE COUNTxBYTES (STORE: {})",
        STORES.join(", ")
    );
    let (&[store, size], Some((count, bytes))) = (
        words.as_slice(),
        words
            .get(1)
            .and_then(|size| session_benches::values_size(size)),
    ) else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    if !STORES.contains(&store.as_str()) {
        eprintln!("unknown store {store}; {usage}");
        return ExitCode::from(2);
    }
    if Placement::get() != Placement::Free {
        eprintln!("large_sessions pins nothing: unset SESSION_BENCH_PIN");
        return ExitCode::from(2);
    }
    let load = if smoke {
        Load::smoke()
    } else {
        Load::measured(3.0)
    };
    let mut run = Run {
        servers: runtime(2),
        driver: runtime(2),
        load,
        store: store.clone(),
        size: size.clone(),
        fill: (count > 0 && bytes > 0).then_some((count, bytes)),
        settle: None,
    };
    eprintln!(
        "large_sessions: {store}, sessions of {size}, {} connections, {:?} warm-up, {:?} measured",
        load.connections, load.warm_up, load.measure
    );
    match store.as_str() {
        "memory" => memory(&run),
        "moka" => moka(&run),
        "file" => file(&run),
        "redis" => redis(&run),
        "pg" => pg(&mut run),
        _ => sqlite(&run),
    }
    ExitCode::SUCCESS
}
