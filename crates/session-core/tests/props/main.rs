//! Property tests (proptest): codec round trips and size limits, key-level change sets on
//! `Changes::apply_to` and `MemoryStore::apply`, id schemes and `Key` hex, and ids through the
//! engine with `ParamState`.

mod changes;
mod codec;
mod ids;

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::Value as Json;
use session_core::{Lifetime, Record, Timestamp, Value};

/// A multi-thread Tokio runtime shared by the async properties (two workers: concurrent applies
/// really run in parallel).
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

/// Arbitrary text: any `char` (control characters, quotes, backslashes, surrogate-free unicode).
fn text(max: usize) -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..=max).prop_map(String::from_iter)
}

/// A session key: empty, arbitrary unicode, quotes, backslashes and control characters.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(String::new()),
        4 => text(12),
        2 => "[\"\\\\\\x00-\\x1f\\x7f ]{1,4}",
        2 => "\\PC{1,8}",
        2 => "[a-f]{1,2}",
    ]
}

/// A finite float, extremes and signed zero included.
fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>().prop_filter("finite", |f| f.is_finite()),
        1 => prop::sample::select(vec![
            0.0,
            -0.0,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            f64::EPSILON,
            5e-324,
            0.1,
            1e300,
        ]),
    ]
}

/// An arbitrary JSON value: null, bools, integers (i64 and u64 extremes included), finite floats,
/// strings with any unicode, and arrays and objects of those, nested.
fn json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<u64>().prop_map(Json::from),
        prop::sample::select(vec![i64::MIN, i64::MIN + 1, -1, 0, i64::MAX]).prop_map(Json::from),
        prop::sample::select(vec![u64::MAX, u64::MAX - 1, 1 << 53, (1 << 53) + 1])
            .prop_map(Json::from),
        finite_f64().prop_map(Json::from),
        text(16).prop_map(Json::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Json::Array),
            btree_map(key(), inner, 0..6).prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}

/// A session value: an arbitrary JSON value's text.
fn value() -> impl Strategy<Value = Value> {
    json().prop_map(|json| Value::from_serialize(&json).expect("JSON serializes"))
}

/// A timestamp: 0, the far future (`u64::MAX`-ish), anything, or a plausible date.
fn timestamp() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        1 => prop::sample::select(vec![0, 1, u64::MAX, u64::MAX - 1, i64::MAX as u64]),
        2 => any::<u64>(),
        2 => 0..=4_102_444_800_000u64,
    ]
    .prop_map(Timestamp::from_millis)
}

/// An optional per-session lifetime, browser-session or persistent, any idle timeout.
fn lifetime() -> impl Strategy<Value = Option<Lifetime>> {
    let secs = prop_oneof![
        Just(0u64),
        Just(u64::MAX),
        any::<u64>(),
        1..=86_400u64 * 365
    ];
    proptest::option::of((secs, any::<bool>()).prop_map(|(secs, persistent)| {
        let idle = Duration::from_secs(secs);
        if persistent {
            Lifetime::persistent(idle)
        } else {
            Lifetime::browser_session(idle)
        }
    }))
}

/// Session data: arbitrary keys to arbitrary values.
fn data(max: usize) -> impl Strategy<Value = BTreeMap<String, Value>> {
    btree_map(key(), value(), 0..=max)
}

/// An arbitrary record (`Record` is non-exhaustive: built with `Record::new`, then its fields set).
fn record() -> impl Strategy<Value = Record> {
    (data(8), timestamp(), timestamp(), timestamp(), lifetime()).prop_map(
        |(data, created, last_active, expires, lifetime)| {
            let mut record = Record::new(created, expires);
            record.data = data;
            record.last_active = last_active;
            record.lifetime = lifetime;
            record
        },
    )
}
