//! What decoding a stored record costs with each codec, and how much of it is checking values.
//!
//! `Value`'s decoding checks that every value is JSON text, so that a damaged value makes the whole
//! record undecodable rather than failing later as a type mismatch.
//!
//! - `codec/{json,bincode}-{encode,decode}/small`: a typical session (a counter, a user name, a
//!   login time, two flags; about 150 bytes encoded).
//! - the same `/large`: eight keys holding 1 KiB structured values each (objects and arrays).
//! - `codec/value-check/{small,large}`: parsing each of the record's values as JSON without
//!   building anything (what `Value::from_json` does), the part of decoding the check adds.
//!
//! Run with `cargo bench -p session-benches --bench codec`.

use std::hint::black_box;
use std::time::Duration;

use serde_json::json;
use session_core::Value;
use session_core::store::{BincodeCodec, Codec, JsonCodec, Record, Timestamp};

fn small() -> Record {
    let mut record = Record::new(
        Timestamp::from_millis(1_767_225_600_000),
        Timestamp::from_millis(1_767_312_000_000),
    );
    for (key, value) in [
        ("counter", json!(41)),
        ("user", json!("alice@example.com")),
        ("login_at", json!(1_767_225_600)),
        ("admin", json!(false)),
        ("theme", json!("dark")),
    ] {
        record
            .data
            .insert(key.into(), Value::from_serialize(&value).expect("json"));
    }
    record
}

fn large() -> Record {
    let mut record = small();
    record.data.clear();
    for key in 0..8 {
        let items: Vec<_> = (0..24)
            .map(|i| json!({"id": i, "name": format!("item-{key}-{i}"), "tags": ["a", "b"]}))
            .collect();
        record.data.insert(
            format!("key{key}"),
            Value::from_serialize(&json!({"items": items, "total": 24})).expect("json"),
        );
    }
    record
}

fn main() {
    let mut c = session_benches::criterion(Duration::from_secs(3)).configure_from_args();
    let codecs: [(&str, &dyn Codec); 2] = [
        ("json", &JsonCodec::default()),
        ("bincode", &BincodeCodec::default()),
    ];
    for (size, record) in [("small", small()), ("large", large())] {
        for (name, codec) in codecs {
            let bytes = codec.encode(&record).expect("encode");
            println!("{name} {size}: {} bytes encoded", bytes.len());
            c.bench_function(&format!("codec/{name}-encode/{size}"), |b| {
                b.iter(|| codec.encode(black_box(&record)).expect("encode"))
            });
            c.bench_function(&format!("codec/{name}-decode/{size}"), |b| {
                b.iter(|| codec.decode(black_box(&bytes)).expect("decode"))
            });
        }
        let texts: Vec<String> = record
            .data
            .values()
            .map(|v| v.as_json().to_owned())
            .collect();
        c.bench_function(&format!("codec/value-check/{size}"), |b| {
            b.iter(|| {
                for text in &texts {
                    serde_json::from_str::<serde::de::IgnoredAny>(black_box(text)).expect("json");
                }
            })
        });
    }
    c.final_summary();
}
