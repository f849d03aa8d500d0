//! The errors of session-core: [`Error`] for applications, [`StoreError`] for store authors.

use std::error::Error as StdError;
use std::fmt;

/// A boxed error from a backend, kept as the `source()` of the error that carries it.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What went wrong with a session.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The store failed; the store's own error is the source.
    Store(StoreError),
    /// A value could not be serialized for storage.
    Encode(serde_json::Error),
    /// A stored value could not be read as the requested type.
    Decode(serde_json::Error),
    /// The operating system's random source failed.
    Random(getrandom::Error),
    /// Several freshly generated ids in a row collided with stored sessions.
    IdCollision,
    /// The session was ended (expired, or deleted by another request) while this request used it.
    SessionEnded,
    /// No session is attached to the request (the session middleware is not installed).
    MissingSession,
    /// A configuration value was refused; the text says which and why.
    Config(&'static str),
    /// The operation needs a session bound to a subject
    /// ([`Session::bind`](crate::Session::bind)), and this one is not.
    NotBound,
    /// A subject was refused (empty, or longer than
    /// [`MAX_SUBJECT_BYTES`](crate::subject::MAX_SUBJECT_BYTES)); the text says why.
    InvalidSubject(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Store(_) => f.write_str("the session store failed"),
            Error::Encode(_) => f.write_str("a session value could not be serialized"),
            Error::Decode(_) => f.write_str("a stored session value has an unexpected type"),
            Error::Random(_) => f.write_str("the operating system's random source failed"),
            Error::IdCollision => {
                f.write_str("generated session ids kept colliding with stored ones")
            }
            Error::SessionEnded => f.write_str("the session was ended by another request"),
            Error::MissingSession => {
                f.write_str("no session on this request: is the session middleware installed?")
            }
            Error::Config(why) => write!(f, "invalid session configuration: {why}"),
            Error::NotBound => f.write_str("the session is not bound to a subject"),
            Error::InvalidSubject(why) => write!(f, "invalid session subject: {why}"),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::Store(e) => Some(e),
            Error::Encode(e) | Error::Decode(e) => Some(e),
            Error::Random(e) => Some(e),
            Error::IdCollision
            | Error::SessionEnded
            | Error::MissingSession
            | Error::Config(_)
            | Error::NotBound
            | Error::InvalidSubject(_) => None,
        }
    }
}

impl Error {
    /// Displays the error followed by its chain of causes (`a: b: c`), for logs.
    ///
    /// ```
    /// use session_core::Error;
    /// use session_core::store::StoreError;
    ///
    /// let error = Error::from(StoreError::backend("connection refused"));
    /// assert_eq!(
    ///     error.report().to_string(),
    ///     "the session store failed: session store backend failed: connection refused"
    /// );
    /// ```
    pub fn report(&self) -> Report<'_> {
        Report(self)
    }
}

/// [`Error::report`]: an error and its causes, displayed on one line.
#[derive(Debug)]
pub struct Report<'a>(&'a Error);

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        Error::Store(error)
    }
}

/// The error a late-store response body ends with when its late commit failed (see
/// [`Session::late_store`](crate::Session::late_store)): the client sees an aborted response, and
/// the adapter logs the cause. Both adapters' bodies use it.
#[derive(Debug)]
pub struct LateCommitFailed;

impl fmt::Display for LateCommitFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the session changes made while the body streamed could not be stored")
    }
}

impl StdError for LateCommitFailed {}

/// What kind of failure a [`StoreError`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The backend (disk, network, server) failed.
    Backend,
    /// Stored bytes could not be encoded or decoded.
    Codec,
    /// The backend did not answer in time.
    Timeout,
    /// The session is too large for the store (a sealed cookie past the 4096-byte limit, say).
    TooLarge,
    /// The store cannot do what was asked (list a subject's sessions without an index, say).
    Unsupported,
}

/// A store's failure, carrying the backend's own error as its source.
#[derive(Debug)]
pub struct StoreError {
    kind: StoreErrorKind,
    source: BoxError,
}

impl StoreError {
    /// A backend failure caused by `source`.
    pub fn backend(source: impl Into<BoxError>) -> Self {
        StoreError {
            kind: StoreErrorKind::Backend,
            source: source.into(),
        }
    }

    /// A failure of the given kind caused by `source`.
    pub fn new(kind: StoreErrorKind, source: impl Into<BoxError>) -> Self {
        StoreError {
            kind,
            source: source.into(),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            StoreErrorKind::Backend => f.write_str("session store backend failed"),
            StoreErrorKind::Codec => f.write_str("session record could not be encoded or decoded"),
            StoreErrorKind::Timeout => f.write_str("session store timed out"),
            StoreErrorKind::TooLarge => f.write_str("session is too large for the store"),
            StoreErrorKind::Unsupported => f.write_str("the session store cannot do this"),
        }
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}
