//! The decoders behind a sealed cookie's authentication, on arbitrary bytes.
//!
//! `payload::decode` (format 2) and the first release's `legacy` payload decoder in
//! session-state-cookie, reached through its hidden `fuzzing` feature: the bytes they decode are
//! authenticated in production, so only here can the fuzzer reach them.
//!
//! First input byte even: the rest is a format 2 payload; odd: the rest (if UTF-8) is a format 1
//! payload's text (base64url of bincode). Checked: never a panic; every value of an accepted
//! payload is valid JSON; an accepted payload encodes in format 2, and decoding that gives the
//! same id and record (a round trip, and for format 1 the conversion a reseal makes).

#![no_main]

use libfuzzer_sys::fuzz_target;
use session_core::Value;
use session_state_cookie::fuzzing::{decode_legacy_payload, decode_payload, encode_payload};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let decoded = if first & 1 == 0 {
        decode_payload(rest)
    } else {
        match std::str::from_utf8(rest) {
            Ok(text) => decode_legacy_payload(text),
            Err(_) => return,
        }
    };
    let Some((id, record)) = decoded else {
        return;
    };
    for value in record.data.values() {
        assert!(
            Value::from_json(value.as_json().to_owned()).is_ok(),
            "a decoded value is not JSON"
        );
    }
    let again = encode_payload(&id, &record);
    assert_eq!(
        decode_payload(&again),
        Some((id, record)),
        "an accepted payload does not round-trip"
    );
});
