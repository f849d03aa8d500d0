//! Flash messages: one-shot notes ("Saved.") that survive exactly one redirect.
//!
//! A handler [pushes](Flash::push) messages; the next request that [takes](Flash::take) them gets
//! them all, in the order they were pushed, and they are gone. Each message is a key of its own
//! (`_flash.` and a unique suffix), so two requests pushing at the same time both keep theirs (the
//! session's key-level writes), and a request that neither pushes nor takes writes nothing.
//!
//! Two requests taking at the same time may both get a message (each removes what it read).
//!
//! Where the store keeps key-level writes (every server-side store here), no pushed message is
//! lost to a concurrent request; a sealed cookie (`SealedCookie`) keeps whichever response came
//! last, so two concurrent pushes can lose one. A message pushed in a request that also ends
//! the session ([`Session::expire`]) ends with it: flash "You have been logged out" from the
//! request after the logout, or into the new session of a login.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! # let engine = session_core::Engine::new(
//! #     session_core::ParamState::default(), session_core::MemoryStore::default());
//! # let headers = http::HeaderMap::new();
//! # let session = engine.start(&session_core::state::RequestView::new(&headers, None));
//! use session_extras::{Flash, Level};
//!
//! let flash = Flash::new(&session);
//! flash.push(Level::Info, "Welcome back").await?;
//! flash.warning("Your card expires soon").await?;
//! let messages = flash.take().await?;
//! assert_eq!(messages.len(), 2);
//! assert_eq!(messages[1].level, Level::Warning);
//! # Ok::<_, session_core::Error>(())
//! # }).unwrap();
//! ```

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use session_core::state::{DefaultIds, IdScheme};
use session_core::{Error, Session};

/// The prefix of the session keys that hold flash messages.
pub const KEY_PREFIX: &str = "_flash.";

/// How important a flash message is (for its styling).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Level {
    /// For developers.
    Debug,
    /// Neutral information.
    Info,
    /// Something worked.
    Success,
    /// Something needs attention.
    Warning,
    /// Something failed.
    Error,
}

impl Level {
    /// The level's name in lowercase: `debug`, `info`, `success`, `warning` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Success => "success",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One flash message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Message {
    /// Its level.
    pub level: Level,
    /// Its text.
    pub text: String,
}

impl Message {
    /// A message with `level` and `text`.
    pub fn new(level: Level, text: impl Into<String>) -> Self {
        Message {
            level,
            text: text.into(),
        }
    }
}

/// The flash messages of one request's session; see the [module](self) docs.
#[derive(Clone, Debug)]
pub struct Flash {
    session: Session,
}

/// Orders the messages one process pushes within a millisecond.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

impl Flash {
    /// The flash messages of `session` (a cheap clone of the handle).
    pub fn new(session: &Session) -> Self {
        Flash {
            session: session.clone(),
        }
    }

    /// Adds a message for the next request that takes them.
    pub async fn push(&self, level: Level, text: impl Into<String>) -> Result<(), Error> {
        let key = new_key()?;
        self.session.insert(&key, Message::new(level, text)).await
    }

    /// Pushes a [`Level::Debug`] message.
    pub async fn debug(&self, text: impl Into<String>) -> Result<(), Error> {
        self.push(Level::Debug, text).await
    }

    /// Pushes a [`Level::Info`] message.
    pub async fn info(&self, text: impl Into<String>) -> Result<(), Error> {
        self.push(Level::Info, text).await
    }

    /// Pushes a [`Level::Success`] message.
    pub async fn success(&self, text: impl Into<String>) -> Result<(), Error> {
        self.push(Level::Success, text).await
    }

    /// Pushes a [`Level::Warning`] message.
    pub async fn warning(&self, text: impl Into<String>) -> Result<(), Error> {
        self.push(Level::Warning, text).await
    }

    /// Pushes a [`Level::Error`] message.
    pub async fn error(&self, text: impl Into<String>) -> Result<(), Error> {
        self.push(Level::Error, text).await
    }

    /// Takes every pending message, oldest first; they are removed from the session. Nothing is
    /// written when there are none. A value under the prefix that is not a message (written by
    /// something else) is removed and skipped, with a warning.
    pub async fn take(&self) -> Result<Vec<Message>, Error> {
        let keys = self.session.keys().await?;
        let mut messages = Vec::new();
        for key in keys.iter().filter(|key| key.starts_with(KEY_PREFIX)) {
            match self.session.remove::<Message>(key).await {
                Ok(Some(message)) => messages.push(message),
                Ok(None) => {}
                Err(Error::Decode(_)) => {
                    tracing::warn!("dropping a flash entry that is not a message");
                }
                Err(error) => return Err(error),
            }
        }
        Ok(messages)
    }

    /// Whether messages are pending, without taking them.
    pub async fn is_empty(&self) -> Result<bool, Error> {
        let keys = self.session.keys().await?;
        Ok(!keys.iter().any(|key| key.starts_with(KEY_PREFIX)))
    }
}

/// A key no other message has: the time in milliseconds (so keys sort oldest first), this
/// process's sequence number (order within a millisecond), and a random part (no two processes
/// collide).
fn new_key() -> Result<String, Error> {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let random = DefaultIds.generate()?;
    Ok(format!(
        "{KEY_PREFIX}{millis:012x}.{sequence:016x}.{}",
        &random[..11]
    ))
}

#[cfg(test)]
mod tests;
