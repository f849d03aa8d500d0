//! The commands each operation costs Redis, counted by `INFO commandstats` (which counts the
//! commands a script runs too): unbound sessions cost what they did before sessions per subject.

use std::collections::BTreeMap;
use std::time::Duration;

use session_core::store::{Changes, Clock, ManualClock, Store, SystemClock};
use session_store_redis::RedisStore;
use session_store_redis::redis::aio::MultiplexedConnection;
use session_store_redis::testing::{RedisServer, commandstats};

use crate::common::{self, cmd, key, live, raw, record_at, value};
use crate::subjects::bound;

/// Commands per name since the last reset, less the counting's own.
async fn counted(conn: &mut MultiplexedConnection) -> BTreeMap<String, u64> {
    let info: String = cmd(conn, &["INFO", "commandstats"]).await;
    commandstats(&info)
        .into_iter()
        .filter(|(name, _)| !matches!(name.as_str(), "config|resetstat" | "info"))
        .map(|(name, stats)| (name, stats.calls))
        .collect()
}

/// The commands `op` costs, as `name count` pairs.
pub(crate) async fn cost<F: std::future::Future>(
    conn: &mut MultiplexedConnection,
    op: F,
) -> String {
    let _: () = cmd(conn, &["CONFIG", "RESETSTAT"]).await;
    op.await;
    let calls = counted(conn).await;
    calls
        .iter()
        .map(|(name, n)| format!("{name} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs every operation once on `n` (unbound) or `n + 100` (bound), returning its costs.
async fn costs(
    store: &RedisStore,
    conn: &mut MultiplexedConnection,
    subject: Option<&str>,
) -> Vec<(&'static str, String)> {
    let k = key(if subject.is_some() { 101 } else { 1 });
    let record = match subject {
        Some(subject) => bound(live(&[("n", "1")]), subject),
        None => live(&[("n", "1")]),
    };
    let mut changes = Changes::touch(record.last_active, record.expires);
    changes.updates.push(("n".to_owned(), Some(value("2"))));
    let later = record.expires.saturating_add(Duration::from_secs(60));
    vec![
        (
            "create",
            cost(conn, async {
                assert!(store.create(&k, &record).await.expect("create"))
            })
            .await,
        ),
        (
            "load",
            cost(conn, async {
                assert!(store.load(&k).await.expect("load").is_some())
            })
            .await,
        ),
        (
            "apply",
            cost(conn, async {
                assert!(store.apply(&k, &changes).await.expect("apply"))
            })
            .await,
        ),
        (
            "touch",
            cost(conn, async {
                assert!(
                    store
                        .touch(&k, record.last_active, later)
                        .await
                        .expect("touch")
                )
            })
            .await,
        ),
        (
            "save",
            cost(conn, async {
                assert!(store.save(&k, &record).await.expect("save"))
            })
            .await,
        ),
        (
            "delete",
            cost(conn, async {
                assert!(store.delete(&k).await.expect("delete"))
            })
            .await,
        ),
    ]
}

#[tokio::test]
async fn unbound_sessions_cost_what_they_did_and_bound_ones_a_few_commands_more() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut conn = raw(&server).await;
    let unbound = costs(&store, &mut conn, None).await;
    let bound_costs = costs(&store, &mut conn, Some("ivan")).await;
    for ((op, unbound), (_, bound)) in unbound.iter().zip(&bound_costs) {
        println!("{op:>6}  unbound: {unbound}\n        bound:   {bound}");
    }
    // The liveness check's HMGET also reads the subject's digest, the size and the old text of a
    // short value set; an apply within the old expiry's minute (this one keeps the expiry) sets
    // no TTL, a touch a minute later does.
    let expected_unbound = [
        ("create", "evalsha 1, hmget 1, hset 1, pexpire 1, unlink 1"),
        ("load", "hgetall 1"),
        ("apply", "evalsha 1, hmget 1, hset 1"),
        ("touch", "evalsha 1, hmget 1, hset 1, pexpire 1"),
        ("save", "evalsha 1, hmget 1, hset 1, pexpire 1, unlink 1"),
        ("delete", "evalsha 1, hmget 1, unlink 1"),
    ];
    let unbound: Vec<(&str, &str)> = unbound.iter().map(|(op, c)| (*op, c.as_str())).collect();
    assert_eq!(unbound, expected_unbound);
    // A bound session pays for its index only where the index changes: not on an apply within
    // the minute, which is most requests of a logged-in user.
    let expected_bound = [
        (
            "create",
            "evalsha 1, hmget 1, hset 1, pexpire 2, unlink 1, zadd 1, zrange 1, zremrangebyscore 1",
        ),
        ("load", "hgetall 1"),
        ("apply", "evalsha 1, hmget 1, hset 1"),
        (
            "touch",
            "evalsha 1, hmget 1, hset 1, pexpire 2, zadd 1, zrange 1",
        ),
        (
            "save",
            "evalsha 1, hmget 1, hset 1, pexpire 2, unlink 1, zadd 1, zrange 1, zremrangebyscore 1",
        ),
        ("delete", "evalsha 1, hmget 1, unlink 1, zrange 1, zrem 1"),
    ];
    let bound_costs: Vec<(&str, &str)> = bound_costs
        .iter()
        .map(|(op, c)| (*op, c.as_str()))
        .collect();
    assert_eq!(bound_costs, expected_bound);
    let listed = cost(&mut conn, async {
        assert!(store.list_subject("ivan").await.expect("list").is_empty());
    })
    .await;
    println!("  list  (none): {listed}");
    assert_eq!(listed, "evalsha 1, zrange 1, zremrangebyscore 1");

    // Entries dead by their score are pruned without reading their sessions.
    let clock = ManualClock::new(SystemClock.now());
    let store = common::builder(&server)
        .clock(clock.clone())
        .connect()
        .await
        .expect("connect");
    for n in 1..=3 {
        let record = bound(record_at(clock.now(), Duration::from_secs(60), &[]), "judy");
        assert!(store.create(&key(n), &record).await.expect("create"));
    }
    // Scored by the deadline (the whole minute after the expiry), pruned a minute after that.
    clock.advance(Duration::from_secs(181));
    let listed = cost(&mut conn, async {
        assert!(store.list_subject("judy").await.expect("list").is_empty());
    })
    .await;
    println!("  list (3 dead): {listed}");
    assert_eq!(listed, "evalsha 1, zrange 1, zremrangebyscore 1");
}
