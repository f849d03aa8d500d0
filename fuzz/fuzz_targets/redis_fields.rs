//! The Redis store's hash layout decoder on arbitrary field/value pairs.
//!
//! `layout::decode` in session-store-redis, reached through its hidden `fuzzing` feature: what
//! every load runs on the `HGETALL` reply.
//!
//! The input is split at `\n` into fields, each at its first `=` into name and value (no `=`: an
//! empty value), so seeds read like the hash (`created=1`, `v:user="alice"`). Checked: never a
//! panic; no fields is no session; every value of an accepted hash is JSON text; an accepted
//! hash re-encodes (the fields `create` and `save` write), and decoding those gives an equal
//! record (round trip on accepted inputs).

#![no_main]

use libfuzzer_sys::fuzz_target;
use session_core::Value;
use session_store_redis::fuzzing::{decode_fields, record_fields};

fuzz_target!(|data: &[u8]| {
    let fields: Vec<(Vec<u8>, Vec<u8>)> = if data.is_empty() {
        Vec::new()
    } else {
        data.split(|&b| b == b'\n')
            .map(|line| match line.iter().position(|&b| b == b'=') {
                Some(at) => (line[..at].to_vec(), line[at + 1..].to_vec()),
                None => (line.to_vec(), Vec::new()),
            })
            .collect()
    };
    let empty = fields.is_empty();
    let Ok(decoded) = decode_fields(fields) else {
        return;
    };
    let Some(record) = decoded else {
        assert!(empty, "fields decoded to no session");
        return;
    };
    for value in record.data.values() {
        assert!(
            Value::from_json(value.as_json().to_owned()).is_ok(),
            "a decoded value is not JSON"
        );
    }
    let again = record_fields(&record)
        .into_iter()
        .map(|(name, value)| (name.into_bytes(), value.into_bytes()))
        .collect();
    let back = decode_fields(again).expect("the store's own fields decode");
    assert_eq!(back, Some(record), "an accepted hash does not round-trip");
});
