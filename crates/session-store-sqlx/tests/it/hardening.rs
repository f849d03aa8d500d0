//! What a review found and these tests keep fixed: a SQLite write cancelled at any point leaves
//! no connection inside a transaction; `migrate` needs no DDL rights once the tables are
//! current; a PostgreSQL row lock is not waited for past the store's time-out (and the write
//! then does not land later); a REPEATABLE READ default isolation loses no apply; a negative
//! version in the version table is an error, not a panic.

use std::sync::Arc;
use std::time::Duration;

use session_core::store::{Changes, Clock, Store, StoreErrorKind, SystemClock};
use session_store_sqlx::sqlx::postgres::PgPoolOptions;
use session_store_sqlx::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions,
};
use session_store_sqlx::sqlx::{self, Connection};
use session_store_sqlx::testing::PostgresServer;
use session_store_sqlx::{PgStore, SqlStoreError, SqliteStore};

use crate::common::{self, SqliteFile, key, live, value};

fn set(name: &str, json: &str) -> Changes {
    let now = SystemClock.now();
    let mut changes = Changes::touch(now, now.saturating_add(Duration::from_secs(3600)));
    changes.updates = vec![(name.to_owned(), Some(value(json)))];
    changes
}

/// Deletes, applies and creates cut off after every few microseconds, on a pool of one
/// connection: the connection is never left inside a transaction, and a write afterwards works.
/// (With sqlx's `begin_with("BEGIN IMMEDIATE")` a cancelled call left its connection holding the
/// write lock for good within a few hundred trials.)
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_writes_cancelled_anywhere_leave_no_transaction_open() {
    let file = SqliteFile::new();
    drop(file.store().await);
    let options = SqliteConnectOptions::new()
        .filename(file.path())
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("pool");
    let patient = SqliteStore::new(pool.clone());
    assert!(
        patient
            .create(&key(1), &live(&[("a", "1")]))
            .await
            .expect("create")
    );
    for trial in 0..1500u32 {
        let hasty = SqliteStore::builder(pool.clone())
            .timeout(Duration::from_micros(u64::from(trial % 750)))
            .build()
            .expect("store");
        let _ = match trial % 3 {
            0 => hasty.delete(&key(99)).await,
            1 => hasty.apply(&key(1), &set("b", "2")).await,
            _ => hasty.create(&key(2), &live(&[("c", "3")])).await,
        };
        let connection = pool.acquire().await.expect("acquire");
        assert!(
            !connection.is_in_transaction(),
            "trial {trial} left its connection inside a transaction"
        );
    }
    assert!(patient.apply(&key(1), &set("d", "4")).await.expect("apply"));
}

/// A role with only SELECT, INSERT, UPDATE and DELETE on the tables (and EXECUTE on the
/// functions, which PostgreSQL grants to everyone): on tables at version 1, its `migrate` fails
/// and changes nothing; once an owner has upgraded them, it runs `migrate` at every start, and
/// then the store, logins listed by subject included.
#[tokio::test(flavor = "multi_thread")]
async fn migrate_needs_no_ddl_rights_when_current() {
    let server = PostgresServer::start();
    let mut owner = sqlx::PgConnection::connect(&server.url())
        .await
        .expect("connect");
    // Version 1's frozen statements name the tables unqualified: in `public`, where PostgreSQL
    // 15 gives other roles no right to create.
    crate::v1::install_postgres(&mut owner).await;
    for statement in [
        "CREATE ROLE web LOGIN",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO web",
    ] {
        sqlx::query(statement)
            .execute(&mut owner)
            .await
            .expect(statement);
    }
    let url = server.url().replace("postgres@", "web@");
    let pool = PgPoolOptions::new()
        .connect(&url)
        .await
        .expect("connect as web");
    let store = PgStore::new(pool);
    let error = store.migrate().await.expect_err("no rights to upgrade");
    assert!(matches!(error, SqlStoreError::Database { .. }), "{error:?}");
    let version: i64 = sqlx::query_scalar("SELECT max(version) FROM sessions_migrations")
        .fetch_one(&mut owner)
        .await
        .expect("version");
    assert_eq!(version, 1, "a failed upgrade changed the version");

    let admin = common::pg_store(&server).await;
    assert_eq!(admin.migrate().await.expect("upgraded"), 2);
    assert_eq!(store.migrate().await.expect("migrate as web"), 2);
    assert!(
        store
            .create(&key(1), &live(&[("a", "1")]))
            .await
            .expect("create")
    );
    assert!(store.apply(&key(1), &set("b", "2")).await.expect("apply"));
    let login = common::bound_to("alice", live(&[]));
    assert!(store.create(&key(2), &login).await.expect("create"));
    let listed = store.list_subject("alice").await.expect("list as web");
    assert_eq!(listed.len(), 1);
}

/// A session's row held by another transaction: the apply fails with a time-out at the store's
/// time-out, its connection goes back to the pool free (another session is served at once),
/// and the write does not land when the lock goes.
#[tokio::test(flavor = "multi_thread")]
async fn a_row_lock_is_not_waited_for_past_the_time_out() {
    let server = PostgresServer::start();
    let store = common::pg_store_with(&server, |b| b.timeout(Duration::from_millis(400))).await;
    assert!(
        store
            .create(&key(1), &live(&[("a", "1")]))
            .await
            .expect("create")
    );
    assert!(
        store
            .create(&key(2), &live(&[("a", "1")]))
            .await
            .expect("create")
    );
    let mut holder = sqlx::PgConnection::connect(&server.url())
        .await
        .expect("connect");
    sqlx::query("BEGIN")
        .execute(&mut holder)
        .await
        .expect("begin");
    sqlx::query("SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE")
        .bind(key(1).digest().as_slice())
        .execute(&mut holder)
        .await
        .expect("lock");
    for n in 0..3 {
        let error = store
            .apply(&key(1), &set(&format!("late{n}"), "1"))
            .await
            .expect_err("locked");
        assert_eq!(error.kind(), StoreErrorKind::Timeout, "{error}");
    }
    let started = std::time::Instant::now();
    assert!(store.load(&key(2)).await.expect("load").is_some());
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "the pool was held"
    );
    sqlx::query("COMMIT")
        .execute(&mut holder)
        .await
        .expect("commit");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let record = store.load(&key(1)).await.expect("load").expect("live");
    assert_eq!(
        record.data.keys().collect::<Vec<_>>(),
        ["a"],
        "a timed-out write landed"
    );
}

/// With REPEATABLE READ as the database's default isolation, 50 concurrent applies of distinct
/// keys of one session all land (each conflicting call is tried again).
#[tokio::test(flavor = "multi_thread")]
async fn repeatable_read_by_default_loses_no_apply() {
    let server = PostgresServer::start();
    let admin = common::pg_store(&server).await;
    sqlx::query("ALTER DATABASE postgres SET default_transaction_isolation = 'repeatable read'")
        .execute(admin.pool())
        .await
        .expect("alter");
    let store = Arc::new(common::pg_store(&server).await);
    assert!(store.create(&key(1), &live(&[])).await.expect("create"));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store.apply(&key(1), &set(&format!("k{i}"), "1")).await
        }));
    }
    for task in tasks {
        assert!(task.await.expect("task").expect("apply"));
    }
    let record = store.load(&key(1)).await.expect("load").expect("live");
    assert_eq!(record.data.len(), 50);
}

/// A version table holding a negative version (by hand): `migrate` fails with an error.
#[tokio::test(flavor = "multi_thread")]
async fn a_negative_version_is_an_error() {
    let file = SqliteFile::new();
    let store = file.store().await;
    sqlx::query("UPDATE sessions_migrations SET version = -3")
        .execute(store.pool())
        .await
        .expect("update");
    assert!(store.migrate().await.is_err());
    let server = PostgresServer::start();
    let pg = common::pg_store(&server).await;
    sqlx::query("UPDATE sessions_migrations SET version = -3")
        .execute(pg.pool())
        .await
        .expect("update");
    assert!(pg.migrate().await.is_err());
}
