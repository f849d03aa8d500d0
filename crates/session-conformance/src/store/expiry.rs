//! Expiry: a store never returns an expired record, and treats one as absent.

use serde_json::json;
use session_core::store::Store;

use crate::check::Contract;
use crate::fixtures::{expired_record, fresh_key, live_record};

/// A record whose expiry has passed is never loaded.
///
/// The record is written with `create` (the engine can create a record whose absolute lifetime
/// ran out meanwhile, so a store must accept one); the store may drop it at once.
pub(super) async fn never_loaded<S: Store>(store: S) -> Contract {
    let c = Contract::store("an expired record is never loaded");
    let key = fresh_key();
    c.ok(
        store.create(&key, &expired_record()).await,
        "create of an already expired record",
    );
    let found = c.ok(store.load(&key).await, "load");
    c.expect_none(found, "a record that expired an hour ago");
    c
}

/// `save`, `apply`, `touch` and `delete` treat an expired record as absent.
pub(super) async fn not_updated<S: Store>(store: S) -> Contract {
    let c = Contract::store("an expired record is treated as absent");
    let key = fresh_key();
    c.ok(
        store.create(&key, &expired_record()).await,
        "create of an already expired record",
    );
    super::refuses_updates(c, &store, &key, "to an expired record").await;
    let deleted = c.ok(store.delete(&key).await, "delete");
    c.ensure(
        !deleted,
        "delete of an expired record returned true (only a live record counts)",
    );
    c
}

/// `create` over an expired record succeeds and stores the new record.
pub(super) async fn create_replaces_expired<S: Store>(store: S) -> Contract {
    let c = Contract::store("create replaces an expired record");
    let key = fresh_key();
    c.ok(
        store.create(&key, &expired_record()).await,
        "create of an already expired record",
    );
    let fresh = live_record(&[("user", json!("new owner"))]);
    let created = c.ok(store.create(&key, &fresh).await, "create");
    c.ensure(
        created,
        "create over an expired record returned false (an expired record is no collision)",
    );
    let found = c.ok(store.load(&key).await, "load");
    c.expect_record(found, &fresh, "after create over an expired record");
    c
}
