//! Redis killed, restarted, slow, or down at start: calls fail within their bound, and the same
//! store works again once Redis is back, with every acknowledged write still there.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use session_core::store::{Changes, Clock, Key, Store, StoreErrorKind, SystemClock};
use session_store_redis::testing::RedisServer;
use session_store_redis::{RedisStore, RedisStoreError};

use crate::common::{self, key, live, raw, value};

/// A generous bound for "failed fast": the store's time-out is 1 s.
const FAIL_WITHIN: Duration = Duration::from_secs(5);

/// Sets `n` to `counter` in the session under `key`.
async fn write_counter(
    store: &RedisStore,
    key: &Key,
    counter: u64,
) -> Result<bool, session_core::store::StoreError> {
    let mut changes = Changes::touch(
        SystemClock.now(),
        SystemClock.now().saturating_add(Duration::from_secs(3600)),
    );
    changes
        .updates
        .push(("n".to_owned(), Some(value(&counter.to_string()))));
    store.apply(key, &changes).await
}

/// Retries `load` until it succeeds; how long that took.
async fn until_back(store: &RedisStore) -> Duration {
    let start = Instant::now();
    while store.load(&key(0)).await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the store did not recover"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_redis_fails_calls_then_the_same_store_recovers_with_acknowledged_writes() {
    // Every acknowledged write is on disk before the reply (appendfsync always).
    let mut server = RedisServer::start_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let store = common::store(&server).await;
    const WRITERS: u8 = 8;
    for n in 1..=WRITERS {
        assert!(
            store
                .create(&key(n), &live(&[("n", "0")]))
                .await
                .expect("create")
        );
    }

    // Writers and readers in flight while the server is killed.
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (1..=WRITERS)
        .map(|n| {
            let (store, stop) = (store.clone(), Arc::clone(&stop));
            tokio::spawn(async move {
                let (mut acked, mut attempted, mut failures) = (0u64, 0u64, Vec::new());
                while !stop.load(Ordering::SeqCst) {
                    attempted += 1;
                    let started = Instant::now();
                    match write_counter(&store, &key(n), attempted).await {
                        Ok(true) => acked = attempted,
                        Ok(false) => panic!("the session vanished"),
                        Err(error) => failures.push((error.kind(), started.elapsed())),
                    }
                    let started = Instant::now();
                    if let Err(error) = store.load(&key(n)).await {
                        failures.push((error.kind(), started.elapsed()));
                    }
                }
                (n, acked, attempted, failures)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.stop();
    let killed = Instant::now();

    // While it is down, a call fails (refused, or at the time-out).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let down_at = killed.elapsed();
    let started = Instant::now();
    let down = store.load(&key(1)).await;
    let failed_after = started.elapsed();
    assert!(down.is_err(), "a load succeeded with Redis down");
    assert!(failed_after < FAIL_WITHIN, "a call took {failed_after:?}");

    // Stop the writers while Redis is down, so that every write they made is judged below.
    stop.store(true, Ordering::SeqCst);
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("task"));
    }
    server.restart();
    let recovery = until_back(&store).await;

    let mut slowest = Duration::ZERO;
    for (n, acked, attempted, failures) in results {
        assert!(
            acked > 0,
            "writer {n} had no write acknowledged before the kill"
        );
        assert!(
            !failures.is_empty(),
            "writer {n} saw no failure across the kill"
        );
        for (kind, took) in &failures {
            assert!(matches!(
                kind,
                StoreErrorKind::Backend | StoreErrorKind::Timeout
            ));
            slowest = slowest.max(*took);
        }
        let found = store
            .load(&key(n))
            .await
            .expect("load")
            .expect("session kept");
        let stored: u64 = found.data["n"].deserialize().expect("counter");
        assert!(
            stored >= acked && stored <= attempted,
            "writer {n}: stored {stored}, acknowledged {acked}, attempted {attempted}"
        );
    }
    // The same store writes again.
    assert!(
        write_counter(&store, &key(1), 1_000)
            .await
            .expect("apply after the restart")
    );
    assert!(slowest < FAIL_WITHIN, "a failing call took {slowest:?}");
    eprintln!(
        "a call made {down_at:?} after the kill failed after {failed_after:?}; slowest failing \
         call {slowest:?}; back {recovery:?} after the restart"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_redis_makes_calls_time_out_then_they_succeed_again() {
    let server = RedisServer::start();
    let timeout = Duration::from_millis(300);
    let store = common::builder(&server)
        .timeout(timeout)
        .connect()
        .await
        .expect("connect");
    assert!(
        store
            .create(&key(1), &live(&[("user", "\"alice\"")]))
            .await
            .expect("create")
    );

    // Another connection puts the whole server to sleep for 2 s.
    let mut other = raw(&server).await;
    let sleeper = tokio::spawn(async move {
        let _: Result<(), _> = session_store_redis::redis::cmd("DEBUG")
            .arg("SLEEP")
            .arg("2")
            .query_async(&mut other)
            .await;
    });
    // Loads succeed until the server has begun to sleep; the first one that fails is the one
    // judged.
    let asleep = Instant::now();
    let (error, took) = loop {
        let started = Instant::now();
        match store.load(&key(1)).await {
            Err(error) => break (error, started.elapsed()),
            Ok(_) => {
                assert!(
                    asleep.elapsed() < Duration::from_secs(1),
                    "the server never slept"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    assert_eq!(error.kind(), StoreErrorKind::Timeout, "{error:?}");
    assert!(
        took < Duration::from_millis(1_500),
        "the call waited for Redis: {took:?}"
    );
    let error = store
        .apply(
            &key(1),
            &Changes::touch(
                SystemClock.now(),
                SystemClock.now().saturating_add(Duration::from_secs(60)),
            ),
        )
        .await
        .expect_err("apply");
    assert_eq!(error.kind(), StoreErrorKind::Timeout);
    sleeper.await.expect("task");

    let back = until_back(&store).await;
    assert!(store.load(&key(1)).await.expect("load").is_some());
    eprintln!("a load timed out after {took:?} (bound {timeout:?}); back {back:?} after the sleep");
}

#[tokio::test(flavor = "multi_thread")]
async fn down_at_start_fails_connect_unless_lazy() {
    let mut server = RedisServer::start();
    server.stop();
    let started = Instant::now();
    let refused = common::builder(&server).connect().await;
    let took = started.elapsed();
    assert!(
        matches!(
            refused,
            Err(RedisStoreError::Connect(_) | RedisStoreError::Timeout { .. })
        ),
        "{refused:?}"
    );
    assert!(took < Duration::from_secs(10), "connect took {took:?}");

    let store = common::builder(&server)
        .lazy(true)
        .connect()
        .await
        .expect("lazy connect");
    let error = store.load(&key(1)).await.expect_err("no server yet");
    assert!(matches!(
        error.kind(),
        StoreErrorKind::Backend | StoreErrorKind::Timeout
    ));
    server.restart();
    let back = until_back(&store).await;
    assert!(store.create(&key(1), &live(&[])).await.expect("create"));
    eprintln!(
        "connect with Redis down failed after {took:?}; lazy store back {back:?} after start"
    );
}
