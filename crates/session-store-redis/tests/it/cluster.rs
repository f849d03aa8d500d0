//! The store on a Redis Cluster of its own (six nodes: three masters, a replica each): the
//! conformance kit, the subject index kept by calls of their own (what each call leaves in it,
//! and what a crash between two calls leaves, pruned by a listing), the round trips each
//! operation costs, and the capacity figures (Redis CPU per request, memory per session).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use session_conformance::check_store;
use session_core::store::{Changes, Clock, Key, ManualClock, Store, SystemClock, Timestamp};
use session_store_redis::RedisStore;
use session_store_redis::redis::{self, AsyncCommands, cluster_async::ClusterConnection};
use session_store_redis::testing::RedisCluster;

use crate::common::{key, live, record_at, value};
use crate::subjects::{bound, index};

/// A builder for a store on `cluster`.
fn builder(cluster: &RedisCluster) -> session_store_redis::RedisStoreBuilder {
    RedisStore::cluster_builder(cluster.urls())
}

/// A store on `cluster` with the defaults.
async fn store(cluster: &RedisCluster) -> RedisStore {
    builder(cluster)
        .connect()
        .await
        .expect("connect to the cluster")
}

/// A cluster connection of the test's own, for commands the store never sends.
async fn raw(cluster: &RedisCluster) -> ClusterConnection {
    redis::cluster::ClusterClient::new(cluster.urls())
        .expect("node URLs")
        .get_async_connection()
        .await
        .expect("raw cluster connection")
}

/// The members of an index and their scores.
async fn entries(conn: &mut ClusterConnection, index: &str) -> BTreeMap<String, u64> {
    let flat: Vec<(String, f64)> = conn
        .zrange_withscores(index, 0, -1)
        .await
        .expect("ZRANGE WITHSCORES");
    flat.into_iter()
        .map(|(member, score)| (member, score as u64))
        .collect()
}

/// Runs `command` on every master now, each answer as text.
fn on_masters(cluster: &RedisCluster, command: &[&str]) -> BTreeMap<u16, String> {
    tokio::task::block_in_place(|| {
        cluster
            .masters()
            .into_keys()
            .map(|port| {
                (
                    port,
                    cluster.query(port, command).expect("a master answers"),
                )
            })
            .collect()
    })
}

/// `INFO commandstats` of every master, summed: calls and microseconds per command.
fn commandstats(cluster: &RedisCluster) -> BTreeMap<String, (u64, f64)> {
    let mut sums: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    for info in on_masters(cluster, &["INFO", "commandstats"]).values() {
        for (name, stats) in session_store_redis::testing::commandstats(info) {
            let entry = sums.entry(name).or_default();
            entry.0 += stats.calls;
            entry.1 += stats.usec as f64;
        }
    }
    for name in ["config|resetstat", "info", "cluster|nodes", "cluster|info"] {
        sums.remove(name);
    }
    sums
}

/// The calls `op` costs on the cluster's masters that can only come from the client
/// (`EVALSHA`, `HGETALL`), and the `HMGET`s (from the client, or inside a session script).
async fn round_trips<F: std::future::Future>(
    cluster: &RedisCluster,
    op: F,
) -> BTreeMap<String, u64> {
    on_masters(cluster, &["CONFIG", "RESETSTAT"]);
    op.await;
    commandstats(cluster)
        .into_iter()
        .filter(|(name, _)| matches!(name.as_str(), "evalsha" | "hgetall" | "hmget"))
        .map(|(name, (calls, _))| (name, calls))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cluster_store_keeps_every_contract() {
    let cluster = RedisCluster::start();
    let store = store(&cluster).await;
    assert!(store.is_cluster());
    check_store(|| store.clone()).await.assert_nothing_skipped();
}

/// Each call's effect on the index: filed at a bound create, its score raised by a touch (never
/// lowered), removed after a delete; the index's TTL is its latest entry's plus the grace period.
#[tokio::test(flavor = "multi_thread")]
async fn the_index_follows_each_call() {
    let cluster = RedisCluster::start();
    let store = store(&cluster).await;
    let mut conn = raw(&cluster).await;
    let name = index(&store, "amy");
    let record = bound(live(&[("n", "1")]), "amy");
    assert!(store.create(&key(1), &record).await.expect("create"));
    // Scored by the deadline of the expiry: the first whole minute after it.
    let deadline = |at: Timestamp| (at.as_millis() / 60_000 + 1) * 60_000;
    let filed = entries(&mut conn, &name).await;
    assert_eq!(
        filed,
        BTreeMap::from([(key(1).to_hex(), deadline(record.expires))])
    );

    let later = record.expires.saturating_add(Duration::from_secs(600));
    assert!(
        store
            .touch(&key(1), record.last_active, later)
            .await
            .expect("touch")
    );
    assert_eq!(
        entries(&mut conn, &name).await[&key(1).to_hex()],
        deadline(later)
    );
    let pttl: i64 = conn.pttl(&name).await.expect("PTTL");
    let expected = (deadline(later) + 60_000).saturating_sub(SystemClock.now().as_millis());
    assert!(
        // The store read its clock a few milliseconds before this test did.
        pttl <= expected as i64 + 1_000 && pttl > expected as i64 - 2_000,
        "index PTTL {pttl} ms, expected about {expected} ms"
    );
    // A shorter expiry later: the session's own, the index's score stays (it only grows).
    let mut changes = Changes::touch(record.last_active, record.expires);
    changes.updates.push(("n".to_owned(), Some(value("2"))));
    assert!(store.apply(&key(1), &changes).await.expect("apply"));
    assert_eq!(
        entries(&mut conn, &name).await[&key(1).to_hex()],
        deadline(later)
    );

    assert_eq!(store.list_subject("amy").await.expect("list").len(), 1);
    assert!(store.delete(&key(1)).await.expect("delete"));
    let exists: bool = conn.exists(&name).await.expect("EXISTS");
    assert!(!exists, "the index outlived its last entry's delete");
    assert!(store.list_subject("amy").await.expect("list").is_empty());
}

/// What a crash between two calls (or a create in flight) leaves in an index, and what a listing
/// makes of it: entries whose session is shown gone are pruned; an entry without a hash whose
/// score is still ahead is kept but not listed (it may be a create filed but not yet written); a
/// live session whose entry's score lags its expiry is listed and kept.
#[tokio::test(flavor = "multi_thread")]
async fn a_listing_prunes_what_is_gone_and_keeps_what_may_be_in_flight() {
    let cluster = RedisCluster::start();
    let clock = ManualClock::new(SystemClock.now());
    let store = builder(&cluster)
        .clock(clock.clone())
        .connect()
        .await
        .expect("connect");
    let mut conn = raw(&cluster).await;
    let name = index(&store, "alice");
    let now = clock.now();
    let hour = Duration::from_secs(3600);
    let file = |conn: &mut ClusterConnection, k: Key, score: u64| {
        let (mut conn, name) = (conn.clone(), name.clone());
        async move {
            let _: i64 = conn.zadd(&name, k.to_hex(), score).await.expect("ZADD");
        }
    };
    // 1: alice's, live. 6: alice's, live, its entry's score a second behind (an apply filed
    // the new expiry after writing it, and crashed before).
    for n in [1, 6] {
        let record = bound(record_at(now, hour, &[]), "alice");
        assert!(store.create(&key(n), &record).await.expect("create"));
    }
    file(&mut conn, key(6), now.as_millis() - 1_000).await;
    // 2: no hash, score ahead (filed by a create not yet written, or a crash after filing).
    file(&mut conn, key(2), now.as_millis() + 3_600_000).await;
    // 3: no hash, score passed (deleted, the removal of its entry lost).
    file(&mut conn, key(3), now.as_millis() - 1).await;
    // 4: bob's session; 5: an unbound one; 7: alice's, dead by the store's clock.
    assert!(
        store
            .create(&key(4), &bound(record_at(now, hour, &[]), "bob"))
            .await
            .expect("create")
    );
    assert!(
        store
            .create(&key(5), &record_at(now, hour, &[]))
            .await
            .expect("create")
    );
    let short = bound(record_at(now, Duration::from_millis(500), &[]), "alice");
    assert!(store.create(&key(7), &short).await.expect("create"));
    for n in [4, 5] {
        file(&mut conn, key(n), now.as_millis() + 3_600_000).await;
    }
    clock.advance(Duration::from_secs(1));

    let mut listed: Vec<String> = store
        .list_subject("alice")
        .await
        .expect("list")
        .iter()
        .map(|b| b.key.to_hex())
        .collect();
    listed.sort();
    assert_eq!(listed, [key(1).to_hex(), key(6).to_hex()]);
    let kept: Vec<String> = entries(&mut conn, &name).await.into_keys().collect();
    assert_eq!(kept, [key(1).to_hex(), key(2).to_hex(), key(6).to_hex()]);
    // Bob's index still names his session, which is listed there.
    assert_eq!(store.list_subject("bob").await.expect("list").len(), 1);

    // The create in flight lands: listed at once.
    let record = bound(record_at(clock.now(), hour, &[]), "alice");
    assert!(store.create(&key(2), &record).await.expect("create"));
    assert_eq!(store.list_subject("alice").await.expect("list").len(), 3);
}

/// Round trips on the cluster: an unbound session costs what it costs on one server (one call
/// per operation); a bound one a call more for each write that changes its index entry (not an
/// apply within its expiry's minute), and a listing one call and one `HMGET` per entry.
#[tokio::test(flavor = "multi_thread")]
async fn round_trips_per_operation() {
    let cluster = RedisCluster::start();
    let store = store(&cluster).await;
    let calls = |pairs: &[(&str, u64)]| -> BTreeMap<String, u64> {
        pairs.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect()
    };
    for (subject, extra) in [(None, 0), (Some("ivan"), 1)] {
        let k = key(if subject.is_some() { 2 } else { 1 });
        let record = match subject {
            Some(subject) => bound(live(&[("n", "1")]), subject),
            None => live(&[("n", "1")]),
        };
        let mut changes = Changes::touch(record.last_active, record.expires);
        changes.updates.push(("n".to_owned(), Some(value("2"))));
        let create = round_trips(&cluster, async {
            assert!(store.create(&k, &record).await.expect("create"))
        })
        .await;
        let load = round_trips(&cluster, async {
            assert!(store.load(&k).await.expect("load").is_some())
        })
        .await;
        let apply = round_trips(&cluster, async {
            assert!(store.apply(&k, &changes).await.expect("apply"))
        })
        .await;
        let delete = round_trips(&cluster, async {
            assert!(store.delete(&k).await.expect("delete"))
        })
        .await;
        // Each session script checks liveness with one HMGET inside; the index's scripts none.
        let script = |n| calls(&[("evalsha", n), ("hmget", 1)]);
        assert_eq!(create, script(1 + extra), "create, {subject:?}");
        assert_eq!(load, calls(&[("hgetall", 1)]), "load, {subject:?}");
        // An apply within the expiry's minute leaves the index alone: one call, bound or not.
        assert_eq!(apply, script(1), "apply, {subject:?}");
        assert_eq!(delete, script(1 + extra), "delete, {subject:?}");
    }
    for n in 0..3 {
        assert!(
            store
                .create(&key(10 + n), &bound(live(&[]), "ivan"))
                .await
                .expect("create")
        );
    }
    let list = round_trips(&cluster, async {
        assert_eq!(store.list_subject("ivan").await.expect("list").len(), 3)
    })
    .await;
    assert_eq!(list, calls(&[("evalsha", 1), ("hmget", 3)]));
}

/// The figures of the capacity model, measured here and printed (`--nocapture`): Redis CPU per
/// call (`INFO commandstats`, summed over the masters) for a counter request (`HGETALL`, then
/// the `apply` script) on unbound and bound sessions, and `MEMORY USAGE` of a session hash and
/// of an index entry. Asserted: the sessions spread over every master.
#[tokio::test(flavor = "multi_thread")]
async fn capacity_figures() {
    const SESSIONS: u8 = 200;
    const ROUNDS: usize = 5;
    let cluster = RedisCluster::start();
    let store = store(&cluster).await;
    for n in 0..SESSIONS {
        let record = live(&[("counter", "0")]);
        assert!(
            store
                .create(&Key::from_digest([n; 32]), &record)
                .await
                .expect("create")
        );
        let mut binding = [n; 32];
        binding[0] = 255;
        let record = bound(live(&[("counter", "0")]), &format!("user{}", n % 50));
        assert!(
            store
                .create(&Key::from_digest(binding), &record)
                .await
                .expect("create")
        );
    }
    let per_master: Vec<usize> = on_masters(&cluster, &["DBSIZE"])
        .values()
        .map(|n| n.parse().expect("DBSIZE"))
        .collect();
    assert_eq!(per_master.len(), 3);
    assert!(
        per_master.iter().all(|n| *n > 50),
        "sessions per master: {per_master:?}"
    );

    let mut figures = Vec::new();
    for bound_sessions in [false, true] {
        on_masters(&cluster, &["CONFIG", "RESETSTAT"]);
        let started = Instant::now();
        for round in 0..ROUNDS {
            for n in 0..SESSIONS {
                let mut digest = [n; 32];
                if bound_sessions {
                    digest[0] = 255;
                }
                let k = Key::from_digest(digest);
                let record = store.load(&k).await.expect("load").expect("a session");
                let mut changes = Changes::touch(record.last_active, record.expires);
                changes
                    .updates
                    .push(("counter".to_owned(), Some(value(&(round + 1).to_string()))));
                assert!(store.apply(&k, &changes).await.expect("apply"));
            }
        }
        let elapsed = started.elapsed();
        let requests = f64::from(SESSIONS) * ROUNDS as f64;
        let stats = commandstats(&cluster);
        let top: f64 = ["evalsha", "hgetall"]
            .iter()
            .filter_map(|name| stats.get(*name))
            .map(|(_, usec)| usec)
            .sum();
        let per_call = |name: &str| {
            stats
                .get(name)
                .map_or(0.0, |(calls, usec)| usec / (*calls).max(1) as f64)
        };
        figures.push(format!(
            "{} sessions: Redis CPU per counter request {:.1} µs (hgetall {:.1} µs/call, evalsha \
             {:.1} µs/call, {} evalsha per request) => at most {:.0} counter requests/s per \
             master on one core; client-side {:.0} requests/s sequential",
            if bound_sessions { "bound" } else { "unbound" },
            top / requests,
            per_call("hgetall"),
            per_call("evalsha"),
            stats.get("evalsha").map_or(0, |(calls, _)| *calls) as f64 / requests,
            1e6 / (top / requests),
            requests / elapsed.as_secs_f64(),
        ));
    }
    let mut conn = raw(&cluster).await;
    let session = store.key_name(&Key::from_digest([1; 32]));
    let bound_session = {
        let mut digest = [1; 32];
        digest[0] = 255;
        store.key_name(&Key::from_digest(digest))
    };
    let memory = |conn: &mut ClusterConnection, key: String| {
        let mut conn = conn.clone();
        async move {
            let bytes: u64 = redis::cmd("MEMORY")
                .arg("USAGE")
                .arg(&key)
                .arg("SAMPLES")
                .arg(0)
                .query_async(&mut conn)
                .await
                .expect("MEMORY USAGE");
            bytes
        }
    };
    let unbound_bytes = memory(&mut conn, session).await;
    let bound_bytes = memory(&mut conn, bound_session).await;
    let index_bytes = memory(&mut conn, index(&store, "user1")).await;
    assert!(unbound_bytes > 0 && bound_bytes > unbound_bytes);
    let used: Vec<String> = on_masters(&cluster, &["INFO", "memory"])
        .values()
        .filter_map(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("used_memory:"))
                .map(str::to_owned)
        })
        .collect();
    for line in figures {
        eprintln!("{line}");
    }
    eprintln!(
        "MEMORY USAGE: a counter session {unbound_bytes} B, bound {bound_bytes} B, an index of 4 \
         sessions {index_bytes} B; used_memory per master with {} sessions and 50 indexes: {used:?}",
        2 * usize::from(SESSIONS)
    );
}

/// Bad node lists are refused before anything goes over the network; a cluster that cannot be
/// reached fails an eager connect; a lazy store connects on first use.
#[tokio::test(flavor = "multi_thread")]
async fn bad_nodes_unreachable_clusters_and_lazy_stores() {
    use session_store_redis::RedisStoreError;
    let none: [&str; 0] = [];
    for refused in [
        RedisStore::cluster_builder(none).connect().await,
        RedisStore::cluster_builder(["http://127.0.0.1:7000/"])
            .connect()
            .await,
    ] {
        assert!(
            matches!(refused, Err(RedisStoreError::InvalidUrl(_))),
            "{refused:?}"
        );
    }
    // A port nothing listens on (taken, then freed).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let unreachable = RedisStore::cluster_builder([format!("redis://127.0.0.1:{port}/")])
        .connect_timeout(Duration::from_millis(200))
        .reconnect_retries(0)
        .connect()
        .await;
    assert!(
        matches!(
            unreachable,
            Err(RedisStoreError::Connect(_) | RedisStoreError::Timeout { .. })
        ),
        "{unreachable:?}"
    );

    let cluster = RedisCluster::start();
    let store = builder(&cluster).lazy(true).connect().await.expect("lazy");
    assert!(store.is_cluster());
    let record = live(&[("n", "1")]);
    assert!(store.create(&key(1), &record).await.expect("create"));
    assert_eq!(store.load(&key(1)).await.expect("load"), Some(record));
    let shown = format!("{store:?}");
    for port in cluster.ports() {
        assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");
    }
}
