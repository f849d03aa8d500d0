//! End to end over sockets, with PostgreSQL and SQLite: requests per second of the counter route.
//!
//! The route is `GET /`: read `counter`, write `counter + 1`, answer "Hello, you've been here for
//! {n}th time!". The load is the Redis bench's (`session_benches::load`): `CONNECTIONS` keep-alive
//! HTTP/1.1 connections, each a browser with a session of its own, every answer checked (status
//! 200 and the counter this connection expects).
//!
//! For each database, the contenders run in turn with the same load, each on a pool and tables
//! (PostgreSQL) or a database file (SQLite) of its own:
//!
//! - `floor-pg`, `floor-sqlite`: no HTTP and no session engine: `PgStore` / `SqliteStore` called
//!   directly through the `Store` trait, per request `load`, then `apply` of the changes the
//!   engine sends for this route (`counter`, `last_active`, `expires`). The same statements as
//!   `ours-*`: the most any server could do with this store and this database.
//! - `ours-axum`: this project's `session_tower::SessionLayer` (default `CookieState`) over
//!   `PgStore` / `SqliteStore`, in axum.
//! - `tower-sessions`: tower-sessions' `SessionManagerLayer` (defaults) over
//!   tower-sessions-sqlx-store's `PostgresStore` / `SqliteStore` (tables made by its `migrate()`),
//!   in axum.
//! - `ours-actix`: this project's `session_actix::SessionMiddleware` over the same stores, in
//!   actix-web. actix-session has no SQL store: there is no peer for it here.
//!
//! Once, with no database: `floor-axum` and `floor-actix`, the route with no session at all (the
//! same body): what HTTP alone costs with this load driver.
//!
//! Besides its clients' sessions, every contender's store holds 64 idle sessions per client, each
//! with a counter, made through the store's own `create` before the run: tables the size of a
//! small site's, so that the planner plans as it would there (over the clients' sessions alone, a
//! table of one page, it reads the whole table for each lookup).
//!
//! Pools: on PostgreSQL every contender has a `PgPool` of its own with the same settings, 16
//! connections and `test_before_acquire(false)` (as the demo's; sqlx's default pings the server
//! before each call). On SQLite every contender opens a file of its own, in one temp dir, with
//! `session_store_sqlx::sqlite_pool` (WAL, `synchronous = FULL`, a busy time-out of 3 s; sqlx's
//! default pool: 10 connections, `test_before_acquire` on), tower-sessions' store included.
//!
//! The PostgreSQL server is `testing::PostgresServer` (a throwaway cluster on a free loopback
//! port, `fsync` on), restarted once with `pg_stat_statements` preloaded (`track = all`). The
//! SQLite contenders run first, then the PostgreSQL ones, each after a `VACUUM` and a `CHECKPOINT`
//! of the bench database: no contender pays for the dead rows and dirty pages of the one before.
//! Each contender's run is measured:
//!
//! - PostgreSQL: the bench database's statements in `pg_stat_statements`, before and after the
//!   run, per request served. Top-level statements are round trips (each contender's prepared
//!   statements are cached per connection after the warm-up, and nothing pings); nested ones run
//!   inside a function (`<table>_change`) and cost none. `db ms`: the server's execution time of
//!   the top-level statements; `db-cpu`: its processes' CPU time (`/proc`) over the run, 100% =
//!   one core.
//! - SQLite: `commits` counts write transactions (a commit hook on every pooled connection);
//!   `db-cpu` is sqlx's SQLite worker threads' CPU time (SQLite runs on them, one per connection).
//! - Both: `sqlx stmts`, the statements sqlx runs through its query API, counted from its
//!   `sqlx::query` events by a `tracing` layer during a short pass after the measured run (the
//!   layer is off while measuring). On SQLite, sqlx runs the `BEGIN` and `COMMIT` of a
//!   transaction outside that log: each commit of an explicit transaction is two statements more.
//!
//! Run with `cargo bench -p session-benches --bench sql` (a minute and a half: 1 s of warm-up and
//! 5 s of measurement per contender, 32 connections; `SESSION_BENCH_SECS` and
//! `SESSION_BENCH_CONNECTIONS` change those). Without `--bench` (as `cargo test --benches` runs
//! it), each contender runs for a moment with 4 connections, as a smoke test (about 10 s).
//!
//! Client, servers and databases share this machine's cores: the numbers compare the contenders
//! with one another in one run, not with a deployment.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use session_benches::apps;
use session_benches::load::{Client, Load, Outcome, drive, hello, http_clients, runtime};
use session_benches::servers::{self, AxumServer};
use session_benches::sql::{
    IDLE_PER_CLIENT, PG_POOL, SESSION_TTL, pg_store, settle_pg, sqlite_store, tower_pg_store,
    tower_sqlite_store,
};
use session_core::Value;
use session_core::store::{Changes, Key, Record, Store, Timestamp};
use session_store_sqlx::sqlx::postgres::PgPoolOptions;
use session_store_sqlx::sqlx::{self, PgPool, Row as _, SqlitePool};
use session_store_sqlx::testing::PostgresServer;
use session_store_sqlx::{PgStore, SqliteStore, sqlite_pool};
use tokio::runtime::Runtime;
use tower_sessions::SessionStore;

/// The database the PostgreSQL contenders use (the counters are read from `postgres`).
const BENCH_DATABASE: &str = "bench";

/// How long the pass that counts sqlx's statements runs, at most.
const COUNTING_PASS: Duration = Duration::from_millis(300);

/// A database under test: the contenders' stores, and its counters.
trait Database: Clone + Send + 'static {
    /// This project's store.
    type Ours: Store + Clone;
    /// tower-sessions-sqlx-store's.
    type Theirs: SessionStore + Clone;
    /// The store floor's name.
    const FLOOR: &'static str;

    /// This project's store for contender `name`, over a pool and tables (or a file) of its own,
    /// migrated.
    async fn ours(self, name: &'static str) -> Self::Ours;

    /// tower-sessions' store over a pool and tables (or a file) of its own, migrated.
    async fn theirs(self) -> Self::Theirs;

    /// Lets the last contender's after-effects finish before the next one runs.
    async fn settle(&self);

    /// The counters now.
    async fn snapshot(&self) -> Snapshot;
}

/// A database's counters at one moment.
#[derive(Debug, Default)]
struct Snapshot {
    /// PostgreSQL: calls and milliseconds per statement, by (top level, text).
    statements: BTreeMap<(bool, String), (i64, f64)>,
    /// SQLite: write transactions committed.
    commits: Option<u64>,
    /// The database's CPU ticks, per process (PostgreSQL) or thread (SQLite).
    cpu: cpu::Ticks,
}

/// What happened in one run, per request served.
#[derive(Debug)]
struct PerRequest {
    /// PostgreSQL: top-level statements (round trips), with their mean execution time in ms.
    top: Vec<(String, f64, f64)>,
    /// PostgreSQL: statements run inside functions, with their mean execution time in ms.
    nested: Vec<(String, f64, f64)>,
    /// SQLite: write transactions committed.
    commits: Option<f64>,
    /// The database's CPU time over the run, per second of the run (1.0 = one core).
    cpu_share: f64,
    /// The statements sqlx ran, from the counting pass.
    sqlx: Vec<(String, f64)>,
}

impl PerRequest {
    fn between(before: &Snapshot, after: &Snapshot, requests: u64, elapsed: Duration) -> Self {
        let requests = requests.max(1) as f64;
        let mut top = Vec::new();
        let mut nested = Vec::new();
        for ((toplevel, text), &(calls, ms)) in &after.statements {
            let (calls_before, ms_before) = before
                .statements
                .get(&(*toplevel, text.clone()))
                .copied()
                .unwrap_or((0, 0.0));
            let calls = calls - calls_before;
            if calls <= 0 {
                continue;
            }
            let statement = (
                text.clone(),
                calls as f64 / requests,
                (ms - ms_before) / calls as f64,
            );
            if *toplevel {
                top.push(statement);
            } else {
                nested.push(statement);
            }
        }
        top.sort_by(|a, b| b.1.total_cmp(&a.1));
        nested.sort_by(|a, b| b.1.total_cmp(&a.1));
        PerRequest {
            top,
            nested,
            commits: after
                .commits
                .zip(before.commits)
                .map(|(after, before)| (after - before) as f64 / requests),
            cpu_share: cpu::seconds(&before.cpu, &after.cpu) / elapsed.as_secs_f64(),
            sqlx: Vec::new(),
        }
    }

    /// Round trips: the top-level statements (PostgreSQL only).
    fn trips(&self) -> Option<f64> {
        (!self.top.is_empty()).then(|| total(self.top.iter().map(|s| s.1)))
    }

    /// The server's execution time of the top-level statements, in ms.
    fn db_ms(&self) -> Option<f64> {
        (!self.top.is_empty()).then(|| total(self.top.iter().map(|s| s.1 * s.2)))
    }
}

/// The sum of `numbers`, 0.0 (not -0.0) for none.
fn total(numbers: impl Iterator<Item = f64>) -> f64 {
    numbers.fold(0.0, |sum, n| sum + n)
}

/// PostgreSQL: a database on the throwaway server, and a side connection for the counters.
#[derive(Clone, Debug)]
struct Postgres {
    /// The bench database's URL.
    url: String,
    /// One connection to the `postgres` database: the counters' own statements stay out of the
    /// bench database's.
    side: PgPool,
    /// The server's main process.
    postmaster: u32,
    /// Idle sessions in every store.
    idle: usize,
}

impl Postgres {
    /// Preloads `pg_stat_statements` (a restart), creates the bench database and connects.
    async fn prepare(server: &PostgresServer, idle: usize) -> Postgres {
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(&server.url())
            .await
            .expect("PostgreSQL accepts");
        sqlx::query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            .execute(&admin)
            .await
            .expect("ALTER SYSTEM");
        admin.close().await;
        server.stop();
        server.start_again();
        let url = server.create_database(BENCH_DATABASE);
        let side = PgPoolOptions::new()
            .max_connections(1)
            .connect(&server.url())
            .await
            .expect("PostgreSQL accepts again");
        // Known once the library is loaded; a reload is enough for it.
        for statement in [
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
            "ALTER SYSTEM SET pg_stat_statements.track = 'all'",
            "SELECT pg_reload_conf()",
        ] {
            sqlx::query(statement)
                .execute(&side)
                .await
                .expect("pg_stat_statements is installed");
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let track: String = sqlx::query_scalar("SHOW pg_stat_statements.track")
                .fetch_one(&side)
                .await
                .expect("pg_stat_statements is loaded");
            if track == "all" {
                break;
            }
            assert!(Instant::now() < deadline, "the server reloads its settings");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let pid_file = std::fs::read_to_string(server.dir().join("data").join("postmaster.pid"))
            .expect("postmaster.pid");
        let postmaster = pid_file
            .lines()
            .next()
            .and_then(|line| line.trim().parse().ok())
            .expect("the postmaster's pid");
        Postgres {
            url,
            side,
            postmaster,
            idle,
        }
    }
}

impl Database for Postgres {
    type Ours = PgStore;
    type Theirs = tower_sessions_sqlx_store::PostgresStore;
    const FLOOR: &'static str = "floor-pg";

    async fn ours(self, name: &'static str) -> PgStore {
        pg_store(&self.url, name, self.idle).await
    }

    async fn theirs(self) -> Self::Theirs {
        tower_pg_store(&self.url, self.idle).await
    }

    /// Vacuums and analyzes the bench database and writes its dirty pages out, so that the last
    /// contender's dead rows and unwritten pages do not cost the next one.
    async fn settle(&self) {
        settle_pg(&self.url).await;
    }

    async fn snapshot(&self) -> Snapshot {
        let rows = sqlx::query(
            "SELECT s.toplevel, s.query, s.calls, s.total_exec_time FROM pg_stat_statements s \
             JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1",
        )
        .bind(BENCH_DATABASE)
        .fetch_all(&self.side)
        .await
        .expect("pg_stat_statements");
        let mut statements = BTreeMap::new();
        for row in rows {
            let toplevel: bool = row.get(0);
            let text: Option<String> = row.get(1);
            let entry = statements
                .entry((toplevel, one_line(&text.unwrap_or_default())))
                .or_insert((0, 0.0));
            entry.0 += row.get::<i64, _>(2);
            entry.1 += row.get::<f64, _>(3);
        }
        Snapshot {
            statements,
            commits: None,
            cpu: cpu::processes(self.postmaster),
        }
    }
}

/// SQLite: database files in a temp dir, every pooled connection counting its commits.
#[derive(Clone, Debug)]
struct Sqlite {
    dir: Arc<tempfile::TempDir>,
    commits: Arc<AtomicU64>,
    /// Idle sessions in every store.
    idle: usize,
}

impl Sqlite {
    fn new(idle: usize) -> Sqlite {
        Sqlite {
            dir: Arc::new(tempfile::tempdir().expect("a temp dir")),
            commits: Arc::default(),
            idle,
        }
    }

    /// `sqlite_pool` on `<name>.db`, with a commit hook on each of its connections.
    async fn pool(&self, name: &str) -> SqlitePool {
        let pool = sqlite_pool(self.dir.path().join(format!("{name}.db")))
            .await
            .expect("SQLite opens");
        // Open every connection the pool may have (it keeps them: the run is shorter than its
        // idle time-out) and hook each one.
        let mut connections = Vec::new();
        for _ in 0..pool.options().get_max_connections() {
            connections.push(pool.acquire().await.expect("a connection"));
        }
        for connection in &mut connections {
            let commits = Arc::clone(&self.commits);
            let mut handle = connection.lock_handle().await.expect("the raw connection");
            handle.set_commit_hook(move || {
                commits.fetch_add(1, Ordering::Relaxed);
                true
            });
        }
        pool
    }
}

impl Database for Sqlite {
    type Ours = SqliteStore;
    type Theirs = tower_sessions_sqlx_store::SqliteStore;
    const FLOOR: &'static str = "floor-sqlite";

    async fn ours(self, name: &'static str) -> SqliteStore {
        sqlite_store(self.pool(name).await, self.idle).await
    }

    async fn theirs(self) -> Self::Theirs {
        tower_sqlite_store(self.pool("tower_sessions").await, self.idle).await
    }

    /// Nothing to wait for: each contender has a file of its own, checkpointed as it goes.
    async fn settle(&self) {}

    async fn snapshot(&self) -> Snapshot {
        Snapshot {
            statements: BTreeMap::new(),
            commits: Some(self.commits.load(Ordering::Relaxed)),
            cpu: cpu::threads("sqlx-sqlite-wor"),
        }
    }
}

/// A statement's text on one line, cut at 100 characters.
fn one_line(text: &str) -> String {
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match words.char_indices().nth(100) {
        Some((at, _)) => format!("{}…", &words[..at]),
        None => words,
    }
}

/// The floor: the store called directly, as the engine calls it for the counter route.
mod floor {
    use super::*;

    /// One session in the store.
    pub(crate) struct StoreClient<S> {
        store: S,
        key: Key,
        expect: u64,
    }

    /// Creates `load.connections` sessions in `store`; each one sends its first request outside
    /// the measurement.
    pub(crate) async fn clients<S: Store + Clone>(store: S, load: Load) -> Vec<StoreClient<S>> {
        let mut clients = Vec::with_capacity(load.connections);
        for i in 0..load.connections {
            let mut digest = [0xf1; 32];
            digest[..8].copy_from_slice(&(i as u64).to_be_bytes());
            let key = Key::from_digest(digest);
            let now = Timestamp::from_system_time(SystemTime::now());
            let created = store
                .create(&key, &Record::new(now, now.saturating_add(SESSION_TTL)))
                .await
                .expect("create");
            assert!(created, "a new session");
            let mut client = StoreClient {
                store: store.clone(),
                key,
                expect: 0,
            };
            client.request().await;
            clients.push(client);
        }
        clients
    }

    impl<S: Store + Clone> Client for StoreClient<S> {
        async fn request(&mut self) {
            let record = self
                .store
                .load(&self.key)
                .await
                .expect("load")
                .expect("a live session");
            let n: u64 = record
                .data
                .get("counter")
                .map_or(0, |value| value.deserialize().expect("a number"));
            assert_eq!(n, self.expect, "the floor counts like the others");
            let now = Timestamp::from_system_time(SystemTime::now());
            let mut changes = Changes::touch(now, now.saturating_add(SESSION_TTL));
            let next = Value::from_serialize(&(n + 1)).expect("a number in JSON");
            changes.updates.push(("counter".to_owned(), Some(next)));
            let applied = self.store.apply(&self.key, &changes).await.expect("apply");
            assert!(applied, "the session is live");
            self.expect += 1;
            black_box(hello(n));
        }
    }
}

/// Counts the statements sqlx runs through its query API: its `sqlx::query` events, while on.
mod sqlx_log {
    use std::fmt;
    use std::sync::atomic::AtomicBool;
    use std::sync::{Mutex, PoisonError};

    use tracing::field::{Field, Visit};
    use tracing::subscriber::Interest;
    use tracing::{Event, Metadata, Subscriber};
    use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

    use super::*;

    /// The target of sqlx's statement events.
    const TARGET: &str = "sqlx::query";

    static ON: AtomicBool = AtomicBool::new(false);
    static COUNTS: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

    /// Installs the counter as the process's subscriber, off. Every other event stays off.
    pub(crate) fn install() {
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Counter))
            .expect("no other subscriber");
    }

    /// Counts from now on, from zero.
    pub(crate) fn start() {
        lock().clear();
        ON.store(true, Ordering::SeqCst);
    }

    /// Stops counting; the statements run since `start`, by text.
    pub(crate) fn stop() -> BTreeMap<String, u64> {
        ON.store(false, Ordering::SeqCst);
        std::mem::take(&mut *lock())
    }

    fn lock() -> std::sync::MutexGuard<'static, BTreeMap<String, u64>> {
        COUNTS.lock().unwrap_or_else(PoisonError::into_inner)
    }

    struct Counter;

    impl<S: Subscriber> Layer<S> for Counter {
        fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
            if metadata.target() == TARGET {
                Interest::sometimes()
            } else {
                Interest::never()
            }
        }

        fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
            metadata.target() == TARGET && ON.load(Ordering::Relaxed)
        }

        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            let mut sql = Sql::default();
            event.record(&mut sql);
            // sqlx gives the whole statement only when it is longer than its summary.
            let text = if sql.statement.trim().is_empty() {
                sql.summary
            } else {
                sql.statement
            };
            *lock().entry(one_line(&text)).or_default() += 1;
        }
    }

    /// The fields of a statement event that name the statement.
    #[derive(Default)]
    struct Sql {
        summary: String,
        statement: String,
    }

    impl Visit for Sql {
        fn record_str(&mut self, field: &Field, value: &str) {
            match field.name() {
                "summary" => self.summary = value.to_owned(),
                "db.statement" => self.statement = value.to_owned(),
                _ => {}
            }
        }

        fn record_debug(&mut self, _: &Field, _: &dyn fmt::Debug) {}
    }
}

/// CPU time from `/proc`, in clock ticks of user and system time.
mod cpu {
    use std::sync::OnceLock;

    use super::*;

    /// Ticks per process or thread id.
    pub(crate) type Ticks = BTreeMap<u32, u64>;

    /// `parent` and its children (a PostgreSQL server: the postmaster and its backends).
    pub(crate) fn processes(parent: u32) -> Ticks {
        let mut ticks = Ticks::new();
        for (pid, stat) in stats(Path::new("/proc")) {
            if let Some((ppid, used)) = parse(&stat)
                && (pid == parent || ppid == parent)
            {
                ticks.insert(pid, used);
            }
        }
        ticks
    }

    /// This process's threads whose name starts with `prefix`.
    pub(crate) fn threads(prefix: &str) -> Ticks {
        let mut ticks = Ticks::new();
        for (tid, stat) in stats(Path::new("/proc/self/task")) {
            let named = stat
                .split_once('(')
                .is_some_and(|(_, rest)| rest.starts_with(prefix));
            if let Some((_, used)) = parse(&stat).filter(|_| named) {
                ticks.insert(tid, used);
            }
        }
        ticks
    }

    /// Seconds used between two readings, by the ids of the second (those that ended before
    /// it are left out).
    pub(crate) fn seconds(before: &Ticks, after: &Ticks) -> f64 {
        let ticks: u64 = after
            .iter()
            .map(|(id, used)| used.saturating_sub(before.get(id).copied().unwrap_or(0)))
            .sum();
        ticks as f64 / ticks_per_second()
    }

    /// `stat` of every numbered entry of `dir`.
    fn stats(dir: &Path) -> Vec<(u32, String)> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        entries
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let id = entry.file_name().to_str()?.parse().ok()?;
                let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
                Some((id, stat))
            })
            .collect()
    }

    /// The parent id and the user + system ticks of a `stat` line.
    fn parse(stat: &str) -> Option<(u32, u64)> {
        // After the name in parentheses (which may hold anything): state, ppid, ..., utime at
        // index 11 and stime at 12.
        let (_, rest) = stat.rsplit_once(')')?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ppid = fields.get(1)?.parse().ok()?;
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        Some((ppid, utime + stime))
    }

    fn ticks_per_second() -> f64 {
        static TICKS: OnceLock<f64> = OnceLock::new();
        *TICKS.get_or_init(|| {
            std::process::Command::new("getconf")
                .arg("CLK_TCK")
                .output()
                .ok()
                .and_then(|out| String::from_utf8(out.stdout).ok())
                .and_then(|text| text.trim().parse().ok())
                .unwrap_or(100.0)
        })
    }
}

/// One contender's row of a table.
struct Row {
    name: &'static str,
    outcome: Outcome,
    db: Option<PerRequest>,
}

/// Runs `clients` (already set up) under `load` with `db`'s counters around the run, then counts
/// sqlx's statements on a short pass of their own.
fn measure<D: Database, C: Client>(
    driver: &Runtime,
    db: &D,
    name: &'static str,
    clients: Vec<C>,
    load: Load,
) -> Row {
    driver.block_on(async {
        db.settle().await;
        let before = db.snapshot().await;
        let started = Instant::now();
        let (outcome, clients) = drive(clients, load).await;
        let elapsed = started.elapsed();
        let after = db.snapshot().await;
        let mut per_request = PerRequest::between(&before, &after, outcome.total, elapsed);
        let pass = Load {
            warm_up: Duration::ZERO,
            measure: COUNTING_PASS.min(load.measure),
            ..load
        };
        sqlx_log::start();
        let (counted, _) = drive(clients, pass).await;
        let statements = sqlx_log::stop();
        let requests = counted.total.max(1) as f64;
        per_request.sqlx = statements
            .into_iter()
            .map(|(text, n)| (text, n as f64 / requests))
            .collect();
        per_request.sqlx.sort_by(|a, b| b.1.total_cmp(&a.1));
        eprintln!("  {name}: {:.0} req/s", outcome.rps);
        Row {
            name,
            outcome,
            db: Some(per_request),
        }
    })
}

/// The HTTP floors: no session, no database.
fn http_floors(servers: &Runtime, driver: &Runtime, load: Load) -> Vec<Row> {
    let run = |name: &'static str, addr| {
        driver.block_on(async {
            let clients = http_clients(addr, false, load).await;
            let (outcome, _) = drive(clients, load).await;
            eprintln!("  {name}: {:.0} req/s", outcome.rps);
            Row {
                name,
                outcome,
                db: None,
            }
        })
    };
    let axum = AxumServer::start(servers, servers::axum_floor());
    let mut rows = vec![run("floor-axum", axum.addr)];
    axum.stop();
    let actix = servers::actix_floor();
    rows.push(run("floor-actix", actix.addr));
    actix.stop(driver);
    rows
}

/// `db`'s contenders, in turn.
fn contenders<D: Database>(servers: &Runtime, driver: &Runtime, db: &D, load: Load) -> Vec<Row> {
    let mut rows = Vec::new();

    let store = driver.block_on(db.clone().ours("floor"));
    let clients = driver.block_on(floor::clients(store, load));
    rows.push(measure(driver, db, D::FLOOR, clients, load));

    let store = servers.block_on(db.clone().ours("ours_axum"));
    let server = AxumServer::start(servers, apps::ours_axum(store));
    let clients = driver.block_on(http_clients(server.addr, true, load));
    rows.push(measure(driver, db, "ours-axum", clients, load));
    server.stop();

    let store = servers.block_on(db.clone().theirs());
    let server = AxumServer::start(servers, apps::tower_sessions_axum(store));
    let clients = driver.block_on(http_clients(server.addr, true, load));
    rows.push(measure(driver, db, "tower-sessions", clients, load));
    server.stop();

    let server = apps::ours_actix({
        let db = db.clone();
        move || db.ours("ours_actix")
    });
    let clients = driver.block_on(http_clients(server.addr, true, load));
    rows.push(measure(driver, db, "ours-actix", clients, load));
    server.stop(driver);

    rows
}

fn main() {
    sqlx_log::install();
    let load = Load::from_args();
    // The servers' runtime (axum) and the load driver's, both with 2 threads like the machine.
    let servers = runtime(2);
    let driver = runtime(2);
    let postgres_server = PostgresServer::start();
    let idle = IDLE_PER_CLIENT * load.connections;
    let postgres = driver.block_on(Postgres::prepare(&postgres_server, idle));
    let sqlite = Sqlite::new(idle);
    eprintln!(
        "sql bench: {} connections, {:?} warm-up, {:?} measured per contender, PostgreSQL at {}, \
         SQLite in {}",
        load.connections,
        load.warm_up,
        load.measure,
        postgres.url,
        sqlite.dir.path().display()
    );

    let http = http_floors(&servers, &driver, load);
    // SQLite first: PostgreSQL's background work after its runs would fall on them.
    let sqlite_rows = contenders(&servers, &driver, &sqlite, load);
    let pg_rows = contenders(&servers, &driver, &postgres, load);

    println!();
    println!(
        "sql: GET / (read counter, write counter + 1), {} keep-alive connections, one session \
         each, {:?} measured after {:?} warm-up",
        load.connections, load.measure, load.warm_up
    );
    println!(
        "HTTP alone (no session): floor-axum {:.0} req/s, floor-actix {:.0} req/s",
        http[0].outcome.rps, http[1].outcome.rps
    );
    print_table(
        &format!(
            "PostgreSQL (pools: {PG_POOL} connections, test_before_acquire(false), each \
             contender its own)"
        ),
        &pg_rows,
        &http,
    );
    print_table(
        "SQLite (pools: session_store_sqlx::sqlite_pool, WAL, synchronous = FULL, busy time-out \
         3 s, 10 connections, test_before_acquire on; each contender its own file)",
        &sqlite_rows,
        &http,
    );
    println!(
        "(trips: top-level statements per request, each one round trip; nested: statements run \
         inside a function, no round trip; commits: SQLite write transactions per request; db ms: \
         PostgreSQL's execution time of the top-level statements per request; db-cpu: the \
         database's CPU over the run (PostgreSQL's processes, SQLite's worker threads), 100% = \
         one core; sqlx stmts: statements sqlx ran through its query API per request, counted on a \
         separate pass: on SQLite a transaction's BEGIN and COMMIT are not among them; +µs/req: \
         1/req/s minus the HTTP floor's. Client, servers and databases share {} cores.)",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    drop(postgres_server);
}

/// One database's results: a row per contender, the statements, the ratios.
fn print_table(title: &str, rows: &[Row], http: &[Row]) {
    let rps = |name: &str| {
        rows.iter()
            .chain(http)
            .find(|row| row.name == name)
            .map_or(f64::NAN, |row| row.outcome.rps)
    };
    let floor = rows[0].name;
    println!();
    println!("{title}");
    println!(
        "{:<15} {:>9} {:>8} {:>8} {:>13} {:>8} {:>6} {:>6} {:>7} {:>7} {:>6} {:>10}",
        "contender",
        "req/s",
        "p50 ms",
        "p99 ms",
        "vs HTTP floor",
        "+µs/req",
        "trips",
        "nested",
        "commits",
        "db ms",
        "db-cpu",
        "sqlx stmts"
    );
    let or_dash = |value: Option<f64>, digits: usize| {
        value.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
    };
    for row in rows {
        let o = &row.outcome;
        let http_floor = match row.name {
            "ours-actix" => Some("floor-actix"),
            name if name.starts_with("floor") => None,
            _ => Some("floor-axum"),
        };
        let (vs, added) = match http_floor {
            Some(f) => (
                format!("{:.0}% {}", 100.0 * o.rps / rps(f), &f[6..]),
                format!("{:.1}", 1e6 / o.rps - 1e6 / rps(f)),
            ),
            None => ("-".to_owned(), "-".to_owned()),
        };
        let db = row.db.as_ref().expect("a database contender");
        let nested = total(db.nested.iter().map(|s| s.1));
        println!(
            "{:<15} {:>9.0} {:>8.2} {:>8.2} {:>13} {:>8} {:>6} {:>6} {:>7} {:>7} {:>5.0}% {:>10.2}",
            row.name,
            o.rps,
            o.p50.as_secs_f64() * 1e3,
            o.p99.as_secs_f64() * 1e3,
            vs,
            added,
            or_dash(db.trips(), 2),
            or_dash(db.trips().map(|_| nested), 2),
            or_dash(db.commits, 2),
            or_dash(db.db_ms(), 3),
            100.0 * db.cpu_share,
            total(db.sqlx.iter().map(|s| s.1)),
        );
    }
    for row in rows {
        let db = row.db.as_ref().expect("a database contender");
        println!("  {}:", row.name);
        if db.top.is_empty() {
            for (text, n) in &db.sqlx {
                println!("    {n:5.2}  {text}");
            }
        } else {
            for (text, n, ms) in &db.top {
                println!("    {n:5.2}  {ms:7.3} ms  {text}");
            }
            for (text, n, ms) in &db.nested {
                println!("    {n:5.2}  {ms:7.3} ms    (nested) {text}");
            }
        }
    }
    for (ours, theirs) in [
        ("ours-axum", "tower-sessions"),
        ("ours-axum", floor),
        ("ours-actix", floor),
        ("tower-sessions", floor),
    ] {
        println!(
            "  {ours} / {theirs}: {:.2}x the requests per second",
            rps(ours) / rps(theirs)
        );
    }
}
