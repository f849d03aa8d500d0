//! Property tests (proptest): key-level change sets on `FileStore` (private temporary
//! directories, both built-in codecs). Change sets writing pairwise disjoint keys of one session
//! give the same data whatever the order they are applied in, one after another or from
//! concurrent tasks (each apply locks the session file); two writes of one key: the later wins.
//! Files are slow: few cases.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proptest::collection::{btree_map, btree_set, vec};
use proptest::prelude::*;
use session_core::{Changes, Clock, Key, Record, Store, SystemClock, Value};
use session_store_file::FileStore;

/// A multi-thread Tokio runtime shared by every case (two workers: the concurrent applies really
/// run in parallel).
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a Tokio runtime")
    })
}

/// A session key: arbitrary unicode (control characters included), or a short one that base
/// records and change sets share often.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => text(8),
        2 => "[a-f]{1,2}",
    ]
}

/// A session value: the JSON text of an arbitrary value of one of several types (the store sees
/// only text).
fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(|v| Value::from_serialize(&v)),
        any::<i64>().prop_map(|v| Value::from_serialize(&v)),
        any::<u64>().prop_map(|v| Value::from_serialize(&v)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|v| Value::from_serialize(&v)),
        text(8).prop_map(|v| Value::from_serialize(&v)),
        proptest::option::of(text(4)).prop_map(|v| Value::from_serialize(&v)),
        vec(text(4), 0..3).prop_map(|v| Value::from_serialize(&v)),
        btree_map(text(4), any::<i64>(), 0..3).prop_map(|v| Value::from_serialize(&v)),
    ]
    .prop_map(|v| v.expect("JSON serializes"))
}

/// Arbitrary text: any `char`, control characters included.
fn text(max: usize) -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..=max).prop_map(String::from_iter)
}

/// One base record, change sets owning pairwise disjoint keys (each may write a key several
/// times, the last write winning, and remove keys; none clears), an order to apply them in, and
/// the data every order must give.
#[derive(Clone, Debug)]
struct Scenario {
    base: Record,
    sets: Vec<Changes>,
    order: Vec<usize>,
    expected: BTreeMap<String, Value>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (btree_map(key(), value(), 0..6), 1usize..=5)
        .prop_flat_map(|(base, n)| {
            let owned = btree_set(key(), 0..10).prop_flat_map(move |keys| {
                let k = keys.len();
                (
                    Just(keys.into_iter().collect::<Vec<_>>()),
                    vec(0..n, k),
                    vec(vec(proptest::option::of(value()), 1..=3), k),
                )
            });
            let order = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
            (Just(base), Just(n), owned, order, vec(0u64..10_000, n))
        })
        .prop_map(|(base, n, (keys, owners, ops), order, later)| {
            let now = SystemClock.now();
            let mut record = Record::new(now, now.saturating_add(Duration::from_secs(3600)));
            record.data = base;
            let mut expected = record.data.clone();
            let mut updates: Vec<Vec<(String, Option<Value>)>> = vec![Vec::new(); n];
            // Each set writes its keys in turn, one write of each per round (interleaved); the
            // writes of one key keep their order.
            let rounds = ops.iter().map(Vec::len).max().unwrap_or(0);
            for round in 0..rounds {
                for ((key, owner), ops) in keys.iter().zip(&owners).zip(&ops) {
                    if let Some(op) = ops.get(round) {
                        updates[*owner].push((key.clone(), op.clone()));
                    }
                }
            }
            for (key, ops) in keys.iter().zip(&ops) {
                match ops.last().expect("one write at least") {
                    Some(value) => expected.insert(key.clone(), value.clone()),
                    None => expected.remove(key),
                };
            }
            let sets = updates
                .into_iter()
                .zip(later)
                .map(|(updates, later)| {
                    let expires = now
                        .saturating_add(Duration::from_secs(3600) + Duration::from_millis(later));
                    let mut changes = Changes::touch(now, expires);
                    changes.updates = updates;
                    changes
                })
                .collect();
            Scenario {
                base: record,
                sets,
                order,
                expected,
            }
        })
}

/// A fresh key for every use.
fn fresh_key() -> Key {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let mut digest = [0u8; 32];
    digest[..8].copy_from_slice(&NEXT.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    Key::from_digest(digest)
}

/// Applies the sets to `store` in the scenario's order, one after another; the data at the end.
async fn sequential(
    store: &impl Store,
    scenario: &Scenario,
) -> Result<BTreeMap<String, Value>, TestCaseError> {
    let key = fresh_key();
    prop_assert!(store.create(&key, &scenario.base).await.expect("create"));
    for &i in &scenario.order {
        prop_assert!(store.apply(&key, &scenario.sets[i]).await.expect("apply"));
    }
    Ok(store.load(&key).await.expect("load").expect("live").data)
}

/// Applies the sets to `store` from one task each, spawned in the scenario's order; the data at
/// the end.
async fn concurrent<S: Store + Clone>(
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
    Ok(store.load(&key).await.expect("load").expect("live").data)
}

/// Two writes of key `key` (different values, or a value and a removal), applied in both orders:
/// the later wins each time.
async fn later_write_wins(
    store: &impl Store,
    key: &str,
    first: Option<Value>,
    second: Option<Value>,
) -> Result<(), TestCaseError> {
    let now = SystemClock.now();
    let expires = now.saturating_add(Duration::from_secs(3600));
    let write = |value: &Option<Value>| {
        let mut changes = Changes::touch(now, expires);
        changes.updates = vec![(key.to_owned(), value.clone())];
        changes
    };
    let sets = [write(&first), write(&second)];
    let mut results = Vec::new();
    for (order, winner) in [([0, 1], &second), ([1, 0], &first)] {
        let id = fresh_key();
        let mut base = Record::new(now, expires);
        base.data
            .insert("other".into(), Value::from_serialize(&1).expect("json"));
        prop_assert!(store.create(&id, &base).await.expect("create"));
        for i in order {
            prop_assert!(store.apply(&id, &sets[i]).await.expect("apply"));
        }
        let stored = store.load(&id).await.expect("load").expect("live");
        prop_assert_eq!(stored.data.get(key), winner.as_ref());
        results.push(stored.data);
    }
    prop_assert_ne!(&results[0], &results[1]);
    Ok(())
}

/// A store on a new private temporary directory (removed when it is dropped), with the default
/// codec (bincode) or JSON.
fn store(json: bool) -> FileStore {
    let builder = FileStore::builder();
    let builder = if json { builder.json() } else { builder };
    builder.temporary().expect("a private directory")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// `FileStore::apply` of disjoint change sets: the modelled data in any order, sequential
    /// or concurrent.
    #[test]
    fn file_store_applies_disjoint_changes_in_any_order(scenario in scenario(), json in any::<bool>()) {
        let store = &store(json);
        runtime().block_on(async {
            prop_assert_eq!(&sequential(store, &scenario).await?, &scenario.expected);
            prop_assert_eq!(&concurrent(store, &scenario).await?, &scenario.expected);
            Ok(())
        })?;
    }

    /// `FileStore::apply` of two writes of one key: the later wins.
    #[test]
    fn file_store_keeps_the_later_write_of_one_key(
        (key, first, second) in (key(), proptest::option::of(value()), value())
            .prop_filter("two different writes", |(_, a, b)| a.as_ref() != Some(b)),
        json in any::<bool>(),
    ) {
        let store = &store(json);
        runtime().block_on(later_write_wins(store, &key, first, Some(second)))?;
    }
}
