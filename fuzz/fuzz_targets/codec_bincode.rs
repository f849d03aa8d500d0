//! `BincodeCodec::default().decode` on arbitrary bytes: what a store keeping bincode 2 records
//! (the file store's default; session-core's feature `bincode`) runs on every record it reads.
//!
//! Checked: never a panic; every value of an accepted record is JSON text (`Value`'s
//! invariant); an accepted input re-encodes, and decoding that gives an equal `Record` (round
//! trip on accepted inputs).

#![no_main]

use libfuzzer_sys::fuzz_target;
use session_core::{BincodeCodec, Codec, Value};

fuzz_target!(|data: &[u8]| {
    let codec = BincodeCodec::default();
    let Ok(record) = codec.decode(data) else {
        return;
    };
    for value in record.data.values() {
        assert!(
            Value::from_json(value.as_json().to_owned()).is_ok(),
            "a decoded value is not JSON"
        );
    }
    let again = codec
        .encode(&record)
        .expect("an accepted record re-encodes");
    let back = codec.decode(&again).expect("a re-encoded record decodes");
    assert_eq!(back, record, "an accepted record does not round-trip");
});
