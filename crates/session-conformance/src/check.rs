//! How a failed contract is reported: one panic naming the contract and what was seen.

use std::error::Error as StdError;
use std::fmt::{self, Write as _};

use session_core::store::Record;

/// One contract being checked; every failure panics with its name.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Contract {
    kind: &'static str,
    name: &'static str,
}

impl Contract {
    /// A contract of the `Store` trait.
    pub(crate) const fn store(name: &'static str) -> Self {
        Contract {
            kind: "store contract",
            name,
        }
    }

    /// A property of the `Store` trait, checked on generated cases.
    #[cfg(feature = "proptest")]
    pub(crate) const fn property(name: &'static str) -> Self {
        Contract {
            kind: "store property",
            name,
        }
    }

    /// A step of an engine-level scenario.
    pub(crate) const fn scenario(name: &'static str) -> Self {
        Contract {
            kind: "scenario",
            name,
        }
    }

    /// The contract's name, as listed in a [`Report`](crate::Report).
    pub(crate) const fn name(self) -> &'static str {
        self.name
    }

    /// Fails the contract.
    #[track_caller]
    pub(crate) fn fail(self, detail: impl fmt::Display) -> ! {
        panic!(
            "session-conformance: {} \"{}\" failed: {detail}",
            self.kind, self.name
        )
    }

    /// Fails the contract unless `condition` holds.
    #[track_caller]
    pub(crate) fn ensure(self, condition: bool, detail: impl fmt::Display) {
        if !condition {
            self.fail(detail);
        }
    }

    /// Unwraps the result of an operation, failing the contract with the error and its causes.
    #[track_caller]
    pub(crate) fn ok<T, E: StdError>(self, result: Result<T, E>, operation: &str) -> T {
        match result {
            Ok(value) => value,
            Err(error) => self.fail(format_args!(
                "{operation} returned an error: {}",
                chain(&error)
            )),
        }
    }

    /// Fails unless `found` is `Some(expected)`, describing the difference.
    #[track_caller]
    pub(crate) fn expect_record(self, found: Option<Record>, expected: &Record, what: &str) {
        match found {
            None => self.fail(format_args!(
                "{what}: load returned None, expected the record"
            )),
            Some(found) if found != *expected => self.fail(format_args!(
                "{what}: the loaded record differs: {}",
                record_diff(&found, expected)
            )),
            Some(_) => {}
        }
    }

    /// Fails unless `found` is `None`.
    #[track_caller]
    pub(crate) fn expect_none(self, found: Option<Record>, what: &str) {
        if let Some(found) = found {
            let keys: Vec<&str> = found.data.keys().map(String::as_str).collect();
            self.fail(format_args!(
                "{what}: load returned a record (keys {keys:?}), expected None"
            ));
        }
    }
}

/// An error and its sources, joined with `: `.
pub(crate) fn chain(error: &dyn StdError) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(out, ": {cause}");
        source = cause.source();
    }
    out
}

/// What differs between two records, field by field and key by key (long values shortened).
pub(crate) fn record_diff(found: &Record, expected: &Record) -> String {
    let mut out = Vec::new();
    let stamps = [
        ("created", found.created, expected.created),
        ("last_active", found.last_active, expected.last_active),
        ("expires", found.expires, expected.expires),
    ];
    for (name, found, expected) in stamps {
        if found != expected {
            out.push(format!(
                "{name} is {} ms, expected {} ms",
                found.as_millis(),
                expected.as_millis()
            ));
        }
    }
    if found.lifetime != expected.lifetime {
        out.push(format!(
            "lifetime is {:?}, expected {:?}",
            found.lifetime, expected.lifetime
        ));
    }
    for (key, value) in &expected.data {
        match found.data.get(key) {
            None => out.push(format!("key {key:?} is missing")),
            Some(other) if other != value => out.push(format!(
                "key {key:?} is {}, expected {}",
                short(other.as_json()),
                short(value.as_json())
            )),
            Some(_) => {}
        }
    }
    for key in found
        .data
        .keys()
        .filter(|key| !expected.data.contains_key(*key))
    {
        out.push(format!("key {key:?} is unexpected"));
    }
    out.join("; ")
}

/// At most 60 characters of `text`.
fn short(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
