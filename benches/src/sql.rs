//! The SQL contenders' stores, set up the same way in every bench: the PostgreSQL pool, the
//! tables (each store's own `migrate`), and the idle sessions they start with.

use std::time::{Duration, SystemTime};

use session_core::Value;
use session_core::store::{Key, Record, Store, Timestamp};
use session_store_sqlx::sqlx::postgres::PgPoolOptions;
use session_store_sqlx::sqlx::{self, PgPool, SqlitePool};
use session_store_sqlx::{PgStore, SqliteStore};
use tower_sessions::SessionStore;

/// The expiry every session made here gets: a day.
pub const SESSION_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Sessions that no client uses, per client, in every contender's store: tables the size of a
/// small site's, which the planner plans for as it would there (with the clients' sessions alone,
/// a table of one page is read whole).
pub const IDLE_PER_CLIENT: usize = 64;

/// How many tasks create the idle sessions at once.
const SEEDERS: usize = 8;

/// Connections in every PostgreSQL pool.
pub const PG_POOL: u32 = 16;

/// A pool of [`PG_POOL`] connections to `url`, with `test_before_acquire(false)` (as the
/// demo's; sqlx's default pings the server before each call).
///
/// # Panics
///
/// If the server does not accept the first connection.
pub async fn pg_pool(url: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(PG_POOL)
        .test_before_acquire(false)
        .connect(url)
        .await
        .expect("a PostgreSQL pool")
}

/// This project's `PgStore` on a [`pg_pool`] to `url`, in `table` (migrated), holding `idle`
/// idle sessions.
pub async fn pg_store(url: &str, table: &str, idle: usize) -> PgStore {
    let store = PgStore::builder(pg_pool(url).await)
        .table(table)
        .build()
        .expect("a plain table name");
    store.migrate().await.expect("PgStore migrates");
    seed_ours(&store, idle).await;
    store
}

/// tower-sessions-sqlx-store's `PostgresStore` on a [`pg_pool`] to `url` (tables made by its
/// `migrate()`), holding `idle` idle sessions.
pub async fn tower_pg_store(url: &str, idle: usize) -> tower_sessions_sqlx_store::PostgresStore {
    let store = tower_sessions_sqlx_store::PostgresStore::new(pg_pool(url).await);
    store.migrate().await.expect("PostgresStore migrates");
    seed_theirs(&store, idle).await;
    store
}

/// This project's `SqliteStore` on `pool` (migrated), holding `idle` idle sessions.
pub async fn sqlite_store(pool: SqlitePool, idle: usize) -> SqliteStore {
    let store = SqliteStore::new(pool);
    store.migrate().await.expect("SqliteStore migrates");
    seed_ours(&store, idle).await;
    store
}

/// tower-sessions-sqlx-store's `SqliteStore` on `pool` (migrated), holding `idle` idle sessions.
pub async fn tower_sqlite_store(
    pool: SqlitePool,
    idle: usize,
) -> tower_sessions_sqlx_store::SqliteStore {
    let store = tower_sessions_sqlx_store::SqliteStore::new(pool);
    store.migrate().await.expect("SqliteStore migrates");
    seed_theirs(&store, idle).await;
    store
}

/// Vacuums and analyzes the PostgreSQL database at `url` and writes the server's dirty pages out
/// (`CHECKPOINT`), so that one contender's dead rows and unwritten pages do not cost the next.
pub async fn settle_pg(url: &str) {
    let connection = PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("a connection to the bench database");
    for statement in ["VACUUM ANALYZE", "CHECKPOINT"] {
        sqlx::raw_sql(statement)
            .execute(&connection)
            .await
            .unwrap_or_else(|error| panic!("{statement}: {error}"));
    }
    connection.close().await;
}

/// Creates `n` sessions holding a counter in this project's `store`, [`SEEDERS`] at a time.
async fn seed_ours<S: Store + Clone>(store: &S, n: usize) {
    let mut seeders = tokio::task::JoinSet::new();
    for seeder in 0..SEEDERS {
        let store = store.clone();
        seeders.spawn(async move {
            for i in (seeder..n).step_by(SEEDERS) {
                let mut digest = [0x5e; 32];
                digest[..8].copy_from_slice(&(i as u64).to_be_bytes());
                let now = Timestamp::from_system_time(SystemTime::now());
                let mut record = Record::new(now, now.saturating_add(SESSION_TTL));
                let zero = Value::from_serialize(&0).expect("a number in JSON");
                record.data.insert("counter".to_owned(), zero);
                let created = store
                    .create(&Key::from_digest(digest), &record)
                    .await
                    .expect("create");
                assert!(created, "a new session");
            }
        });
    }
    while let Some(done) = seeders.join_next().await {
        done.expect("a seeder panicked");
    }
}

/// Creates `n` sessions holding a counter in tower-sessions' `store`, [`SEEDERS`] at a time.
async fn seed_theirs<S: SessionStore + Clone>(store: &S, n: usize) {
    use tower_sessions::cookie::time::OffsetDateTime;
    use tower_sessions::session::{Id, Record};

    let mut seeders = tokio::task::JoinSet::new();
    for seeder in 0..SEEDERS {
        let store = store.clone();
        seeders.spawn(async move {
            for _ in (seeder..n).step_by(SEEDERS) {
                let mut record = Record {
                    id: Id::default(),
                    data: [("counter".to_owned(), serde_json::json!(0))].into(),
                    expiry_date: OffsetDateTime::now_utc() + SESSION_TTL,
                };
                store.create(&mut record).await.expect("create");
            }
        });
    }
    while let Some(done) = seeders.join_next().await {
        done.expect("a seeder panicked");
    }
}
