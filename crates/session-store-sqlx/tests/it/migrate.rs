//! `migrate()`: the schema and its version table, idempotent, safe from several processes at
//! once, refusing a newer schema; table and schema names validated and used.

use session_core::store::Store;
use session_store_sqlx::sqlx;
use session_store_sqlx::testing::PostgresServer;
use session_store_sqlx::{PgStore, SqlStoreError, SqliteStore};

use crate::common::{self, SqliteFile, key, live};

#[tokio::test(flavor = "multi_thread")]
async fn migrate_is_recorded_and_idempotent() {
    let server = PostgresServer::start();
    let store = common::pg_store(&server).await;
    assert_eq!(store.migrate().await.expect("again"), 2);
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM sessions_migrations")
        .fetch_all(store.pool())
        .await
        .expect("versions");
    assert_eq!(
        versions,
        [2],
        "a fresh install goes to the latest version at once"
    );
    // sqlx's own migration table belongs to the application: untouched.
    let sqlx_table: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
            .fetch_one(store.pool())
            .await
            .expect("regclass");
    assert_eq!(sqlx_table, None);

    let file = SqliteFile::new();
    let sqlite = file.store().await;
    assert_eq!(sqlite.migrate().await.expect("again"), 3);
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM sessions_migrations")
        .fetch_all(sqlite.pool())
        .await
        .expect("versions");
    assert_eq!(
        versions,
        [3],
        "a fresh install goes to the latest version at once"
    );
}

/// Eight migrations at once on fresh databases, each through its own pool: one creates the
/// tables, the others find them.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_migrations_take_turns() {
    let server = PostgresServer::start();
    let file = SqliteFile::new();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let pool = common::pg_pool(&server).await;
        tasks.push(tokio::spawn(async move {
            (2, PgStore::new(pool).migrate().await)
        }));
        let pool = file.pool().await;
        tasks.push(tokio::spawn(async move {
            (3, SqliteStore::new(pool).migrate().await)
        }));
    }
    for task in tasks {
        let (latest, migrated) = task.await.expect("task");
        assert_eq!(migrated.expect("migrate"), latest);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newer_schema_is_refused() {
    let server = PostgresServer::start();
    let store = common::pg_store(&server).await;
    sqlx::query("INSERT INTO sessions_migrations VALUES (3, 0)")
        .execute(store.pool())
        .await
        .expect("insert");
    let error = store.migrate().await.expect_err("newer");
    assert!(
        matches!(
            error,
            SqlStoreError::SchemaTooNew {
                found: 3,
                supported: 2
            }
        ),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn names_are_validated_and_used() {
    let server = PostgresServer::start();
    let pool = common::pg_pool(&server).await;
    for (schema, table) in [("ok", "bad-name"), ("bad;schema", "ok"), ("ok", "")] {
        let error = PgStore::builder(pool.clone())
            .schema(schema)
            .table(table)
            .build()
            .expect_err("invalid");
        assert!(
            matches!(error, SqlStoreError::InvalidName { .. }),
            "{error}"
        );
    }
    let app = common::pg_store_with(&server, |b| b.schema("app_sessions").table("web")).await;
    let other = common::pg_store(&server).await;
    assert!(
        app.create(&key(1), &live(&[("a", "1")]))
            .await
            .expect("create")
    );
    assert!(other.load(&key(1)).await.expect("load").is_none());
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'app_sessions' ORDER BY 1",
    )
    .fetch_all(app.pool())
    .await
    .expect("tables");
    assert_eq!(tables, ["web", "web_migrations", "web_values"]);
    assert_eq!(app.table(), "app_sessions.web");

    let file = SqliteFile::new();
    let error = SqliteStore::builder(file.pool().await)
        .table("x\"y")
        .build()
        .expect_err("invalid");
    assert!(error.to_string().contains("invalid table name"), "{error}");
}
