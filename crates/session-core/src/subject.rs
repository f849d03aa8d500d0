//! Sessions per subject (the application's user id): what a bound session carries ([`Binding`],
//! [`Handle`]), what a store lists ([`BoundSession`]) and what an application sees
//! ([`SessionInfo`]), and the operations over a subject's sessions ([`Subjects`]).
//!
//! A session is bound to a subject at login ([`Session::bind`](crate::Session::bind)), which also
//! gives it a new id. Stores that keep an index per subject
//! ([`Store::lists_subjects`](crate::store::Store::lists_subjects)) can then list a subject's live
//! sessions, and the engine ends them: one by its handle, all of them ("log out everywhere"), or
//! all but the current one.
//!
//! # Guarantees
//!
//! - A session of the subject that was live when [`Subjects::end_all`] started does not survive
//!   it, including one whose id changes ([`Session::cycle_id`](crate::Session::cycle_id), a new
//!   login) at that moment: an id change creates the new record before deleting the old one, and
//!   an id change whose old record was deleted meanwhile deletes its new one too; `end_all` lists
//!   and deletes until a listing finds nothing left, so a session that moved while it was listed
//!   or deleted is caught by the next listing.
//! - A session bound while `end_all` runs is either ended by it or listed afterwards: never a live
//!   session that the list does not show.
//! - Handles are random (128 bits), not derived from the id, useless as a cookie, and kept for
//!   the session's whole life, across id changes.
//!
//! # Rolling it out over several processes
//!
//! Records of sessions that are not bound are written exactly as before this module existed, on
//! every store, so old and new processes share them freely. A bound record has a new form (a
//! trailing field in bincode, two more hash fields in Redis, two columns in SQL, payload version 2
//! in a sealed cookie), which an older process does not understand: depending on the store it
//! treats the session as damaged (the user is signed out on that process) or reads it as unbound
//! (and, with a JSON file codec, may write it back unbound, so that it leaves its subject's
//! list). So:
//!
//! 1. Deploy the new release to every process first, with nothing calling
//!    [`Session::bind`](crate::Session::bind) yet (an application switch). SQL stores migrate to
//!    schema version 2 at the first new process's `migrate`; a running older process keeps
//!    serving on it, but one started later refuses the newer schema.
//! 2. Then turn binding on. Rolling back afterwards signs bound users out (or unlists them);
//!    nothing else is lost.
//!
//! Each store's crate documentation says exactly what its older releases do with a bound record.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, StoreError, StoreErrorKind};
use crate::id::Key;
use crate::record::{Record, Timestamp};

/// The revocation store's "not before" times.
mod not_before;
/// The operations over a subject's sessions.
mod ops;

pub(crate) use not_before::{NOT_BEFORE_KEPT, not_before, set_not_before};
pub use ops::Subjects;

/// The longest subject accepted, in bytes.
pub const MAX_SUBJECT_BYTES: usize = 256;
/// The longest user agent kept; a longer one is cut at a character boundary.
pub const MAX_USER_AGENT_BYTES: usize = 256;
/// The longest client address kept; a longer one is cut at a character boundary.
pub const MAX_ADDRESS_BYTES: usize = 64;

/// How many times [`Subjects::end_all`] and [`Subjects::revoke`] list again when a session moved
/// (changed its id) under them.
const ROUNDS: usize = 16;

/// A bound session's public handle: 128 random bits as 22 characters of base64url.
///
/// Safe to show and to put in a URL ("revoke this device"): it is not derived from the session
/// id, and a handle sent as a session id names no session. It stays the same for the session's
/// whole life, across id changes.
///
/// A stored handle is checked when it is decoded, like one sent by a client.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Handle(String);

impl<'de> Deserialize<'de> for Handle {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Handle::parse(&text).ok_or_else(|| serde::de::Error::custom("not a session handle"))
    }
}

impl Handle {
    /// A fresh random handle.
    pub fn generate() -> Result<Self, Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(Error::Random)?;
        Ok(Handle(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Parses a handle sent back by a client (22 characters of base64url); `None` otherwise.
    pub fn parse(text: &str) -> Option<Self> {
        let mut out = [0u8; 17];
        (text.len() == 22 && matches!(URL_SAFE_NO_PAD.decode_slice(text, &mut out), Ok(16)))
            .then(|| Handle(text.to_owned()))
    }

    /// The handle's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({})", self.0)
    }
}

/// What the application may record about the client at login, for a list of devices.
///
/// Both are personal data: they are kept only if the application passes them, cut to
/// [`MAX_USER_AGENT_BYTES`] and [`MAX_ADDRESS_BYTES`], stored with the session and removed with
/// it. Pass an address already truncated (a /24 or /48 network) where the full one is not needed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientInfo {
    /// The `User-Agent` the login came with.
    pub user_agent: Option<String>,
    /// The client's address as the application sees it.
    pub address: Option<String>,
}

impl ClientInfo {
    /// Nothing recorded.
    pub fn new() -> Self {
        ClientInfo::default()
    }

    /// Records a user agent (cut to [`MAX_USER_AGENT_BYTES`]).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(cut(user_agent.into(), MAX_USER_AGENT_BYTES));
        self
    }

    /// Records a client address (cut to [`MAX_ADDRESS_BYTES`]).
    pub fn address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(cut(address.into(), MAX_ADDRESS_BYTES));
        self
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn cut(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// The binding of a session to a subject, kept in its [`Record`] (not among its values: `keys()`
/// does not list it and `insert` cannot change it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredBinding")]
#[non_exhaustive]
pub struct Binding {
    /// The application's user id. User data: stores that name a file or a key after it use
    /// [`subject_key`] instead.
    pub subject: String,
    /// The session's public handle.
    pub handle: Handle,
    /// When the session was bound (the login).
    pub bound_at: Timestamp,
    /// The user agent the application recorded at login, if any.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// The client address the application recorded at login, if any.
    #[serde(default)]
    pub address: Option<String>,
}

impl Binding {
    /// A binding of a new session to `subject` at `now`, with a fresh handle.
    pub fn new(subject: &str, info: ClientInfo, now: Timestamp) -> Result<Self, Error> {
        check_subject(subject)?;
        Ok(Binding {
            subject: subject.to_owned(),
            handle: Handle::generate()?,
            bound_at: now,
            user_agent: info.user_agent,
            address: info.address,
        })
    }

    /// A binding as a store decoded it from its own layout: `None` if the subject is empty or too
    /// long (the texts are cut as [`ClientInfo`] cuts them).
    pub fn restore(
        subject: String,
        handle: Handle,
        bound_at: Timestamp,
        user_agent: Option<String>,
        address: Option<String>,
    ) -> Option<Self> {
        check_subject(&subject).ok()?;
        Some(Binding {
            subject,
            handle,
            bound_at,
            user_agent: user_agent.map(|text| cut(text, MAX_USER_AGENT_BYTES)),
            address: address.map(|text| cut(text, MAX_ADDRESS_BYTES)),
        })
    }

    /// The digest stores file this binding's subject under ([`subject_key`]).
    pub fn subject_key(&self) -> Key {
        subject_key(&self.subject)
    }
}

/// A binding as decoded, before the checks [`Binding::restore`] makes.
#[derive(Deserialize)]
struct StoredBinding {
    subject: String,
    handle: Handle,
    bound_at: Timestamp,
    #[serde(default)]
    user_agent: Option<String>,
    #[serde(default)]
    address: Option<String>,
}

impl TryFrom<StoredBinding> for Binding {
    type Error = &'static str;

    fn try_from(stored: StoredBinding) -> Result<Self, Self::Error> {
        let StoredBinding {
            subject,
            handle,
            bound_at,
            user_agent,
            address,
        } = stored;
        Binding::restore(subject, handle, bound_at, user_agent, address)
            .ok_or("a stored binding's subject is empty or too long")
    }
}

/// Refuses an empty subject or one longer than [`MAX_SUBJECT_BYTES`].
fn check_subject(subject: &str) -> Result<(), Error> {
    if subject.is_empty() {
        return Err(Error::InvalidSubject("it must not be empty"));
    }
    if subject.len() > MAX_SUBJECT_BYTES {
        return Err(Error::InvalidSubject("it is limited to 256 bytes"));
    }
    Ok(())
}

/// The key a store files `subject`'s index under: a SHA-256 digest of the subject, separated from
/// the digests of session ids, so that no file name or Redis key shows the user id and no subject
/// key is ever a session's key.
pub fn subject_key(subject: &str) -> Key {
    let mut hasher = Sha256::new();
    hasher.update(b"session-core subject\0");
    hasher.update(subject.as_bytes());
    Key::from_digest(hasher.finalize().into())
}

/// One session of a subject, as a store lists it ([`Store::list_subject`](crate::store::Store::list_subject)).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BoundSession {
    /// The key the session is stored under.
    pub key: Key,
    /// Its binding (its subject is the one listed).
    pub binding: Binding,
    /// When the session was first stored.
    pub created: Timestamp,
    /// When a request last used it (to within the touch interval).
    pub last_active: Timestamp,
    /// When it expires.
    pub expires: Timestamp,
}

impl BoundSession {
    /// The listing of `record`, stored under `key`; `None` if it is not bound.
    pub fn of(key: Key, record: &Record) -> Option<Self> {
        Some(BoundSession {
            key,
            binding: record.binding.as_deref()?.clone(),
            created: record.created,
            last_active: record.last_active,
            expires: record.expires,
        })
    }
}

/// One of a subject's live sessions, as an application shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SessionInfo {
    /// Its public handle, for [`Subjects::revoke`] and
    /// [`Session::revoke`](crate::Session::revoke).
    pub handle: Handle,
    /// When it was first stored (for a bound session: at the login that bound it or earlier).
    pub created: Timestamp,
    /// When it was bound to the subject.
    pub bound_at: Timestamp,
    /// When a request last used it, to within the touch interval.
    pub last_active: Timestamp,
    /// When it expires unless used again.
    pub expires: Timestamp,
    /// The user agent recorded at login, if any.
    pub user_agent: Option<String>,
    /// The client address recorded at login, if any.
    pub address: Option<String>,
    /// Whether it is the session of the request that listed it.
    pub current: bool,
}

/// The error a store's defaulted per-subject methods return: it keeps no index per subject.
#[derive(Debug)]
pub(crate) struct NoSubjectIndex;

impl fmt::Display for NoSubjectIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "this session store keeps no index of sessions per subject (Store::lists_subjects \
             is false): it cannot list or end a user's sessions",
        )
    }
}

impl std::error::Error for NoSubjectIndex {}

impl NoSubjectIndex {
    pub(crate) fn error() -> StoreError {
        StoreError::new(StoreErrorKind::Unsupported, NoSubjectIndex)
    }
}

/// The subject's sessions kept changing their ids through every round.
fn moving() -> Error {
    Error::Store(StoreError::backend(
        "a subject's sessions kept changing their ids while they were being ended; try again",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_parse_only_what_generate_makes() {
        let handle = Handle::generate().expect("random");
        assert_eq!(handle.as_str().len(), 22);
        assert_eq!(Handle::parse(handle.as_str()), Some(handle.clone()));
        assert_eq!(Handle::parse(""), None);
        assert_eq!(Handle::parse(&format!("{}A", handle.as_str())), None);
        assert_eq!(Handle::parse("!!!!!!!!!!!!!!!!!!!!!!"), None);
        // Non-zero trailing bits are not something generate makes.
        assert_eq!(Handle::parse("AAAAAAAAAAAAAAAAAAAAAB"), None);
    }

    #[test]
    fn stored_handles_are_checked_when_decoded() {
        let handle = Handle::generate().expect("random");
        let json = serde_json::to_string(&handle).expect("json");
        assert_eq!(
            serde_json::from_str::<Handle>(&json).expect("decode"),
            handle
        );
        assert!(serde_json::from_str::<Handle>("\"../../etc\"").is_err());
    }

    #[test]
    fn stored_bindings_are_checked_when_decoded() {
        let binding = Binding::new("alice", ClientInfo::new(), Timestamp::default()).expect("ok");
        let json = serde_json::to_value(&binding).expect("json");
        assert_eq!(
            serde_json::from_value::<Binding>(json.clone()).expect("decode"),
            binding
        );
        let mut empty = json;
        empty["subject"] = serde_json::json!("");
        assert!(serde_json::from_value::<Binding>(empty).is_err());
    }

    #[test]
    fn client_info_is_cut_at_character_boundaries() {
        let info = ClientInfo::new()
            .user_agent("é".repeat(200))
            .address("x".repeat(100));
        assert_eq!(info.user_agent.as_deref().map(str::len), Some(256));
        assert_eq!(info.address.as_deref().map(str::len), Some(64));
        let odd = cut("aé".repeat(10), 4);
        assert_eq!(odd, "aéa");
    }

    #[test]
    fn subjects_are_checked_and_digested_apart_from_ids() {
        assert!(Binding::new("", ClientInfo::new(), Timestamp::default()).is_err());
        assert!(Binding::new(&"a".repeat(257), ClientInfo::new(), Timestamp::default()).is_err());
        let binding = Binding::new("alice", ClientInfo::new(), Timestamp::default()).expect("ok");
        assert_eq!(binding.subject_key(), subject_key("alice"));
        assert_ne!(subject_key("alice"), subject_key("bob"));
        let id = crate::id::Id::new_unchecked("alice");
        assert_ne!(subject_key("alice"), id.key());
    }
}
