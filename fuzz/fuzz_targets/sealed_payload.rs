//! The decoder behind a sealed cookie's authentication, on arbitrary text.
//!
//! `payload::decode` in session-state-cookie, reached through its hidden `fuzzing` feature: the
//! bytes it decodes are authenticated in production, so only here can the fuzzer reach it.
//!
//! First input byte even: the rest is base64url-encoded first, so the fuzzer works on the bincode
//! layout; odd: the rest (if UTF-8) is the text itself, exercising the base64 layer. Checked:
//! never a panic; an accepted payload re-encodes, and decoding that gives the same id and record
//! (round trip on accepted inputs), with every value valid JSON.

#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use session_core::Value;
use session_state_cookie::fuzzing::{decode_payload, encode_payload};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let text = if first & 1 == 0 {
        URL_SAFE_NO_PAD.encode(rest)
    } else {
        match std::str::from_utf8(rest) {
            Ok(text) => text.to_owned(),
            Err(_) => return,
        }
    };
    let Some((id, record)) = decode_payload(&text) else {
        return;
    };
    for value in record.data.values() {
        assert!(
            Value::from_json(value.as_json().to_owned()).is_ok(),
            "a decoded value is not JSON"
        );
    }
    let again = encode_payload(&id, &record).expect("an accepted payload re-encodes");
    assert_eq!(
        decode_payload(&again),
        Some((id, record)),
        "an accepted payload does not round-trip"
    );
});
