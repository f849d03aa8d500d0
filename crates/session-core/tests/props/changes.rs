//! Key-level change sets: concurrent requests writing disjoint keys of one session give the same
//! data whatever the order they are applied in (`Changes::apply_to`, `MemoryStore::apply`,
//! sequential and concurrent); two writes of the same key: the later wins.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proptest::collection::{btree_set, vec};
use proptest::prelude::*;
use session_core::{Changes, Clock, Key, Lifetime, MemoryStore, Record, Store, SystemClock, Value};

use super::{data, key, lifetime, runtime, timestamp, value};

/// One base record, change sets owning pairwise disjoint keys, an order to apply them in, and
/// the data every order must give.
#[derive(Clone, Debug)]
struct Scenario {
    base: Record,
    sets: Vec<Changes>,
    order: Vec<usize>,
    expected: BTreeMap<String, Value>,
}

/// Change sets for `base`: each key is owned by one set, which writes or removes it one or more
/// times (the last write wins within a set), interleaved with its other keys' writes. No set
/// clears; timestamps and lifetimes are arbitrary (they are not data).
fn scenario(base: Record) -> impl Strategy<Value = Scenario> {
    (1usize..=5)
        .prop_flat_map(move |n| {
            let owned = btree_set(key(), 0..10).prop_flat_map(move |keys| {
                let k = keys.len();
                (
                    Just(keys.into_iter().collect::<Vec<_>>()),
                    vec(0..n, k),
                    vec(vec(proptest::option::of(value()), 1..=3), k),
                )
            });
            let meta = vec((timestamp(), timestamp(), lifetime_change()), n);
            let order = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
            (
                Just(base.clone()),
                Just(n),
                owned,
                meta,
                order,
                any::<u64>(),
            )
        })
        .prop_map(|(base, n, (keys, owners, ops), meta, order, seed)| {
            let mut expected = base.data.clone();
            // Every write of every set, tagged with a pseudo-random rank to interleave the keys of
            // one set; the writes of one key keep their order.
            let mut writes: Vec<Vec<(u64, String, Option<Value>)>> = vec![Vec::new(); n];
            let mut rank = seed;
            for ((key, owner), ops) in keys.iter().zip(&owners).zip(&ops) {
                match ops.last().expect("one write at least") {
                    Some(value) => expected.insert(key.clone(), value.clone()),
                    None => expected.remove(key),
                };
                let mut ranks: Vec<u64> = ops
                    .iter()
                    .map(|_| {
                        rank = rank
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        rank >> 16
                    })
                    .collect();
                ranks.sort_unstable();
                for (rank, op) in ranks.into_iter().zip(ops) {
                    writes[*owner].push((rank, key.clone(), op.clone()));
                }
            }
            let sets = writes
                .into_iter()
                .zip(meta)
                .map(|(mut writes, (last_active, expires, lifetime))| {
                    writes.sort_by_key(|(rank, _, _)| *rank);
                    let mut changes = Changes::touch(last_active, expires);
                    changes.updates = writes.into_iter().map(|(_, k, v)| (k, v)).collect();
                    changes.lifetime = lifetime;
                    changes
                })
                .collect();
            Scenario {
                base,
                sets,
                order,
                expected,
            }
        })
}

fn lifetime_change() -> impl Strategy<Value = Option<Option<Lifetime>>> {
    proptest::option::of(lifetime())
}

/// A base record with keys that change sets are likely to touch too.
fn base_record() -> impl Strategy<Value = Record> {
    (data(6), timestamp(), timestamp()).prop_map(|(data, created, expires)| {
        let mut record = Record::new(created, expires);
        record.data = data;
        record
    })
}

fn any_scenario() -> impl Strategy<Value = Scenario> {
    base_record().prop_flat_map(scenario)
}

/// The scenario made storable: every expiry an hour or more ahead of now.
fn live(mut scenario: Scenario) -> Scenario {
    let soon = SystemClock.now().saturating_add(Duration::from_secs(3600));
    scenario.base.expires = soon;
    for (i, set) in scenario.sets.iter_mut().enumerate() {
        set.expires = soon.saturating_add(Duration::from_millis(i as u64));
    }
    scenario
}

/// A fresh key for every case, on a store shared by all cases.
fn fresh_key() -> Key {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let mut digest = [0u8; 32];
    digest[..8].copy_from_slice(&NEXT.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    Key::from_digest(digest)
}

/// Two change sets writing one key `key` (to two different values, or one a removal), each with
/// its own disjoint other keys.
#[derive(Clone, Debug)]
struct SameKey {
    base: Record,
    first: Changes,
    second: Changes,
    key: String,
    values: (Option<Value>, Option<Value>),
}

fn same_key() -> impl Strategy<Value = SameKey> {
    (
        base_record(),
        key(),
        proptest::option::of(value()),
        value(),
        any::<bool>(),
    )
        .prop_filter_map("two different writes", |(base, key, one, other, swap)| {
            let values = if swap {
                (Some(other), one)
            } else {
                (one, Some(other))
            };
            if values.0 == values.1 {
                return None;
            }
            let write = |value: &Option<Value>, extra: &str| {
                let mut changes = Changes::touch(base.last_active, base.expires);
                changes.updates = vec![
                    (
                        format!("{key}\u{0}{extra}"),
                        Some(Value::from_serialize(extra).expect("json")),
                    ),
                    (key.clone(), value.clone()),
                ];
                changes
            };
            Some(SameKey {
                first: write(&values.0, "first"),
                second: write(&values.1, "second"),
                base,
                key,
                values,
            })
        })
}

/// Applies `sets` in `order` to a copy of `base`.
fn apply_in_order(base: &Record, sets: &[Changes], order: &[usize]) -> Record {
    let mut record = base.clone();
    for &i in order {
        sets[i].apply_to(&mut record);
    }
    record
}

/// Applies the sets to a store in `order`, one after another; the data stored at the end.
async fn store_sequential(
    store: &impl Store,
    scenario: &Scenario,
) -> Result<BTreeMap<String, Value>, TestCaseError> {
    let key = fresh_key();
    prop_assert!(store.create(&key, &scenario.base).await.expect("create"));
    for &i in &scenario.order {
        prop_assert!(store.apply(&key, &scenario.sets[i]).await.expect("apply"));
    }
    let stored = store.load(&key).await.expect("load").expect("live");
    Ok(stored.data)
}

/// Applies the sets to a store from one task each, spawned in `order`; the data at the end.
async fn store_concurrent<S: Store + Clone>(
    store: &S,
    scenario: &Scenario,
) -> Result<BTreeMap<String, Value>, TestCaseError> {
    let key = fresh_key();
    prop_assert!(store.create(&key, &scenario.base).await.expect("create"));
    let tasks: Vec<_> = scenario
        .order
        .iter()
        .map(|&i| {
            let (store, changes) = (store.clone(), scenario.sets[i].clone());
            tokio::spawn(async move { store.apply(&key, &changes).await })
        })
        .collect();
    for task in tasks {
        prop_assert!(task.await.expect("task").expect("apply"));
    }
    let stored = store.load(&key).await.expect("load").expect("live");
    Ok(stored.data)
}

proptest! {
    /// Disjoint change sets give the modelled data in any order (`Changes::apply_to`).
    #[test]
    fn disjoint_changes_commute(scenario in any_scenario()) {
        let identity: Vec<usize> = (0..scenario.sets.len()).collect();
        let in_order = apply_in_order(&scenario.base, &scenario.sets, &identity);
        let shuffled = apply_in_order(&scenario.base, &scenario.sets, &scenario.order);
        prop_assert_eq!(&in_order.data, &scenario.expected);
        prop_assert_eq!(&shuffled.data, &scenario.expected);
        // Record-level fields: the last set applied wins.
        let last = &scenario.sets[*scenario.order.last().expect("one set at least")];
        prop_assert_eq!(shuffled.expires, last.expires);
        prop_assert_eq!(shuffled.last_active, last.last_active);
        prop_assert_eq!(shuffled.created, scenario.base.created);
    }

    /// Two sets writing the same key differently: the later wins, so the two orders differ.
    #[test]
    fn the_later_write_of_one_key_wins(case in same_key()) {
        let sets = [case.first.clone(), case.second.clone()];
        let one_two = apply_in_order(&case.base, &sets, &[0, 1]);
        let two_one = apply_in_order(&case.base, &sets, &[1, 0]);
        prop_assert_eq!(one_two.data.get(&case.key), case.values.1.as_ref());
        prop_assert_eq!(two_one.data.get(&case.key), case.values.0.as_ref());
        prop_assert_ne!(one_two.data, two_one.data);
    }

    /// `MemoryStore::apply`, one set after another in any order, then from concurrent tasks.
    #[test]
    fn memory_store_applies_disjoint_changes_in_any_order(scenario in any_scenario().prop_map(live)) {
        let store = MemoryStore::default();
        runtime().block_on(async {
            prop_assert_eq!(&store_sequential(&store, &scenario).await?, &scenario.expected);
            prop_assert_eq!(&store_concurrent(&store, &scenario).await?, &scenario.expected);
            Ok(())
        })?;
    }

    /// `MemoryStore::apply` of two writes of one key: the later wins.
    #[test]
    fn memory_store_keeps_the_later_write_of_one_key(case in same_key()) {
        let store = MemoryStore::default();
        let soon = SystemClock.now().saturating_add(Duration::from_secs(3600));
        runtime().block_on(async {
            for (order, winner) in [([0, 1], &case.values.1), ([1, 0], &case.values.0)] {
                let mut base = case.base.clone();
                base.expires = soon;
                let mut sets = [case.first.clone(), case.second.clone()];
                for set in &mut sets {
                    set.expires = soon;
                }
                let key = fresh_key();
                prop_assert!(store.create(&key, &base).await.expect("create"));
                for i in order {
                    prop_assert!(store.apply(&key, &sets[i]).await.expect("apply"));
                }
                let stored = store.load(&key).await.expect("load").expect("live");
                prop_assert_eq!(stored.data.get(&case.key), winner.as_ref());
            }
            Ok(())
        })?;
    }
}
