//! The SQLite database file: created 0600 (and its WAL files with it), in WAL mode; two pools
//! (two processes' worth of connections) writing at once never fail with SQLITE_BUSY.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use session_core::store::{Changes, Clock, Store, SystemClock};
use session_store_sqlx::SqliteStore;
use session_store_sqlx::sqlx;

use crate::common::{SqliteFile, key, live, value};

#[tokio::test(flavor = "multi_thread")]
async fn the_database_file_is_private_and_in_wal_mode() {
    let file = SqliteFile::new();
    let store = SqliteStore::open(file.path()).await.expect("open");
    assert!(
        store
            .create(&key(1), &live(&[("a", "1")]))
            .await
            .expect("create")
    );
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", file.path().display());
        let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{path}");
    }
}

/// 2 × 150 creates, applies and deletes at once through two pools of their own (two processes'
/// worth of connections): none fails, and every apply to the one session they share lands.
#[tokio::test(flavor = "multi_thread")]
async fn two_pools_writing_at_once_never_fail_busy() {
    let file = SqliteFile::new();
    let stores = Arc::new([file.store().await, file.store().await]);
    let shared = key(2);
    assert!(stores[0].create(&shared, &live(&[])).await.expect("create"));
    let mut tasks = Vec::new();
    for n in 0..300u16 {
        let stores = Arc::clone(&stores);
        tasks.push(tokio::spawn(async move {
            let store = &stores[usize::from(n % 2)];
            let mut digest = [0u8; 32];
            digest[..2].copy_from_slice(&n.to_be_bytes());
            digest[31] = 1;
            let k = session_core::store::Key::from_digest(digest);
            store.create(&k, &live(&[("n", &n.to_string())])).await?;
            let now = SystemClock.now();
            let mut change = Changes::touch(now, now.saturating_add(Duration::from_secs(3600)));
            change.updates = vec![(format!("n{n}"), Some(value(&n.to_string())))];
            assert!(store.apply(&shared, &change).await?, "the shared session");
            store.delete(&key(0)).await?;
            store.load(&k).await
        }));
    }
    for task in tasks {
        let loaded = task.await.expect("task").expect("no SQLITE_BUSY");
        assert!(loaded.is_some());
    }
    let kept = stores[1].load(&shared).await.expect("load").expect("live");
    assert_eq!(
        kept.data.len(),
        300,
        "writes to the shared session were lost"
    );
}

/// A pool of one connection: writers wait for their turn on the store's own connection, holding
/// none of the pool's, so loads and a `migrate` running among 40 writers all get through.
#[tokio::test(flavor = "multi_thread")]
async fn writers_waiting_their_turn_hold_no_pooled_connection() {
    let file = SqliteFile::new();
    let options = (*file.pool().await.connect_options()).clone();
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("a pool of one");
    let store = SqliteStore::builder(pool)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("valid names");
    store.migrate().await.expect("migrate");
    let shared = key(1);
    assert!(store.create(&shared, &live(&[])).await.expect("create"));
    let store = Arc::new(store);
    let mut tasks = Vec::new();
    for n in 0..40u16 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let now = SystemClock.now();
            let mut change = Changes::touch(now, now.saturating_add(Duration::from_secs(3600)));
            change.updates = vec![(format!("n{n}"), Some(value("1")))];
            assert!(store.apply(&shared, &change).await?, "the session");
            store.load(&shared).await.map(|_| ())
        }));
    }
    let migrating = Arc::clone(&store);
    let migrated = tokio::spawn(async move { migrating.migrate().await });
    for task in tasks {
        task.await.expect("task").expect("no time-out");
    }
    migrated.await.expect("task").expect("migrate");
    let kept = store.load(&shared).await.expect("load").expect("live");
    assert_eq!(kept.data.len(), 40);
}

/// The load reads values' bytes as text, so a database in UTF-16 is refused at `migrate`, with
/// the reason, rather than loading every session as damaged.
#[tokio::test(flavor = "multi_thread")]
async fn a_database_not_in_utf8_is_refused_at_migrate() {
    let file = SqliteFile::new();
    let pool = file.pool().await;
    // The encoding is set before the database's first table, on a connection of the pool.
    sqlx::query("PRAGMA encoding = 'UTF-16le'")
        .execute(&pool)
        .await
        .expect("pragma");
    sqlx::query("CREATE TABLE first (x)")
        .execute(&pool)
        .await
        .expect("a table");
    let store = SqliteStore::new(pool);
    let error = store.migrate().await.expect_err("UTF-16 refused");
    let mut chain = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        chain.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    assert!(chain.contains("encoding is UTF-16le"), "{chain}");
}
