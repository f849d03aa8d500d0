//! Keys, times and records the store checks use.

use std::time::Duration;

use serde_json::json;
use session_core::state::{HexIds, IdScheme};
use session_core::store::{
    Clock, Key, Record, SharedText, SystemClock, Timestamp, pack_values, unpack_shared,
};
use session_core::{Lifetime, Value};

/// One hour.
pub(crate) const HOUR: Duration = Duration::from_secs(60 * 60);

/// A random key, so that checks never meet each other's records, even in a shared backend.
pub(crate) fn fresh_key() -> Key {
    let hex = HexIds::new(32)
        .and_then(|ids| ids.generate())
        .unwrap_or_else(|error| {
            panic!("session-conformance: cannot generate a random key: {error}")
        });
    Key::from_hex(&hex)
        .unwrap_or_else(|| panic!("session-conformance: HexIds gave a malformed key"))
}

/// The current time on the system clock: the kit's times are all relative to it.
pub(crate) fn now() -> Timestamp {
    SystemClock.now()
}

/// `time - by`, stopping at the epoch.
pub(crate) fn before(time: Timestamp, by: Duration) -> Timestamp {
    let millis = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
    Timestamp::from_millis(time.as_millis().saturating_sub(millis))
}

/// A stored value.
pub(crate) fn value(json: serde_json::Value) -> Value {
    Value::from_serialize(&json).unwrap_or_else(|error| panic!("session-conformance: {error}"))
}

/// A live record (created ten seconds ago, expiring in an hour) holding `data`.
pub(crate) fn live_record(data: &[(&str, serde_json::Value)]) -> Record {
    let now = now();
    let mut record = Record::new(
        before(now, Duration::from_secs(10)),
        now.saturating_add(HOUR),
    );
    record.last_active = before(now, Duration::from_secs(1));
    for (key, json) in data {
        record.data.insert((*key).to_owned(), value(json.clone()));
    }
    record
}

/// A record that expired an hour ago.
pub(crate) fn expired_record() -> Record {
    let now = now();
    let mut record = Record::new(before(now, 2 * HOUR), before(now, HOUR));
    record
        .data
        .insert("user".to_owned(), value(json!("expired")));
    record
}

/// A live record holding every kind of value an application stores, with its own lifetime; its
/// values share one text, as a store that reads a pack of them makes them (see
/// [`SharedText`]): a store must keep them as it keeps any other.
pub(crate) fn rich_record() -> Record {
    let mut record = live_record(&[
        ("user", json!("alice")),
        ("counter", json!(42)),
        ("big", json!(u64::MAX)),
        ("negative", json!(i64::MIN)),
        ("ratio", json!(0.5)),
        ("flag", json!(true)),
        ("nothing", json!(null)),
        ("empty", json!("")),
        ("list", json!([1, "two", 3.5, null, false])),
        (
            "nested",
            json!({"cart": {"items": [{"sku": "A-1", "qty": 2}], "note": "gift"}, "tags": []}),
        ),
        ("unicode", json!("héllo wörld: 日本語, emoji 🎉, rtl עברית")),
        (
            "escapes",
            json!("quote \" backslash \\ newline \n tab \t nul \u{0}"),
        ),
        ("long", json!("x".repeat(4096))),
        ("ünïcödé kéy ✓", json!("a unicode key")),
        ("dotted.key/with:punctuation", json!(1)),
    ]);
    record.lifetime = Some(Lifetime::persistent(30 * 24 * HOUR));
    let text = SharedText::from(pack_values(
        record
            .data
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_json())),
    ));
    record.data = unpack_shared(&text)
        .expect("values pack_values packed")
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    record
}
