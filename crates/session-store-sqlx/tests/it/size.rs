//! The record size limit: writes past it fail with `TooLarge` and change nothing; the size the
//! stores keep follows every kind of change.

use session_core::store::{Changes, Clock, Store, StoreErrorKind, SystemClock};
use session_store_sqlx::sqlx;
use session_store_sqlx::testing::PostgresServer;

use crate::common::{self, SqliteFile, key, live, value};

fn changes(updates: &[(&str, Option<&str>)], clear: bool) -> Changes {
    let now = SystemClock.now();
    let mut changes = Changes::touch(
        now,
        now.saturating_add(std::time::Duration::from_secs(3600)),
    );
    changes.clear = clear;
    changes.updates = updates
        .iter()
        .map(|(name, json)| ((*name).to_owned(), json.map(value)))
        .collect();
    changes
}

/// `store` has a limit of 100 bytes.
async fn limit_is_kept(store: &dyn Store) {
    let big = format!("\"{}\"", "x".repeat(60));
    let too_big = live(&[("a", &big), ("b", &big)]);
    let refused = store
        .create(&key(1), &too_big)
        .await
        .expect_err("too large");
    assert_eq!(refused.kind(), StoreErrorKind::TooLarge);
    assert!(store.load(&key(1)).await.expect("load").is_none());

    let record = live(&[("a", &big)]);
    assert!(store.create(&key(1), &record).await.expect("create"));
    // 63 bytes stored; adding 63 more passes 100: refused, nothing changed.
    let error = store
        .apply(&key(1), &changes(&[("b", Some(&big))], false))
        .await
        .expect_err("too large");
    assert_eq!(error.kind(), StoreErrorKind::TooLarge);
    assert!(error.to_string().contains("126 bytes") || format!("{error:?}").contains("126"));
    assert_eq!(
        store.load(&key(1)).await.expect("load"),
        Some(record.clone())
    );
    // Replacing `a` by `b` fits: the old length is taken off.
    let swap = changes(&[("a", None), ("b", Some(&big))], false);
    assert!(store.apply(&key(1), &swap).await.expect("apply"));
    // So does adding after a clear.
    let cleared = changes(&[("c", Some(&big))], true);
    assert!(store.apply(&key(1), &cleared).await.expect("apply"));
    let loaded = store.load(&key(1)).await.expect("load").expect("live");
    assert_eq!(loaded.data.keys().collect::<Vec<_>>(), ["c"]);
    let refused = store.save(&key(1), &too_big).await.expect_err("too large");
    assert_eq!(refused.kind(), StoreErrorKind::TooLarge);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_keeps_the_limit() {
    let server = PostgresServer::start();
    let store = common::pg_store_with(&server, |b| b.max_record_bytes(100)).await;
    limit_is_kept(&store).await;
    let size: i64 = sqlx::query_scalar("SELECT size FROM sessions")
        .fetch_one(store.pool())
        .await
        .expect("size");
    assert_eq!(size, 1 + 62);
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_keeps_the_limit() {
    let file = SqliteFile::new();
    let store = file.store_with(|b| b.max_record_bytes(100)).await;
    limit_is_kept(&store).await;
    let size: i64 = sqlx::query_scalar("SELECT size FROM sessions")
        .fetch_one(store.pool())
        .await
        .expect("size");
    assert_eq!(size, 1 + 62);
}

/// A session stored under a larger limit is read as no session by a store with a smaller one.
#[tokio::test(flavor = "multi_thread")]
async fn a_stored_session_over_the_limit_loads_as_none() {
    let file = SqliteFile::new();
    let large = file.store().await;
    let big = format!("\"{}\"", "x".repeat(200));
    assert!(
        large
            .create(&key(1), &live(&[("a", &big)]))
            .await
            .expect("create")
    );
    let small = file.store_with(|b| b.max_record_bytes(100)).await;
    assert!(small.load(&key(1)).await.expect("load").is_none());
    assert!(large.load(&key(1)).await.expect("load").is_some());
}
