//! The store property: [`check_store_changes`].

use std::cell::Cell;
use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::fmt::Debug;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestError, TestRunner};
use session_core::Value;
use session_core::store::{Key, Record, Store, Timestamp};
use tokio::sync::Barrier;

use super::changes::{DisjointChanges, SameKeyWrites, disjoint_changes, same_key_writes};
use super::runtime;
use crate::Report;
use crate::check::{Contract, chain, record_diff};
use crate::fixtures::fresh_key;

/// The property's parts, as listed in the [`Report`].
const IN_ANY_ORDER: &str = "disjoint change sets applied in any order give the model's record";
const CONCURRENTLY: &str = "disjoint change sets applied concurrently give the model's data";
const LATER_WINS: &str = "of two writes to one key, the later wins";

/// Checks the key-level change property of stores built by `make`.
///
/// Runs `cases` generated cases for each of its parts, and panics with the smallest failing case
/// found.
///
/// Each case calls `make` for a store of its own and uses fresh random keys (so `make` may return
/// clones of one store sharing a backend), and every record it writes expires within an hour.
///
/// # What is checked
///
/// - **Applied in any order**: [`disjoint_changes`](super::disjoint_changes) (change sets from
///   concurrent requests, each owning keys the others do not write, on a record of arbitrary
///   keys and values), created and then applied with `apply` one after another in a random
///   order: the stored record is exactly the model's (the data every order must give, and the
///   timestamps and lifetime of [`Changes::apply_to`](session_core::store::Changes::apply_to)).
/// - **Applied concurrently** (only if the store claims
///   [`applies_atomically`](Store::applies_atomically)): the same sets, each applied by a Tokio
///   task of its own, released together: the stored data is the model's. A store that does not
///   claim atomicity skips this part, and the [`Report`] lists it under
///   [`skipped`](Report::skipped).
/// - **The later write wins**: [`same_key_writes`](super::same_key_writes) (two change sets
///   writing one key differently, or one removing it), applied in both orders: each time the
///   stored record is the model's, so the later write of the key is the one kept.
///
/// # Runtime
///
/// Unlike the kit's `async` functions, this one runs on the kit's own multi-thread
/// [`runtime`](super::runtime) (proptest's cases are synchronous): call it from a plain `#[test]`,
/// not from inside a Tokio runtime.
///
/// ```
/// use session_conformance::props::check_store_changes;
/// use session_core::MemoryStore;
///
/// // In a test: #[test] fn key_level_changes() { ... }
/// let report = check_store_changes(MemoryStore::default, 16);
/// assert!(report.skipped().is_empty(), "MemoryStore claims atomic applies");
/// ```
///
/// # Panics
///
/// When a case fails, with a message such as `session-conformance: store property "of two writes
/// to one key, the later wins" failed: ...` followed by the smallest failing case proptest found;
/// when called from inside a Tokio runtime.
pub fn check_store_changes<S: Store, F: Fn() -> S>(make: F, cases: u32) -> Report {
    if tokio::runtime::Handle::try_current().is_ok() {
        Contract::property(IN_ANY_ORDER).fail(
            "check_store_changes starts its own Tokio runtime: call it from a plain #[test], \
             not from inside a runtime",
        );
    }
    let mut report = Report::default();
    let atomic = make().applies_atomically();
    let failed = &Cell::new(IN_ANY_ORDER);
    let disjoint = disjoint_changes().prop_map(DisjointChanges::live);
    let result = runner(cases).run(&disjoint, |changes| {
        let store = Arc::new(make());
        runtime().block_on(async {
            let fails = |name| move |_: &TestCaseError| failed.set(name);
            in_any_order(&*store, &changes)
                .await
                .inspect_err(fails(IN_ANY_ORDER))?;
            if atomic {
                concurrently(&store, &changes)
                    .await
                    .inspect_err(fails(CONCURRENTLY))?;
            }
            Ok(())
        })
    });
    passed(result, failed.get());
    report.pass(Contract::property(IN_ANY_ORDER));
    if atomic {
        report.pass(Contract::property(CONCURRENTLY));
    } else {
        report.skip(
            CONCURRENTLY,
            "the store does not claim applies_atomically()",
        );
    }
    let writes = same_key_writes().prop_map(SameKeyWrites::live);
    let result = runner(cases).run(&writes, |writes| {
        let store = make();
        runtime().block_on(later_wins(&store, &writes))
    });
    passed(result, LATER_WINS);
    report.pass(Contract::property(LATER_WINS));
    report
}

/// A runner of `cases` cases that saves no failures to files (the panic shows the case).
fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Fails the property `name` unless the run passed.
#[track_caller]
fn passed<T: Debug>(result: Result<(), TestError<T>>, name: &'static str) {
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, case)) => Contract::property(name).fail(format_args!(
            "{reason}\nthe smallest failing case found: {case:#?}"
        )),
        Err(TestError::Abort(reason)) => {
            Contract::property(name).fail(format_args!("proptest gave up: {reason}"))
        }
    }
}

/// The value of a store call, or a failed case naming the operation and the error's causes.
fn ok<T, E: StdError>(result: Result<T, E>, operation: &str) -> Result<T, TestCaseError> {
    result.map_err(|error| {
        TestCaseError::fail(format!("{operation} returned an error: {}", chain(&error)))
    })
}

/// Creates `base` under a fresh key; the key.
async fn create(store: &impl Store, base: &Record) -> Result<Key, TestCaseError> {
    let key = fresh_key();
    let created = ok(store.create(&key, base).await, "create")?;
    prop_assert!(created, "create of a fresh key returned false");
    Ok(key)
}

/// The record stored under `key`, which must be there.
async fn load(store: &impl Store, key: &Key) -> Result<Record, TestCaseError> {
    match ok(store.load(key).await, "load")? {
        Some(record) => Ok(record),
        None => Err(TestCaseError::fail("load returned None after the applies")),
    }
}

/// The sets applied one after another in the case's order: the stored record is the model's.
async fn in_any_order(store: &impl Store, changes: &DisjointChanges) -> Result<(), TestCaseError> {
    let key = create(store, &changes.base).await?;
    for &i in &changes.order {
        let applied = ok(store.apply(&key, &changes.sets[i]).await, "apply")?;
        prop_assert!(
            applied,
            "apply of set {} to a live record returned false",
            i
        );
    }
    let stored = load(store, &key).await?;
    let what = format!("applied one after another in the order {:?}", changes.order);
    same_data(&stored.data, &changes.expected, &what)?;
    same_record(&stored, &changes.apply_in(&changes.order), &what)
}

/// The sets applied by one task each, released together: the stored data is the model's.
async fn concurrently<S: Store>(
    store: &Arc<S>,
    changes: &DisjointChanges,
) -> Result<(), TestCaseError> {
    let key = create(&**store, &changes.base).await?;
    let start = Arc::new(Barrier::new(changes.sets.len()));
    let tasks: Vec<_> = changes
        .order
        .iter()
        .map(|&i| {
            let (store, start) = (Arc::clone(store), Arc::clone(&start));
            let set = changes.sets[i].clone();
            tokio::spawn(async move {
                start.wait().await;
                (i, store.apply(&key, &set).await)
            })
        })
        .collect();
    for task in tasks {
        let (i, result) = task
            .await
            .map_err(|error| TestCaseError::fail(format!("an apply task failed: {error}")))?;
        let applied = ok(result, "apply")?;
        prop_assert!(applied, "concurrent apply of set {} returned false", i);
    }
    let stored = load(&**store, &key).await?;
    same_data(&stored.data, &changes.expected, "applied concurrently")
}

/// The two writes applied in both orders.
///
/// Each time the stored record is the model's, and the later write of the shared key wins.
async fn later_wins(store: &impl Store, writes: &SameKeyWrites) -> Result<(), TestCaseError> {
    let mut stored = Vec::new();
    for (second_first, later) in [(false, &writes.values.1), (true, &writes.values.0)] {
        let key = create(store, &writes.base).await?;
        let sets = [&writes.first, &writes.second];
        let order = if second_first { [1, 0] } else { [0, 1] };
        for set in order.map(|i| sets[i]) {
            let applied = ok(store.apply(&key, set).await, "apply")?;
            prop_assert!(applied, "apply to a live record returned false");
        }
        let record = load(store, &key).await?;
        let what = if second_first {
            "second, then first"
        } else {
            "first, then second"
        };
        prop_assert_eq!(record.data.get(&writes.key), later.as_ref(), "{}", what);
        same_record(&record, &writes.apply(second_first), what)?;
        stored.push(record.data);
    }
    prop_assert_ne!(&stored[0], &stored[1], "both orders gave the same data");
    Ok(())
}

/// Fails unless `found` is `expected`, naming the keys that differ.
fn same_data(
    found: &BTreeMap<String, Value>,
    expected: &BTreeMap<String, Value>,
    what: &str,
) -> Result<(), TestCaseError> {
    if found == expected {
        return Ok(());
    }
    let record = |data: &BTreeMap<String, Value>| {
        let mut record = Record::new(Timestamp::from_millis(0), Timestamp::from_millis(0));
        record.data = data.clone();
        record
    };
    let diff = record_diff(&record(found), &record(expected));
    Err(TestCaseError::fail(format!(
        "{what}: the stored data is not the model's: {diff}"
    )))
}

/// Fails unless `found` is `expected` (the model, by `Changes::apply_to`), naming what differs.
fn same_record(found: &Record, expected: &Record, what: &str) -> Result<(), TestCaseError> {
    if found == expected {
        return Ok(());
    }
    let diff = record_diff(found, expected);
    Err(TestCaseError::fail(format!(
        "{what}: the stored record is not Changes::apply_to's: {diff}"
    )))
}
