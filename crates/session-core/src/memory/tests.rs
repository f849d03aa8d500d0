//! The memory store's bounds, eviction order, accounting and sweeping.

use std::time::Duration;

use super::shard::{ENTRY_OVERHEAD, Limits, SWEEP_STEP, Shard, VALUE_OVERHEAD, estimate};
use super::*;
use crate::clock::ManualClock;
use crate::record::Timestamp;
use crate::value::Value;

/// A key in shard `shard` (the shard is the digest's first byte modulo 16), distinct by `n`.
fn key_in(shard: u8, n: u32) -> Key {
    let mut digest = [0u8; 32];
    digest[0] = shard;
    digest[1..5].copy_from_slice(&n.to_be_bytes());
    Key::from_digest(digest)
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// A record created at `now`, expiring `ttl` later, holding `len` bytes under `v`.
fn record(now: Timestamp, ttl: Duration, len: usize) -> Record {
    let mut record = Record::new(now, now.saturating_add(ttl));
    if len > 0 {
        let value = Value::from_serialize(&"x".repeat(len)).expect("json");
        record.data.insert("v".into(), value);
    }
    record
}

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn a_full_store_evicts_the_least_recently_used_session() {
    block_on(async {
        let clock = ManualClock::new(Timestamp::from_millis(1_000_000));
        // Two sessions per shard.
        let store = MemoryStore::with_max_sessions(32).clock(clock.clone());
        let (first, second, third) = (key_in(0, 1), key_in(0, 2), key_in(0, 3));
        // The first expires soonest, but it is the most recently used when the shard is full.
        let soon = record(clock.now(), Duration::from_secs(60), 0);
        let later = record(clock.now(), HOUR, 0);
        assert!(store.create(&first, &soon).await.expect("create"));
        assert!(store.create(&second, &later).await.expect("create"));
        assert_eq!(store.load(&first).await.expect("load"), Some(soon.clone()));
        assert!(
            store
                .create(&third, &later)
                .await
                .expect("a fresh login is never refused")
        );
        assert_eq!(
            store.load(&second).await.expect("load"),
            None,
            "LRU evicted"
        );
        assert_eq!(store.load(&first).await.expect("load"), Some(soon));
        assert_eq!(store.load(&third).await.expect("load"), Some(later.clone()));

        // A write counts as a use too: the first (loaded last) goes before the third (written).
        let changes = Changes::touch(clock.now(), later.expires);
        assert!(store.apply(&third, &changes).await.expect("apply"));
        assert!(store.create(&second, &later).await.expect("create"));
        assert_eq!(store.load(&first).await.expect("load"), None);
        assert!(store.load(&third).await.expect("load").is_some());
    });
}

#[test]
fn the_default_store_is_bounded_by_the_size_of_its_sessions() {
    block_on(async {
        let clock = ManualClock::new(Timestamp::from_millis(1_000_000));
        let store = MemoryStore::default().clock(clock.clone());
        // 24 sessions of 1 MiB in one shard, whose share of the default 256 MiB is 16 MiB.
        let big = record(clock.now(), HOUR, 1 << 20);
        for n in 0..24 {
            assert!(store.create(&key_in(3, n), &big).await.expect("create"));
            if n >= 1 {
                // Keep the first one in use: it is never the least recently used.
                assert!(store.load(&key_in(3, 0)).await.expect("load").is_some());
            }
        }
        let held = store.len();
        assert!((8..=16).contains(&held), "{held} sessions of 1 MiB held");
        assert!(store.load(&key_in(3, 0)).await.expect("load").is_some());
        assert!(store.load(&key_in(3, 23)).await.expect("load").is_some());
        assert_eq!(store.load(&key_in(3, 1)).await.expect("load"), None);
    });
}

#[test]
fn a_create_sweeps_a_bounded_number_of_entries() {
    block_on(async {
        let clock = ManualClock::new(Timestamp::from_millis(1_000_000));
        let store = MemoryStore::with_max_sessions(1 << 20).clock(clock.clone());
        let short = record(clock.now(), Duration::from_secs(1), 0);
        for n in 0..3000 {
            assert!(store.create(&key_in(5, n), &short).await.expect("create"));
        }
        clock.advance(Duration::from_secs(2));
        let live = record(clock.now(), HOUR, 0);
        for n in 3000..4100 {
            let before = store.len();
            assert!(store.create(&key_in(5, n), &live).await.expect("create"));
            let removed = (before + 1).saturating_sub(store.len());
            assert!(
                removed <= 16,
                "create {n} removed {removed} expired sessions in one go"
            );
        }
        assert_eq!(store.len(), 1100, "every expired session swept by then");
    });
}

#[test]
fn expired_sessions_behind_a_long_lived_one_are_swept() {
    block_on(async {
        let clock = ManualClock::new(Timestamp::from_millis(1_000_000));
        let store = MemoryStore::default().clock(clock.clone());
        // The least recently used session lives for 30 days ("remember me").
        let remembered = record(clock.now(), 720 * HOUR, 0);
        assert!(
            store
                .create(&key_in(7, 0), &remembered)
                .await
                .expect("create")
        );
        let short = record(clock.now(), Duration::from_secs(1), 0);
        for n in 1..=100 {
            assert!(store.create(&key_in(7, n), &short).await.expect("create"));
        }
        clock.advance(Duration::from_secs(2));
        let live = record(clock.now(), HOUR, 0);
        for n in 101..=300 {
            assert!(store.create(&key_in(7, n), &live).await.expect("create"));
        }
        assert_eq!(store.len(), 201, "the 100 expired sessions are gone");
    });
}

#[test]
fn expired_records_are_invisible_and_swept() {
    block_on(async {
        let clock = ManualClock::new(Timestamp::from_millis(0));
        let store = MemoryStore::new().clock(clock.clone());
        let record = Record::new(clock.now(), Timestamp::from_millis(1_000));
        assert!(store.create(&key_in(0, 3), &record).await.expect("create"));
        assert!(store.create(&key_in(1, 4), &record).await.expect("create"));
        clock.advance(Duration::from_secs(1));
        assert!(
            !store.save(&key_in(0, 3), &record).await.expect("save"),
            "no resurrection"
        );
        assert_eq!(store.len(), 1, "an expired hit is reclaimed on save");
        assert_eq!(store.load(&key_in(1, 4)).await.expect("load"), None);
        assert_eq!(store.len(), 0, "an expired hit is reclaimed on load");
        let fresh = Record::new(clock.now(), Timestamp::from_millis(2_000));
        assert!(store.create(&key_in(0, 3), &fresh).await.expect("create"));
        clock.advance(Duration::from_secs(1));
        assert_eq!(store.sweep(), 1);
        assert!(store.is_empty());
    });
}

#[test]
fn sizes_are_counted_on_every_write_and_removal() {
    block_on(async {
        let clock = ManualClock::new(Timestamp::from_millis(1_000_000));
        let store = MemoryStore::new().clock(clock.clone());
        assert_eq!(store.estimated_bytes(), 0);
        let small = record(clock.now(), HOUR, 10);
        // "v" and the JSON string of 10 bytes with its quotes.
        let small_size = ENTRY_OVERHEAD + VALUE_OVERHEAD + 1 + 12;
        assert_eq!(estimate(&small), small_size);
        assert!(store.create(&key_in(0, 1), &small).await.expect("create"));
        assert!(store.create(&key_in(9, 1), &small).await.expect("create"));
        assert_eq!(store.estimated_bytes(), 2 * small_size);

        let mut changes = Changes::touch(clock.now(), small.expires);
        changes.updates = vec![
            ("v".into(), None),
            (
                "name".into(),
                Some(Value::from_serialize("ab").expect("json")),
            ),
        ];
        assert!(store.apply(&key_in(0, 1), &changes).await.expect("apply"));
        let applied = ENTRY_OVERHEAD + VALUE_OVERHEAD + 4 + 4;
        assert_eq!(store.estimated_bytes(), small_size + applied);
        let big = record(clock.now(), HOUR, 1000);
        assert!(store.save(&key_in(9, 1), &big).await.expect("save"));
        assert_eq!(store.estimated_bytes(), applied + estimate(&big));
        assert!(store.delete(&key_in(9, 1)).await.expect("delete"));
        assert_eq!(store.estimated_bytes(), applied);
        clock.advance(2 * HOUR);
        assert_eq!(store.sweep(), 1);
        assert_eq!(store.estimated_bytes(), 0);
    });
}

#[test]
fn a_byte_bound_evicts_by_size_and_never_the_session_written() {
    block_on(async {
        let clock = ManualClock::new(Timestamp::from_millis(1_000_000));
        let per_session = estimate(&record(clock.now(), HOUR, 100));
        // Room for three such sessions per shard.
        let store = MemoryStore::with_max_bytes(16 * 3 * per_session).clock(clock.clone());
        let small = record(clock.now(), HOUR, 100);
        for n in 0..5 {
            assert!(store.create(&key_in(2, n), &small).await.expect("create"));
        }
        assert_eq!(store.len(), 3);
        assert_eq!(store.estimated_bytes(), 3 * per_session);

        // Growing the oldest session past the shard's share evicts the others, not it.
        let mut grow = Changes::touch(clock.now(), small.expires);
        let big = Value::from_serialize(&"y".repeat(10 * per_session)).expect("json");
        grow.updates = vec![("big".into(), Some(big))];
        assert!(store.apply(&key_in(2, 2), &grow).await.expect("apply"));
        assert_eq!(store.len(), 1, "alone, and over the bound");
        assert!(store.load(&key_in(2, 2)).await.expect("load").is_some());

        // A new session larger than the bound is stored too, in place of the others.
        let huge = record(clock.now(), HOUR, 20 * per_session);
        assert!(
            store
                .create(&key_in(2, 99), &huge)
                .await
                .expect("never refused")
        );
        assert_eq!(store.len(), 1);
        assert_eq!(store.load(&key_in(2, 99)).await.expect("load"), Some(huge));

        // Other shards have shares of their own.
        assert!(store.create(&key_in(4, 1), &small).await.expect("create"));
        assert_eq!(store.len(), 2);
    });
}

#[test]
fn the_bounds_combine_and_survive_a_new_clock() {
    let store = MemoryStore::with_max_sessions(100)
        .max_bytes(1 << 20)
        .clock(ManualClock::new(Timestamp::from_millis(0)));
    let debug = format!("{store:?}");
    assert!(debug.contains("max_bytes: 1048576"), "{debug}");
    assert!(debug.contains("max_sessions: Some(100)"), "{debug}");
    assert_eq!(store.inner.per_shard.sessions, 7);
    assert_eq!(store.inner.per_shard.bytes, 1 << 16);
    let default = MemoryStore::default();
    assert_eq!(default.inner.max_bytes, MemoryStore::DEFAULT_MAX_BYTES);
    assert_eq!(default.inner.per_shard.sessions, usize::MAX);
}

/// A small deterministic random number generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        usize::try_from(x >> 33).expect("32 bits") % n
    }
}

/// The shard against a plain model (a list, newest first) under random writes, loads and
/// deletes of a few keys, all live: the same sessions, in the same order, of the same size.
#[test]
fn a_shard_keeps_least_recently_used_order_like_a_plain_list() {
    let now = Timestamp::from_millis(1_000);
    let expires = Timestamp::from_millis(u64::MAX);
    let limits = Limits {
        bytes: 6 * ENTRY_OVERHEAD,
        sessions: 5,
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut shard = Shard::new();
    let mut model: Vec<(Key, Record)> = Vec::new();
    let value = |rng: &mut Rng| Value::from_serialize(&"z".repeat(rng.below(400))).expect("json");
    for step in 0..20_000 {
        let key = key_in(0, u32::try_from(rng.below(12)).expect("small"));
        let found = model.iter().position(|(k, _)| *k == key);
        let written = match rng.below(5) {
            0 => {
                let mut record = Record::new(now, expires);
                for name in ["a", "b", "c"].into_iter().take(rng.below(4)) {
                    record.data.insert(name.into(), value(&mut rng));
                }
                let wrote = shard.create(&key, &record, now, limits);
                assert_eq!(wrote.done, found.is_none(), "step {step}: create");
                found.is_none().then_some((key, record))
            }
            1 => {
                let loaded = shard.load(&key, now);
                assert_eq!(loaded, found.map(|at| model[at].1.clone()), "step {step}");
                found.map(|at| model.remove(at))
            }
            2 => {
                let mut changes = Changes::touch(now, expires);
                changes.clear = rng.below(8) == 0;
                for name in ["a", "b", "c", "d"] {
                    match rng.below(3) {
                        0 => changes.updates.push((name.into(), None)),
                        1 => changes.updates.push((name.into(), Some(value(&mut rng)))),
                        _ => {}
                    }
                }
                let wrote = shard.apply(&key, &changes, now, limits);
                assert_eq!(wrote.done, found.is_some(), "step {step}: apply");
                found.map(|at| {
                    let (key, mut record) = model.remove(at);
                    changes.apply_to(&mut record);
                    (key, record)
                })
            }
            3 => {
                let mut record = Record::new(now, expires);
                record.data.insert("s".into(), value(&mut rng));
                let wrote = shard.save(&key, &record, now, limits);
                assert_eq!(wrote.done, found.is_some(), "step {step}: save");
                found.map(|at| {
                    model.remove(at);
                    (key, record)
                })
            }
            _ => {
                assert_eq!(shard.delete(&key, now), found.is_some(), "step {step}");
                if let Some(at) = found {
                    model.remove(at);
                }
                None
            }
        };
        if let Some((key, record)) = written {
            model.insert(0, (key, record));
            let size = |model: &[(Key, Record)]| -> usize {
                model.iter().map(|(_, record)| estimate(record)).sum()
            };
            while model.len() > 1 && (size(&model) > limits.bytes || model.len() > limits.sessions)
            {
                model.pop();
            }
        }
        let keys: Vec<Key> = model.iter().map(|(key, _)| *key).collect();
        assert_eq!(shard.order(), keys, "step {step}");
    }
}

#[test]
fn the_sweep_hand_visits_every_session_in_bounded_steps() {
    let now = Timestamp::from_millis(1_000);
    let limits = Limits {
        bytes: usize::MAX,
        sessions: usize::MAX,
    };
    let mut shard = Shard::new();
    let mut rng = Rng(7);
    // Sessions expiring at scattered times, some used again and again.
    for n in 0..2000 {
        let expires = Timestamp::from_millis(1_001 + u64::from(n % 50));
        let record = Record::new(now, expires);
        assert!(shard.create(&key_in(0, n), &record, now, limits).done);
        if rng.below(4) == 0 {
            let again = key_in(0, u32::try_from(rng.below(2000)).expect("small"));
            shard.load(&again, now);
        }
    }
    // All expired now: each create removes at most SWEEP_STEP of them, and a pass over the
    // shard takes about as many creates as there are sessions divided by SWEEP_STEP.
    let later = Timestamp::from_millis(2_000);
    let live = Record::new(later, Timestamp::from_millis(u64::MAX));
    let mut creates = 0;
    while shard.len() > creates {
        let before = shard.len();
        let key = key_in(1, u32::try_from(creates).expect("small"));
        assert!(shard.create(&key, &live, later, limits).done);
        creates += 1;
        assert!(before + 1 - shard.len() <= SWEEP_STEP);
        assert!(
            creates < 2 * 2000 / SWEEP_STEP,
            "{creates} creates, {} held",
            shard.len()
        );
    }
    shard.order();
}

/// A record like [`record`], bound to `subject`.
fn bound(now: Timestamp, ttl: Duration, subject: &str) -> Record {
    let mut record = record(now, ttl, 0);
    let binding = crate::subject::Binding::new(subject, Default::default(), now).expect("bind");
    record.binding = Some(Box::new(binding));
    record
}

/// The subject lists of the whole store.
fn subjects_listed(store: &MemoryStore) -> usize {
    let shards = store.inner.shards.iter();
    shards.map(|shard| lock(shard).subjects_listed()).sum()
}

/// Entries per subject go with their sessions: deleted, expired and swept, evicted, or saved
/// unbound; nothing is left behind.
#[test]
fn subject_lists_never_outlive_their_sessions() {
    block_on(async {
        let clock = ManualClock::new(Timestamp::from_millis(1_000_000));
        // One session per shard, so that a second create in a shard evicts the first.
        let store = MemoryStore::with_max_sessions(16).clock(clock.clone());
        let now = clock.now();
        let (deleted, expiring, evicted, saved) =
            (key_in(0, 1), key_in(1, 1), key_in(2, 1), key_in(3, 1));
        for (key, subject) in [(deleted, "a"), (evicted, "c"), (saved, "d")] {
            assert!(
                store
                    .create(&key, &bound(now, HOUR, subject))
                    .await
                    .expect("create")
            );
        }
        let short = bound(now, Duration::from_secs(1), "b");
        assert!(store.create(&expiring, &short).await.expect("create"));
        assert_eq!(subjects_listed(&store), 4);
        assert_eq!(store.list_subject("a").await.expect("list").len(), 1);

        assert!(store.delete(&deleted).await.expect("delete"));
        clock.advance(Duration::from_secs(2));
        assert_eq!(store.sweep(), 1);
        assert!(
            store
                .create(&key_in(2, 2), &record(now, HOUR, 0))
                .await
                .expect("create")
        );
        assert!(
            store
                .save(&saved, &record(now, HOUR, 0))
                .await
                .expect("save")
        );
        assert_eq!(subjects_listed(&store), 0, "an entry outlived its session");
        for subject in ["a", "b", "c", "d"] {
            assert!(store.list_subject(subject).await.expect("list").is_empty());
        }
    });
}

#[test]
fn kept_records_hold_values_of_their_own() {
    use crate::store::{pack_values, unpack_shared};
    use crate::value::SharedText;

    block_on(async {
        let now = Timestamp::from_millis(1_000);
        let store = MemoryStore::new().clock(ManualClock::new(now));
        let text = SharedText::from(pack_values([("a", "1"), ("b", "\"two\"")]));
        let mut shared = Record::new(now, now.saturating_add(HOUR));
        for (name, value) in unpack_shared(&text).expect("a pack") {
            shared.data.insert(name.to_owned(), value);
        }
        let owns_all = |record: Option<Record>| {
            let record = record.expect("the record");
            assert_eq!(record.data, shared.data);
            record.data.values().all(|value| !value.is_shared())
        };
        let (created, saved) = (key_in(0, 1), key_in(0, 2));
        assert!(store.create(&created, &shared).await.expect("create"));
        assert!(
            owns_all(store.load(&created).await.expect("load")),
            "create"
        );
        let plain = record(now, HOUR, 0);
        assert!(store.create(&saved, &plain).await.expect("create"));
        assert!(store.save(&saved, &shared).await.expect("save"));
        assert!(owns_all(store.load(&saved).await.expect("load")), "save");
    });
}
