//! What the PostgreSQL and SQLite stores share: their options, time-outs, the change set in the
//! form the statements take, and the assembly (and checks) of a loaded record.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use session_core::store::{
    Changes, Clock, DEFAULT_MAX_RECORD_BYTES, MAX_RECORD_BYTES_LIMIT, Record, SharedText,
    SystemClock, Timestamp, unpack_shared,
};
use session_core::{Lifetime, Value};

use crate::error::SqlStoreError;
use crate::subjects::decode_binding;

/// The bound on every store call unless the builder says otherwise: 5 s.
///
/// Longer than the Redis store's second: it covers waiting for a pooled connection and, on
/// SQLite, for another writer (the busy time-out).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How many expired sessions one cleanup statement removes unless the builder says otherwise.
pub const DEFAULT_CLEANUP_BATCH: u32 = 1000;

/// The options both stores take.
pub(crate) struct Options {
    pub(crate) timeout: Duration,
    pub(crate) max_record_bytes: usize,
    pub(crate) clock: Box<dyn Clock>,
    pub(crate) cleanup_batch: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: DEFAULT_TIMEOUT,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            clock: Box::new(SystemClock),
            cleanup_batch: DEFAULT_CLEANUP_BATCH,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("timeout", &self.timeout)
            .field("max_record_bytes", &self.max_record_bytes)
            .field("clock", &self.clock)
            .field("cleanup_batch", &self.cleanup_batch)
            .finish()
    }
}

/// The builder methods both stores' builders have, over a field `options: Options`.
macro_rules! option_methods {
    () => {
        /// The bound on every store call (default [`DEFAULT_TIMEOUT`](crate::DEFAULT_TIMEOUT),
        /// 5 s), waiting for a pooled connection included. A call that passes it fails with
        /// [`StoreErrorKind::Timeout`](session_core::store::StoreErrorKind::Timeout); a write
        /// that timed out may or may not have been applied.
        pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
            self.options.timeout = timeout;
            self
        }

        /// The largest session this store writes or reads, counted as each value's name and
        /// JSON text in bytes (default
        /// [`DEFAULT_MAX_RECORD_BYTES`](session_core::store::DEFAULT_MAX_RECORD_BYTES), 1 MiB;
        /// capped at [`MAX_RECORD_BYTES_LIMIT`](session_core::store::MAX_RECORD_BYTES_LIMIT)).
        ///
        /// A write past it fails with
        /// [`StoreErrorKind::TooLarge`](session_core::store::StoreErrorKind::TooLarge) and
        /// changes nothing; a stored session past it (written under a larger limit) loads as no
        /// session.
        pub fn max_record_bytes(mut self, max: usize) -> Self {
            self.options.max_record_bytes = max.min(session_core::store::MAX_RECORD_BYTES_LIMIT);
            self
        }

        /// The clock that judges expiry (default the system clock). Tests pass a
        /// [`ManualClock`](session_core::store::ManualClock) shared with the engine.
        ///
        /// The database's own clock is never read: every statement gets the time from here.
        pub fn clock(mut self, clock: impl session_core::store::Clock) -> Self {
            self.options.clock = Box::new(clock);
            self
        }

        /// How many expired sessions one cleanup statement removes (default
        /// [`DEFAULT_CLEANUP_BATCH`](crate::DEFAULT_CLEANUP_BATCH)); a cleanup runs statements
        /// until one removes fewer, so that no statement holds locks for long.
        pub fn cleanup_batch(mut self, batch: u32) -> Self {
            self.options.cleanup_batch = batch.max(1);
            self
        }
    };
}
pub(crate) use option_methods;

/// Milliseconds since the epoch as the `bigint` columns hold them.
pub(crate) fn millis(time: Timestamp) -> i64 {
    i64::try_from(time.as_millis()).unwrap_or(i64::MAX)
}

/// A `bigint` column back as a timestamp; `None` if negative (damaged).
pub(crate) fn timestamp(millis: i64) -> Option<Timestamp> {
    u64::try_from(millis).ok().map(Timestamp::from_millis)
}

/// Runs `op`'s statement(s), bounded by `timeout`.
pub(crate) async fn bounded<T>(
    timeout: Duration,
    op: &'static str,
    future: impl Future<Output = Result<T, SqlStoreError>>,
) -> Result<T, SqlStoreError> {
    match tokio::time::timeout(timeout, future).await {
        Ok(result) => result,
        Err(_) => Err(SqlStoreError::Timeout { op, after: timeout }),
    }
}

/// A lifetime as stored: its serde form in JSON.
pub(crate) fn lifetime_json(lifetime: &Lifetime) -> String {
    // A struct of an integer and a bool: serializing it cannot fail.
    serde_json::to_string(lifetime).unwrap_or_default()
}

/// One request's value changes as the statements take them: the names (bytes, as stored) set
/// with their new texts, and the names removed, each name once, its last change winning.
#[derive(Debug, Default)]
pub(crate) struct Writes<'a> {
    pub(crate) set_names: Vec<&'a [u8]>,
    pub(crate) set_values: Vec<&'a [u8]>,
    pub(crate) removed: Vec<&'a [u8]>,
}

impl<'a> Writes<'a> {
    /// The values of `changes`, each name once (the last change wins, as in
    /// [`Changes::apply_to`]).
    pub(crate) fn from_changes(changes: &'a Changes) -> Self {
        let mut last: HashMap<&str, Option<&str>> = HashMap::with_capacity(changes.updates.len());
        let mut order = Vec::with_capacity(changes.updates.len());
        for (name, value) in &changes.updates {
            if last
                .insert(name.as_str(), value.as_ref().map(Value::as_json))
                .is_none()
            {
                order.push(name.as_str());
            }
        }
        let mut writes = Writes::default();
        for name in order {
            match last.get(name).copied().flatten() {
                Some(text) => {
                    writes.set_names.push(name.as_bytes());
                    writes.set_values.push(text.as_bytes());
                }
                None => writes.removed.push(name.as_bytes()),
            }
        }
        writes
    }

    /// Every value of `record`, for `create` and `save`.
    pub(crate) fn from_record(record: &'a Record) -> Self {
        Writes {
            set_names: record.data.keys().map(|name| name.as_bytes()).collect(),
            set_values: record
                .data
                .values()
                .map(|value| value.as_json().as_bytes())
                .collect(),
            removed: Vec::new(),
        }
    }

    /// The size of the values set: the least the session holds afterwards.
    pub(crate) fn set_size(&self) -> usize {
        self.set_names
            .iter()
            .zip(&self.set_values)
            .map(|(name, text)| name.len() + text.len())
            .sum()
    }
}

/// Why a stored session could not be read: it loads as no session.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Damage {
    /// A column holds something of another type.
    Column,
    /// A timestamp column is negative.
    Times,
    /// The lifetime column is not a lifetime.
    Lifetime,
    /// The binding does not parse, or is not filed under its subject.
    Binding,
    /// A value's name is not UTF-8.
    Name,
    /// A value is not JSON.
    Value,
    /// SQLite's packed values: a name or value of another type than bytes (SQLite's columns
    /// take anything), not UTF-8, or a value that is not JSON.
    Packed,
    /// The values take more than the limit.
    TooLarge(usize),
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Damage::Column => f.write_str("a column of another type"),
            Damage::Times => f.write_str("a negative timestamp"),
            Damage::Lifetime => f.write_str("a lifetime that does not parse"),
            Damage::Binding => {
                f.write_str("a binding that does not parse or is not filed under its subject")
            }
            Damage::Name => f.write_str("a value name that is not UTF-8"),
            Damage::Value => f.write_str("a value that is not JSON"),
            Damage::Packed => f.write_str(
                "a value or its name of another type, not UTF-8, or a value that is not JSON",
            ),
            Damage::TooLarge(size) => write!(f, "values of {size} bytes, over the limit"),
        }
    }
}

/// A session's row as loaded, before its values.
pub(crate) struct Meta {
    pub(crate) created: i64,
    pub(crate) last_active: i64,
    pub(crate) expires: i64,
    pub(crate) lifetime: Option<String>,
    /// The `subject` column: the digest the session is listed under.
    pub(crate) subject: Option<Vec<u8>>,
    /// The `binding` column: the binding as JSON, `NULL` for an unbound session.
    pub(crate) binding: Option<Vec<u8>>,
}

/// A session's values as loaded, before they are checked.
pub(crate) enum Loaded {
    /// Each value's name and text (PostgreSQL's rows).
    Texts(Vec<(String, String)>),
    /// The values packed into one text (SQLite's load), in the form of
    /// [`pack_values`](session_core::store::pack_values), which they then share.
    Pack(SharedText),
}

/// Assembles a loaded record from its row and its values, checking every part.
///
/// Texts are summed before any is parsed; a pack is split (and its values checked) first.
pub(crate) fn assemble(
    meta: Meta,
    values: Loaded,
    max_record_bytes: usize,
) -> Result<Record, Damage> {
    let too_large = |size: usize| (size > max_record_bytes).then_some(Damage::TooLarge(size));
    let values: Vec<(String, Value)> = match values {
        Loaded::Texts(texts) => {
            let size = texts
                .iter()
                .map(|(name, text)| name.len() + text.len())
                .sum();
            if let Some(damage) = too_large(size) {
                return Err(damage);
            }
            texts
                .into_iter()
                .map(|(name, text)| Ok((name, Value::from_json(text).map_err(|_| Damage::Value)?)))
                .collect::<Result<_, Damage>>()?
        }
        Loaded::Pack(pack) => {
            let pairs = unpack_shared(&pack).map_err(|_| Damage::Packed)?;
            let size = pairs
                .iter()
                .map(|(name, value)| name.len() + value.as_json().len())
                .sum();
            if let Some(damage) = too_large(size) {
                return Err(damage);
            }
            pairs
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect()
        }
    };
    let (Some(created), Some(last_active), Some(expires)) = (
        timestamp(meta.created),
        timestamp(meta.last_active),
        timestamp(meta.expires),
    ) else {
        return Err(Damage::Times);
    };
    let mut record = Record::new(created, expires);
    record.last_active = last_active;
    record.lifetime = match meta.lifetime {
        Some(json) => Some(serde_json::from_str(&json).map_err(|_| Damage::Lifetime)?),
        None => None,
    };
    record.binding =
        decode_binding(meta.subject.as_deref(), meta.binding.as_deref())?.map(Box::new);
    // Built in one pass, not by an insertion each.
    record.data = values.into_iter().collect();
    Ok(record)
}

/// Logs a session that cannot be read (with the key's first hex digits, never a value).
pub(crate) fn warn_damaged(key: &session_core::store::Key, reason: &Damage) {
    tracing::warn!(
        ?key,
        %reason,
        "damaged session in the database treated as no session (left in place)"
    );
}

/// The session's columns of a load's row: its times, lifetime, `subject` and `binding`.
pub(crate) fn meta_of<R>(row: &R) -> Result<Meta, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(Meta {
        created: row.try_get(0)?,
        last_active: row.try_get(1)?,
        expires: row.try_get(2)?,
        lifetime: row.try_get(3)?,
        subject: row.try_get(4)?,
        binding: row.try_get(5)?,
    })
}

/// The record, or `None` with the reason it could not be read logged.
pub(crate) fn logged(
    key: &session_core::store::Key,
    record: Result<Record, Damage>,
) -> Option<Record> {
    record.inspect_err(|reason| warn_damaged(key, reason)).ok()
}

/// Refuses a write whose values alone pass the limit.
pub(crate) fn check_size(size: usize, limit: usize) -> Result<(), SqlStoreError> {
    if size > limit {
        Err(SqlStoreError::TooLarge { size, limit })
    } else {
        Ok(())
    }
}

/// The limit as the statements take it.
pub(crate) fn limit(max_record_bytes: usize) -> i64 {
    i64::try_from(max_record_bytes.min(MAX_RECORD_BYTES_LIMIT)).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(json: &str) -> Value {
        Value::from_json(json.to_owned()).expect("json")
    }

    #[test]
    fn writes_keep_the_last_change_of_a_name() {
        let mut changes = Changes::default();
        changes.updates = vec![
            ("a".into(), Some(value("1"))),
            ("b".into(), Some(value("2"))),
            ("a".into(), None),
            ("b".into(), Some(value("3"))),
        ];
        let writes = Writes::from_changes(&changes);
        assert_eq!(writes.set_names, [b"b".as_slice()]);
        assert_eq!(writes.set_values, [b"3".as_slice()]);
        assert_eq!(writes.removed, [b"a".as_slice()]);
        assert_eq!(writes.set_size(), 2);
    }

    #[test]
    fn damaged_parts_are_named() {
        let meta = || Meta {
            created: 1,
            last_active: 2,
            expires: 3,
            lifetime: None,
            subject: None,
            binding: None,
        };
        let texts = |values: &[(&str, &str)]| {
            Loaded::Texts(
                values
                    .iter()
                    .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
                    .collect(),
            )
        };
        let pack = |values: &[(&str, &str)]| {
            Loaded::Pack(SharedText::from(session_core::store::pack_values(
                values.iter().copied(),
            )))
        };
        for loaded in [texts, pack] {
            let ok = assemble(meta(), loaded(&[("a\0b", "-0.0"), ("c", "[]")]), 100).expect("ok");
            assert_eq!(ok.data["a\0b"].as_json(), "-0.0");
            assert_eq!(ok.data["c"].as_json(), "[]");
            assert_eq!(ok.last_active, Timestamp::from_millis(2));
            let bad =
                |values: &[(&str, &str)]| assemble(meta(), loaded(values), 10).expect_err("bad");
            assert_eq!(bad(&[("a", "1234567890")]), Damage::TooLarge(11));
            assert_eq!(bad(&[("a", "1"), ("b", "23456789")]), Damage::TooLarge(11));
        }
        let bad = |loaded| assemble(meta(), loaded, 10).expect_err("bad");
        assert_eq!(bad(texts(&[("a", "nope")])), Damage::Value);
        assert_eq!(bad(pack(&[("a", "nope")])), Damage::Packed);
        assert_eq!(
            bad(Loaded::Pack(SharedText::from("1:1:a".to_owned()))),
            Damage::Packed
        );
        let negative = Meta {
            expires: -1,
            ..meta()
        };
        assert_eq!(assemble(negative, texts(&[]), 10), Err(Damage::Times));
        let lifetime = Meta {
            lifetime: Some("{".into()),
            ..meta()
        };
        assert_eq!(assemble(lifetime, texts(&[]), 10), Err(Damage::Lifetime));
        let binding = Meta {
            binding: Some(b"{}".to_vec()),
            ..meta()
        };
        assert_eq!(assemble(binding, texts(&[]), 10), Err(Damage::Binding));
    }
}
