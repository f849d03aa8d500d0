//! The many-sessions example's contenders: each one's app over its store, and what measures the
//! store's size.

use axum::Router;
use session_state_cookie::CookieState;
use session_store_redis::testing::RedisServer;
use session_store_sqlx::sqlx::{self, PgPool, SqlitePool};
use session_store_sqlx::testing::PostgresServer;
use session_tower::SessionLayer;

use crate::apps;

/// Where the sessions are kept, and what measures its size.
pub(crate) enum Backing {
    /// In this process: its resident memory.
    Process,
    /// In a directory: its allocated blocks.
    Dir(tempfile::TempDir),
    /// In Redis: its `used_memory`.
    Redis(RedisServer),
    /// In PostgreSQL: its tables' sizes.
    Postgres {
        /// The store's pool.
        pool: PgPool,
        /// The server, running until the run ends.
        _server: PostgresServer,
    },
    /// In a SQLite database in a directory, through the store's pool: the directory's allocated
    /// blocks after a checkpoint.
    Sqlite(tempfile::TempDir, SqlitePool),
}

impl Backing {
    /// The bytes the store takes now.
    pub(crate) async fn bytes(&self) -> u64 {
        match self {
            Backing::Process => resident_bytes(),
            Backing::Dir(dir) => dir_bytes(dir.path()),
            Backing::Redis(server) => redis_used_memory(&server.url()),
            Backing::Postgres { pool, .. } => postgres_table_bytes(pool).await,
            Backing::Sqlite(dir, pool) => {
                sqlite_checkpoint(pool).await;
                dir_bytes(dir.path())
            }
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

/// The size of every table of the database outside PostgreSQL's catalog (the store's, whatever
/// its schema), each with its indexes and TOAST (`pg_total_relation_size`).
async fn postgres_table_bytes(pool: &PgPool) -> u64 {
    let bytes: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_one(pool)
    .await
    .expect("the tables' sizes");
    bytes.try_into().expect("a size")
}

/// Moves SQLite's write-ahead log into the database file and empties it
/// (`wal_checkpoint(TRUNCATE)`), so that the file holds every session.
async fn sqlite_checkpoint(pool: &SqlitePool) {
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(pool)
        .await
        .expect("a checkpoint");
    assert_eq!(busy, 0, "the checkpoint ran to the end");
}

/// A temporary directory for a store's files: under `SESSION_BENCH_DIR`, else the current
/// directory.
fn bench_dir() -> tempfile::TempDir {
    tempfile::tempdir_in(std::env::var_os("SESSION_BENCH_DIR").unwrap_or(".".into()))
        .expect("a directory for the store")
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

/// A SQLite database in a directory of its own, opened with `session_store_sqlx::sqlite_pool`
/// (tower-sessions' store included): the directory and the pool.
async fn sqlite() -> (tempfile::TempDir, SqlitePool) {
    let dir = bench_dir();
    let pool = session_store_sqlx::sqlite_pool(dir.path().join("sessions.db"))
        .await
        .expect("SQLite opens");
    (dir, pool)
}

/// The app of `contender` over its store, sized for `count` sessions, and where the store keeps
/// them.
pub(crate) async fn app(contender: &str, count: usize) -> (Router, Backing) {
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
            let dir = bench_dir();
            let store = session_store_file::FileStore::open(dir.path().join("sessions"))
                .expect("open the file store");
            (ours(store), Backing::Dir(dir))
        }
        "ours-redis" => {
            let server = RedisServer::start();
            let store = session_benches::redis::ours_store(&server.url(), false).await;
            (ours(store), Backing::Redis(server))
        }
        "ours-pg" => {
            let server = PostgresServer::start();
            let pool = session_benches::sql::pg_pool(&server.url()).await;
            let store = session_store_sqlx::PgStore::new(pool.clone());
            store.migrate().await.expect("PgStore migrates");
            (
                ours(store),
                Backing::Postgres {
                    pool,
                    _server: server,
                },
            )
        }
        "ours-sqlite" => {
            let (dir, pool) = sqlite().await;
            let store = session_store_sqlx::SqliteStore::new(pool.clone());
            store.migrate().await.expect("SqliteStore migrates");
            (ours(store), Backing::Sqlite(dir, pool))
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
            let store = session_benches::redis::tower_sessions_store(&server.url()).await;
            (theirs(store), Backing::Redis(server))
        }
        "tower-pg" => {
            let server = PostgresServer::start();
            let pool = session_benches::sql::pg_pool(&server.url()).await;
            let store = tower_sessions_sqlx_store::PostgresStore::new(pool.clone());
            store.migrate().await.expect("PostgresStore migrates");
            (
                theirs(store),
                Backing::Postgres {
                    pool,
                    _server: server,
                },
            )
        }
        "tower-sqlite" => {
            let (dir, pool) = sqlite().await;
            let store = tower_sessions_sqlx_store::SqliteStore::new(pool.clone());
            store.migrate().await.expect("SqliteStore migrates");
            (theirs(store), Backing::Sqlite(dir, pool))
        }
        other => panic!("unknown contender {other}"),
    }
}
