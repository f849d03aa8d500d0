//! The stored form: one Redis hash per session, its values in fields of their own or packed into
//! one, plus metadata fields.
//!
//! | field | holds |
//! |---|---|
//! | `created`, `last_active`, `expires` | milliseconds since the Unix epoch, in decimal |
//! | `lifetime` | the session's own [`Lifetime`] as JSON, absent when it has none |
//! | `v:<name>` | the value stored under `<name>`, as its JSON text; empty: the value is removed |
//! | `pack` | values packed into one field (see below) |
//! | `size` | the values' size in decimal (see below) |
//! | `binding`, `subject_key` | a bound session's binding and its subject's digest ([`binding`]) |
//!
//! Values carry a `v:` prefix so that no session key can collide with a metadata field.
//!
//! **Packed values.** A session of many values is read faster as one field than as many (one
//! `HGETALL` reply of a few strings, not one of hundreds: Redis and the client both pay per
//! string). So when a hash would have more than [`PACK_FIELDS`] fields, metadata included, and
//! its values take at most [`PACK_MAX`] bytes, its values go into one `pack` field: written so
//! by `create` and `save`, and packed again by the `apply` script when a change leaves a hash
//! with more fields. A pack is its values one after the other, each written
//! `<name length>:<text length>:<name><text>` (lengths in bytes, in decimal: session-core's
//! [`pack_values`]). Writes stay key-level: `apply` writes a changed value to its own `v:` field,
//! which overrides the packed one, and a removed value of a packed hash becomes an empty `v:`
//! field. A load reads the pack, then the `v:` fields over it.
//!
//! **The size.** `size` is what the `apply` script checks the store's limit against without
//! reading the whole hash (the metadata, bounded, is not counted): a `v:` field counts its name
//! and text in bytes (an empty one its name), and a packed value as much as it would in a field
//! of its own. A packed value overridden by its `v:` field, or removed by an empty one, still counts
//! until the values are packed again. When that puts a change over the limit, the script prunes
//! the pack of every overridden or removed value and of those the change sets (which then stay in
//! fields of their own, so a value changed again is not counted twice again), and refuses the
//! change only if the values' own size passes the limit. A hash without `size` (written before it
//! existed) is still read, and gets it at the next `apply` that changes a value.

use std::collections::HashMap;
use std::fmt;
use std::io::Write as _;

use redis::{RedisWrite, ToRedisArgs};

use session_core::store::{Changes, Record, SharedText, Timestamp, pack_values, unpack_shared};
use session_core::{Lifetime, Value};

mod binding;

pub(crate) use binding::{BINDING, SUBJECT_KEY, binding_fields, parse as parse_binding};

/// When the session was first stored.
pub(crate) const CREATED: &str = "created";
/// When a request last used the session.
pub(crate) const LAST_ACTIVE: &str = "last_active";
/// When the session expires (the scripts read it to tell a live record from a dead one).
pub(crate) const EXPIRES: &str = "expires";
/// The session's own lifetime.
pub(crate) const LIFETIME: &str = "lifetime";
/// The prefix of every value field.
pub(crate) const VALUE_PREFIX: &str = "v:";
/// The session's size, kept by the scripts.
pub(crate) const SIZE: &str = "size";

/// The field holding the value stored under `name`.
pub(crate) fn value_field(name: &str) -> String {
    let mut field = String::with_capacity(VALUE_PREFIX.len() + name.len());
    field.push_str(VALUE_PREFIX);
    field.push_str(name);
    field
}

/// A lifetime as stored: its serde form in JSON.
fn lifetime_json(lifetime: &Lifetime) -> String {
    // A struct of an integer and a bool: serializing it cannot fail.
    serde_json::to_string(lifetime).unwrap_or_default()
}

/// The field holding the packed values.
pub(crate) const PACK: &str = "pack";

/// A hash is packed when it would have more than this many fields, metadata included:
/// `create` and `save` write the values of such a record into [`PACK`], and the `apply` script
/// packs a hash's values again when a change leaves it with more (the number is written into the
/// script).
pub(crate) const PACK_FIELDS: usize = 12;

/// Values are packed only while they take at most this many bytes (as `size` counts them): a
/// packing copies every value, and so does pruning a pack (see [`scripts`](crate::scripts)),
/// which bounds what either costs Redis (written into the script too).
pub(crate) const PACK_MAX: usize = 128 * 1024;

/// Every field of `record`, as (field, text) pairs: what `create` and `save` write. The values go
/// into fields of their own, or, when `pack` allows it, into [`PACK`] when the hash would have
/// more than [`PACK_FIELDS`] fields and the values take at most [`PACK_MAX`] bytes.
pub(crate) fn record_fields(record: &Record, pack: bool) -> Vec<(String, String)> {
    let mut fields = Vec::with_capacity(record.data.len().min(PACK_FIELDS) + 6);
    fields.push((CREATED.to_owned(), record.created.as_millis().to_string()));
    fields.push((
        LAST_ACTIVE.to_owned(),
        record.last_active.as_millis().to_string(),
    ));
    fields.push((EXPIRES.to_owned(), record.expires.as_millis().to_string()));
    if let Some(lifetime) = &record.lifetime {
        fields.push((LIFETIME.to_owned(), lifetime_json(lifetime)));
    }
    if let Some(binding) = &record.binding {
        fields.extend(binding_fields(binding));
    }
    // The metadata, the `size` the caller adds, and a field per value.
    let packed = pack
        && fields.len() + 1 + record.data.len() > PACK_FIELDS
        && record_size(record) <= PACK_MAX;
    if packed {
        let values = record
            .data
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_json()));
        fields.push((PACK.to_owned(), pack_values(values)));
    } else {
        for (name, value) in &record.data {
            fields.push((value_field(name), value.as_json().to_owned()));
        }
    }
    fields
}

/// The size of `record`'s values as the `size` field counts them: each value's field name
/// (`v:` and its name) and text, in bytes, however they are laid out.
pub(crate) fn record_size(record: &Record) -> usize {
    record
        .data
        .iter()
        .map(|(name, value)| VALUE_PREFIX.len() + name.len() + value.as_json().len())
        .sum()
}

/// A field `apply` names, borrowed from the changes: a value's (`v:` and the value's name) or a
/// metadata field. Written as one Redis argument, without building the name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field<'a> {
    /// The field of the value stored under this name.
    Value(&'a str),
    /// A metadata field.
    Meta(&'static str),
}

impl Field<'_> {
    /// The field name's length in bytes.
    pub(crate) fn len(&self) -> usize {
        match self {
            Field::Value(name) => VALUE_PREFIX.len() + name.len(),
            Field::Meta(name) => name.len(),
        }
    }
}

impl ToRedisArgs for Field<'_> {
    fn write_redis_args<W: RedisWrite + ?Sized>(&self, out: &mut W) {
        match self {
            Field::Value(name) => {
                let mut arg = out.writer_for_next_arg();
                // Writes to the command's own buffer: they cannot fail.
                let _ = arg.write_all(VALUE_PREFIX.as_bytes());
                let _ = arg.write_all(name.as_bytes());
            }
            Field::Meta(name) => out.write_arg(name.as_bytes()),
        }
    }
}

/// A text `apply` writes: a value's JSON text (borrowed), a timestamp, or a lifetime's JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Text<'a> {
    /// A value's JSON text.
    Json(&'a str),
    /// Milliseconds since the Unix epoch, written in decimal.
    Millis(u64),
    /// A text made for the call (a lifetime's JSON).
    Owned(String),
}

impl Text<'_> {
    /// The JSON text of a value, if this is one.
    pub(crate) fn json(&self) -> Option<&str> {
        match self {
            Text::Json(json) => Some(json),
            _ => None,
        }
    }
}

impl ToRedisArgs for Text<'_> {
    fn write_redis_args<W: RedisWrite + ?Sized>(&self, out: &mut W) {
        match self {
            Text::Json(json) => out.write_arg(json.as_bytes()),
            Text::Millis(millis) => millis.write_redis_args(out),
            Text::Owned(text) => out.write_arg(text.as_bytes()),
        }
    }
}

/// Past this many updates, finding a key's last change goes through a hash map rather than a
/// scan of those already seen.
const SCAN_UPDATES: usize = 16;

/// Each key's last change in `updates`, in the order the keys first appear.
fn last_changes(updates: &[(String, Option<Value>)]) -> Vec<(&str, Option<&Value>)> {
    let mut last: Vec<(&str, Option<&Value>)> = Vec::with_capacity(updates.len());
    let mut index: Option<HashMap<&str, usize>> =
        (updates.len() > SCAN_UPDATES).then(|| HashMap::with_capacity(updates.len()));
    for (name, value) in updates {
        let seen = match &index {
            Some(index) => index.get(name.as_str()).copied(),
            None => last.iter().position(|(seen, _)| *seen == name),
        };
        match seen {
            Some(at) => last[at].1 = value.as_ref(),
            None => {
                if let Some(index) = &mut index {
                    index.insert(name, last.len());
                }
                last.push((name, value.as_ref()));
            }
        }
    }
    last
}

/// What `apply` does to the hash, borrowing its names and texts from the [`Changes`].
///
/// Whether to drop every value field first, the fields to set and the fields to remove (each field
/// in at most one of the two), value fields first in both, and how many of each are values.
#[derive(Debug, Default)]
pub(crate) struct FieldChanges<'a> {
    pub(crate) clear: bool,
    pub(crate) set: Vec<(Field<'a>, Text<'a>)>,
    pub(crate) remove: Vec<Field<'a>>,
    /// How many of `set` (the first ones) are value fields.
    pub(crate) values_set: usize,
    /// How many of `remove` (the first ones) are value fields.
    pub(crate) values_removed: usize,
}

impl<'a> FieldChanges<'a> {
    /// The field-level form of one request's changes.
    ///
    /// A key changed twice keeps its last change, as [`Changes::apply_to`] does.
    pub(crate) fn from_changes(changes: &'a Changes) -> Self {
        let mut out = FieldChanges {
            clear: changes.clear,
            set: Vec::with_capacity(changes.updates.len() + 3),
            ..FieldChanges::default()
        };
        for (name, value) in last_changes(&changes.updates) {
            match value {
                Some(value) => out
                    .set
                    .push((Field::Value(name), Text::Json(value.as_json()))),
                None => out.remove.push(Field::Value(name)),
            }
        }
        (out.values_set, out.values_removed) = (out.set.len(), out.remove.len());
        out.set.push((
            Field::Meta(LAST_ACTIVE),
            Text::Millis(changes.last_active.as_millis()),
        ));
        out.set.push((
            Field::Meta(EXPIRES),
            Text::Millis(changes.expires.as_millis()),
        ));
        match &changes.lifetime {
            Some(Some(lifetime)) => out
                .set
                .push((Field::Meta(LIFETIME), Text::Owned(lifetime_json(lifetime)))),
            Some(None) => out.remove.push(Field::Meta(LIFETIME)),
            None => {}
        }
        out
    }

    /// The size of the values set, as the `size` field counts them: their fields' names and
    /// texts, in bytes.
    pub(crate) fn values_set_size(&self) -> usize {
        self.set[..self.values_set]
            .iter()
            .map(|(field, text)| field.len() + text.json().map_or(0, str::len))
            .sum()
    }

    /// Puts the short values set ([`SHORT_VALUE`]) before the long ones and answers how many
    /// there are; none when the changes clear the record (its old values are not read).
    pub(crate) fn short_values_first(&mut self) -> usize {
        if self.clear {
            return 0;
        }
        let is_short = |text: &Text<'_>| text.json().is_some_and(|json| json.len() <= SHORT_VALUE);
        let values = &mut self.set[..self.values_set];
        values.sort_by_key(|(_, text)| !is_short(text));
        values.iter().take_while(|(_, text)| is_short(text)).count()
    }
}

/// Values up to this many bytes of JSON text are "short": `apply` reads their old texts with its
/// liveness check (one `HMGET`) to keep the size, where a long one's old length costs an `HSTRLEN`
/// rather than a copy of the text.
pub(crate) const SHORT_VALUE: usize = 256;

/// Why a stored hash could not be read as a session.
///
/// For the log; the session is then treated as absent.
#[derive(Debug)]
pub(crate) enum Corrupt {
    /// A metadata field is missing.
    Missing(&'static str),
    /// A timestamp field is not a decimal number of milliseconds.
    BadTimestamp(&'static str),
    /// The lifetime field is not a stored lifetime.
    BadLifetime(serde_json::Error),
    /// A value field is not UTF-8 JSON text.
    BadValue,
    /// The `pack` field is not values packed by this store, or holds one that is not UTF-8 JSON.
    BadPack,
    /// A field name is not UTF-8, or names nothing this store writes.
    UnknownField,
    /// The key holds something other than a hash.
    WrongType,
    /// The `size` field is not a decimal number.
    BadSize,
    /// The `binding` field is not a binding, or `subject_key` is not its subject's digest.
    BadBinding(&'static str),
    /// The hash's values take more than the store's limit (grown by something other than this
    /// store, or written under a larger limit).
    TooLarge {
        /// Their size, as the `size` field counts it.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Corrupt::Missing(field) => write!(f, "field `{field}` is missing"),
            Corrupt::BadTimestamp(field) => write!(f, "field `{field}` is not a timestamp"),
            Corrupt::BadLifetime(error) => write!(f, "field `{LIFETIME}` is malformed: {error}"),
            Corrupt::BadValue => f.write_str("a value field does not hold UTF-8 JSON text"),
            Corrupt::BadPack => write!(f, "field `{PACK}` does not hold packed values"),
            Corrupt::UnknownField => f.write_str("a field is not one this store writes"),
            Corrupt::WrongType => f.write_str("the key does not hold a hash"),
            Corrupt::BadSize => write!(f, "field `{SIZE}` is not a number"),
            Corrupt::BadBinding(why) => write!(f, "field `{BINDING}` is damaged: {why}"),
            Corrupt::TooLarge { size, limit } => {
                write!(
                    f,
                    "its values take {size} bytes, over the store's limit of {limit}"
                )
            }
        }
    }
}

/// Reads the fields of a hash (as `HGETALL` returns them) back into a record, refusing a hash
/// whose values take more than `limit` bytes (as [`SIZE`] counts them) before reading any (but
/// a pack's, which are checked as it is split, once it is within twice the limit). Packed values
/// share the pack's text (see [`SharedText`]): one allocation for them all.
///
/// `None` for no fields (no such key).
pub(crate) fn decode(
    mut fields: Vec<(Vec<u8>, Vec<u8>)>,
    limit: usize,
) -> Result<Option<Record>, Corrupt> {
    if fields.is_empty() {
        return Ok(None);
    }
    let pack = fields
        .iter()
        .position(|(name, _)| name == PACK.as_bytes())
        .map(|at| fields.swap_remove(at).1);
    // A pack entry takes at most twice what it counts (its lengths' digits and colons against
    // the `v:` prefix), so a pack over twice the limit is refused before it is split.
    if let Some(pack) = &pack
        && pack.len() / 2 > limit
    {
        return Err(Corrupt::TooLarge {
            size: pack.len() / 2,
            limit,
        });
    }
    let pack = pack
        .map(SharedText::from_utf8)
        .transpose()
        .map_err(|_| Corrupt::BadPack)?;
    let packed = match &pack {
        Some(pack) => unpack_shared(pack).map_err(|_| Corrupt::BadPack)?,
        None => Vec::new(),
    };
    let mut size = packed.iter().fold(0usize, |sum, (name, value)| {
        sum.saturating_add(VALUE_PREFIX.len() + name.len() + value.as_json().len())
    });
    for (name, text) in &fields {
        // An empty field (a removed packed value) counts its name.
        if name.starts_with(VALUE_PREFIX.as_bytes()) {
            size = size.saturating_add(name.len() + text.len());
        }
    }
    if size > limit {
        return Err(Corrupt::TooLarge { size, limit });
    }
    let (mut created, mut last_active, mut expires, mut lifetime) = (None, None, None, None);
    let (mut binding, mut digest) = (None, None);
    // The values in fields of their own; none for an empty field (a removed value).
    let mut loose = Vec::with_capacity(fields.len());
    for (name, text) in fields {
        let name = String::from_utf8(name).map_err(|_| Corrupt::UnknownField)?;
        match name.as_str() {
            CREATED => created = Some(timestamp(&text, CREATED)?),
            LAST_ACTIVE => last_active = Some(timestamp(&text, LAST_ACTIVE)?),
            EXPIRES => expires = Some(timestamp(&text, EXPIRES)?),
            LIFETIME => {
                lifetime = Some(serde_json::from_slice(&text).map_err(Corrupt::BadLifetime)?);
            }
            SIZE => {
                decimal(&text).ok_or(Corrupt::BadSize)?;
            }
            BINDING => binding = Some(text),
            SUBJECT_KEY => digest = Some(text),
            _ => {
                if !name.starts_with(VALUE_PREFIX) {
                    return Err(Corrupt::UnknownField);
                }
                let value = if text.is_empty() {
                    None
                } else {
                    let json = String::from_utf8(text).map_err(|_| Corrupt::BadValue)?;
                    Some(Value::from_json(json).map_err(|_| Corrupt::BadValue)?)
                };
                // The key in the field name's own allocation.
                let mut key = name;
                key.drain(..VALUE_PREFIX.len());
                loose.push((key, value));
            }
        }
    }
    let created = created.ok_or(Corrupt::Missing(CREATED))?;
    let expires = expires.ok_or(Corrupt::Missing(EXPIRES))?;
    let mut record = Record::new(created, expires);
    record.last_active = last_active.ok_or(Corrupt::Missing(LAST_ACTIVE))?;
    record.lifetime = lifetime;
    record.binding = binding::decode_binding(binding.as_deref(), digest.as_deref())?.map(Box::new);
    // Built in one pass, not by an insertion each (the pairs are sorted, and of a name given
    // twice the last is kept); the fields of their own then override the packed values.
    if packed.is_empty() {
        record.data = loose
            .into_iter()
            .filter_map(|(key, value)| Some((key, value?)))
            .collect();
    } else {
        record.data = packed
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        for (key, value) in loose {
            match value {
                Some(value) => record.data.insert(key, value),
                None => record.data.remove(&key),
            };
        }
    }
    Ok(Some(record))
}

/// A timestamp field: milliseconds, a [`decimal`].
pub(crate) fn timestamp(text: &[u8], field: &'static str) -> Result<Timestamp, Corrupt> {
    decimal(text)
        .map(Timestamp::from_millis)
        .ok_or(Corrupt::BadTimestamp(field))
}

/// Decimal digits only (no sign, no spaces), fitting in a `u64`.
fn decimal(text: &[u8]) -> Option<u64> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const LIMIT: usize = 1 << 20;

    fn bytes(fields: &[(String, String)]) -> Vec<(Vec<u8>, Vec<u8>)> {
        fields
            .iter()
            .map(|(n, v)| (n.clone().into_bytes(), v.clone().into_bytes()))
            .collect()
    }

    fn sample() -> Record {
        let mut record = Record::new(Timestamp::from_millis(5), Timestamp::from_millis(99));
        record.last_active = Timestamp::from_millis(7);
        record.lifetime = Some(Lifetime::persistent(Duration::from_secs(60)));
        for (name, json) in [("user", "\"alice\""), ("created", "1"), ("", "[1,{}]")] {
            let value = Value::from_json(json.to_owned()).expect("json");
            record.data.insert(name.to_owned(), value);
        }
        record
    }

    #[test]
    fn records_round_trip_through_their_fields() {
        let record = sample();
        let fields = record_fields(&record, true);
        assert!(fields.iter().any(|(n, _)| n == "v:created"));
        assert_eq!(
            decode(bytes(&fields), LIMIT).expect("decodes"),
            Some(record)
        );
        assert_eq!(decode(Vec::new(), LIMIT).expect("empty"), None);
    }

    #[test]
    fn bound_records_round_trip_and_a_damaged_binding_is_refused() {
        let mut record = sample();
        let binding = session_core::store::Binding::new(
            "alice",
            session_core::subject::ClientInfo::new(),
            Timestamp::from_millis(6),
        )
        .expect("binding");
        record.binding = Some(Box::new(binding));
        let fields = record_fields(&record, true);
        assert_eq!(record_size(&record), record_size(&sample()));
        assert_eq!(
            decode(bytes(&fields), LIMIT).expect("decodes"),
            Some(record)
        );
        let damaged: Vec<_> = fields
            .iter()
            .map(|(n, v)| {
                (
                    n.clone(),
                    if n == BINDING {
                        "{}".to_owned()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect();
        assert!(matches!(
            decode(bytes(&damaged), LIMIT),
            Err(Corrupt::BadBinding(_))
        ));
        let half: Vec<_> = fields
            .iter()
            .filter(|(n, _)| n != SUBJECT_KEY)
            .cloned()
            .collect();
        assert!(matches!(
            decode(bytes(&half), LIMIT),
            Err(Corrupt::Missing(SUBJECT_KEY))
        ));
    }

    #[test]
    fn damaged_fields_are_refused() {
        let good = record_fields(&sample(), true);
        let damage = |name: &str, text: Option<&str>| {
            let mut fields: Vec<_> = good.iter().filter(|(n, _)| n != name).cloned().collect();
            if let Some(text) = text {
                fields.push((name.to_owned(), text.to_owned()));
            }
            decode(bytes(&fields), LIMIT)
        };
        assert!(matches!(damage(EXPIRES, None), Err(Corrupt::Missing(_))));
        for bad in ["", "-1", "+1", " 1", "1.5", "99999999999999999999999"] {
            assert!(matches!(
                damage(EXPIRES, Some(bad)),
                Err(Corrupt::BadTimestamp(_))
            ));
        }
        assert!(matches!(
            damage(LIFETIME, Some("{")),
            Err(Corrupt::BadLifetime(_))
        ));
        assert!(matches!(
            damage("v:user", Some("{")),
            Err(Corrupt::BadValue)
        ));
        assert!(matches!(
            damage("junk", Some("1")),
            Err(Corrupt::UnknownField)
        ));
        let mut fields = bytes(&good);
        fields.push((vec![0xff], b"1".to_vec()));
        assert!(matches!(decode(fields, LIMIT), Err(Corrupt::UnknownField)));
        assert!(matches!(damage(SIZE, Some("12a")), Err(Corrupt::BadSize)));
        assert!(
            damage(SIZE, Some("12")).is_ok(),
            "the size is not checked against the fields"
        );
    }

    #[test]
    fn a_hash_over_the_limit_is_refused_by_its_size() {
        let fields = record_fields(&sample(), true);
        let size = record_size(&sample());
        assert!(decode(bytes(&fields), size).is_ok(), "at the limit");
        let mut with_size = fields.clone();
        // Neither the size field nor the other metadata counts.
        with_size.push((SIZE.to_owned(), size.to_string()));
        assert!(decode(bytes(&with_size), size).is_ok(), "at the limit");
        assert_eq!(size, "v:user\"alice\"v:created1v:[1,{}]".len());
        assert!(matches!(
            decode(bytes(&fields), size - 1),
            Err(Corrupt::TooLarge { size: s, limit }) if s == size && limit == size - 1
        ));
    }

    /// `sample` with `n` more values, `k0` .. `k{n-1}`.
    fn grown(n: usize) -> Record {
        let mut record = sample();
        for i in 0..n {
            let value = Value::from_json(format!("\"{}\"", "é".repeat(i))).expect("json");
            record.data.insert(format!("k{i}"), value);
        }
        record
    }

    #[test]
    fn many_values_are_packed_and_read_back_at_the_same_size() {
        let record = grown(8);
        let fields = record_fields(&record, true);
        let packs: Vec<_> = fields.iter().filter(|(n, _)| n == PACK).collect();
        assert_eq!(packs.len(), 1, "{fields:?}");
        assert!(!fields.iter().any(|(n, _)| n.starts_with(VALUE_PREFIX)));
        assert!(packs[0].1.starts_with("0:6:[1,{}]"), "{}", packs[0].1);
        assert_eq!(
            decode(bytes(&fields), LIMIT).expect("decodes"),
            Some(record.clone())
        );
        // The limit counts a packed value as it would a field of its own.
        let size = record_size(&record);
        let loose: Vec<_> = record
            .data
            .iter()
            .map(|(n, v)| (value_field(n), v.as_json().to_owned()))
            .collect();
        assert_eq!(
            size,
            loose.iter().map(|(n, t)| n.len() + t.len()).sum::<usize>()
        );
        assert!(decode(bytes(&fields), size).is_ok(), "at the limit");
        assert!(matches!(
            decode(bytes(&fields), size - 1),
            Err(Corrupt::TooLarge { size: s, .. }) if s == size
        ));
        // A pack over twice the limit is refused before it is split.
        let mut huge = bytes(&record_fields(&sample(), true));
        huge.push((PACK.as_bytes().to_vec(), vec![b'1'; 102]));
        assert!(matches!(
            decode(huge.clone(), 50),
            Err(Corrupt::TooLarge {
                size: 51,
                limit: 50
            })
        ));
        huge.last_mut().expect("the pack").1.pop();
        assert!(
            matches!(decode(huge, 50), Err(Corrupt::BadPack)),
            "split, then refused"
        );
        // A few values are not, nor any when packing is off.
        assert!(
            !record_fields(&grown(4), true)
                .iter()
                .any(|(n, _)| n == PACK)
        );
        assert!(!record_fields(&record, false).iter().any(|(n, _)| n == PACK));
    }

    #[test]
    fn fields_of_their_own_override_the_pack_and_empty_ones_remove() {
        let record = grown(8);
        let mut fields = record_fields(&record, true);
        fields.push(("v:k1".to_owned(), "42".to_owned()));
        fields.push(("v:k2".to_owned(), String::new()));
        fields.push(("v:new".to_owned(), "true".to_owned()));
        fields.push(("v:never".to_owned(), String::new()));
        let mut expected = record.clone();
        expected.data.insert(
            "k1".to_owned(),
            Value::from_json("42".to_owned()).expect("json"),
        );
        expected.data.remove("k2");
        expected.data.insert(
            "new".to_owned(),
            Value::from_json("true".to_owned()).expect("json"),
        );
        assert_eq!(
            decode(bytes(&fields), LIMIT).expect("decodes"),
            Some(expected)
        );
        // Overridden values still count, until the pack is made again; empty fields their names.
        let size = record_size(&record)
            + "v:k1".len()
            + 2
            + "v:new".len()
            + 4
            + "v:k2".len()
            + "v:never".len();
        assert!(decode(bytes(&fields), size).is_ok());
        assert!(matches!(
            decode(bytes(&fields), size - 1),
            Err(Corrupt::TooLarge { .. })
        ));
        // Without a pack, an empty field removes nothing.
        let mut plain = record_fields(&sample(), true);
        plain.push(("v:gone".to_owned(), String::new()));
        assert_eq!(
            decode(bytes(&plain), LIMIT).expect("decodes"),
            Some(sample())
        );
    }

    #[test]
    fn damaged_packs_are_refused() {
        let good = record_fields(&sample(), true);
        // Malformed (session-core's tests cover the form), and well formed around a text that
        // is not JSON.
        for bad in [
            &b"1:1:a12:1:b"[..],
            b"99999999999999999999:1:a1",
            b"1:1:a{",
            b"1:3:a\"\xff\"",
        ] {
            let mut fields = bytes(&good);
            fields.push((PACK.as_bytes().to_vec(), bad.to_vec()));
            assert!(
                matches!(decode(fields, LIMIT), Err(Corrupt::BadPack)),
                "{:?} was taken",
                String::from_utf8_lossy(bad)
            );
        }
        let mut fields = bytes(&good);
        fields.push((PACK.as_bytes().to_vec(), b"1:3:\xff\"a\"".to_vec()));
        assert!(matches!(decode(fields, LIMIT), Err(Corrupt::BadPack)));
        // An empty pack holds no values.
        let mut fields = bytes(&good);
        fields.push((PACK.as_bytes().to_vec(), Vec::new()));
        assert_eq!(decode(fields, LIMIT).expect("decodes"), Some(sample()));
    }

    #[test]
    fn changes_keep_the_last_change_of_each_key() {
        let one = Value::from_json("1".to_owned()).expect("json");
        let mut changes = Changes::touch(Timestamp::from_millis(3), Timestamp::from_millis(9));
        changes.updates = vec![
            ("a".to_owned(), Some(one.clone())),
            ("b".to_owned(), Some(one.clone())),
            ("a".to_owned(), None),
            ("b".to_owned(), Some(one)),
        ];
        changes.lifetime = Some(None);
        let fields = FieldChanges::from_changes(&changes);
        assert_eq!(
            fields.set,
            [
                (Field::Value("b"), Text::Json("1")),
                (Field::Meta(LAST_ACTIVE), Text::Millis(3)),
                (Field::Meta(EXPIRES), Text::Millis(9)),
            ]
        );
        assert_eq!(fields.remove, [Field::Value("a"), Field::Meta(LIFETIME)]);
        assert_eq!((fields.values_set, fields.values_removed), (1, 1));
        // As Redis gets them: one argument per field or text.
        let args: Vec<Vec<u8>> = fields
            .set
            .iter()
            .flat_map(|(f, t)| [f.to_redis_args(), t.to_redis_args()])
            .flatten()
            .collect();
        assert_eq!(
            args,
            [&b"v:b"[..], b"1", b"last_active", b"3", b"expires", b"9"]
        );
    }

    #[test]
    fn the_last_change_wins_past_the_scan_too() {
        let value = |n: usize| Value::from_json(n.to_string()).expect("json");
        for count in [3, SCAN_UPDATES, SCAN_UPDATES + 1, 100] {
            let mut changes = Changes::touch(Timestamp::from_millis(1), Timestamp::from_millis(2));
            changes.updates = (0..count)
                .map(|n| (format!("k{}", n % 5), Some(value(n))))
                .collect();
            let fields = FieldChanges::from_changes(&changes);
            let expected: Vec<(String, String)> = (0..count.min(5))
                .map(|k| {
                    let last = (0..count).rev().find(|n| n % 5 == k).expect("a change");
                    (format!("v:k{k}"), last.to_string())
                })
                .collect();
            let got: Vec<(String, String)> = fields.set[..fields.values_set]
                .iter()
                .map(|(f, t)| {
                    let name = String::from_utf8(f.to_redis_args().concat()).expect("utf-8");
                    (name, t.json().expect("a value").to_owned())
                })
                .collect();
            assert_eq!(got, expected, "{count} updates");
        }
    }
}
