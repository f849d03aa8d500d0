//! A session value ([`Value`]): its JSON text, owned or shared with the other values a store
//! read from one text ([`SharedText`]).

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// One stored session value: the value serialized as JSON text.
///
/// Keeping each value as text makes the record a map of strings, which every codec (self-describing
/// or not, JSON or bincode) round-trips exactly, whatever type the application stored.
///
/// A decoded value is checked to be JSON, like [`Value::from_json`]: a record whose stored value is
/// not (a corrupt file) fails to decode as a whole.
///
/// A value owns its text, or shares one [`SharedText`] with the other values a store read from
/// it (see [`Value::from_shared`]); the two are alike in every other way. A clone of a shared
/// value shares the text too.
#[derive(Clone)]
pub struct Value(Text);

/// Where a [`Value`]'s JSON text lies.
#[derive(Clone)]
enum Text {
    /// In a string of its own.
    Owned(String),
    /// In `text[start..end]`, a range checked when the value was made (within the text, on
    /// character boundaries). 32-bit offsets keep a value the size of a `String` on 64-bit
    /// targets; a value further into a text than 4 GiB is copied instead.
    Shared {
        text: SharedText,
        start: u32,
        end: u32,
    },
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.as_json() == other.as_json()
    }
}

impl Eq for Value {}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_json())
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Value::from_json(text).map_err(serde::de::Error::custom)
    }
}

impl Value {
    /// Serializes `value` with `serde_json`.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::to_string(value).map(|json| Value(Text::Owned(json)))
    }

    /// Wraps JSON text, checking that it parses.
    pub fn from_json(json: String) -> Result<Self, serde_json::Error> {
        check_json(&json)?;
        Ok(Value(Text::Owned(json)))
    }

    /// The value whose JSON text is `text.as_str()[range]`, checked like
    /// [`from_json`](Self::from_json), sharing `text` rather than copying its part of it.
    ///
    /// For a store that reads many values as one string (a pack of them, see
    /// [`unpack_shared`](crate::store::unpack_shared)): the values then cost one allocation
    /// between them, not one each. A range outside the text, or not on its characters'
    /// boundaries, is an error, as is text that is not JSON.
    ///
    /// ```
    /// use session_core::Value;
    /// use session_core::store::SharedText;
    ///
    /// let text = SharedText::from("[1,2]\"two\"".to_owned());
    /// let value = Value::from_shared(&text, 5..10).unwrap();
    /// assert_eq!(value.as_json(), "\"two\"");
    /// assert_eq!(value.deserialize::<String>().unwrap(), "two");
    /// assert!(Value::from_shared(&text, 0..3).is_err()); // "[1," is not JSON
    /// assert!(Value::from_shared(&text, 5..11).is_err()); // past the end
    /// ```
    pub fn from_shared(text: &SharedText, range: Range<usize>) -> Result<Self, serde_json::Error> {
        let json = text.as_str().get(range.clone()).ok_or_else(|| {
            <serde_json::Error as serde::de::Error>::custom(format_args!(
                "the range {range:?} is not within the shared text's {} bytes, on character \
                 boundaries",
                text.as_str().len()
            ))
        })?;
        check_json(json)?;
        let (Ok(start), Ok(end)) = (u32::try_from(range.start), u32::try_from(range.end)) else {
            return Ok(Value(Text::Owned(json.to_owned())));
        };
        Ok(Value(Text::Shared {
            text: text.clone(),
            start,
            end,
        }))
    }

    /// Whether the value shares its text with others (see [`Value::from_shared`]), rather than
    /// owning it.
    pub fn is_shared(&self) -> bool {
        matches!(self.0, Text::Shared { .. })
    }

    /// Makes a shared value own a copy of its text (see
    /// [`Record::unshare_values`](crate::store::Record::unshare_values)).
    pub(crate) fn unshare(&mut self) {
        if let Text::Shared { .. } = self.0 {
            self.0 = Text::Owned(self.as_json().to_owned());
        }
    }

    /// A clone that owns its text.
    pub(crate) fn owned(&self) -> Value {
        match &self.0 {
            Text::Owned(_) => self.clone(),
            Text::Shared { .. } => Value(Text::Owned(self.as_json().to_owned())),
        }
    }

    /// Deserializes the value as `T`.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.as_json())
    }

    /// The value's JSON text.
    pub fn as_json(&self) -> &str {
        match &self.0 {
            Text::Owned(json) => json,
            // The range was checked when the value was made, and the text does not change.
            Text::Shared { text, start, end } => {
                // `u32` to `usize` is lossless on the targets the crate builds for.
                let range = usize::try_from(*start).unwrap_or(usize::MAX)
                    ..usize::try_from(*end).unwrap_or(usize::MAX);
                let json = text.as_str().get(range);
                debug_assert!(json.is_some(), "a range from_shared checked");
                json.unwrap_or_default()
            }
        }
    }
}

/// A text that many [`Value`]s share (see [`Value::from_shared`]): a store's read of a session's
/// values as one string, which the values point into instead of each copying its part.
///
/// Cheap to clone (a reference count). A shared value keeps the whole text alive, as long as it
/// lives: a store that keeps records (a cache) and replaces some of their values would keep the
/// rest of the text until the last value sharing it went, so such a store keeps its records
/// with [`Record::unshare_values`](crate::store::Record::unshare_values) applied.
#[derive(Clone)]
pub struct SharedText(Arc<String>);

impl SharedText {
    /// The whole text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Shares `bytes` as text, without copying them, if they are UTF-8.
    pub fn from_utf8(bytes: Vec<u8>) -> Result<Self, std::string::FromUtf8Error> {
        String::from_utf8(bytes).map(SharedText::from)
    }
}

impl From<String> for SharedText {
    /// Shares `text` without copying it.
    fn from(text: String) -> Self {
        SharedText(Arc::new(text))
    }
}

impl AsRef<str> for SharedText {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for SharedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Its length: the values' texts are the values' own to show.
        write!(f, "SharedText({} bytes)", self.0.len())
    }
}

/// Checks that `json` is JSON: [`is_plain_json_string`] first, then the parser.
fn check_json(json: &str) -> Result<(), serde_json::Error> {
    if !is_plain_json_string(json) {
        serde_json::from_str::<serde::de::IgnoredAny>(json)?;
    }
    Ok(())
}

/// Whether `json` is a JSON string without an escape: `"`, characters none of which is `"`, `\`
/// or a control character (below U+0020), then `"`. Such text (the text of most values a store
/// reads back) is valid JSON, being a `str` (valid UTF-8): [`Value::from_json`] checks it in one
/// pass the compiler vectorizes, without a parser's. Anything else goes to the parser.
fn is_plain_json_string(json: &str) -> bool {
    match json.as_bytes() {
        // Every byte checked, no early exit, so that the loop runs 16 or 32 bytes at a time.
        [b'"', inner @ .., b'"'] => inner.iter().fold(true, |plain, &b| {
            plain & (b >= 0x20) & (b != b'"') & (b != b'\\')
        }),
        _ => false,
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Record, Timestamp};
    use proptest::prelude::*;

    fn parses(json: &str) -> bool {
        serde_json::from_str::<serde::de::IgnoredAny>(json).is_ok()
    }

    #[test]
    fn plain_strings_skip_the_parser_and_nothing_else_does() {
        for (json, plain) in [
            (r#""""#, true),
            (r#""abc""#, true),
            ("\"ключ 🦀 \u{7f}\"", true),
            (r#"""#, false),
            (r#""a"b""#, false),
            ("\"a\u{1f}\"", false),
            (r#""a\nb""#, false),
            (r#""a\""#, false),
            (r#" "a""#, false),
            (r#""a" "#, false),
            ("1", false),
            ("null", false),
            (r#"["a"]"#, false),
        ] {
            assert_eq!(is_plain_json_string(json), plain, "{json:?}");
            if plain {
                assert!(parses(json), "{json:?}");
            }
            assert_eq!(
                Value::from_json(json.to_owned()).is_ok(),
                parses(json),
                "{json:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn from_json_accepts_what_serde_json_parses(
            inner in "(?s).{0,40}",
            quoted in any::<bool>(),
        ) {
            let json = if quoted { format!("\"{inner}\"") } else { inner };
            prop_assert!(!is_plain_json_string(&json) || parses(&json), "{json:?}");
            prop_assert_eq!(Value::from_json(json.clone()).is_ok(), parses(&json), "{:?}", json);
        }
    }

    #[test]
    fn shared_values_are_owned_ones_in_every_way_but_their_storage() {
        let text = SharedText::from(r#"{"a":1}"é"[true]"#.to_owned());
        let shared = Value::from_shared(&text, 7..11).expect("a string");
        let owned = Value::from_json("\"é\"".to_owned()).expect("a string");
        assert_eq!(shared.as_json(), "\"é\"");
        assert_eq!(shared, owned);
        assert_eq!(owned, shared);
        assert_eq!(shared.clone(), owned);
        assert_ne!(shared, Value::from_shared(&text, 0..7).expect("an object"));
        assert_eq!(format!("{shared:?}"), format!("{owned:?}"));
        assert_eq!(shared.deserialize::<String>().expect("a string"), "é");
        // Every codec sees the same text.
        assert_eq!(
            serde_json::to_string(&shared).expect("json"),
            serde_json::to_string(&owned).expect("json")
        );
        let mut record = Record::new(Timestamp::from_millis(1), Timestamp::from_millis(2));
        record.data.insert("k".to_owned(), shared.clone());
        let json = serde_json::to_string(&record).expect("json");
        let back: Record = serde_json::from_str(&json).expect("a record");
        assert_eq!(back.data["k"], owned);
        // A value outlives the text's other holders: it keeps the text.
        drop(text);
        assert_eq!(shared.as_json(), "\"é\"");
        // No larger than an owned one (on 64-bit targets: the offsets fit beside the pointer).
        #[cfg(target_pointer_width = "64")]
        assert_eq!(std::mem::size_of::<Value>(), std::mem::size_of::<String>());
    }

    #[test]
    fn shared_ranges_are_checked() {
        let text = SharedText::from(r#"1"é"[true]"#.to_owned());
        assert_eq!(format!("{text:?}"), "SharedText(11 bytes)");
        for (range, ok) in [
            (0..1, true),
            (1..5, true),
            (5..11, true),
            (0..0, false),  // empty: not JSON
            (0..2, false),  // `1"`: not JSON
            (1..3, false),  // inside `é`
            (3..5, false),  // from inside `é`
            (5..12, false), // past the end
            #[allow(clippy::reversed_empty_ranges)]
            (5..4, false),
        ] {
            assert_eq!(
                Value::from_shared(&text, range.clone()).is_ok(),
                ok,
                "{range:?}"
            );
        }
    }

    #[test]
    fn value_rejects_invalid_json() {
        assert!(Value::from_json("{".into()).is_err());
        assert_eq!(
            Value::from_json("[1]".into())
                .expect("valid")
                .deserialize::<Vec<u8>>()
                .expect("vec"),
            [1]
        );
    }
}
