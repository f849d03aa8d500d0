//! TTLs follow the record's expiry on the store's clock, to its deadline (the first whole minute
//! after it), and the store's clock, not Redis's TTL, decides what is live.

use std::time::Duration;

use session_core::store::{Changes, Clock, ManualClock, Store, Timestamp};
use session_store_redis::testing::RedisServer;

use crate::common::{self, cmd, exists, key, raw, record_at};

/// The TTL Redis gives a record expiring at `expires` when the store's clock says `now`: to the
/// first whole minute (of the store's clock) after the expiry.
fn deadline_ttl(now: Timestamp, expires: Timestamp) -> i64 {
    let deadline = (expires.as_millis() / 60_000 + 1) * 60_000;
    i64::try_from(deadline - now.as_millis()).expect("a TTL in range")
}

/// PTTL of `name`, which must be within 1 s below `expected_ms` (the time the call took).
async fn assert_pttl(
    conn: &mut session_store_redis::redis::aio::MultiplexedConnection,
    name: &str,
    expected_ms: i64,
) {
    let pttl: i64 = cmd(conn, &["PTTL", name]).await;
    assert!(
        pttl <= expected_ms && pttl > expected_ms - 1_000,
        "PTTL {pttl} ms, expected about {expected_ms} ms"
    );
}

#[tokio::test]
async fn pttl_runs_to_the_expirys_deadline_on_the_stores_clock() {
    let server = RedisServer::start();
    // A clock a day behind the system's: the TTL must come from it, not from Redis's time.
    // Five seconds into a minute, so that the expiries below fall in the minutes they say.
    let behind = session_core::store::SystemClock.now().as_millis() - 24 * 3600 * 1000;
    let clock = ManualClock::new(Timestamp::from_millis(behind / 60_000 * 60_000 + 5_000));
    let store = common::builder(&server)
        .clock(clock.clone())
        .connect()
        .await
        .expect("connect");
    let mut conn = raw(&server).await;
    let name = store.key_name(&key(1));

    let record = record_at(
        clock.now(),
        Duration::from_secs(60),
        &[("user", "\"alice\"")],
    );
    assert!(store.create(&key(1), &record).await.expect("create"));
    assert_pttl(&mut conn, &name, deadline_ttl(clock.now(), record.expires)).await;

    // An expiry moved into another minute (here, earlier: 0:20 instead of 1:05) moves the TTL
    // with it.
    clock.advance(Duration::from_secs(10));
    let mut changes = Changes::touch(
        clock.now(),
        clock.now().saturating_add(Duration::from_secs(10)),
    );
    changes
        .updates
        .push(("n".to_owned(), Some(common::value("1"))));
    assert!(store.apply(&key(1), &changes).await.expect("apply"));
    assert_pttl(&mut conn, &name, deadline_ttl(clock.now(), changes.expires)).await;

    let later = clock.now().saturating_add(Duration::from_secs(7200));
    assert!(
        store
            .touch(&key(1), clock.now(), later)
            .await
            .expect("touch")
    );
    assert_pttl(&mut conn, &name, deadline_ttl(clock.now(), later)).await;

    // Within its minute the expiry moves without a PEXPIRE, and the TTL still covers it.
    let deadline_before: i64 = cmd(&mut conn, &["PEXPIRETIME", &name]).await;
    let within = Timestamp::from_millis((later.as_millis() / 60_000) * 60_000 + 59_999);
    assert!(
        store
            .touch(&key(1), clock.now(), within)
            .await
            .expect("touch")
    );
    let deadline_after: i64 = cmd(&mut conn, &["PEXPIRETIME", &name]).await;
    assert_eq!(
        deadline_after, deadline_before,
        "no PEXPIRE within the minute"
    );
    assert_pttl(&mut conn, &name, deadline_ttl(clock.now(), within)).await;

    let mut replaced = record_at(clock.now(), Duration::from_secs(5), &[]);
    replaced.created = record.created;
    assert!(store.save(&key(1), &replaced).await.expect("save"));
    assert_pttl(
        &mut conn,
        &name,
        deadline_ttl(clock.now(), replaced.expires),
    )
    .await;
    assert_eq!(store.load(&key(1)).await.expect("load"), Some(replaced));
}

#[tokio::test]
async fn a_record_expired_by_the_stores_clock_is_dead_while_redis_still_holds_it() {
    let server = RedisServer::start();
    let clock = ManualClock::starting_now();
    let store = common::builder(&server)
        .clock(clock.clone())
        .connect()
        .await
        .expect("connect");
    let mut conn = raw(&server).await;
    let name = store.key_name(&key(2));
    let record = record_at(
        clock.now(),
        Duration::from_secs(60),
        &[("user", "\"alice\"")],
    );
    assert!(store.create(&key(2), &record).await.expect("create"));

    clock.advance(Duration::from_secs(60));
    assert!(
        exists(&mut conn, &name).await,
        "Redis's TTL has a minute to go"
    );
    assert_eq!(store.load(&key(2)).await.expect("load"), None);
    let later = clock.now().saturating_add(Duration::from_secs(60));
    assert!(
        !store
            .touch(&key(2), clock.now(), later)
            .await
            .expect("touch")
    );
    assert!(!store.save(&key(2), &record).await.expect("save"));
    assert!(
        !store.delete(&key(2)).await.expect("delete"),
        "only a live record counts"
    );
    assert!(
        !exists(&mut conn, &name).await,
        "delete removed the dead hash anyway"
    );

    // create over a dead hash replaces it whole: no field of the old record survives.
    assert!(store.create(&key(2), &record).await.expect("create"));
    clock.advance(Duration::from_secs(60));
    let fresh = record_at(clock.now(), Duration::from_secs(60), &[("other", "1")]);
    assert!(
        store
            .create(&key(2), &fresh)
            .await
            .expect("create over an expired record")
    );
    assert_eq!(store.load(&key(2)).await.expect("load"), Some(fresh));
}

#[tokio::test]
async fn records_dead_at_write_time_are_not_written() {
    let server = RedisServer::start();
    let clock = ManualClock::starting_now();
    let store = common::builder(&server)
        .clock(clock.clone())
        .connect()
        .await
        .expect("connect");
    let mut conn = raw(&server).await;
    let now = clock.now();
    let mut dead = record_at(now, Duration::ZERO, &[("user", "\"ghost\"")]);
    dead.created = session_core::store::Timestamp::from_millis(now.as_millis() - 1_000);
    assert!(store.create(&key(3), &dead).await.expect("create"));
    assert!(!exists(&mut conn, &store.key_name(&key(3))).await);

    // An apply that moves expiry to now ends the session: the key goes.
    let live = record_at(now, Duration::from_secs(60), &[("user", "\"alice\"")]);
    assert!(store.create(&key(4), &live).await.expect("create"));
    assert!(
        store
            .apply(&key(4), &Changes::touch(now, now))
            .await
            .expect("apply")
    );
    assert!(!exists(&mut conn, &store.key_name(&key(4))).await);
}
