//! The stored form of a session: its values, timestamps and key-level change sets.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::subject::Binding;
use crate::value::Value;

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

    /// Gives each value that shares a text (see [`SharedText`](crate::store::SharedText)) a copy
    /// of its part of it, and lets go of the text; values that own their texts stay as they are.
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
    /// A value set that shares a text (see [`SharedText`](crate::store::SharedText)) goes in as
    /// a copy of its own, as [`Record::unshare_values`] would leave it: stores that keep records
    /// apply changes with this.
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
    use crate::value::SharedText;

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
}
