//! `CacheStore` on moka: exact expiry on the store's clock, and a full cache that still admits
//! every fresh login.

use std::time::Duration;

use session_core::store::{
    Changes, Clock, Key, ManualClock, Record, Store, SystemClock, Timestamp,
};
use session_store_cache::{CacheStore, MokaCache};

fn key(n: u32) -> Key {
    let mut digest = [0u8; 32];
    digest[..4].copy_from_slice(&n.to_be_bytes());
    digest[31] = 0xa5;
    Key::from_digest(digest)
}

fn record_until(now: Timestamp, ttl: Duration) -> Record {
    Record::new(now, now.saturating_add(ttl))
}

#[tokio::test]
async fn expiry_is_exact_on_the_store_clock() {
    let clock = ManualClock::starting_now();
    let store = CacheStore::on(
        MokaCache::builder()
            .max_sessions(100)
            .clock(clock.clone())
            .build(),
    );
    let start = clock.now();
    assert!(
        store
            .create(&key(1), &record_until(start, Duration::from_secs(10)))
            .await
            .expect("create")
    );

    clock.advance(Duration::from_millis(9_999));
    assert!(
        store.load(&key(1)).await.expect("load").is_some(),
        "live 1 ms before"
    );
    clock.advance(Duration::from_millis(1));
    assert!(
        store.load(&key(1)).await.expect("load").is_none(),
        "gone at its expiry"
    );
    assert!(
        !store
            .apply(&key(1), &Changes::default())
            .await
            .expect("apply"),
        "an expired record is not updated"
    );
    assert!(
        !store.delete(&key(1)).await.expect("delete"),
        "nothing live was removed"
    );
    // Its key is free again.
    let later = clock.now();
    assert!(
        store
            .create(&key(1), &record_until(later, Duration::from_secs(10)))
            .await
            .expect("create")
    );
}

#[tokio::test]
async fn a_touch_extends_the_entry() {
    let clock = ManualClock::starting_now();
    let store = CacheStore::on(MokaCache::builder().clock(clock.clone()).build());
    let start = clock.now();
    store
        .create(&key(2), &record_until(start, Duration::from_secs(10)))
        .await
        .expect("create");
    clock.advance(Duration::from_secs(8));
    let now = clock.now();
    assert!(
        store
            .touch(&key(2), now, now.saturating_add(Duration::from_secs(10)))
            .await
            .expect("touch")
    );
    clock.advance(Duration::from_secs(8));
    assert!(
        store.load(&key(2)).await.expect("load").is_some(),
        "16 s after creation, 8 after the touch"
    );
}

#[tokio::test]
async fn a_full_cache_admits_every_fresh_login() {
    const BOUND: u64 = 200;
    let store = CacheStore::new(BOUND);
    let now = SystemClock.now();
    let ttl = Duration::from_secs(3600);
    // Fill the cache with sessions that are read often: a frequency-based admission policy
    // (moka's default TinyLFU) would now refuse newcomers it has never seen.
    for n in 0..BOUND as u32 {
        store
            .create(&key(n), &record_until(now, ttl))
            .await
            .expect("create");
    }
    for _ in 0..20 {
        for n in 0..BOUND as u32 {
            store.load(&key(n)).await.expect("load");
        }
    }
    store.cache().run_pending_tasks().await;
    // Every fresh login is stored and readable, however full the cache is.
    let mut refused = Vec::new();
    for n in 10_000..10_000 + 2 * BOUND as u32 {
        assert!(
            store
                .create(&key(n), &record_until(now, ttl))
                .await
                .expect("create")
        );
        store.cache().run_pending_tasks().await;
        if store.load(&key(n)).await.expect("load").is_none() {
            refused.push(n);
        }
    }
    assert!(
        refused.is_empty(),
        "fresh logins dropped: {} of {}",
        refused.len(),
        2 * BOUND
    );
    // And the bound holds: the oldest sessions made room.
    store.cache().run_pending_tasks().await;
    assert!(
        store.cache().entry_count() <= BOUND,
        "{} entries",
        store.cache().entry_count()
    );
}

#[tokio::test]
async fn a_byte_bound_evicts_by_size() {
    let store = CacheStore::on(MokaCache::builder().max_bytes(64 * 1024).build());
    let now = SystemClock.now();
    let mut big = record_until(now, Duration::from_secs(3600));
    big.data.insert(
        "blob".into(),
        session_core::Value::from_serialize(&"x".repeat(4096)).expect("json"),
    );
    for n in 0..100 {
        store.create(&key(n), &big).await.expect("create");
    }
    store.cache().run_pending_tasks().await;
    let held = store.cache().entry_count();
    assert!(held <= 16, "about 4 KiB each in 64 KiB: {held} held");
    assert!(
        store.load(&key(99)).await.expect("load").is_some(),
        "the newest is kept"
    );
}

/// moka's own deadline follows a sliding expiry (a session kept alive by touches outlives the
/// deadline it was created with), and an abandoned session's memory is reclaimed. Real time, with
/// wide margins: each touch extends the expiry by a second, touches come every 100 ms.
#[tokio::test]
async fn moka_keeps_a_sliding_session_and_reclaims_an_abandoned_one() {
    let store = CacheStore::on(
        MokaCache::builder()
            .max_sessions(100)
            .reclaim_within(Duration::from_millis(300))
            .build(),
    );
    let ttl = Duration::from_secs(1);
    let start = SystemClock.now();
    store
        .create(&key(3), &record_until(start, ttl))
        .await
        .expect("create");
    // Touch for 2.5 s: far past the first deadline (start + 1.3 s).
    let until = std::time::Instant::now() + Duration::from_millis(2500);
    while std::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = SystemClock.now();
        assert!(
            store
                .touch(&key(3), now, now.saturating_add(ttl))
                .await
                .expect("touch"),
            "the session was dropped while in use"
        );
        store.cache().run_pending_tasks().await;
    }
    assert!(store.load(&key(3)).await.expect("load").is_some());
    // Abandoned: expiry (1 s) plus slack (0.3 s) later, moka has dropped it.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    store.cache().run_pending_tasks().await;
    assert_eq!(
        store.cache().entry_count(),
        0,
        "the expired entry was reclaimed"
    );
}

#[tokio::test]
async fn the_store_judges_time_by_the_cache_clock() {
    // A clock far from the system's (here: one second after the epoch). moka's deadlines and the
    // store's expiry checks must read the same clock, or moka would drop every entry at once.
    let clock = ManualClock::new(Timestamp::from_millis(1_000));
    let store = CacheStore::on(MokaCache::builder().clock(clock.clone()).build());
    let now = clock.now();
    store
        .create(&key(4), &record_until(now, Duration::from_secs(60)))
        .await
        .expect("create");
    store.cache().run_pending_tasks().await;
    assert!(store.load(&key(4)).await.expect("load").is_some(), "kept");
    clock.advance(Duration::from_secs(60));
    assert!(
        store.load(&key(4)).await.expect("load").is_none(),
        "expired on that clock"
    );
}

/// Values that share a text (read from a pack by another store) are kept as copies of their
/// own, so that an entry's weight is what it holds: the text would otherwise stay while any
/// value sharing it did.
#[tokio::test]
async fn kept_records_hold_values_of_their_own() {
    use session_core::store::{SharedText, pack_values, unpack_shared};

    let store = CacheStore::on(MokaCache::builder().max_bytes(1 << 20).build());
    let now = SystemClock.now();
    let text = SharedText::from(pack_values([("a", "1"), ("b", "\"two\"")]));
    let mut shared = record_until(now, Duration::from_secs(3600));
    for (name, value) in unpack_shared(&text).expect("a pack") {
        shared.data.insert(name.to_owned(), value);
    }
    let owns_all = |record: Option<Record>| {
        let record = record.expect("the record");
        assert_eq!(record.data, shared.data);
        record.data.values().all(|value| !value.is_shared())
    };
    assert!(store.create(&key(1), &shared).await.expect("create"));
    assert!(owns_all(store.load(&key(1)).await.expect("load")), "create");
    let plain = record_until(now, Duration::from_secs(3600));
    assert!(store.create(&key(2), &plain).await.expect("create"));
    assert!(store.save(&key(2), &shared).await.expect("save"));
    assert!(owns_all(store.load(&key(2)).await.expect("load")), "save");
}
