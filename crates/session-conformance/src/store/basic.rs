//! Load, create, save and delete: the four required methods.

use serde_json::json;
use session_core::store::Store;

use crate::check::Contract;
use crate::fixtures::{HOUR, fresh_key, live_record, rich_record};

/// `load` of a key never stored is `None`.
pub(super) async fn load_unknown<S: Store>(store: S) -> Contract {
    let c = Contract::store("load of an unknown key is None");
    let found = c.ok(store.load(&fresh_key()).await, "load");
    c.expect_none(found, "load of a key never stored");
    c
}

/// `create` stores the record exactly as given; records under different keys stay apart.
pub(super) async fn round_trip<S: Store>(store: S) -> Contract {
    let c = Contract::store("create then load round-trips the record");
    let (rich, empty) = (fresh_key(), fresh_key());
    let rich_record = rich_record();
    let empty_record = live_record(&[]);
    c.ensure(
        c.ok(store.create(&rich, &rich_record).await, "create"),
        "create of a new key returned false",
    );
    c.ensure(
        c.ok(store.create(&empty, &empty_record).await, "create"),
        "create of a new key returned false",
    );
    let found = c.ok(store.load(&rich).await, "load");
    c.expect_record(found, &rich_record, "a record holding many kinds of values");
    let found = c.ok(store.load(&empty).await, "load");
    c.expect_record(found, &empty_record, "a record holding no values");
    c
}

/// `create` on a key holding a live record returns `false` and keeps the stored record.
pub(super) async fn create_never_overwrites<S: Store>(store: S) -> Contract {
    let c = Contract::store("create never overwrites a live record");
    let key = fresh_key();
    let first = live_record(&[("user", json!("first"))]);
    let second = live_record(&[("user", json!("second")), ("admin", json!(true))]);
    c.ensure(
        c.ok(store.create(&key, &first).await, "create"),
        "create of a new key returned false",
    );
    let collided = c.ok(store.create(&key, &second).await, "create");
    c.ensure(
        !collided,
        "create on a key holding a live record returned true (a collision must return false)",
    );
    let found = c.ok(store.load(&key).await, "load");
    c.expect_record(found, &first, "after a colliding create");
    c
}

/// `save` replaces a live record as a whole.
pub(super) async fn save_replaces<S: Store>(store: S) -> Contract {
    let c = Contract::store("save replaces a live record");
    let key = fresh_key();
    let first = live_record(&[("user", json!("alice")), ("cart", json!([1, 2]))]);
    let mut second = live_record(&[("user", json!("bob"))]);
    second.created = first.created;
    second.expires = first.expires.saturating_add(HOUR);
    c.ensure(
        c.ok(store.create(&key, &first).await, "create"),
        "create of a new key returned false",
    );
    c.ensure(
        c.ok(store.save(&key, &second).await, "save"),
        "save of a live record returned false",
    );
    let found = c.ok(store.load(&key).await, "load");
    c.expect_record(found, &second, "after save");
    c
}

/// `save` of a key with no record returns `false` and writes nothing.
pub(super) async fn save_needs_a_record<S: Store>(store: S) -> Contract {
    let c = Contract::store("save of an absent key creates nothing");
    let key = fresh_key();
    let saved = c.ok(
        store
            .save(&key, &live_record(&[("user", json!("ghost"))]))
            .await,
        "save",
    );
    c.ensure(!saved, "save of a key never stored returned true");
    let found = c.ok(store.load(&key).await, "load");
    c.expect_none(found, "after save of an absent key");
    c
}

/// `delete` returns `true` when it removed a live record, then `false`; the record is gone.
pub(super) async fn delete_reports<S: Store>(store: S) -> Contract {
    let c = Contract::store("delete reports whether a live record was removed");
    let key = fresh_key();
    c.ok(
        store
            .create(&key, &live_record(&[("user", json!("alice"))]))
            .await,
        "create",
    );
    c.ensure(
        c.ok(store.delete(&key).await, "delete"),
        "delete of a live record returned false",
    );
    c.ensure(
        !c.ok(store.delete(&key).await, "delete"),
        "a second delete returned true",
    );
    c.ensure(
        !c.ok(store.delete(&fresh_key()).await, "delete"),
        "delete of a key never stored returned true",
    );
    let found = c.ok(store.load(&key).await, "load");
    c.expect_none(found, "after delete");
    c
}

/// After `delete`, `save`, `apply` and `touch` return `false` and the session stays gone.
pub(super) async fn no_resurrection<S: Store>(store: S) -> Contract {
    let c = Contract::store("no write brings a deleted session back");
    let key = fresh_key();
    let record = live_record(&[("user", json!("alice"))]);
    c.ok(store.create(&key, &record).await, "create");
    c.ok(store.delete(&key).await, "delete");
    super::refuses_updates(c, &store, &key, "after delete").await;
    c
}
