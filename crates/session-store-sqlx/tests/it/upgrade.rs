//! Databases at schema version 1 (made with version 1's own statements, [`v1`]), holding
//! sessions, upgraded to the latest version (2 on PostgreSQL, 3 on SQLite): nothing rewritten,
//! every session still loads, several migrations at once take turns; and a process of version 1
//! still running afterwards keeps serving on its prepared statements, bound sessions included
//! (which it sees unbound, and whose binding it keeps).

use std::time::Instant;

use session_core::store::{Clock, Key, Record, Store, SystemClock};
use session_store_sqlx::sqlx::{self, Connection, PgConnection, SqliteConnection};
use session_store_sqlx::testing::PostgresServer;
use session_store_sqlx::{PgStore, SqliteStore};

use crate::common::{self, SqliteFile, bound_to, key, live};
use crate::v1::{self, OldLite, OldPg};

/// Sessions without values added to each version 1 table before the upgrade.
const ROWS: i64 = 100_000;

fn now() -> i64 {
    i64::try_from(SystemClock.now().as_millis()).expect("in range")
}

fn names(record: &Record) -> Vec<String> {
    record.data.keys().cloned().collect()
}

/// What a new store sees of the sessions a version 1 process wrote: `key(1)`, with values `n`,
/// `user` and `x`, unbound.
async fn old_session_loads(store: &dyn Store) {
    let record = store.load(&key(1)).await.expect("load").expect("live");
    assert_eq!(names(&record), ["n", "user", "x"]);
    assert_eq!(record.binding, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_version_1_upgrades_and_keeps_serving_version_1() {
    let server = PostgresServer::start();
    let mut connection = PgConnection::connect(&server.url()).await.expect("connect");
    v1::install_postgres(&mut connection).await;
    let mut old = OldPg(&mut connection);
    // Every statement of version 1 runs once before the upgrade, so that the connection holds
    // them prepared, as a running process does.
    let n = now();
    assert!(
        old.create(&key(1), &live(&[("n", "1"), ("user", "\"alice\"")]), n)
            .await
    );
    assert!(old.set(&key(1), "x", "2", n).await);
    assert!(old.touch(&key(1), n).await);
    assert_eq!(
        old.load(&key(1), n).await.expect("live"),
        ["n", "user", "x"]
    );
    assert!(!old.delete(&key(9), n).await);
    sqlx::query(
        "INSERT INTO sessions (id, created, last_active, expires) \
         SELECT sha256(int8send(g)), $2, $2, $2 + 3600000 FROM generate_series(1, $1) g",
    )
    .bind(ROWS)
    .bind(n)
    .execute(&mut *old.0)
    .await
    .expect("many sessions");
    let file_of = "SELECT pg_relation_filenode('sessions')::bigint";
    let before: i64 = sqlx::query_scalar(file_of)
        .fetch_one(&mut *old.0)
        .await
        .expect("file");

    let store = PgStore::new(common::pg_pool(&server).await);
    let started = Instant::now();
    assert_eq!(store.migrate().await.expect("migrate"), 2);
    eprintln!(
        "PostgreSQL: {} sessions upgraded in {:?}",
        ROWS + 1,
        started.elapsed()
    );
    let after: i64 = sqlx::query_scalar(file_of)
        .fetch_one(store.pool())
        .await
        .expect("file");
    assert_eq!(before, after, "the upgrade rewrote the sessions table");
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM sessions_migrations")
        .fetch_all(store.pool())
        .await
        .expect("versions");
    assert_eq!(versions, [1, 2]);
    old_session_loads(&store).await;
    let many: Vec<u8> = sqlx::query_scalar("SELECT id FROM sessions WHERE id <> $1 LIMIT 1")
        .bind(key(1).digest().as_slice())
        .fetch_one(store.pool())
        .await
        .expect("an id");
    let many = Key::from_digest(many.try_into().expect("32 bytes"));
    assert!(store.load(&many).await.expect("load").is_some());

    // A login on the new release, then version 1's statements on the connection that prepared
    // them before the upgrade.
    let login = bound_to("alice", live(&[("user", "\"alice\"")]));
    assert!(store.create(&key(2), &login).await.expect("create"));
    let mut old = OldPg(&mut connection);
    let n = now();
    assert_eq!(old.load(&key(2), n).await.expect("live"), ["user"]);
    assert!(old.set(&key(2), "y", "3", n).await);
    assert!(old.touch(&key(2), n).await);
    let kept = store.load(&key(2)).await.expect("load").expect("live");
    assert_eq!(kept.binding, login.binding, "version 1 changed a binding");
    assert_eq!(names(&kept), ["user", "y"]);
    // Version 1's create calls the function by its nine arguments: the new one, by its
    // defaults, creates an unbound session.
    assert!(old.create(&key(3), &live(&[("a", "1")]), n).await);
    let created = store.load(&key(3)).await.expect("load").expect("live");
    assert_eq!(created.binding, None);
    let listed = store.list_subject("alice").await.expect("list");
    assert_eq!(listed.iter().map(|b| b.key).collect::<Vec<_>>(), [key(2)]);
    assert_eq!(listed[0].expires, kept.expires);
    assert!(old.delete(&key(2), n).await);
    assert!(store.list_subject("alice").await.expect("list").is_empty());

    // The listing's query uses the subject's index, among the many sessions.
    sqlx::query("ANALYZE sessions")
        .execute(store.pool())
        .await
        .expect("analyze");
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT id, binding, created, last_active, expires FROM sessions \
         WHERE subject = '\\x0102'::bytea AND expires > 0",
    )
    .fetch_all(store.pool())
    .await
    .expect("explain");
    assert!(plan.join("\n").contains("sessions_subject"), "{plan:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_version_1_upgrades_and_keeps_serving_version_1() {
    let file = SqliteFile::new();
    let pool = file.pool().await;
    let url = format!("sqlite://{}", file.path().display());
    let mut connection = SqliteConnection::connect(&url).await.expect("connect");
    v1::install_sqlite(&mut connection).await;
    let mut old = OldLite(&mut connection);
    let n = now();
    assert!(
        old.create(&key(1), &live(&[("n", "1"), ("user", "\"alice\"")]), n)
            .await
    );
    assert!(old.set(&key(1), "x", "2", n).await);
    assert!(old.touch(&key(1), n).await);
    assert_eq!(
        old.load(&key(1), n).await.expect("live"),
        ["n", "user", "x"]
    );
    assert!(!old.delete(&key(9), n).await);
    sqlx::query(
        "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < ?1) \
         INSERT INTO sessions (id, created, last_active, expires) \
         SELECT randomblob(32), ?2, ?2, ?2 + 3600000 FROM g",
    )
    .bind(ROWS)
    .bind(n)
    .execute(&mut *old.0)
    .await
    .expect("many sessions");
    let layout = "SELECT (SELECT rootpage FROM sqlite_schema WHERE name = 'sessions'), \
                  (SELECT page_count FROM pragma_page_count())";
    let before: (i64, i64) = sqlx::query_as(layout)
        .fetch_one(&pool)
        .await
        .expect("pages");

    let store = SqliteStore::new(pool.clone());
    let started = Instant::now();
    assert_eq!(store.migrate().await.expect("migrate"), 3);
    eprintln!(
        "SQLite: {} sessions upgraded in {:?}",
        ROWS + 1,
        started.elapsed()
    );
    let after: (i64, i64) = sqlx::query_as(layout)
        .fetch_one(&pool)
        .await
        .expect("pages");
    assert_eq!(before.0, after.0, "the upgrade moved the sessions table");
    // The new index's root page and the schema's text of version 3's views and triggers (a
    // few pages), no copy of the table (thousands).
    assert!(
        after.1 - before.1 <= 6,
        "{before:?} -> {after:?}: the table was rewritten"
    );
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM sessions_migrations")
        .fetch_all(&pool)
        .await
        .expect("versions");
    assert_eq!(versions, [1, 2, 3]);
    old_session_loads(&store).await;

    let login = bound_to("alice", live(&[("user", "\"alice\"")]));
    assert!(store.create(&key(2), &login).await.expect("create"));
    let mut old = OldLite(&mut connection);
    let n = now();
    assert_eq!(old.load(&key(2), n).await.expect("live"), ["user"]);
    assert!(old.set(&key(2), "y", "3", n).await);
    assert!(old.touch(&key(2), n).await);
    let kept = store.load(&key(2)).await.expect("load").expect("live");
    assert_eq!(kept.binding, login.binding, "version 1 changed a binding");
    assert_eq!(names(&kept), ["user", "y"]);
    assert!(old.create(&key(3), &live(&[("a", "1")]), n).await);
    assert_eq!(
        store
            .load(&key(3))
            .await
            .expect("load")
            .expect("live")
            .binding,
        None
    );
    let listed = store.list_subject("alice").await.expect("list");
    assert_eq!(listed.iter().map(|b| b.key).collect::<Vec<_>>(), [key(2)]);
    assert!(old.delete(&key(2), n).await);
    assert!(store.list_subject("alice").await.expect("list").is_empty());

    let plan = explain_sqlite(&pool).await;
    assert!(plan.join("\n").contains("sessions_subject"), "{plan:#?}");
}

/// SQLite's plan of the listing's query, one line per step.
async fn explain_sqlite(pool: &sqlx::SqlitePool) -> Vec<String> {
    use sqlx::Row;
    let rows = sqlx::query(
        "EXPLAIN QUERY PLAN SELECT id, binding, created, last_active, expires FROM sessions \
         WHERE subject = ?1 AND expires > ?2",
    )
    .bind(vec![1u8, 2])
    .bind(0i64)
    .fetch_all(pool)
    .await
    .expect("explain");
    rows.iter()
        .map(|row| row.try_get::<String, _>(3).expect("detail"))
        .collect()
}

/// Eight migrations at once of each database at version 1, holding a session, each through its
/// own pool: one upgrades, the others find the latest version; the session still loads.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_upgrades_take_turns() {
    let server = PostgresServer::start();
    let file = SqliteFile::new();
    let mut pg = PgConnection::connect(&server.url()).await.expect("connect");
    v1::install_postgres(&mut pg).await;
    let url = format!("sqlite://{}", file.path().display());
    drop(file.pool().await);
    let mut lite = SqliteConnection::connect(&url).await.expect("connect");
    v1::install_sqlite(&mut lite).await;
    let record = live(&[("n", "1"), ("user", "\"alice\""), ("x", "2")]);
    assert!(OldPg(&mut pg).create(&key(1), &record, now()).await);
    assert!(OldLite(&mut lite).create(&key(1), &record, now()).await);
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
    let pg_store = common::pg_store(&server).await;
    let lite_store = file.store().await;
    for store in [&pg_store as &dyn Store, &lite_store] {
        old_session_loads(store).await;
    }
    for (pool_versions, expected) in [
        (
            sqlx::query_scalar::<_, i64>("SELECT version FROM sessions_migrations")
                .fetch_all(pg_store.pool())
                .await,
            &[1, 2][..],
        ),
        (
            sqlx::query_scalar::<_, i64>("SELECT version FROM sessions_migrations")
                .fetch_all(lite_store.pool())
                .await,
            &[1, 2, 3][..],
        ),
    ] {
        assert_eq!(pool_versions.expect("versions"), expected);
    }
}

/// A process of version 1 creating, loading and changing sessions in a loop on its own
/// connection while the tables are upgraded under it: no call fails (calls wait for the
/// upgrade's lock, then run on version 2), and calls made after the upgrade land.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_version_1_keeps_serving_during_the_upgrade() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

    let server = PostgresServer::start();
    let mut connection = PgConnection::connect(&server.url()).await.expect("connect");
    v1::install_postgres(&mut connection).await;
    sqlx::query(
        "INSERT INTO sessions (id, created, last_active, expires) \
         SELECT sha256(int8send(g)), $2, $2, $2 + 3600000 FROM generate_series(1, $1) g",
    )
    .bind(ROWS)
    .bind(now())
    .execute(&mut connection)
    .await
    .expect("many sessions");
    let (stop, upgraded) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let (calls, after) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let longest = Arc::new(AtomicU64::new(0));
    let old_process = {
        let (stop, upgraded) = (stop.clone(), upgraded.clone());
        let (calls, after, longest) = (calls.clone(), after.clone(), longest.clone());
        tokio::spawn(async move {
            let mut old = OldPg(&mut connection);
            for n in 0u32.. {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let late = upgraded.load(Ordering::SeqCst);
                let k = Key::from_digest([u8::try_from(n % 200).expect("small"); 32]);
                let (t, started) = (now(), Instant::now());
                old.delete(&k, t).await;
                assert!(old.create(&k, &live(&[("n", "1")]), t).await);
                assert!(old.set(&k, "x", "2", t).await);
                assert_eq!(old.load(&k, t).await.expect("live"), ["n", "x"]);
                let took = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                longest.fetch_max(took, Ordering::SeqCst);
                calls.fetch_add(1, Ordering::SeqCst);
                if late {
                    after.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let store = PgStore::new(common::pg_pool(&server).await);
    let started = Instant::now();
    assert_eq!(store.migrate().await.expect("migrate"), 2);
    let took = started.elapsed();
    upgraded.store(true, Ordering::SeqCst);
    let before = calls.load(Ordering::SeqCst);
    while after.load(Ordering::SeqCst) < 20 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::SeqCst);
    old_process.await.expect("version 1's calls all succeeded");
    assert!(
        before > 0,
        "no call of version 1 ran before the upgrade finished"
    );
    eprintln!(
        "upgrade under version 1's calls: {took:?}; {} rounds of version 1's calls, the longest \
         {} µs",
        calls.load(Ordering::SeqCst),
        longest.load(Ordering::SeqCst)
    );
}
