//! Codecs: exact round trips of arbitrary records, the size limit on both sides, and arbitrary
//! (or damaged) bytes never panicking.

use proptest::collection::vec;
use proptest::prelude::*;
#[cfg(feature = "bincode")]
use session_core::store::BincodeCodec;
use session_core::store::{Codec, JsonCodec, Record};

use session_conformance::props::record;

/// A built-in codec with a given limit.
type WithLimit = fn(usize) -> Box<dyn Codec>;

/// Every built-in codec: its name, the codec with its default limit, and a constructor for a given
/// limit.
fn codecs() -> Vec<(&'static str, Box<dyn Codec>, WithLimit)> {
    #[cfg_attr(not(feature = "bincode"), allow(unused_mut))]
    let mut all: Vec<(&'static str, Box<dyn Codec>, WithLimit)> =
        vec![("json", Box::new(JsonCodec::default()), |n| {
            Box::new(JsonCodec::with_max_bytes(n))
        })];
    #[cfg(feature = "bincode")]
    all.push(("bincode", Box::new(BincodeCodec::default()), |n| {
        Box::new(BincodeCodec::with_max_bytes(n))
    }));
    all
}

/// How to damage a valid encoding.
#[derive(Clone, Debug)]
enum Damage {
    /// Replace the byte at this index (modulo the length) with another.
    Replace(prop::sample::Index, u8),
    /// Keep only this many leading bytes (modulo the length).
    Truncate(prop::sample::Index),
    /// Insert a byte at this index.
    Insert(prop::sample::Index, u8),
    /// Remove the byte at this index.
    Remove(prop::sample::Index),
    /// Append bytes.
    Append(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Damage::Replace(i, b)),
        any::<prop::sample::Index>().prop_map(Damage::Truncate),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Damage::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Damage::Remove),
        vec(any::<u8>(), 1..8).prop_map(Damage::Append),
    ]
}

fn apply_damage(mut bytes: Vec<u8>, damage: &Damage) -> Vec<u8> {
    if bytes.is_empty() {
        return bytes;
    }
    match damage {
        Damage::Replace(at, byte) => {
            let at = at.index(bytes.len());
            bytes[at] = *byte;
        }
        Damage::Truncate(at) => bytes.truncate(at.index(bytes.len())),
        Damage::Insert(at, byte) => bytes.insert(at.index(bytes.len() + 1), *byte),
        Damage::Remove(at) => {
            bytes.remove(at.index(bytes.len()));
        }
        Damage::Append(more) => bytes.extend_from_slice(more),
    }
    bytes
}

/// Whatever a codec decodes must itself round-trip (no half-valid record comes out).
fn decoded_is_stable(codec: &dyn Codec, decoded: &Record) -> Result<(), TestCaseError> {
    let again = codec.encode(decoded).map_err(|e| {
        TestCaseError::fail(format!("a decoded record does not encode again: {e:?}"))
    })?;
    prop_assert_eq!(&codec.decode(&again).expect("decode"), decoded);
    Ok(())
}

proptest! {
    /// `decode(encode(r)) == r` for every codec, and encoding is deterministic.
    #[test]
    fn records_round_trip_exactly(record in record()) {
        for (name, codec, _) in codecs() {
            let bytes = codec.encode(&record).expect("a small record encodes");
            let decoded = codec.decode(&bytes);
            prop_assert!(decoded.is_ok(), "{}: {:?}", name, decoded.err());
            prop_assert_eq!(decoded.as_ref().ok(), Some(&record), "{}", name);
            let again = codec.encode(decoded.as_ref().expect("decoded")).expect("encode");
            prop_assert_eq!(again, bytes, "{}: encoding is not deterministic", name);
        }
    }

    /// `with_max_bytes(n)`: encoding fails exactly when the encoded record is larger than `n`;
    /// decoding reads exactly the encodings of at most `n` bytes.
    #[test]
    fn the_size_limit_is_exact_on_both_sides(
        record in record(),
        near in -3i64..=3,
        fraction in 0.0f64..2.0,
        use_near in any::<bool>(),
    ) {
        for (name, codec, limited) in codecs() {
            let bytes = codec.encode(&record).expect("encode");
            let size = bytes.len();
            let limit = if use_near {
                usize::try_from((size as i64 + near).max(0)).expect("non-negative")
            } else {
                (size as f64 * fraction) as usize
            };
            let limited = limited(limit);
            match limited.encode(&record) {
                Ok(written) => {
                    prop_assert!(size <= limit, "{}: wrote {} bytes under a limit of {}", name, size, limit);
                    prop_assert_eq!(&written, &bytes, "{}", name);
                }
                Err(_) => prop_assert!(size > limit, "{}: refused {} bytes under a limit of {}", name, size, limit),
            }
            match limited.decode(&bytes) {
                Ok(read) => {
                    prop_assert!(size <= limit, "{}: read {} bytes under a limit of {}", name, size, limit);
                    prop_assert_eq!(&read, &record, "{}", name);
                }
                Err(_) => prop_assert!(size > limit, "{}: refused to read {} bytes under a limit of {}", name, size, limit),
            }
        }
    }

    /// Input over the limit is refused whatever it is, before it is parsed.
    #[test]
    fn input_over_the_limit_is_refused(bytes in vec(any::<u8>(), 1..300), limit in 0usize..300) {
        prop_assume!(bytes.len() > limit);
        for (name, _, limited) in codecs() {
            prop_assert!(limited(limit).decode(&bytes).is_err(), "{}: read {} bytes under a limit of {}", name, bytes.len(), limit);
        }
    }

    /// Arbitrary bytes never panic a decoder; whatever decodes round-trips.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        for (_, codec, _) in codecs() {
            if let Ok(decoded) = codec.decode(&bytes) {
                decoded_is_stable(&*codec, &decoded)?;
            }
        }
    }

    /// Damaged encodings (a byte replaced, inserted or removed, truncated, extended) never panic
    /// a decoder; whatever still decodes round-trips.
    #[test]
    fn damaged_encodings_never_panic(record in record(), damage in damage()) {
        for (_, codec, _) in codecs() {
            let bytes = apply_damage(codec.encode(&record).expect("encode"), &damage);
            if let Ok(decoded) = codec.decode(&bytes) {
                decoded_is_stable(&*codec, &decoded)?;
            }
        }
    }
}

proptest! {
    /// A decoded record's values are JSON text, as `Value::from_json` requires: damaged stored
    /// bytes whose value is no longer JSON make the whole record undecodable.
    #[test]
    fn decoded_values_are_json_text(record in record(), damage in damage()) {
        for (name, codec, _) in codecs() {
            let bytes = apply_damage(codec.encode(&record).expect("encode"), &damage);
            if let Ok(decoded) = codec.decode(&bytes) {
                for (key, value) in &decoded.data {
                    prop_assert!(
                        session_core::Value::from_json(value.as_json().to_owned()).is_ok(),
                        "{}: {:?} decoded to {:?} => {:?}", name, bytes.escape_ascii().to_string(), key, value
                    );
                }
            }
        }
    }
}
