//! The client-side cache: reads without a round trip, invalidated by Redis's pushes, own writes
//! seen at once, a lost tracking connection emptying the cache.

use std::time::{Duration, Instant};

use session_core::store::{Changes, Clock, Key, ManualClock, Record, Store, SystemClock};
use session_store_redis::testing::RedisServer;
use session_store_redis::{ClientCache, ClientCacheStats, RedisStore, RedisStoreError};

use crate::calls::cost;
use crate::common::{self, cmd, key, live, raw, record_at, value};

/// A store on `server` with the client-side cache, checked every 50 ms.
async fn cached(server: &RedisServer) -> RedisStore {
    common::builder(server)
        .client_cache(ClientCache::new().check_interval(Duration::from_millis(50)))
        .connect()
        .await
        .expect("connect with a client cache")
}

fn stats(store: &RedisStore) -> ClientCacheStats {
    store.client_cache_stats().expect("a client cache")
}

/// Waits (at most 5 s) until `done` holds for the store's counters; how long that took.
async fn until(store: &RedisStore, done: impl Fn(ClientCacheStats) -> bool) -> Duration {
    let started = Instant::now();
    while !done(stats(store)) {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the cache's counters never got there: {:?}",
            stats(store)
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    started.elapsed()
}

/// The `n` value of `record`, if any.
fn n(record: Option<Record>) -> Option<u64> {
    record.and_then(|record| {
        record
            .data
            .get("n")
            .map(|v| v.deserialize().expect("a number"))
    })
}

fn set_n(to: u64) -> Changes {
    let now = SystemClock.now();
    let mut changes = Changes::touch(now, now.saturating_add(Duration::from_secs(3600)));
    changes
        .updates
        .push(("n".to_owned(), Some(value(&to.to_string()))));
    changes
}

/// Creates the session `k` on `store`, live for an hour, holding `n`.
async fn create(store: &RedisStore, k: &Key, n: &str) {
    let created = store.create(k, &live(&[("n", n)])).await;
    assert!(created.expect("store call"), "created");
}

/// Tasks reading one session in a loop (keeping it cached) until stopped.
struct Readers {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Readers {
    fn spawn(store: &RedisStore, k: Key) -> Readers {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let tasks = (0..4)
            .map(|_| {
                let (store, stop) = (store.clone(), stop.clone());
                tokio::spawn(async move {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        store.load(&k).await.expect("store call");
                        // A hit never waits: let the runtime's other tasks run.
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        Readers { stop, tasks }
    }

    async fn stop(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for task in self.tasks {
            task.await.expect("reader");
        }
    }
}

#[tokio::test]
async fn a_session_read_twice_costs_one_round_trip() {
    let server = RedisServer::start();
    let store = cached(&server).await;
    let plain = common::store(&server).await;
    let mut conn = raw(&server).await;
    let k = key(1);
    create(&store, &k, "1").await;
    let first = cost(&mut conn, async {
        assert_eq!(n(store.load(&k).await.expect("store call")), Some(1));
    })
    .await;
    assert_eq!(first, "hgetall 1");
    let again = cost(&mut conn, async {
        for _ in 0..3 {
            assert_eq!(n(store.load(&k).await.expect("store call")), Some(1));
        }
    })
    .await;
    assert_eq!(again, "", "served from the cache");
    let counted = stats(&store);
    assert_eq!((counted.hits, counted.misses), (3, 1));
    // Without the cache, every read is a round trip.
    let uncached = cost(&mut conn, async {
        for _ in 0..3 {
            plain.load(&k).await.expect("store call");
        }
    })
    .await;
    assert_eq!(uncached, "hgetall 3");
    assert_eq!(plain.client_cache_stats(), None);
}

#[tokio::test]
async fn own_applies_keep_the_session_cached() {
    let server = RedisServer::start();
    let store = cached(&server).await;
    let mut conn = raw(&server).await;
    let k = key(9);
    create(&store, &k, "1").await;
    assert_eq!(n(store.load(&k).await.expect("store call")), Some(1));
    // The counter: the apply is the only round trip; the read that follows is a hit.
    for i in 2..5 {
        let apply = cost(&mut conn, async {
            assert!(store.apply(&k, &set_n(i)).await.expect("store call"));
        })
        .await;
        assert_eq!(apply, "evalsha 1, exists 1, hmget 1, hset 1");
        let read = cost(&mut conn, async {
            assert_eq!(n(store.load(&k).await.expect("store call")), Some(i));
        })
        .await;
        assert_eq!(read, "", "read {i} from the cache");
    }
    // Still tracked after its own writes: another client's write is announced.
    let other = common::store(&server).await;
    let before = stats(&store).invalidations;
    assert!(other.apply(&k, &set_n(10)).await.expect("store call"));
    until(&store, |s| s.invalidations > before).await;
    assert_eq!(n(store.load(&k).await.expect("store call")), Some(10));
}

/// Another client writes a key, then this store writes another key of the same session: the
/// entry this store keeps must show both.
#[tokio::test]
async fn own_applies_after_another_clients_write_keep_both() {
    let server = RedisServer::start();
    let store = cached(&server).await;
    let other = common::store(&server).await;
    let k = key(10);
    create(&store, &k, "0").await;
    for i in 1..=200u64 {
        assert!(store.load(&k).await.expect("store call").is_some());
        assert!(other.apply(&k, &set_n(i)).await.expect("store call"));
        let mut mine = set_n(i);
        mine.updates = vec![("m".to_owned(), Some(value(&i.to_string())))];
        assert!(store.apply(&k, &mine).await.expect("store call"));
        let record = store.load(&k).await.expect("store call").expect("live");
        assert_eq!(
            n(Some(record.clone())),
            Some(i),
            "the other client's write {i}"
        );
        assert_eq!(
            record.data.get("m"),
            Some(&value(&i.to_string())),
            "own write {i}"
        );
    }
}

#[tokio::test]
async fn missing_and_dead_sessions_are_not_cached() {
    let server = RedisServer::start();
    let clock = ManualClock::starting_now();
    let store = common::builder(&server)
        .clock(clock.clone())
        .client_cache(ClientCache::new())
        .connect()
        .await
        .expect("connect");
    let mut conn = raw(&server).await;
    let absent = key(20);
    let none = cost(&mut conn, async {
        assert!(store.load(&absent).await.expect("store call").is_none());
        assert!(store.load(&absent).await.expect("store call").is_none());
    })
    .await;
    assert_eq!(
        none, "hgetall 2",
        "an absent session is asked for each time"
    );
    // Another key: one read while absent is tracked, so the create's invalidation of it could
    // arrive between the next read and its insert (which then, rightly, caches nothing).
    let k = key(2);
    let record = record_at(clock.now(), Duration::from_secs(10), &[("n", "1")]);
    assert!(store.create(&k, &record).await.expect("store call"));
    assert_eq!(n(store.load(&k).await.expect("store call")), Some(1));
    assert_eq!(n(store.load(&k).await.expect("store call")), Some(1));
    assert_eq!(stats(&store).hits, 1);
    // Past its expiry on the store's clock, the cached record is no session, though Redis still
    // holds the key and no invalidation came.
    clock.advance(Duration::from_secs(11));
    assert!(store.load(&k).await.expect("store call").is_none());
}

#[tokio::test]
async fn own_writes_are_read_at_once() {
    let server = RedisServer::start();
    let store = cached(&server).await;
    let k = key(3);
    create(&store, &k, "0").await;
    // Readers keep the entry cached while the writer writes; each write is read back at once.
    let readers = Readers::spawn(&store, k);
    for i in 1..=300 {
        assert!(store.apply(&k, &set_n(i)).await.expect("store call"));
        assert_eq!(
            n(store.load(&k).await.expect("store call")),
            Some(i),
            "write {i} read back"
        );
    }
    assert!(store.delete(&k).await.expect("store call"));
    assert!(
        store.load(&k).await.expect("store call").is_none(),
        "deleted, gone at once"
    );
    readers.stop().await;
    assert!(
        stats(&store).hits > 0,
        "the readers were served from the cache"
    );
}

#[tokio::test]
async fn another_clients_writes_arrive_as_invalidations() {
    let server = RedisServer::start();
    let store = cached(&server).await;
    let other = common::store(&server).await;
    let k = key(4);
    create(&other, &k, "1").await;
    assert_eq!(n(store.load(&k).await.expect("store call")), Some(1));
    assert_eq!(n(store.load(&k).await.expect("store call")), Some(1));
    assert_eq!(stats(&store).hits, 1);

    // Another client's write: once its invalidation has arrived, the new value is read.
    let before = stats(&store).invalidations;
    assert!(other.apply(&k, &set_n(2)).await.expect("store call"));
    until(&store, |s| s.invalidations > before).await;
    assert_eq!(n(store.load(&k).await.expect("store call")), Some(2));

    // The window: from another client's write returning to its invalidation being handled here.
    let mut windows = Vec::new();
    for i in 3..203 {
        assert!(store.load(&k).await.expect("store call").is_some());
        let before = stats(&store).invalidations;
        assert!(other.apply(&k, &set_n(i)).await.expect("store call"));
        let returned = Instant::now();
        while stats(&store).invalidations == before {
            assert!(
                returned.elapsed() < Duration::from_secs(5),
                "no invalidation"
            );
            tokio::task::yield_now().await;
        }
        windows.push(returned.elapsed());
        assert_eq!(n(store.load(&k).await.expect("store call")), Some(i));
    }
    windows.sort();
    eprintln!(
        "invalidation handled after the writer's return: median {:?}, p99 {:?}, max {:?}",
        windows[windows.len() / 2],
        windows[windows.len() * 99 / 100],
        windows[windows.len() - 1]
    );

    // Another client's logout: once its invalidation has arrived, the session is never served.
    assert_eq!(n(store.load(&k).await.expect("store call")), Some(202));
    let before = stats(&store).invalidations;
    assert!(other.delete(&k).await.expect("store call"));
    until(&store, |s| s.invalidations > before).await;
    for _ in 0..3 {
        assert!(store.load(&k).await.expect("store call").is_none());
    }
}

#[tokio::test]
async fn a_flushed_database_empties_the_cache() {
    let server = RedisServer::start();
    let store = cached(&server).await;
    let mut conn = raw(&server).await;
    let k = key(5);
    create(&store, &k, "1").await;
    assert_eq!(n(store.load(&k).await.expect("store call")), Some(1));
    let before = stats(&store).flushes;
    let _: () = cmd(&mut conn, &["FLUSHDB"]).await;
    until(&store, |s| s.flushes > before).await;
    assert!(store.load(&k).await.expect("store call").is_none());
}

/// The id of the client named `name` in `CLIENT LIST`.
async fn client_id(conn: &mut session_store_redis::redis::aio::MultiplexedConnection) -> String {
    let list: String = cmd(conn, &["CLIENT", "LIST"]).await;
    list.lines()
        .find(|line| line.contains("name=session-store-redis-cache"))
        .and_then(|line| line.split(' ').find_map(|pair| pair.strip_prefix("id=")))
        .expect("the tracking connection is listed")
        .to_owned()
}

#[tokio::test]
async fn a_lost_tracking_connection_empties_the_cache_and_is_opened_again() {
    let server = RedisServer::start();
    let store = cached(&server).await;
    let other = common::store(&server).await;
    let mut conn = raw(&server).await;
    let k = key(6);
    create(&other, &k, "1").await;
    assert_eq!(n(store.load(&k).await.expect("store call")), Some(1));
    assert_eq!(stats(&store).connections, 1);

    // Kill the tracking connection, then write: the invalidation can no longer arrive.
    let id = client_id(&mut conn).await;
    let killed: i64 = cmd(&mut conn, &["CLIENT", "KILL", "ID", &id]).await;
    assert_eq!(killed, 1);
    assert!(other.apply(&k, &set_n(2)).await.expect("store call"));
    until(&store, |s| s.flushes >= 1).await;
    assert_eq!(n(store.load(&k).await.expect("store call")), Some(2));

    // The keeper opens a new tracking connection, and reads are cached again.
    until(&store, |s| s.connections >= 2).await;
    assert_ne!(client_id(&mut conn).await, id);
    assert_eq!(n(store.load(&k).await.expect("store call")), Some(2));
    let hits = stats(&store).hits;
    assert_eq!(n(store.load(&k).await.expect("store call")), Some(2));
    assert_eq!(stats(&store).hits, hits + 1);
    // And invalidated again.
    let before = stats(&store).invalidations;
    assert!(other.apply(&k, &set_n(3)).await.expect("store call"));
    until(&store, |s| s.invalidations > before).await;
    assert_eq!(n(store.load(&k).await.expect("store call")), Some(3));
}

/// Readers in this process, a writer in another client: whatever the interleaving, once the
/// last write's invalidation can have arrived, no stale entry is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_stale_entry_outlives_the_writes() {
    let server = RedisServer::start();
    let store = cached(&server).await;
    let other = common::store(&server).await;
    let k = key(7);
    create(&other, &k, "0").await;
    for round in 0..5u64 {
        let readers = Readers::spawn(&store, k);
        let last = (round + 1) * 100;
        for i in round * 100 + 1..=last {
            assert!(other.apply(&k, &set_n(i)).await.expect("store call"));
        }
        readers.stop().await;
        let started = Instant::now();
        while n(store.load(&k).await.expect("store call")) != Some(last) {
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "round {round}: a stale entry stayed in the cache"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let counted = stats(&store);
    assert!(counted.hits > 0 && counted.invalidations > 0, "{counted:?}");
}

#[tokio::test]
async fn the_cache_needs_one_server() {
    let refused = RedisStore::cluster_builder(["redis://127.0.0.1:1/"])
        .client_cache(ClientCache::new())
        .lazy(true)
        .connect()
        .await;
    assert!(matches!(
        refused,
        Err(RedisStoreError::ClientCacheOnCluster)
    ));
}

#[tokio::test]
async fn a_lazy_store_caches_once_its_keeper_connects() {
    let server = RedisServer::start();
    let store = common::builder(&server)
        .lazy(true)
        .client_cache(ClientCache::new().check_interval(Duration::from_millis(20)))
        .connect()
        .await
        .expect("connect");
    let k = key(8);
    create(&store, &k, "1").await;
    until(&store, |s| s.connections >= 1).await;
    // The first read after connecting may race the keeper's installing of the link; two reads
    // later, one must have been a hit.
    for _ in 0..3 {
        assert_eq!(n(store.load(&k).await.expect("store call")), Some(1));
    }
    assert!(stats(&store).hits >= 1);
}
