//! `apply` and `touch`: key-level changes and expiry extensions.

use std::time::Duration;

use serde_json::json;
use session_core::Lifetime;
use session_core::store::{Changes, Record, Store};

use crate::check::Contract;
use crate::fixtures::{HOUR, fresh_key, live_record, now, value};

/// Changes that move `last_active` to now and `expires` an hour past `record`'s.
fn changes_for(record: &Record) -> Changes {
    Changes::touch(now(), record.expires.saturating_add(HOUR))
}

/// Stores `record` under a fresh key, applies `changes`, and checks the result.
///
/// The result must be exactly `record` with the changes applied.
async fn apply_and_compare<S: Store>(c: Contract, store: &S, record: &Record, changes: &Changes) {
    let key = fresh_key();
    c.ensure(
        c.ok(store.create(&key, record).await, "create"),
        "create of a new key returned false",
    );
    c.ensure(
        c.ok(store.apply(&key, changes).await, "apply"),
        "apply to a live record returned false",
    );
    let mut expected = record.clone();
    changes.apply_to(&mut expected);
    let found = c.ok(store.load(&key).await, "load");
    c.expect_record(found, &expected, "after apply");
}

/// `apply` sets and removes single keys, leaves the others alone, and updates the timestamps.
pub(super) async fn apply_keys<S: Store>(store: S) -> Contract {
    let c = Contract::store("apply changes keys one by one");
    let record = live_record(&[
        ("kept", json!("untouched")),
        ("replaced", json!(1)),
        ("removed", json!({"gone": true})),
    ]);
    let mut changes = changes_for(&record);
    changes.updates = vec![
        ("replaced".to_owned(), Some(value(json!(2)))),
        ("removed".to_owned(), None),
        ("added".to_owned(), Some(value(json!(["new", "value"])))),
        ("never-there".to_owned(), None),
    ];
    apply_and_compare(c, &store, &record, &changes).await;
    c
}

/// `apply` with `clear` removes every stored key before applying its updates.
pub(super) async fn apply_clear<S: Store>(store: S) -> Contract {
    let c = Contract::store("apply with clear drops every key first");
    let record = live_record(&[("a", json!(1)), ("b", json!(2))]);
    let mut changes = changes_for(&record);
    changes.clear = true;
    changes.updates = vec![("c".to_owned(), Some(value(json!(3))))];
    apply_and_compare(c, &store, &record, &changes).await;
    let mut changes = changes_for(&record);
    changes.clear = true;
    apply_and_compare(c, &store, &record, &changes).await;
    c
}

/// `apply` sets a session's own lifetime, keeps it when not asked, and resets it.
pub(super) async fn apply_lifetime<S: Store>(store: S) -> Contract {
    let c = Contract::store("apply sets and resets the session's own lifetime");
    let mut record = live_record(&[("user", json!("alice"))]);
    let mut changes = changes_for(&record);
    changes.lifetime = Some(Some(Lifetime::persistent(30 * 24 * HOUR)));
    apply_and_compare(c, &store, &record, &changes).await;

    record.lifetime = Some(Lifetime::browser_session(Duration::from_secs(600)));
    let mut changes = changes_for(&record);
    changes.updates = vec![("user".to_owned(), Some(value(json!("bob"))))];
    apply_and_compare(c, &store, &record, &changes).await;
    changes.lifetime = Some(None);
    apply_and_compare(c, &store, &record, &changes).await;
    c
}

/// `touch` moves `last_active` and `expires` and changes nothing else.
pub(super) async fn touch<S: Store>(store: S) -> Contract {
    let c = Contract::store("touch extends expiry without changing values");
    let key = fresh_key();
    let mut record = live_record(&[("user", json!("alice")), ("cart", json!([1, 2, 3]))]);
    record.lifetime = Some(Lifetime::persistent(30 * 24 * HOUR));
    c.ensure(
        c.ok(store.create(&key, &record).await, "create"),
        "create of a new key returned false",
    );
    let (last_active, expires) = (now(), record.expires.saturating_add(24 * HOUR));
    c.ensure(
        c.ok(store.touch(&key, last_active, expires).await, "touch"),
        "touch of a live record returned false",
    );
    let mut expected = record;
    expected.last_active = last_active;
    expected.expires = expires;
    let found = c.ok(store.load(&key).await, "load");
    c.expect_record(found, &expected, "after touch");
    c
}
