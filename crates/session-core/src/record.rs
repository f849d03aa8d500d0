//! The stored form of a session: its values, timestamps and key-level change sets.

use std::collections::BTreeMap;
use std::fmt;
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
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Value(String);

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Value::from_json(text).map_err(serde::de::Error::custom)
    }
}

impl Value {
    /// Serializes `value` with `serde_json`.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::to_string(value).map(Value)
    }

    /// Wraps JSON text, checking that it parses.
    pub fn from_json(json: String) -> Result<Self, serde_json::Error> {
        if !is_plain_json_string(&json) {
            serde_json::from_str::<serde::de::IgnoredAny>(&json)?;
        }
        Ok(Value(json))
    }

    /// Deserializes the value as `T`.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.0)
    }

    /// The value's JSON text.
    pub fn as_json(&self) -> &str {
        &self.0
    }
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
        f.write_str(&self.0)
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
    pub fn apply_to(&self, record: &mut Record) {
        if self.clear {
            record.data.clear();
        }
        for (key, value) in &self.updates {
            match value {
                // Replacing an existing key reuses its stored name (no allocation).
                Some(value) => match record.data.get_mut(key) {
                    Some(slot) => *slot = value.clone(),
                    None => {
                        record.data.insert(key.clone(), value.clone());
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
