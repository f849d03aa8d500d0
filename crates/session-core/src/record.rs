//! The stored form of a session: its values, timestamps and key-level change sets.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::subject::Binding;

/// A point in time: milliseconds since the Unix epoch, at most [`Timestamp::MAX`].
///
/// The range is that of a signed 64-bit count (292 million years), so that every store keeps a
/// timestamp exactly, SQL's `BIGINT` columns included: a later time saturates at
/// [`Timestamp::MAX`], on construction, in arithmetic and when decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Timestamp(u64);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        u64::deserialize(deserializer).map(Timestamp::from_millis)
    }
}

impl Timestamp {
    /// The latest time: `i64::MAX` milliseconds after the epoch.
    pub const MAX: Timestamp = Timestamp(i64::MAX as u64);

    /// The timestamp `millis` milliseconds after the Unix epoch (at most [`Timestamp::MAX`]).
    pub const fn from_millis(millis: u64) -> Self {
        if millis > Timestamp::MAX.0 {
            Timestamp::MAX
        } else {
            Timestamp(millis)
        }
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Converts a `SystemTime` (times before the epoch become the epoch).
    pub fn from_system_time(time: SystemTime) -> Self {
        let millis = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        Timestamp::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
    }

    /// This timestamp as a `SystemTime`.
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.0)
    }

    /// `self + duration`, saturating at [`Timestamp::MAX`].
    pub fn saturating_add(self, duration: Duration) -> Self {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        Timestamp::from_millis(self.0.saturating_add(millis))
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

/// The prefix of the keys that belong to the session's current id
/// ([`Session::ID_BOUND_PREFIX`](crate::Session::ID_BOUND_PREFIX)).
pub(crate) const ID_BOUND_PREFIX: &str = "~id.";

/// Whether `key` belongs to the session's current id: removed whenever the id changes.
pub(crate) fn is_id_bound(key: &str) -> bool {
    key.starts_with(ID_BOUND_PREFIX)
}

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

    /// Makes a shared value own a copy of its text (see [`Record::unshare_values`]).
    fn unshare(&mut self) {
        if let Text::Shared { .. } = self.0 {
            self.0 = Text::Owned(self.as_json().to_owned());
        }
    }

    /// A clone that owns its text.
    fn owned(&self) -> Value {
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
/// with [`Record::unshare_values`] applied.
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

/// How long a session lives and whether its cookie outlives the browser.
///
/// The server-side record always expires after `idle_timeout` of inactivity (sliding). With
/// `persistent`, the cookie carries a matching `Max-Age`; without it, the cookie is a
/// browser-session cookie that the browser drops when it closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifetime {
    idle_secs: u64,
    persistent: bool,
}

impl Lifetime {
    /// A browser-session cookie; the server forgets the session after `idle` without a request.
    pub fn browser_session(idle: Duration) -> Self {
        Lifetime {
            idle_secs: idle.as_secs().max(1),
            persistent: false,
        }
    }

    /// A persistent cookie ("remember me") valid for `idle` after the last request.
    pub fn persistent(idle: Duration) -> Self {
        Lifetime {
            idle_secs: idle.as_secs().max(1),
            persistent: true,
        }
    }

    /// The sliding idle timeout.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_secs)
    }

    /// Whether the cookie carries a `Max-Age`.
    pub fn is_persistent(&self) -> bool {
        self.persistent
    }
}

impl Default for Lifetime {
    /// A browser-session cookie with a 24-hour idle timeout.
    fn default() -> Self {
        Lifetime::browser_session(Duration::from_secs(24 * 60 * 60))
    }
}

/// A stored session: its values and timestamps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Record {
    /// The session's values by key.
    pub data: BTreeMap<String, Value>,
    /// When the session was first stored.
    pub created: Timestamp,
    /// When a request last used the session (written at most once per touch interval).
    pub last_active: Timestamp,
    /// When the session expires; a store never returns a record at or past this time.
    pub expires: Timestamp,
    /// This session's own lifetime, overriding the configured default ("remember me").
    ///
    /// Optional in the stored form, so records written before it existed still decode.
    #[serde(default)]
    pub lifetime: Option<Lifetime>,
    /// The subject (user) this session is bound to, if any
    /// ([`Session::bind`](crate::Session::bind)).
    ///
    /// Optional in the stored form, so records written before it existed still decode, and left
    /// out when there is none, so that an unbound record is written as before (bincode writes
    /// unbound records in its own old layout: `codec`). Boxed: most sessions have none, and
    /// records move often.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<Box<Binding>>,
}

impl Record {
    /// An empty record created at `now`, expiring at `expires`.
    pub fn new(now: Timestamp, expires: Timestamp) -> Self {
        Record {
            data: BTreeMap::new(),
            created: now,
            last_active: now,
            expires,
            lifetime: None,
            binding: None,
        }
    }

    /// Gives each value that shares a text (see [`SharedText`]) a copy of its part of it, and
    /// lets go of the text; values that own their texts stay as they are.
    ///
    /// For a store that keeps records in memory (a cache, [`MemoryStore`](crate::MemoryStore)):
    /// a shared text stays alive while any value sharing it does, so a kept record whose session
    /// then replaced most of its values would hold the rest of the text, uncounted. Unshared, a
    /// record holds its own values and no more.
    ///
    /// ```
    /// use session_core::store::{Record, SharedText, Timestamp, pack_values, unpack_shared};
    ///
    /// let text = SharedText::from(pack_values([("a", "1"), ("b", "2")]));
    /// let mut record = Record::new(Timestamp::from_millis(0), Timestamp::from_millis(1));
    /// for (name, value) in unpack_shared(&text).unwrap() {
    ///     record.data.insert(name.to_owned(), value);
    /// }
    /// record.unshare_values();
    /// assert!(!record.data["a"].is_shared());
    /// drop(text); // the record holds none of it: this frees the text
    /// assert_eq!(record.data["b"].as_json(), "2");
    /// ```
    pub fn unshare_values(&mut self) {
        for value in self.data.values_mut() {
            value.unshare();
        }
    }

    /// Whether the record has expired at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires <= now
    }
}

/// A set of key-level changes from one request, applied by
/// [`Store::apply`](crate::store::Store::apply).
///
/// Applying only the keys a request changed is what lets concurrent requests on one session keep
/// each other's writes.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Changes {
    /// Remove every stored key before applying `updates` (the handler called `clear`).
    pub clear: bool,
    /// Keys to set (`Some`) or remove (`None`), in order.
    pub updates: Vec<(String, Option<Value>)>,
    /// The new `last_active` time.
    pub last_active: Timestamp,
    /// The new expiry time.
    pub expires: Timestamp,
    /// A new per-session lifetime (`Some(None)` resets it to the default).
    pub lifetime: Option<Option<Lifetime>>,
}

impl Changes {
    /// Changes that only extend the session's expiry, writing no values.
    pub fn touch(last_active: Timestamp, expires: Timestamp) -> Self {
        Changes {
            last_active,
            expires,
            ..Changes::default()
        }
    }

    /// Whether these changes write no values (a touch).
    pub fn is_touch(&self) -> bool {
        !self.clear && self.updates.is_empty() && self.lifetime.is_none()
    }

    /// Applies the changes to `record`.
    ///
    /// A value set that shares a text (see [`SharedText`]) goes in as a copy of its own, as
    /// [`Record::unshare_values`] would leave it: stores that keep records apply changes with
    /// this.
    pub fn apply_to(&self, record: &mut Record) {
        if self.clear {
            record.data.clear();
        }
        for (key, value) in &self.updates {
            match value {
                // Replacing an existing key reuses its stored name (no allocation).
                Some(value) => match record.data.get_mut(key) {
                    Some(slot) => *slot = value.owned(),
                    None => {
                        record.data.insert(key.clone(), value.owned());
                    }
                },
                None => {
                    record.data.remove(key);
                }
            }
        }
        record.last_active = self.last_active;
        record.expires = self.expires;
        if let Some(lifetime) = self.lifetime {
            record.lifetime = lifetime;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn kept_records_own_their_values() {
        let text = SharedText::from(crate::store::pack_values([("a", "1"), ("b", "[2]")]));
        let mut record = Record::new(Timestamp::from_millis(1), Timestamp::from_millis(2));
        for (name, value) in crate::store::unpack_shared(&text).expect("a pack") {
            assert!(value.is_shared());
            record.data.insert(name.to_owned(), value);
        }
        // Changes applied bring copies of their own.
        let mut changes = Changes::touch(Timestamp::from_millis(1), Timestamp::from_millis(2));
        changes.updates = vec![("c".to_owned(), Some(record.data["b"].clone()))];
        let mut kept = Record::new(Timestamp::from_millis(1), Timestamp::from_millis(2));
        changes.apply_to(&mut kept);
        assert!(!kept.data["c"].is_shared());
        assert_eq!(kept.data["c"].as_json(), "[2]");
        let before = record.clone();
        record.unshare_values();
        assert!(record.data.values().all(|value| !value.is_shared()));
        assert_eq!(record, before);
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
    fn timestamps_saturate_at_max() {
        assert_eq!(Timestamp::from_millis(u64::MAX), Timestamp::MAX);
        assert_eq!(Timestamp::MAX.as_millis(), i64::MAX as u64);
        assert_eq!(
            Timestamp::from_millis(1).saturating_add(Duration::MAX),
            Timestamp::MAX
        );
        let decoded: Timestamp = serde_json::from_str(&u64::MAX.to_string()).expect("u64");
        assert_eq!(decoded, Timestamp::MAX);
        assert_eq!(
            serde_json::to_string(&Timestamp::from_millis(5)).expect("json"),
            "5"
        );
    }

    #[test]
    fn changes_apply_key_by_key() {
        let mut record = Record::new(Timestamp::from_millis(1), Timestamp::from_millis(10));
        record
            .data
            .insert("a".into(), Value::from_serialize(&1).expect("json"));
        record
            .data
            .insert("b".into(), Value::from_serialize(&2).expect("json"));
        let changes = Changes {
            updates: vec![
                ("b".into(), None),
                ("c".into(), Some(Value::from_serialize("x").expect("json"))),
            ],
            last_active: Timestamp::from_millis(5),
            expires: Timestamp::from_millis(50),
            ..Changes::default()
        };
        changes.apply_to(&mut record);
        assert_eq!(record.data.keys().collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(record.expires, Timestamp::from_millis(50));
        assert!(!record.is_expired(Timestamp::from_millis(49)));
        assert!(record.is_expired(Timestamp::from_millis(50)));
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
