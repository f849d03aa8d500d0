//! How a [`Record`] becomes bytes, for stores that keep bytes: JSON, bincode 2, or your own.
//!
//! ```
//! use session_core::Value;
//! use session_core::store::{Codec, JsonCodec, Record, Timestamp};
//!
//! let mut record = Record::new(Timestamp::from_millis(0), Timestamp::from_millis(60_000));
//! record.data.insert("user".into(), Value::from_serialize("alice").unwrap());
//! let bytes = JsonCodec::default().encode(&record).unwrap();
//! assert_eq!(JsonCodec::default().decode(&bytes).unwrap(), record);
//! ```

use std::error::Error as StdError;
use std::fmt;

use crate::error::{BoxError, StoreError, StoreErrorKind};
use crate::record::Record;

/// The largest encoded record the built-in codecs write or read by default: 1 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1 << 20;

/// The largest `max_bytes` the built-in codecs accept: 256 MiB.
pub const MAX_RECORD_BYTES_LIMIT: usize = 256 << 20;

/// Turns records into bytes and back.
///
/// Implement it for a custom format (Plack's `serializer` and `deserializer` options).
///
/// `decode` sees bytes read back from storage, which may be corrupt or truncated: it must return
/// an error for them, never panic, and should refuse input larger than it is prepared to hold.
pub trait Codec: Send + Sync + fmt::Debug + 'static {
    /// Encodes a record.
    fn encode(&self, record: &Record) -> Result<Vec<u8>, CodecError>;
    /// Decodes a record.
    fn decode(&self, bytes: &[u8]) -> Result<Record, CodecError>;
}

/// A codec's failure, with the underlying error as its source.
#[derive(Debug)]
pub struct CodecError(BoxError);

impl CodecError {
    /// Wraps the underlying error.
    pub fn new(source: impl Into<BoxError>) -> Self {
        CodecError(source.into())
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("session record codec failed")
    }
}

impl StdError for CodecError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.0)
    }
}

impl From<CodecError> for StoreError {
    fn from(error: CodecError) -> Self {
        StoreError::new(StoreErrorKind::Codec, error)
    }
}

/// The input was larger than the codec's limit.
#[derive(Debug)]
struct TooLarge {
    size: usize,
    limit: usize,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "encoded record of {} bytes exceeds the limit of {} bytes",
            self.size, self.limit
        )
    }
}

impl StdError for TooLarge {}

fn check_size(bytes: &[u8], limit: usize) -> Result<(), CodecError> {
    if bytes.len() > limit {
        return Err(CodecError::new(TooLarge {
            size: bytes.len(),
            limit,
        }));
    }
    Ok(())
}

/// Records as JSON (`serde_json`): readable, and what other languages can read.
#[derive(Clone, Copy, Debug)]
pub struct JsonCodec {
    max_bytes: usize,
}

impl JsonCodec {
    /// A JSON codec refusing to write or read records larger than `max_bytes` (capped at
    /// [`MAX_RECORD_BYTES_LIMIT`]): a session that grew too large fails when it is written, while
    /// the last stored version stays readable.
    pub fn with_max_bytes(max_bytes: usize) -> Self {
        JsonCodec {
            max_bytes: max_bytes.min(MAX_RECORD_BYTES_LIMIT),
        }
    }
}

impl Default for JsonCodec {
    fn default() -> Self {
        JsonCodec {
            max_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }
}

impl Codec for JsonCodec {
    fn encode(&self, record: &Record) -> Result<Vec<u8>, CodecError> {
        let bytes = serde_json::to_vec(record).map_err(CodecError::new)?;
        check_size(&bytes, self.max_bytes)?;
        Ok(bytes)
    }

    fn decode(&self, bytes: &[u8]) -> Result<Record, CodecError> {
        check_size(bytes, self.max_bytes)?;
        serde_json::from_slice(bytes).map_err(CodecError::new)
    }
}

/// Records in bincode 2's compact binary form.
///
/// The bincode project is no longer maintained (RUSTSEC-2025-0141, "unmaintained", no known
/// vulnerability); it stays behind this seam and the `bincode` feature so that it can be replaced
/// without touching any store.
#[cfg(feature = "bincode")]
#[derive(Clone, Copy, Debug)]
pub struct BincodeCodec {
    max_bytes: usize,
}

#[cfg(feature = "bincode")]
impl BincodeCodec {
    /// A bincode codec refusing to write or read records larger than `max_bytes` (capped at
    /// [`MAX_RECORD_BYTES_LIMIT`]).
    pub fn with_max_bytes(max_bytes: usize) -> Self {
        BincodeCodec {
            max_bytes: max_bytes.min(MAX_RECORD_BYTES_LIMIT),
        }
    }
}

#[cfg(feature = "bincode")]
impl Default for BincodeCodec {
    fn default() -> Self {
        BincodeCodec {
            max_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }
}

#[cfg(feature = "bincode")]
impl Codec for BincodeCodec {
    fn encode(&self, record: &Record) -> Result<Vec<u8>, CodecError> {
        let config = bincode::config::standard();
        // A record without a subject keeps the layout from before subjects existed, which older
        // processes still read (see `decode`).
        let bytes = match &record.binding {
            Some(_) => bincode::serde::encode_to_vec(record, config),
            None => bincode::serde::encode_to_vec(Unbound::of(record), config),
        }
        .map_err(CodecError::new)?;
        check_size(&bytes, self.max_bytes)?;
        Ok(bytes)
    }

    fn decode(&self, bytes: &[u8]) -> Result<Record, CodecError> {
        check_size(bytes, self.max_bytes)?;
        // bincode's layout is positional: a record without a subject (the layout of records from
        // before subjects existed, still written for unbound ones) ends before the binding.
        // Most records are unbound: decoded once as such; a bound one has bytes left over, and
        // is decoded again whole.
        let (unbound, used) = decode_bincode::<Unbound<'static>>(bytes).map_err(CodecError::new)?;
        let (record, used) = if used == bytes.len() {
            (unbound.into_record(), used)
        } else {
            decode_bincode::<Record>(bytes).map_err(CodecError::new)?
        };
        if used != bytes.len() {
            return Err(CodecError::new(TrailingBytes));
        }
        Ok(record)
    }
}

/// A record without a binding, in the positional layout bincode gives [`Record`] without its last
/// field.
#[cfg(feature = "bincode")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Unbound<'a> {
    data: std::borrow::Cow<'a, std::collections::BTreeMap<String, crate::value::Value>>,
    created: crate::record::Timestamp,
    last_active: crate::record::Timestamp,
    expires: crate::record::Timestamp,
    lifetime: Option<crate::record::Lifetime>,
}

#[cfg(feature = "bincode")]
impl<'a> Unbound<'a> {
    fn of(record: &'a Record) -> Self {
        Unbound {
            data: std::borrow::Cow::Borrowed(&record.data),
            created: record.created,
            last_active: record.last_active,
            expires: record.expires,
            lifetime: record.lifetime,
        }
    }

    fn into_record(self) -> Record {
        let mut record = Record::new(self.created, self.expires);
        record.data = self.data.into_owned();
        record.last_active = self.last_active;
        record.lifetime = self.lifetime;
        record
    }
}

/// Decodes a record with bincode, bounding what it allocates by the input's size.
///
/// bincode allocates a string's bytes as soon as it reads the string's length prefix, up to its
/// limit: with a fixed 256 MiB limit, a corrupt 6-byte file could claim 250 MB. Its limit counts
/// what decoding produces (each string's bytes; each integer at its in-memory size, at most 8
/// bytes for the one byte a small `u64` takes), so a valid record never needs more than 16 times
/// its encoded length. The limit is a compile-time constant in bincode: the smallest of a ladder
/// of limits (4 KiB, then each 4 times the last) covering that bound is used, so a hostile length
/// prefix makes bincode allocate at most 4 KiB or 64 times the input's length, whichever is
/// larger. Past 16 MiB of input the last rung, 256 MiB ([`MAX_RECORD_BYTES_LIMIT`]), applies.
#[cfg(feature = "bincode")]
fn decode_bincode<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> Result<(T, usize), bincode::error::DecodeError> {
    fn under<const LIMIT: usize, T: serde::de::DeserializeOwned>(
        bytes: &[u8],
    ) -> Result<(T, usize), bincode::error::DecodeError> {
        let config = bincode::config::standard().with_limit::<LIMIT>();
        bincode::serde::decode_from_slice(bytes, config)
    }
    macro_rules! ladder {
        ($($limit:expr),+) => {
            $(if bytes.len().saturating_mul(16) <= $limit {
                return under::<{ $limit }, T>(bytes);
            })+
        };
    }
    ladder!(
        1 << 12,
        1 << 14,
        1 << 16,
        1 << 18,
        1 << 20,
        1 << 22,
        1 << 24,
        1 << 26
    );
    under::<MAX_RECORD_BYTES_LIMIT, T>(bytes)
}

/// Bytes were left over after a complete record.
#[cfg(feature = "bincode")]
#[derive(Debug)]
struct TrailingBytes;

#[cfg(feature = "bincode")]
impl fmt::Display for TrailingBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("trailing bytes after the encoded record")
    }
}

#[cfg(feature = "bincode")]
impl StdError for TrailingBytes {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Lifetime, Timestamp};
    use crate::value::Value;
    use std::time::Duration;

    fn sample() -> Record {
        let mut record = Record::new(Timestamp::from_millis(5), Timestamp::from_millis(99));
        record
            .data
            .insert("n".into(), Value::from_serialize(&42u64).expect("json"));
        record.data.insert(
            "nested".into(),
            Value::from_serialize(&serde_json::json!({"a": [1, null, "x"], "b": 1.5}))
                .expect("json"),
        );
        record.lifetime = Some(Lifetime::persistent(Duration::from_secs(60)));
        record
    }

    fn round_trip(codec: &dyn Codec) {
        let record = sample();
        let bytes = codec.encode(&record).expect("encode");
        assert_eq!(codec.decode(&bytes).expect("decode"), record);
        assert!(codec.decode(&bytes[..bytes.len() / 2]).is_err());
        assert!(
            codec
                .decode(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff")
                .is_err()
        );
        assert!(codec.decode(&[]).is_err());
    }

    #[test]
    fn oversized_records_fail_on_write_and_larger_limits_read_them() {
        let mut big = sample();
        big.data.insert(
            "blob".into(),
            Value::from_serialize(&"x".repeat(2 << 20)).expect("json"),
        );
        assert!(JsonCodec::default().encode(&big).is_err());
        let roomy = JsonCodec::with_max_bytes(8 << 20);
        assert_eq!(
            roomy
                .decode(&roomy.encode(&big).expect("encode"))
                .expect("decode"),
            big
        );
        #[cfg(feature = "bincode")]
        {
            assert!(BincodeCodec::default().encode(&big).is_err());
            let roomy = BincodeCodec::with_max_bytes(8 << 20);
            assert_eq!(
                roomy
                    .decode(&roomy.encode(&big).expect("encode"))
                    .expect("decode"),
                big
            );
        }
    }

    #[test]
    fn json_round_trips_and_rejects_garbage() {
        round_trip(&JsonCodec::default());
        assert!(
            JsonCodec::with_max_bytes(4)
                .decode(b"{\"data\":{}}")
                .is_err()
        );
    }

    /// A 6-byte input claiming a 250 MB string is refused by the limit before bincode allocates
    /// anything for it; with a limit above the claim, bincode would allocate it first and only then
    /// find the input too short.
    #[cfg(feature = "bincode")]
    #[test]
    fn bincode_allocates_in_proportion_to_the_input() {
        let mut hostile = vec![1u8, 0xFC];
        hostile.extend_from_slice(&250_000_000u32.to_le_bytes());
        let error = BincodeCodec::default()
            .decode(&hostile)
            .expect_err("too short");
        let cause = StdError::source(&error)
            .and_then(|cause| cause.downcast_ref::<bincode::error::DecodeError>());
        assert!(
            matches!(cause, Some(bincode::error::DecodeError::LimitExceeded)),
            "{cause:?}"
        );
        // Records near each rung of the ladder still decode.
        for size in [4000, 4200, 70_000, 1_100_000] {
            let mut record = sample();
            record.data.insert(
                "blob".into(),
                Value::from_serialize(&"y".repeat(size)).expect("json"),
            );
            let codec = BincodeCodec::with_max_bytes(4 << 20);
            let bytes = codec.encode(&record).expect("encode");
            assert_eq!(codec.decode(&bytes).expect("decode"), record, "{size}");
        }
    }

    #[cfg(feature = "bincode")]
    #[test]
    fn bincode_round_trips_and_rejects_garbage() {
        round_trip(&BincodeCodec::default());
        let bytes = BincodeCodec::default().encode(&sample()).expect("encode");
        // One more byte is the binding's tag (0: none); anything after it, or another tag, is not
        // a record.
        for extra in [&[0u8, 0][..], &[7]] {
            let bytes = [&bytes[..], extra].concat();
            assert!(BincodeCodec::default().decode(&bytes).is_err(), "{extra:?}");
        }
    }

    fn bound() -> Record {
        let mut record = sample();
        let info = crate::subject::ClientInfo::new()
            .user_agent("UA")
            .address("10.0.0.0/24");
        record.binding = Some(Box::new(
            crate::subject::Binding::new("alice", info, Timestamp::from_millis(4)).expect("ok"),
        ));
        record
    }

    #[test]
    fn json_reads_records_from_before_subjects_and_round_trips_bound_ones() {
        let codec = JsonCodec::default();
        let old =
            br#"{"data":{"n":"42"},"created":5,"last_active":5,"expires":99,"lifetime":null}"#;
        let record = codec.decode(old).expect("an old record");
        assert_eq!(record.binding, None);
        let bound = bound();
        assert_eq!(
            codec
                .decode(&codec.encode(&bound).expect("encode"))
                .expect("decode"),
            bound
        );
    }

    /// An unbound record is written in the layout from before subjects existed (bytes taken from
    /// the release before them), which older processes read; a bound one round-trips.
    #[cfg(feature = "bincode")]
    #[test]
    fn bincode_keeps_the_old_layout_for_unbound_records() {
        let codec = BincodeCodec::default();
        let mut record = Record::new(Timestamp::from_millis(5), Timestamp::from_millis(99));
        record
            .data
            .insert("n".into(), Value::from_serialize(&42u64).expect("json"));
        let old: &[u8] = &[1, 1, 110, 2, 52, 50, 5, 5, 99, 0];
        assert_eq!(codec.encode(&record).expect("encode"), old);
        assert_eq!(codec.decode(old).expect("decode"), record);
        let bound = bound();
        let bytes = codec.encode(&bound).expect("encode");
        assert_eq!(codec.decode(&bytes).expect("decode"), bound);
        assert!(codec.decode(&bytes[..bytes.len() - 1]).is_err());
    }
}
