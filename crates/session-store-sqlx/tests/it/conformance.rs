//! The conformance kit (every store contract, its property and concurrency checks included) and
//! Plack's scenarios, on PostgreSQL and on SQLite; concurrent applies through two pools (two
//! processes' worth of connections) on one database.

use std::sync::Arc;

use session_conformance::props::{check_store_changes, runtime};
use session_conformance::{Expect, ParamCarrier, check_store, plack_counter, plack_scenario};
use session_core::store::{Changes, Clock, Store, SystemClock};
use session_core::{Engine, ParamState};
use session_store_sqlx::sqlx;
use session_store_sqlx::testing::PostgresServer;

use crate::common::{self, SqliteFile, key, live, value};

/// Cases per property: every case is a few dozen statements.
const CASES: u32 = 32;

#[tokio::test(flavor = "multi_thread")]
async fn postgres_store_keeps_every_contract() {
    let server = PostgresServer::start();
    let store = common::pg_store(&server).await;
    let report = check_store(|| store.clone()).await;
    report.assert_nothing_skipped();
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_store_keeps_every_contract() {
    let file = SqliteFile::new();
    let store = file.store().await;
    let report = check_store(|| store.clone()).await;
    report.assert_nothing_skipped();
}

#[tokio::test(flavor = "multi_thread")]
async fn plack_scenarios_run_on_both() {
    let server = PostgresServer::start();
    let file = SqliteFile::new();
    let engines = [
        Engine::new(ParamState::default(), common::pg_store(&server).await),
        Engine::new(ParamState::default(), file.store().await),
    ];
    for engine in &engines {
        plack_scenario(engine, &ParamCarrier::default(), Expect::Persistent).await;
        plack_counter(engine, &ParamCarrier::default(), Expect::Persistent).await;
    }
}

/// The key-level change property on generated cases (keys with NUL and control characters,
/// values such as `-0.0`, `5e-324` and `1e300`), on PostgreSQL. The stores are built on the
/// kit's own runtime, where the property then runs them.
#[test]
fn postgres_store_applies_key_level_changes_like_the_model() {
    let server = PostgresServer::start();
    let store = runtime().block_on(common::pg_store(&server));
    let report = check_store_changes(|| store.clone(), CASES);
    assert!(report.skipped().is_empty(), "{report}");
    assert_eq!(report.passed().len(), 3, "{report}");
}

/// The same on SQLite.
#[test]
fn sqlite_store_applies_key_level_changes_like_the_model() {
    let file = SqliteFile::new();
    let store = runtime().block_on(file.store());
    let report = check_store_changes(|| store.clone(), CASES);
    assert!(report.skipped().is_empty(), "{report}");
    assert_eq!(report.passed().len(), 3, "{report}");
}

/// 100 concurrent applies, each setting its own key of one session, half through each of two
/// stores on two pools: every write is kept.
async fn two_pools_lose_no_write<S: Store + Clone>(first: S, second: S) {
    let k = key(7);
    assert!(first.create(&k, &live(&[])).await.expect("create"));
    let expires = SystemClock
        .now()
        .saturating_add(std::time::Duration::from_secs(3600));
    let stores = Arc::new([first.clone(), second]);
    let mut tasks = Vec::new();
    for i in 0..100 {
        let stores = Arc::clone(&stores);
        tasks.push(tokio::spawn(async move {
            let mut changes = Changes::touch(SystemClock.now(), expires);
            changes.updates = vec![(format!("k{i}"), Some(value(&i.to_string())))];
            stores[i % 2].apply(&key(7), &changes).await.expect("apply")
        }));
    }
    for task in tasks {
        assert!(task.await.expect("task"), "an apply found no session");
    }
    let record = first.load(&k).await.expect("load").expect("live");
    assert_eq!(record.data.len(), 100, "{:?}", record.data.keys());
    for i in 0..100 {
        assert_eq!(record.data[&format!("k{i}")].as_json(), i.to_string());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_applies_through_two_pools_lose_no_write() {
    let server = PostgresServer::start();
    let first = common::pg_store(&server).await;
    let second = common::pg_store(&server).await;
    two_pools_lose_no_write(first.clone(), second).await;
    // The size the limit is checked against was kept through every concurrent apply (each
    // `_change` call reads it after taking the row's lock).
    let (kept, actual): (i64, i64) = sqlx::query_as(SIZES)
        .fetch_one(first.pool())
        .await
        .expect("sizes");
    assert_eq!(kept, actual, "the size column lost concurrent updates");
}

/// The size column, and the size of the values it should equal.
const SIZES: &str = "SELECT (SELECT CAST(size AS BIGINT) FROM sessions), \
     (SELECT CAST(SUM(length(name) + length(value)) AS BIGINT) FROM sessions_values)";

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_applies_through_two_pools_lose_no_write() {
    let file = SqliteFile::new();
    let first = file.store().await;
    let second = file.store().await;
    two_pools_lose_no_write(first.clone(), second).await;
    let (kept, actual): (i64, i64) = sqlx::query_as(SIZES)
        .fetch_one(first.pool())
        .await
        .expect("sizes");
    assert_eq!(kept, actual, "the size column lost concurrent updates");
}
