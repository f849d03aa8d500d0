//! The client-side model of acknowledged writes: what each session must hold, key by key.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

/// A session one task drives alone, and what the server acknowledged of it.
#[derive(Debug, Default)]
pub(super) struct Slot {
    /// The live id, if the slot has a session.
    pub(super) id: Option<String>,
    /// The id logged out last, sent with the next write (it must not be adopted).
    pub(super) dead: Option<String>,
    /// Key -> last acknowledged value.
    pub(super) data: HashMap<String, String>,
    /// Keys whose last write was not acknowledged: their value is unknown.
    pub(super) unknown: HashSet<String>,
}

/// A session every task writes at once.
#[derive(Debug, Default)]
pub(super) struct Shared {
    /// The id: writers hold it shared, a login or logout exclusively.
    pub(super) id: tokio::sync::RwLock<Slot>,
    /// Key -> last acknowledged value (each key is written by one task only).
    pub(super) data: Mutex<HashMap<String, String>>,
    /// Keys whose value is unknown.
    pub(super) unknown: Mutex<HashSet<String>>,
    /// Requests in flight on this session.
    pub(super) in_flight: AtomicUsize,
}

/// What a read of one key should find.
pub(super) enum Expect<'a> {
    Value(&'a str),
    Nothing,
    Unknown,
}

impl Slot {
    /// What a read of `key` should find.
    pub(super) fn expect(&self, key: &str) -> Expect<'_> {
        match self.data.get(key) {
            Some(value) => Expect::Value(value),
            None if self.unknown.contains(key) => Expect::Unknown,
            None => Expect::Nothing,
        }
    }
}

/// A value unique to this write (task and sequence number), padded to `len` bytes.
pub(super) fn value(task: usize, seq: u64, len: usize) -> String {
    let mut value = String::with_capacity(len);
    let _ = write!(value, "{task}-{seq}-");
    while value.len() < len {
        value.push(char::from(b'a' + (value.len() % 26) as u8));
    }
    value
}
