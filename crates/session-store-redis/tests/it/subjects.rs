//! Sessions per subject: the binding fields, the index per subject and what keeps it small,
//! records of the previous layout, key names, and damaged bindings and indexes.

use std::collections::HashMap;
use std::time::Duration;

use session_core::Lifetime;
use session_core::store::{
    Binding, Changes, Clock, ManualClock, Record, Store, SystemClock, Timestamp, subject_key,
};
use session_core::subject::ClientInfo;
use session_store_redis::RedisStore;
use session_store_redis::redis::aio::MultiplexedConnection;
use session_store_redis::testing::RedisServer;

use crate::common::{self, cmd, exists, key, live, raw, record_at};

/// `record` bound to `subject`.
pub(crate) fn bound(mut record: Record, subject: &str) -> Record {
    let info = ClientInfo::new()
        .user_agent("test agent")
        .address("192.0.2.0/24");
    let binding = Binding::new(subject, info, record.created).expect("binding");
    record.binding = Some(Box::new(binding));
    record
}

/// The name of `subject`'s index in `store`.
pub(crate) fn index(store: &RedisStore, subject: &str) -> String {
    format!(
        "{}subject:{}",
        store.prefix(),
        subject_key(subject).to_hex()
    )
}

/// A store on `server` with a manual clock at the system's time (so that TTLs run as Redis's).
async fn store_with_clock(server: &RedisServer) -> (RedisStore, ManualClock) {
    let clock = ManualClock::new(SystemClock.now());
    let store = common::builder(server)
        .clock(clock.clone())
        .connect()
        .await
        .expect("connect");
    (store, clock)
}

/// The index's members.
async fn members(conn: &mut MultiplexedConnection, index: &str) -> usize {
    cmd::<usize>(conn, &["ZCARD", index]).await
}

/// Asserts that `name`'s PTTL is within a second below `expected_ms`.
async fn assert_pttl(conn: &mut MultiplexedConnection, name: &str, expected_ms: i64) {
    let pttl: i64 = cmd(conn, &["PTTL", name]).await;
    assert!(
        pttl <= expected_ms && pttl > expected_ms - 1_000,
        "PTTL of {name}: {pttl} ms, expected about {expected_ms} ms"
    );
}

/// The TTL Redis gives an index whose latest entry expires at `expires`, at `now` on the store's
/// clock: to a minute past that expiry's deadline (the first whole minute after it).
fn index_ttl(now: Timestamp, expires: Timestamp) -> i64 {
    let deadline = (expires.as_millis() / 60_000 + 1) * 60_000;
    i64::try_from(deadline + 60_000 - now.as_millis()).expect("a TTL in range")
}

/// Every key in the server, by SCAN.
async fn all_keys(conn: &mut MultiplexedConnection) -> Vec<String> {
    let mut cursor = "0".to_owned();
    let mut keys = Vec::new();
    loop {
        let (next, batch): (String, Vec<String>) =
            cmd(conn, &["SCAN", &cursor, "COUNT", "1000"]).await;
        keys.extend(batch);
        if next == "0" {
            return keys;
        }
        cursor = next;
    }
}

#[tokio::test]
async fn a_hash_of_the_previous_layout_still_loads_unbound() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut conn = raw(&server).await;
    let now = SystemClock.now();
    let expires = now.saturating_add(Duration::from_secs(3600));
    let name = store.key_name(&key(1));
    let (t, e) = (now.as_millis().to_string(), expires.as_millis().to_string());
    // Exactly what the previous release's create wrote: HSET of every field, then PEXPIRE.
    let _: i64 = cmd(
        &mut conn,
        &[
            "HSET",
            &name,
            "created",
            &t,
            "last_active",
            &t,
            "expires",
            &e,
            "lifetime",
            r#"{"idle_secs":3600,"persistent":false}"#,
            "v:user",
            "\"alice\"",
            "size",
            "13",
        ],
    )
    .await;
    let _: i64 = cmd(&mut conn, &["PEXPIRE", &name, "3600000"]).await;

    let mut expected = record_at(now, Duration::from_secs(3600), &[("user", "\"alice\"")]);
    expected.lifetime = Some(Lifetime::browser_session(Duration::from_secs(3600)));
    assert_eq!(store.load(&key(1)).await.expect("load"), Some(expected));
    let later = expires.saturating_add(Duration::from_secs(60));
    assert!(store.touch(&key(1), now, later).await.expect("touch"));
    assert_eq!(all_keys(&mut conn).await, [name], "no index appears");
    assert!(store.delete(&key(1)).await.expect("delete"));
}

#[tokio::test]
async fn index_entries_follow_their_sessions_and_do_not_pile_up() {
    let server = RedisServer::start();
    let (store, clock) = store_with_clock(&server).await;
    let mut conn = raw(&server).await;
    let subject = "carol";
    let idx = index(&store, subject);
    let at = |secs| record_at(clock.now(), Duration::from_secs(secs), &[("n", "1")]);

    for (n, secs) in [(1, 60), (2, 120), (3, 180)] {
        assert!(
            store
                .create(&key(n), &bound(at(secs), subject))
                .await
                .expect("create")
        );
    }
    assert!(
        store
            .create(&key(9), &at(600))
            .await
            .expect("unbound create")
    );
    let in_secs = |secs| clock.now().saturating_add(Duration::from_secs(secs));
    assert_eq!(members(&mut conn, &idx).await, 3);
    assert_pttl(&mut conn, &idx, index_ttl(clock.now(), in_secs(180))).await;

    // A delete takes the entry out, and the index's TTL down to its longest-lived entry's.
    assert!(store.delete(&key(3)).await.expect("delete"));
    assert_eq!(members(&mut conn, &idx).await, 2);
    assert_pttl(&mut conn, &idx, index_ttl(clock.now(), in_secs(120))).await;

    // apply and touch move the entry's score (to the deadline) and the TTL, both ways.
    let mut changes = Changes::touch(
        clock.now(),
        clock.now().saturating_add(Duration::from_secs(300)),
    );
    changes
        .updates
        .push(("n".to_owned(), Some(common::value("2"))));
    assert!(store.apply(&key(1), &changes).await.expect("apply"));
    let score: f64 = cmd(&mut conn, &["ZSCORE", &idx, &key(1).to_hex()]).await;
    let deadline = (in_secs(300).as_millis() / 60_000 + 1) * 60_000;
    assert_eq!(score, deadline as f64);
    assert_pttl(&mut conn, &idx, index_ttl(clock.now(), in_secs(300))).await;
    let until = clock.now().saturating_add(Duration::from_secs(90));
    assert!(
        store
            .touch(&key(1), clock.now(), until)
            .await
            .expect("touch")
    );
    assert_pttl(&mut conn, &idx, index_ttl(clock.now(), in_secs(120))).await;

    // Both expire on the store's clock (Redis still holds them): a listing prunes them all, and
    // the emptied index is gone.
    clock.advance(Duration::from_secs(125));
    assert_eq!(members(&mut conn, &idx).await, 2);
    assert!(store.list_subject(subject).await.expect("list").is_empty());
    assert!(
        !exists(&mut conn, &idx).await,
        "an index of dead entries is removed"
    );

    // A bound create prunes the entries it finds scored over a minute ago.
    assert!(
        store
            .create(&key(4), &bound(at(10), subject))
            .await
            .expect("create")
    );
    clock.advance(Duration::from_secs(140));
    assert!(
        store
            .create(&key(5), &bound(at(60), subject))
            .await
            .expect("create")
    );
    assert_eq!(members(&mut conn, &idx).await, 1);

    // save keeps the entry's score in step; a save unbinding the record takes it out.
    let saved = bound(at(240), subject);
    assert!(store.save(&key(5), &saved).await.expect("save"));
    assert_pttl(&mut conn, &idx, index_ttl(clock.now(), saved.expires)).await;
    assert!(store.save(&key(5), &at(240)).await.expect("save unbound"));
    assert!(!exists(&mut conn, &idx).await);

    // An apply that ends the record (its expiry already passed) takes its entry out.
    assert!(
        store
            .create(&key(6), &bound(at(60), subject))
            .await
            .expect("create")
    );
    let dead = Changes::touch(clock.now(), clock.now());
    assert!(store.apply(&key(6), &dead).await.expect("apply"));
    assert!(!exists(&mut conn, &idx).await);
    assert!(!exists(&mut conn, &store.key_name(&key(6))).await);
}

#[tokio::test]
async fn an_index_expires_within_two_minutes_of_its_sessions_in_redis() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut conn = raw(&server).await;
    let idx = index(&store, "dave");
    let short = record_at(SystemClock.now(), Duration::from_millis(300), &[]);
    assert!(
        store
            .create(&key(1), &bound(short, "dave"))
            .await
            .expect("create")
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    // Dead on the store's clock; its key lingers until its expiry's deadline (the next whole
    // minute), the index a minute longer, and not longer than that.
    assert_eq!(store.load(&key(1)).await.expect("load"), None);
    let pttl: i64 = cmd(&mut conn, &["PTTL", &store.key_name(&key(1))]).await;
    assert!(
        (1..=60_000).contains(&pttl),
        "PTTL {pttl} ms: at most a minute past the expiry"
    );
    let index_pttl: i64 = cmd(&mut conn, &["PTTL", &idx]).await;
    assert!(
        (pttl..=pttl + 60_000).contains(&index_pttl),
        "the index's PTTL {index_pttl} ms: up to a minute past its session's {pttl} ms"
    );
    // A listing finds the session dead and takes its entry out, which removes the index.
    assert!(store.list_subject("dave").await.expect("list").is_empty());
    assert!(!exists(&mut conn, &idx).await);
}

#[tokio::test]
async fn no_key_names_the_subject() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut conn = raw(&server).await;
    let subject = "Zebra-Unicorn-42@example.org";
    for n in 1..=3 {
        assert!(
            store
                .create(&key(n), &bound(live(&[]), subject))
                .await
                .expect("create")
        );
    }
    let record = live(&[]);
    assert!(
        store
            .touch(&key(1), record.last_active, record.expires)
            .await
            .expect("touch")
    );

    let mut keys = all_keys(&mut conn).await;
    keys.sort();
    for name in &keys {
        let lower = name.to_lowercase();
        assert!(
            !lower.contains("zebra") && !lower.contains("unicorn"),
            "{name}"
        );
    }
    let mut expected: Vec<String> = (1..=3).map(|n| store.key_name(&key(n))).collect();
    expected.push(index(&store, subject));
    expected.sort();
    assert_eq!(keys, expected);
    // The subject is in the binding's text only.
    let fields: HashMap<String, String> =
        cmd(&mut conn, &["HGETALL", &store.key_name(&key(1))]).await;
    assert!(fields["binding"].contains(subject));
    assert_eq!(fields["subject_key"], subject_key(subject).to_hex());
    assert_eq!(store.list_subject(subject).await.expect("list").len(), 3);
}

#[tokio::test]
async fn damaged_bindings_are_damaged_sessions() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut conn = raw(&server).await;
    let idx = index(&store, "erin");

    // A binding that is not JSON: no session for load or the listing; delete still cleans up.
    assert!(
        store
            .create(&key(1), &bound(live(&[]), "erin"))
            .await
            .expect("create")
    );
    let name = store.key_name(&key(1));
    let _: i64 = cmd(&mut conn, &["HSET", &name, "binding", "{not json"]).await;
    assert_eq!(store.load(&key(1)).await.expect("load"), None);
    assert!(exists(&mut conn, &name).await, "left in place");
    assert!(store.list_subject("erin").await.expect("list").is_empty());
    assert!(store.delete(&key(1)).await.expect("delete of a live hash"));
    assert!(!exists(&mut conn, &idx).await, "its entry left with it");

    // A subject digest naming another subject: no session, and the listing drops the entry.
    assert!(
        store
            .create(&key(2), &bound(live(&[]), "erin"))
            .await
            .expect("create")
    );
    let name = store.key_name(&key(2));
    let other = subject_key("mallory").to_hex();
    let _: i64 = cmd(&mut conn, &["HSET", &name, "subject_key", &other]).await;
    assert_eq!(store.load(&key(2)).await.expect("load"), None);
    assert!(store.list_subject("erin").await.expect("list").is_empty());
    assert!(!exists(&mut conn, &idx).await);
    assert!(
        store
            .list_subject("mallory")
            .await
            .expect("list")
            .is_empty()
    );

    // A digest naming a live session's key, or not a digest: scripts never touch another key.
    let kept = live(&[("mine", "1")]);
    assert!(store.create(&key(3), &kept).await.expect("create"));
    for hostile in [key(3).to_hex(), "../x".to_owned(), String::new()] {
        let _: i64 = cmd(&mut conn, &["HSET", &name, "subject_key", &hostile]).await;
        assert!(
            store
                .touch(&key(2), kept.last_active, kept.expires)
                .await
                .expect("touch")
        );
    }
    assert!(store.delete(&key(2)).await.expect("delete"));
    assert_eq!(store.load(&key(3)).await.expect("load"), Some(kept));

    // Index entries that name no session of the subject are pruned by the listing.
    let far = (SystemClock.now().as_millis() + 3_600_000).to_string();
    let _: i64 = cmd(
        &mut conn,
        &["ZADD", &idx, &far, "garbage", &far, &key(3).to_hex()],
    )
    .await;
    assert!(store.list_subject("erin").await.expect("list").is_empty());
    assert!(!exists(&mut conn, &idx).await);
}

#[tokio::test]
async fn an_index_that_is_not_a_sorted_set_fails_bound_writes_only() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut conn = raw(&server).await;
    let idx = index(&store, "frank");
    assert!(
        store
            .create(&key(1), &bound(live(&[]), "frank"))
            .await
            .expect("create")
    );
    let _: () = cmd(&mut conn, &["SET", &idx, "something else"]).await;

    // A bound create fails and writes nothing; the session already there still works, and its
    // delete is not stopped by the index.
    assert!(
        store
            .create(&key(2), &bound(live(&[]), "frank"))
            .await
            .is_err()
    );
    assert!(!exists(&mut conn, &store.key_name(&key(2))).await);
    assert!(store.list_subject("frank").await.is_err());
    let record = live(&[]);
    assert!(
        store
            .touch(&key(1), record.last_active, record.expires)
            .await
            .expect("touch")
    );
    assert!(store.delete(&key(1)).await.expect("delete"));
    assert!(
        store
            .create(&key(3), &record)
            .await
            .expect("unbound create")
    );
    let kept: String = cmd(&mut conn, &["GET", &idx]).await;
    assert_eq!(kept, "something else");
}

#[tokio::test]
async fn a_record_bound_anew_moves_to_its_new_subject() {
    let server = RedisServer::start();
    let (store, clock) = store_with_clock(&server).await;
    let mut conn = raw(&server).await;
    let at = |secs| record_at(clock.now(), Duration::from_secs(secs), &[]);
    assert!(
        store
            .create(&key(1), &bound(at(60), "grace"))
            .await
            .expect("create")
    );
    // Dead by the store's clock: create replaces it, bound to someone else.
    clock.advance(Duration::from_secs(61));
    assert!(
        store
            .create(&key(1), &bound(at(60), "heidi"))
            .await
            .expect("create")
    );
    assert!(!exists(&mut conn, &index(&store, "grace")).await);
    assert_eq!(members(&mut conn, &index(&store, "heidi")).await, 1);
    let listed = store.list_subject("heidi").await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key, key(1));
    assert_eq!(listed[0].binding.subject, "heidi");
    let timestamps = (listed[0].created, listed[0].expires);
    let expires: Timestamp = clock.now().saturating_add(Duration::from_secs(60));
    assert_eq!(timestamps, (clock.now(), expires));
}
