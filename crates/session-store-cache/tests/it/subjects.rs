//! Sessions per subject: `CacheStore` on moka keeps an index that follows the cache (deletes,
//! replacements, moka's own evictions and expirations) and never piles up; `CachingStore` lists
//! from its back store; a front shared across processes serves a session ended elsewhere for at
//! most its `max_entry_age`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use session_core::MemoryStore;
use session_core::store::{Binding, Changes, Clock, Key, Record, Store, SystemClock, Timestamp};
use session_core::subject::{ClientInfo, Subjects};
use session_store_cache::{CacheStore, CachingStore, MokaCache};

fn key(n: u32) -> Key {
    let mut digest = [0u8; 32];
    digest[..4].copy_from_slice(&n.to_be_bytes());
    digest[31] = 0x5c;
    Key::from_digest(digest)
}

fn now() -> Timestamp {
    SystemClock.now()
}

/// A record live for `ttl`, bound to `subject` if given.
fn record(subject: Option<&str>, ttl: Duration) -> Record {
    let now = now();
    let mut record = Record::new(now, now.saturating_add(ttl));
    if let Some(subject) = subject {
        let info = ClientInfo::new().user_agent("test agent");
        let binding = Binding::new(subject, info, now).expect("a valid subject");
        record.binding = Some(Box::new(binding));
    }
    record
}

const HOUR: Duration = Duration::from_secs(3600);

async fn listed<S: Store>(store: &S, subject: &str) -> BTreeSet<Key> {
    let listed = store.list_subject(subject).await.expect("list_subject");
    let keys: BTreeSet<Key> = listed.iter().map(|bound| bound.key).collect();
    assert_eq!(keys.len(), listed.len(), "a key listed twice: {listed:?}");
    keys
}

#[tokio::test]
async fn a_bound_record_round_trips_and_is_listed_once_created() {
    let store = CacheStore::new(1_000);
    assert!(store.lists_subjects());
    let bound = record(Some("alice"), HOUR);
    assert!(store.create(&key(1), &bound).await.expect("create"));
    // Listed as soon as create returned, with no maintenance run in between.
    let listing = store.list_subject("alice").await.expect("list_subject");
    assert_eq!(listing.len(), 1, "{listing:?}");
    assert_eq!(listing[0].key, key(1));
    assert_eq!(Some(&listing[0].binding), bound.binding.as_deref());
    assert_eq!(
        store.load(&key(1)).await.expect("load"),
        Some(bound.clone())
    );

    // apply and touch keep the binding; an unbound record is not indexed.
    let later = now().saturating_add(HOUR);
    assert!(
        store
            .apply(&key(1), &Changes::touch(now(), later))
            .await
            .expect("apply")
    );
    assert!(store.touch(&key(1), now(), later).await.expect("touch"));
    let loaded = store.load(&key(1)).await.expect("load").expect("live");
    assert_eq!(loaded.binding, bound.binding);
    store
        .create(&key(2), &record(None, HOUR))
        .await
        .expect("create");
    assert_eq!(store.cache().indexed_sessions(), 1);
    assert!(listed(&store, "bob").await.is_empty());
}

#[tokio::test]
async fn a_delete_leaves_the_index_at_once() {
    let store = CacheStore::new(1_000);
    for n in 0..20 {
        let subject = if n % 2 == 0 { "alice" } else { "bob" };
        store
            .create(&key(n), &record(Some(subject), HOUR))
            .await
            .expect("create");
    }
    assert_eq!(listed(&store, "alice").await.len(), 10);
    assert_eq!(store.cache().indexed_sessions(), 20);
    for n in 0..20 {
        assert!(store.delete(&key(n)).await.expect("delete"));
    }
    // No maintenance needed: a removal takes the entry out of the index itself.
    assert_eq!(store.cache().indexed_sessions(), 0);
    assert!(listed(&store, "alice").await.is_empty());
    assert!(listed(&store, "bob").await.is_empty());
}

#[tokio::test]
async fn an_expired_session_is_not_listed_and_leaves_the_index_with_moka() {
    let store = CacheStore::on(
        MokaCache::builder()
            .reclaim_within(Duration::from_millis(100))
            .build(),
    );
    let ttl = Duration::from_millis(300);
    for n in 0..10 {
        store
            .create(&key(n), &record(Some("carol"), ttl))
            .await
            .expect("create");
    }
    store
        .create(&key(10), &record(Some("carol"), HOUR))
        .await
        .expect("create");
    assert_eq!(listed(&store, "carol").await.len(), 11);
    tokio::time::sleep(ttl).await;
    // Past its expiry a session is not listed, whatever moka still holds.
    assert_eq!(listed(&store, "carol").await, BTreeSet::from([key(10)]));
    // A load that finds an expired record removes it, and its index entry, at once.
    assert!(store.load(&key(0)).await.expect("load").is_none());
    assert_eq!(store.cache().indexed_sessions(), 10);
    // moka drops the others after their deadline (expiry + 100 ms; its timer wheel has a
    // granularity of about a second); their entries go with them.
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    store.cache().run_pending_tasks().await;
    assert_eq!(store.cache().entry_count(), 1);
    assert_eq!(
        store.cache().indexed_sessions(),
        1,
        "only the live session stays in the index"
    );
}

#[tokio::test]
async fn an_evicted_session_leaves_the_index_with_moka() {
    const BOUND: u64 = 20;
    let store = CacheStore::new(BOUND);
    let subjects = ["dave", "erin", "frank"];
    for n in 0..200 {
        let subject = subjects[n as usize % subjects.len()];
        store
            .create(&key(n), &record(Some(subject), HOUR))
            .await
            .expect("create");
    }
    store.cache().run_pending_tasks().await;
    let mut loadable = BTreeMap::new();
    for n in 0..200 {
        if let Some(found) = store.load(&key(n)).await.expect("load") {
            let subject = found.binding.expect("bound").subject;
            loadable.insert(key(n), subject);
        }
    }
    assert!(loadable.len() as u64 <= BOUND, "{} held", loadable.len());
    assert_eq!(
        store.cache().indexed_sessions(),
        loadable.len(),
        "the index holds exactly what moka holds"
    );
    for subject in subjects {
        let expected: BTreeSet<Key> = loadable
            .iter()
            .filter(|(_, s)| s.as_str() == subject)
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(listed(&store, subject).await, expected, "{subject}");
    }
}

#[tokio::test]
async fn a_replaced_or_rebound_record_moves_its_listing() {
    let store = CacheStore::new(1_000);
    // An expired record bound to one subject, replaced by a create bound to another.
    let mut expired = record(Some("gina"), HOUR);
    expired.expires = Timestamp::from_millis(1);
    assert!(store.create(&key(1), &expired).await.expect("create"));
    assert!(
        store
            .create(&key(1), &record(Some("hank"), HOUR))
            .await
            .expect("create over an expired record")
    );
    assert!(listed(&store, "gina").await.is_empty());
    assert_eq!(listed(&store, "hank").await, BTreeSet::from([key(1)]));
    // moka had already hidden the expired entry, so the create could not end it: it leaves the
    // index when moka drops it, at its next maintenance.
    store.cache().run_pending_tasks().await;
    assert_eq!(store.cache().indexed_sessions(), 1);

    // A save bound otherwise (the engine never does it) moves it; a save unbound unlists it; a
    // save bound again lists it again.
    assert!(
        store
            .save(&key(1), &record(Some("ivan"), HOUR))
            .await
            .expect("save")
    );
    assert!(listed(&store, "hank").await.is_empty());
    assert_eq!(listed(&store, "ivan").await, BTreeSet::from([key(1)]));
    assert!(
        store
            .save(&key(1), &record(None, HOUR))
            .await
            .expect("save")
    );
    assert!(listed(&store, "ivan").await.is_empty());
    assert_eq!(store.cache().indexed_sessions(), 0);
    assert!(
        store
            .save(&key(1), &record(Some("ivan"), HOUR))
            .await
            .expect("save")
    );
    assert_eq!(listed(&store, "ivan").await, BTreeSet::from([key(1)]));
    assert_eq!(store.cache().indexed_sessions(), 1);
}

/// Concurrent creates, saves (rebinding), applies and deletes over a few keys: the index agrees
/// with the records afterwards, and holds nothing once they are all deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_follows_concurrent_writes_and_does_not_pile_up() {
    const KEYS: u32 = 16;
    let store = CacheStore::new(1_000);
    let subjects = ["jo", "kim", "lee"];
    let tasks: Vec<_> = (0..8u32)
        .map(|task| {
            let store = store.clone();
            tokio::spawn(async move {
                for step in 0..400u32 {
                    let k = key((task * 7 + step * 13) % KEYS);
                    let subject = (step % 4 != 3).then(|| subjects[(task + step) as usize % 3]);
                    match step % 5 {
                        0 | 1 => {
                            store
                                .create(&k, &record(subject, HOUR))
                                .await
                                .expect("create");
                        }
                        2 => {
                            store.save(&k, &record(subject, HOUR)).await.expect("save");
                        }
                        3 => {
                            store
                                .touch(&k, now(), now().saturating_add(HOUR))
                                .await
                                .expect("touch");
                        }
                        _ => {
                            store.delete(&k).await.expect("delete");
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a task");
    }
    let mut expected: BTreeMap<&str, BTreeSet<Key>> = BTreeMap::new();
    for n in 0..KEYS {
        let found = store.load(&key(n)).await.expect("load");
        if let Some(binding) = found.and_then(|r| r.binding) {
            let subject = subjects
                .into_iter()
                .find(|s| *s == binding.subject)
                .expect("a known subject");
            expected.entry(subject).or_default().insert(key(n));
        }
    }
    for subject in subjects {
        let want = expected.remove(subject).unwrap_or_default();
        assert_eq!(listed(&store, subject).await, want, "{subject}");
    }
    for n in 0..KEYS {
        store.delete(&key(n)).await.expect("delete");
    }
    store.cache().run_pending_tasks().await;
    assert_eq!(store.cache().indexed_sessions(), 0, "nothing left behind");
}

#[tokio::test]
async fn a_caching_store_lists_from_its_back_and_ends_everywhere_in_both() {
    let back = MemoryStore::default();
    let store = CachingStore::new(CacheStore::new(1_000), back.clone());
    assert!(store.lists_subjects());
    let bound = record(Some("mia"), HOUR);
    assert!(store.create(&key(1), &bound).await.expect("create"));
    // Created elsewhere (another process, on the same back): listed all the same.
    back.create(&key(2), &record(Some("mia"), HOUR))
        .await
        .expect("create");
    assert_eq!(
        listed(&store, "mia").await,
        BTreeSet::from([key(1), key(2)])
    );
    // The binding round-trips, through the front and through the back.
    assert_eq!(
        store.load(&key(1)).await.expect("load"),
        Some(bound.clone())
    );
    assert_eq!(
        store.front().load(&key(1)).await.expect("front"),
        Some(bound)
    );
    let from_back = store.load(&key(2)).await.expect("load").expect("live");
    assert_eq!(
        store.front().load(&key(2)).await.expect("front"),
        Some(from_back.clone()),
        "filled with its binding"
    );
    assert!(from_back.binding.is_some());

    // "Log out everywhere" from this process: gone from the front and the back at once.
    assert_eq!(
        Subjects::new(&store).end_all("mia").await.expect("end_all"),
        2
    );
    for n in [1, 2] {
        assert!(store.front().load(&key(n)).await.expect("front").is_none());
        assert!(back.load(&key(n)).await.expect("back").is_none());
        assert!(store.load(&key(n)).await.expect("load").is_none());
    }
    assert!(listed(&store, "mia").await.is_empty());
    assert_eq!(store.front().cache().indexed_sessions(), 0);
}

/// The documented staleness across processes: two processes (two `CachingStore`s, fronts of
/// their own) over one back. A session ended through one is gone for it at once; the other's
/// front, if it holds the session, serves it until its entry goes: at most `max_entry_age` after
/// that front last got it from the back, or until that process writes it (the write finds it gone
/// in the back and drops it from the front). A front with no `max_entry_age` serves it until the
/// session's own expiry.
#[tokio::test]
async fn a_front_serves_a_session_ended_elsewhere_for_at_most_its_max_entry_age() {
    const AGE: Duration = Duration::from_millis(1_500);
    let aged = || {
        CacheStore::on(
            MokaCache::builder()
                .max_sessions(1_000)
                .max_entry_age(AGE)
                .build(),
        )
    };
    let back = MemoryStore::default();
    let here = CachingStore::new(aged(), back.clone());
    let there = CachingStore::new(aged(), back.clone());
    let unaged = CachingStore::new(CacheStore::new(1_000), back.clone());
    for n in [1, 2] {
        here.create(&key(n), &record(Some("noor"), HOUR))
            .await
            .expect("create");
    }
    // The other processes read both sessions: their fronts hold them from now on.
    let filled = Instant::now();
    for store in [&there, &unaged] {
        for n in [1, 2] {
            assert!(store.load(&key(n)).await.expect("load").is_some());
        }
    }

    assert_eq!(
        Subjects::new(&here).end_all("noor").await.expect("end_all"),
        2
    );
    // At once for the process that ended them, and in every process's listing (the back's).
    for n in [1, 2] {
        assert!(here.load(&key(n)).await.expect("load").is_none());
    }
    assert!(listed(&there, "noor").await.is_empty());

    // The other process still serves them from its front (the documented staleness), except
    // where it writes: the write finds nothing in the back and empties the front.
    assert!(
        filled.elapsed() < AGE,
        "the test ran too slowly to observe the staleness"
    );
    assert!(there.load(&key(1)).await.expect("load").is_some());
    assert!(!there.touch(&key(2), now(), now()).await.expect("touch"));
    assert!(there.load(&key(2)).await.expect("load").is_none());

    // Within the bound, the stale entry goes by itself.
    let gone = loop {
        if there.load(&key(1)).await.expect("load").is_none() {
            break filled.elapsed();
        }
        assert!(
            filled.elapsed() < AGE + Duration::from_millis(500),
            "the front served an ended session past its max_entry_age"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        gone >= AGE.saturating_sub(Duration::from_millis(100)),
        "{gone:?}"
    );
    // A front with no max_entry_age still serves it: it holds the entry until the session's own
    // expiry (an hour here), its eviction, or a write through it.
    assert!(unaged.load(&key(1)).await.expect("load").is_some());
}

/// Without the sweep of `run_pending_tasks`, the index stays close to what moka holds: entries
/// leave it when moka drops them (its own maintenance runs as the cache is used; it frees a
/// dropped entry's memory a little later, by epoch-based reclamation).
#[tokio::test]
async fn under_churn_the_index_stays_near_what_moka_holds() {
    const BOUND: u64 = 50;
    const CREATED: u32 = 20_000;
    let store = CacheStore::new(BOUND);
    for n in 0..CREATED {
        let subject = ["olga", "paul", "quinn"][n as usize % 3];
        store
            .create(&key(n), &record(Some(subject), HOUR))
            .await
            .expect("create");
    }
    let indexed = store.cache().indexed_sessions();
    assert!(
        indexed < 1_000,
        "{indexed} sessions indexed after {CREATED} creates in a cache of {BOUND}"
    );
    store.cache().run_pending_tasks().await;
    assert!(store.cache().indexed_sessions() as u64 <= BOUND);
}

/// A listing shows only what moka serves: an entry moka no longer serves (here past its
/// `max_entry_age`, its record still live, before any maintenance) is neither loaded nor listed.
#[tokio::test]
async fn a_listing_shows_only_what_moka_serves() {
    let store = CacheStore::on(
        MokaCache::builder()
            .max_entry_age(Duration::from_millis(200))
            .build(),
    );
    store
        .create(&key(1), &record(Some("rita"), HOUR))
        .await
        .expect("create");
    assert_eq!(listed(&store, "rita").await, BTreeSet::from([key(1)]));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(store.load(&key(1)).await.expect("load").is_none());
    assert!(listed(&store, "rita").await.is_empty());
}
