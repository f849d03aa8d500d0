//! Strategies for what a session holds: keys, JSON values, timestamps, lifetimes and records.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::Value as Json;
use session_core::store::{Record, Timestamp};
use session_core::{Lifetime, Value};

/// Arbitrary text of at most `max` characters.
///
/// Any `char`: control characters, quotes, backslashes, any unicode.
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// let tree = session_conformance::props::text(8).new_tree(&mut runner);
/// let text = tree.expect("a value").current();
/// assert!(text.chars().count() <= 8);
/// ```
pub fn text(max: usize) -> impl Strategy<Value = String> + Clone {
    vec(any::<char>(), 0..=max).prop_map(String::from_iter)
}

/// A session key, often a tricky one.
///
/// Empty, arbitrary unicode, runs of quotes, backslashes, control characters and the cookie
/// separators `;`, `=` and space, printable unicode, or one of a few short keys (so that generated
/// records and change sets often share keys).
pub fn key() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        1 => Just(String::new()),
        4 => text(12),
        2 => "[\"\\\\\\x00-\\x1f\\x7f;= ]{1,4}",
        2 => "\\PC{1,8}",
        2 => "[a-f]{1,2}",
    ]
}

/// A finite `f64`: anything finite, or one of the extremes.
///
/// The extremes: signed zero, the largest and smallest magnitudes, a subnormal.
pub fn finite_f64() -> impl Strategy<Value = f64> + Clone {
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

/// An arbitrary JSON value: [`json_sized`]`(4, 48, 6)`.
pub fn json() -> impl Strategy<Value = Json> + Clone {
    json_sized(4, 48, 6)
}

/// An arbitrary JSON value.
///
/// Null, booleans, integers (the `i64` and `u64` extremes and the edge of `f64` precision
/// included), finite floats ([`finite_f64`]), strings of any unicode, and arrays and objects (with
/// [`key`]s) of those, nested at most `depth` levels deep, aiming at `nodes` values in all, at most
/// `width` in one array or object.
///
/// [`json`] is `json_sized(4, 48, 6)`; a test with a size limit (a cookie) wants smaller values.
pub fn json_sized(depth: u32, nodes: u32, width: u32) -> impl Strategy<Value = Json> + Clone {
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
    leaf.prop_recursive(depth, nodes, width, move |inner| {
        let width = width as usize;
        prop_oneof![
            vec(inner.clone(), 0..width).prop_map(Json::Array),
            btree_map(key(), inner, 0..width).prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}

/// A session value: the text of an arbitrary [`json`] value.
pub fn value() -> impl Strategy<Value = Value> + Clone {
    json().prop_map(|json| {
        Value::from_serialize(&json).expect("session-conformance: JSON serializes")
    })
}

/// Session data: at most `max` arbitrary [`key`]s, each with an arbitrary [`value`].
pub fn data(max: usize) -> impl Strategy<Value = BTreeMap<String, Value>> + Clone {
    btree_map(key(), value(), 0..=max)
}

/// A timestamp: the epoch, the far future, anything, or a plausible date.
///
/// The far future is `u64::MAX` milliseconds and thereabouts; a plausible date is before 2100.
pub fn timestamp() -> impl Strategy<Value = Timestamp> + Clone {
    prop_oneof![
        1 => prop::sample::select(vec![0, 1, u64::MAX, u64::MAX - 1, i64::MAX as u64]),
        2 => any::<u64>(),
        2 => 0..=4_102_444_800_000u64,
    ]
    .prop_map(Timestamp::from_millis)
}

/// A session's own lifetime, or none.
///
/// Browser-session or persistent, with any idle timeout (zero and `u64::MAX` seconds included).
pub fn lifetime() -> impl Strategy<Value = Option<Lifetime>> + Clone {
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

/// An arbitrary record: [`data`]`(8)`, three arbitrary [`timestamp`]s and a [`lifetime`].
///
/// The timestamps come in any order. Most records are expired: make them live before storing them.
pub fn record() -> impl Strategy<Value = Record> + Clone {
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
