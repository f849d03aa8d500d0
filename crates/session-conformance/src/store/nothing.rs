//! The contracts of a store that keeps nothing ([`Expect::KeepsNothing`](crate::Expect)).

use serde_json::json;
use session_core::store::Store;

use crate::check::Contract;
use crate::fixtures::{fresh_key, live_record};

/// `create` says it stored the record, every time, so that the engine issues an id.
pub(super) async fn create_pretends<S: Store>(store: S) -> Contract {
    let c = Contract::store("create pretends to store");
    let key = fresh_key();
    let record = live_record(&[("user", json!("alice"))]);
    for attempt in ["a first", "a second"] {
        let created = c.ok(store.create(&key, &record).await, "create");
        c.ensure(
            created,
            format_args!("{attempt} create returned false: the engine would fail with IdCollision"),
        );
    }
    c
}

/// Nothing created is ever loaded.
pub(super) async fn nothing_loaded<S: Store>(store: S) -> Contract {
    let c = Contract::store("nothing created is ever loaded");
    let key = fresh_key();
    c.ok(
        store
            .create(&key, &live_record(&[("user", json!("alice"))]))
            .await,
        "create",
    );
    let found = c.ok(store.load(&key).await, "load");
    c.expect_none(found, "after create, in a store that keeps nothing");
    c
}

/// `save`, `apply`, `touch` and `delete` find nothing to update or remove.
pub(super) async fn nothing_updated<S: Store>(store: S) -> Contract {
    let c = Contract::store("nothing is updated or deleted");
    let key = fresh_key();
    let record = live_record(&[("user", json!("alice"))]);
    c.ok(store.create(&key, &record).await, "create");
    super::refuses_updates(c, &store, &key, "on a store that keeps nothing").await;
    c.ensure(
        !c.ok(store.delete(&key).await, "delete"),
        "delete returned true",
    );
    let found = c.ok(store.load(&key).await, "load");
    c.expect_none(
        found,
        "after save, apply and touch, in a store that keeps nothing",
    );
    c
}
