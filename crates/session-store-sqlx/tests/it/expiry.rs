//! Expiry judged by the store's clock (a `ManualClock` here; the database's clock is never read),
//! and the cleanup, in batches, of what expired.

use std::time::Duration;

use session_core::store::{Changes, Clock, ManualClock, Store};
use session_store_sqlx::sqlx;
use session_store_sqlx::testing::PostgresServer;

use crate::common::{self, SqliteFile, key, record_at, value};

/// On `store` (whose clock is `clock`): a record is live until its expiry on that clock, then no
/// write brings it back.
async fn expiry_follows_the_store_clock(store: &dyn Store, clock: &ManualClock) {
    let record = record_at(clock.now(), Duration::from_secs(60), &[("a", "1")]);
    assert!(store.create(&key(1), &record).await.expect("create"));
    clock.advance(Duration::from_secs(59));
    assert!(store.load(&key(1)).await.expect("load").is_some());
    clock.advance(Duration::from_secs(1));
    assert!(
        store.load(&key(1)).await.expect("load").is_none(),
        "expired yet loaded"
    );
    let mut changes = Changes::touch(
        clock.now(),
        clock.now().saturating_add(Duration::from_secs(60)),
    );
    changes.updates = vec![("b".into(), Some(value("2")))];
    assert!(!store.apply(&key(1), &changes).await.expect("apply"));
    assert!(
        !store
            .touch(&key(1), clock.now(), changes.expires)
            .await
            .expect("touch")
    );
    assert!(!store.save(&key(1), &record).await.expect("save"));
    assert!(
        !store.delete(&key(1)).await.expect("delete"),
        "an expired session is not live"
    );
    // An expired record is replaced by a create.
    let fresh = record_at(clock.now(), Duration::from_secs(60), &[("c", "3")]);
    assert!(store.create(&key(1), &fresh).await.expect("create"));
    assert_eq!(store.load(&key(1)).await.expect("load"), Some(fresh));
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_expiry_follows_the_store_clock() {
    let server = PostgresServer::start();
    let clock = ManualClock::starting_now();
    let store = common::pg_store_with(&server, |b| b.clock(clock.clone())).await;
    expiry_follows_the_store_clock(&store, &clock).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_expiry_follows_the_store_clock() {
    let file = SqliteFile::new();
    let clock = ManualClock::starting_now();
    let store = file.store_with(|b| b.clock(clock.clone())).await;
    expiry_follows_the_store_clock(&store, &clock).await;
}

/// 25 expired sessions and 3 live ones; batches of 10: the cleanup removes the 25 (in three
/// statements) and their values, and keeps the live ones.
#[tokio::test(flavor = "multi_thread")]
async fn cleanup_removes_expired_sessions_in_batches() {
    let server = PostgresServer::start();
    let file = SqliteFile::new();
    let clock = ManualClock::starting_now();
    let pg = common::pg_store_with(&server, |b| b.clock(clock.clone()).cleanup_batch(10)).await;
    let sqlite = file
        .store_with(|b| b.clock(clock.clone()).cleanup_batch(10))
        .await;
    for n in 0..28u8 {
        let ttl = Duration::from_secs(if n < 25 { 10 } else { 3600 });
        let record = record_at(clock.now(), ttl, &[("a", "1"), ("b", "2")]);
        assert!(pg.create(&key(n), &record).await.expect("create"));
        assert!(sqlite.create(&key(n), &record).await.expect("create"));
    }
    clock.advance(Duration::from_secs(11));
    assert_eq!(pg.delete_expired().await.expect("cleanup"), 25);
    assert_eq!(sqlite.delete_expired().await.expect("cleanup"), 25);
    let pg_rows: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM sessions_values)",
    )
    .fetch_one(pg.pool())
    .await
    .expect("count");
    let sqlite_rows: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM sessions_values)",
    )
    .fetch_one(sqlite.pool())
    .await
    .expect("count");
    assert_eq!(pg_rows, (3, 6));
    assert_eq!(sqlite_rows, (3, 6));
    assert_eq!(pg.delete_expired().await.expect("cleanup"), 0);
}

/// The spawned cleanup runs by itself.
#[tokio::test(flavor = "multi_thread")]
async fn spawned_cleanup_runs() {
    let file = SqliteFile::new();
    let clock = ManualClock::starting_now();
    let store = file.store_with(|b| b.clock(clock.clone())).await;
    let record = record_at(clock.now(), Duration::from_secs(1), &[("a", "1")]);
    assert!(store.create(&key(1), &record).await.expect("create"));
    clock.advance(Duration::from_secs(2));
    let task = store.spawn_cleanup(Duration::from_millis(20));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
            .fetch_one(store.pool())
            .await
            .expect("count");
        if left == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not cleaned up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    task.abort();
}
