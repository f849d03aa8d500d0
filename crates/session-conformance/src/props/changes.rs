//! Strategies for key-level change sets.
//!
//! Disjoint ones with an order to apply them in and the data they must give, and two that write one
//! key.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::collection::{btree_set, vec};
use proptest::prelude::*;
use session_core::store::{Changes, Clock, Record, SystemClock, Timestamp};
use session_core::{Lifetime, Value};

use super::values::{data, key, lifetime, timestamp, value};

/// Change sets from concurrent requests on one session, each owning keys no other set writes.
///
/// With an order to apply them in and the data every order must give: what [`disjoint_changes`]
/// generates.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DisjointChanges {
    /// The stored record the sets apply to.
    pub base: Record,
    /// One to five change sets.
    ///
    /// Each writes or removes its own keys one or more times (the last write of a key wins within a
    /// set), interleaved with its other keys' writes; none clears.
    pub sets: Vec<Changes>,
    /// A permutation of the sets' indexes: the order to apply them in.
    pub order: Vec<usize>,
    /// The model: the data after every set is applied, in any order.
    pub expected: BTreeMap<String, Value>,
}

impl DisjointChanges {
    /// The same changes made storable.
    ///
    /// The base record expires an hour from now, and set `i` an hour and `i` milliseconds from now.
    /// Everything else (the data, the other timestamps, the lifetimes) stays as generated.
    pub fn live(mut self) -> Self {
        let soon = an_hour_from_now();
        self.base.expires = soon;
        for (i, set) in self.sets.iter_mut().enumerate() {
            set.expires = soon.saturating_add(Duration::from_millis(i as u64));
        }
        self
    }

    /// The base record with the sets applied by [`Changes::apply_to`] in `order`.
    ///
    /// `order` holds indexes into [`sets`](Self::sets).
    pub fn apply_in(&self, order: &[usize]) -> Record {
        apply_in_order(&self.base, &self.sets, order)
    }
}

/// Disjoint change sets on an arbitrary record ([`DisjointChanges`]).
///
/// A base of at most six [`key`]s; one to five sets owning together at most ten keys (often some of
/// the base's, and arbitrary ones), each written one to three times with a [`value`] or a removal;
/// arbitrary `last_active`, `expires` and lifetime changes (they are not data); a random order.
///
/// Its timestamps are arbitrary: use [`DisjointChanges::live`] before giving it to a store.
pub fn disjoint_changes() -> impl Strategy<Value = DisjointChanges> {
    (base_record(), 1usize..=5)
        .prop_flat_map(|(base, n)| {
            let owned = btree_set(key(), 0..10).prop_flat_map(move |keys| {
                let k = keys.len();
                (
                    Just(keys.into_iter().collect::<Vec<_>>()),
                    vec(0..n, k),
                    vec(vec(proptest::option::of(value()), 1..=3), k),
                )
            });
            let meta = vec(
                (timestamp(), timestamp(), proptest::option::of(lifetime())),
                n,
            );
            let order = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
            (Just(base), owned, meta, order, any::<u64>())
        })
        .prop_map(|(base, (keys, owners, writes), meta, order, seed)| {
            let sets = interleave(&keys, &owners, &writes, meta, seed);
            let mut expected = base.data.clone();
            for (key, writes) in keys.iter().zip(&writes) {
                match writes.last().expect("one write at least") {
                    Some(value) => expected.insert(key.clone(), value.clone()),
                    None => expected.remove(key),
                };
            }
            DisjointChanges {
                base,
                sets,
                order,
                expected,
            }
        })
}

/// The change sets, built from the keys `owners` gives each set.
///
/// Set `i` gets the writes of every key `owners` gives it, interleaved by pseudo-random ranks drawn
/// from `seed` (the writes of one key keep their order), and its `last_active`, `expires` and
/// lifetime change from `meta[i]`.
fn interleave(
    keys: &[String],
    owners: &[usize],
    writes: &[Vec<Option<Value>>],
    meta: Vec<(Timestamp, Timestamp, Option<Option<Lifetime>>)>,
    seed: u64,
) -> Vec<Changes> {
    let mut ranked: Vec<Vec<(u64, String, Option<Value>)>> = vec![Vec::new(); meta.len()];
    let mut rank = seed;
    for ((key, &owner), writes) in keys.iter().zip(owners).zip(writes) {
        let mut ranks: Vec<u64> = writes
            .iter()
            .map(|_| {
                rank = rank
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                rank >> 16
            })
            .collect();
        ranks.sort_unstable();
        for (rank, write) in ranks.into_iter().zip(writes) {
            ranked[owner].push((rank, key.clone(), write.clone()));
        }
    }
    ranked
        .into_iter()
        .zip(meta)
        .map(|(mut writes, (last_active, expires, lifetime))| {
            writes.sort_by_key(|(rank, _, _)| *rank);
            let mut changes = Changes::touch(last_active, expires);
            changes.updates = writes.into_iter().map(|(_, k, v)| (k, v)).collect();
            changes.lifetime = lifetime;
            changes
        })
        .collect()
}

/// Two change sets that write one key differently: what [`same_key_writes`] generates.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SameKeyWrites {
    /// The stored record both sets apply to.
    pub base: Record,
    /// The first set: writes `key` to `values.0`, and a key of its own.
    pub first: Changes,
    /// The second set: writes `key` to `values.1`, and a key of its own.
    pub second: Changes,
    /// The key both sets write.
    pub key: String,
    /// What each set writes to `key`: two different values, or a value and a removal.
    pub values: (Option<Value>, Option<Value>),
}

impl SameKeyWrites {
    /// The same writes made storable: the base record and both sets expire an hour from now.
    pub fn live(mut self) -> Self {
        let soon = an_hour_from_now();
        self.base.expires = soon;
        self.first.expires = soon;
        self.second.expires = soon;
        self
    }

    /// The base record with `first` then `second` applied by [`Changes::apply_to`].
    ///
    /// The other way round when `second_first`.
    pub fn apply(&self, second_first: bool) -> Record {
        let sets = [self.first.clone(), self.second.clone()];
        let order = if second_first { [1, 0] } else { [0, 1] };
        apply_in_order(&self.base, &sets, &order)
    }
}

/// Two change sets writing one arbitrary [`key`] of an arbitrary record ([`SameKeyWrites`]).
///
/// They write it to two different [`value`]s, or one to a value and the other removing it (either
/// first). Each also sets a key of its own; the two orders differ in the shared key only.
///
/// Its timestamps are arbitrary: use [`SameKeyWrites::live`] before giving it to a store.
pub fn same_key_writes() -> impl Strategy<Value = SameKeyWrites> {
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
            let write = |value: &Option<Value>, own: &str| {
                let mut changes = Changes::touch(base.last_active, base.expires);
                let own_value = Value::from_serialize(own).expect("session-conformance: JSON");
                changes.updates = vec![
                    (format!("{key}\u{0}{own}"), Some(own_value)),
                    (key.clone(), value.clone()),
                ];
                changes
            };
            Some(SameKeyWrites {
                first: write(&values.0, "first"),
                second: write(&values.1, "second"),
                base,
                key,
                values,
            })
        })
}

/// A record of at most six arbitrary keys and arbitrary `created` and `expires` times.
fn base_record() -> impl Strategy<Value = Record> {
    (data(6), timestamp(), timestamp()).prop_map(|(data, created, expires)| {
        let mut record = Record::new(created, expires);
        record.data = data;
        record
    })
}

/// `base` with `sets` applied by [`Changes::apply_to`] in `order`.
fn apply_in_order(base: &Record, sets: &[Changes], order: &[usize]) -> Record {
    let mut record = base.clone();
    for &i in order {
        sets[i].apply_to(&mut record);
    }
    record
}

/// An hour from now on the system clock.
fn an_hour_from_now() -> Timestamp {
    SystemClock.now().saturating_add(Duration::from_secs(3600))
}
