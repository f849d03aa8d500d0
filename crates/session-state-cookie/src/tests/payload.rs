//! The format 2 payload: its bytes pinned, round trips, and everything else refused.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use session_core::store::{Binding, Record, Timestamp};
use session_core::subject::ClientInfo;
use session_core::{Lifetime, Value};

use super::some_id;
use crate::payload::{decode, encode};

fn encoded(id: &str, record: &Record) -> Vec<u8> {
    let mut out = Vec::new();
    encode(id, record, &mut out);
    out
}

fn json(value: &str) -> Value {
    Value::from_json(value.to_owned()).expect("JSON")
}

/// A record created at `t`, active at `t + 1`, expiring at `t + 300` ms.
fn record_at(t: u64) -> Record {
    let mut record = Record::new(Timestamp::from_millis(t), Timestamp::from_millis(t + 300));
    record.last_active = Timestamp::from_millis(t + 1);
    record
}

/// The layout is frozen: cookies in browsers must keep opening after an upgrade. A change here
/// needs a new format (a new marker in `envelope`) and decoding of this one.
#[test]
fn the_layout_is_pinned() {
    let id = some_id();
    let mut record = record_at(1);
    record.lifetime = Some(Lifetime::persistent(Duration::from_secs(60)));
    record.data.insert("n".into(), json("7"));
    record.data.insert("user".into(), json("\"alice\""));
    let mut expected = vec![0b0111];
    expected.extend_from_slice(&URL_SAFE_NO_PAD.decode(id.as_str()).expect("id"));
    // created 1, last active +1 (zigzag 2), expires +299 (zigzag 598: 0xd6 0x04), idle 60 s,
    // two entries: "n" = 7 (JSON text, length 1 << 1), "user" = "alice" (contents, 5 << 1 | 1).
    expected.extend_from_slice(&[1, 2, 0xd6, 0x04, 60, 2, 1, b'n', 2, b'7', 4]);
    expected.extend_from_slice(b"user");
    expected.push(11);
    expected.extend_from_slice(b"alice");
    assert_eq!(encoded(id.as_str(), &record), expected);
    assert_eq!(decode(&expected), Some((id.as_str().to_owned(), record)));
}

/// A bound session: the binding after the data; it round-trips.
#[test]
fn a_bound_session_ends_with_its_binding() {
    let id = some_id();
    let mut record = record_at(1_700_000_000_000);
    let info = ClientInfo::new().user_agent("UA");
    let binding = Binding::new("alice", info, Timestamp::from_millis(1_700_000_000_002));
    let binding = binding.expect("bind");
    let handle = binding.handle.clone();
    record.binding = Some(Box::new(binding));
    let bytes = encoded(id.as_str(), &record);
    assert_eq!(bytes[0], 0b1001);
    let mut tail = vec![5];
    tail.extend_from_slice(b"alice");
    tail.push(22);
    tail.extend_from_slice(handle.as_str().as_bytes());
    // Bound 2 ms after created (zigzag 4), a user agent of 2 bytes (3), no address (0).
    tail.extend_from_slice(&[4, 3, b'U', b'A', 0]);
    assert!(bytes.ends_with(&tail), "{bytes:?}");
    assert_eq!(
        decode(&bytes),
        Some((id.as_str().to_owned(), record.clone()))
    );

    let mut bad = bytes.clone();
    let at = bytes.len() - tail.len() + 1 + 5 + 1;
    bad[at] = b'!';
    assert_eq!(decode(&bad), None, "a malformed handle");
    let mut empty = bytes[..bytes.len() - tail.len()].to_vec();
    empty.push(0);
    empty.extend_from_slice(&tail[6..]);
    assert_eq!(decode(&empty), None, "an empty subject");
}

#[test]
fn sessions_round_trip() {
    let id = some_id();
    let mut full = record_at(1_767_225_600_000);
    full.expires = Timestamp::from_millis(5);
    full.lifetime = Some(Lifetime::browser_session(Duration::from_secs(1800)));
    for (key, value) in [
        ("empty", "\"\""),
        ("escaped", "\"a\\\"b\\\\c\\n\""),
        ("unicode", "\"\u{e9}t\u{e9} \u{1f600}\""),
        ("object", "{\"a\":[1,2,{\"b\":null}]}"),
        ("number", "-1.5e3"),
        ("null", "null"),
        ("", "true"),
        ("\u{e9}", "\"x\""),
    ] {
        full.data.insert(key.into(), json(value));
    }
    for id in [id.as_str(), "../not-an-id", "", "0123abcd"] {
        for record in [record_at(0), record_at(u64::MAX - 300), full.clone()] {
            let bytes = encoded(id, &record);
            assert_eq!(decode(&bytes), Some((id.to_owned(), record)), "{id:?}");
        }
    }
    // A default id takes its 32 bytes, another its text.
    assert_eq!(encoded(id.as_str(), &record_at(0)).len(), 1 + 32 + 5);
    assert_eq!(encoded("0123abcd", &record_at(0)).len(), 1 + 9 + 5);
}

#[test]
fn anything_else_is_refused() {
    let id = some_id();
    let mut record = record_at(1_700_000_000_000);
    record.lifetime = Some(Lifetime::persistent(Duration::from_secs(60)));
    record.data.insert("a".into(), json("1"));
    record.data.insert("b".into(), json("\"x\""));
    let good = encoded(id.as_str(), &record);
    assert!(decode(&good).is_some());

    assert_eq!(decode(&[]), None, "empty");
    for cut in 0..good.len() {
        assert_eq!(decode(&good[..cut]), None, "cut at {cut}");
    }
    assert_eq!(decode(&[&good[..], &[0]].concat()), None, "a trailing byte");
    // Unknown flags, the layout otherwise intact: refused for the flags alone.
    for unknown in [0b1_0000, 0b1000_0000] {
        let mut bad = good.clone();
        bad[0] |= unknown;
        assert_eq!(decode(&bad), None, "flags {:#b}", bad[0]);
    }
    // "Persistent" without a lifetime of its own, on a payload that has none (same layout).
    let mut plain = record.clone();
    plain.lifetime = None;
    let mut bad = encoded(id.as_str(), &plain);
    assert!(decode(&bad).is_some());
    bad[0] |= 0b0100;
    assert_eq!(decode(&bad), None, "persistent without a lifetime");
    // The entries' end: "a" = 1, "b" = "x"; swapped, the keys are out of order.
    let entries = [1, b'a', 2, b'1', 1, b'b', 3, b'x'];
    let at = good.len() - entries.len();
    assert_eq!(good[at..], entries);
    let with = |entries: &[u8]| [&good[..at], entries].concat();
    assert_eq!(
        decode(&with(&[1, b'b', 3, b'x', 1, b'a', 2, b'1'])),
        None,
        "keys out of order"
    );
    assert_eq!(
        decode(&with(&[1, b'a', 2, b'1', 1, b'a', 3, b'x'])),
        None,
        "a key twice"
    );
    assert_eq!(
        decode(&with(&[1, b'a', 2, b'{', 1, b'b', 3, b'x'])),
        None,
        "not JSON"
    );
    assert_eq!(
        decode(&with(&[1, b'a', 2, b'1', 1, b'b', 3, b'"'])),
        None,
        "a bare quote"
    );
    assert_eq!(
        decode(&with(&[1, b'a', 2, b'1', 1, b'b', 3, b'\\'])),
        None,
        "a bare backslash"
    );
    assert_eq!(
        decode(&with(&[1, b'a', 2, b'1', 1, b'b', 3, 0x0a])),
        None,
        "a bare newline"
    );
    assert_eq!(
        decode(&with(&[1, 0xff, 2, b'1', 1, b'b', 3, b'x'])),
        None,
        "a key not UTF-8"
    );
    assert_eq!(
        decode(&with(&[1, b'a', 2, b'1', 1, b'b', 3, 0xff])),
        None,
        "a value not UTF-8"
    );
    let mut overlong = good.clone();
    // created, as a varint one byte longer than it needs.
    let created = 1 + 32;
    let len = overlong[created..]
        .iter()
        .position(|b| b & 0x80 == 0)
        .expect("varint")
        + 1;
    overlong[created + len - 1] |= 0x80;
    overlong.insert(created + len, 0);
    assert_eq!(decode(&overlong), None, "an overlong varint");
    assert_eq!(decode(&vec![0x00; 10_000]), None, "oversized");
}
