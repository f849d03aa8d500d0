//! CSRF tokens: a per-session synchronizer token for forms and scripts that change state.
//!
//! The token is created the first time it is asked for ([`Csrf::token`]): 256 random bits from
//! the OS CSPRNG, as 43 URL-safe characters. The application puts it in its forms (a hidden field)
//! or hands it to its scripts, which send it back (a form field the application parses, or a
//! header such as `x-csrf-token`); [`Csrf::verify`] compares what came back with the session's
//! token in constant time.
//!
//! The token is kept under [`TOKEN_KEY`], a key bound to the session's id
//! ([`Session::ID_BOUND_PREFIX`]): when the id changes (`cycle_id` at login), the old token dies
//! with the old id and the next [`token`](Csrf::token) call mints a new one, so a token seen
//! before a login is worth nothing after it.
//!
//! The token is the same for every page of a session. Pages that reflect it and are sent
//! compressed over TLS along with attacker-influenced text are exposed to compression side
//! channels (BREACH): leave such pages uncompressed, or keep the token out of them. Two
//! concurrent first calls to [`token`](Csrf::token) on one session each create a token and the
//! later write wins: ask for it once (when the form is rendered) rather than from parallel
//! requests.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! # let engine = session_core::Engine::new(
//! #     session_core::ParamState::default(), session_core::MemoryStore::default());
//! # let headers = http::HeaderMap::new();
//! # let session = engine.start(&session_core::state::RequestView::new(&headers, None));
//! use session_extras::Csrf;
//!
//! let csrf = Csrf::new(&session);
//! let token = csrf.token().await?;
//! assert_eq!(csrf.token().await?, token, "one token per session");
//! assert!(csrf.verify(&token).await?);
//! assert!(!csrf.verify("forged").await?);
//! # Ok::<_, session_core::Error>(())
//! # }).unwrap();
//! ```

use session_core::state::{DefaultIds, IdScheme};
use session_core::{Error, Session};
use subtle::ConstantTimeEq;

/// The session key of the token: [`Session::ID_BOUND_PREFIX`] and `csrf`.
pub const TOKEN_KEY: &str = "~id.csrf";

/// The CSRF token of one request's session; see the [module](self) docs.
#[derive(Clone, Debug)]
pub struct Csrf {
    session: Session,
}

impl Csrf {
    /// The token of `session` (a cheap clone of the handle).
    pub fn new(session: &Session) -> Self {
        Csrf {
            session: session.clone(),
        }
    }

    /// The session's token, created (and stored with the session) if it has none yet.
    pub async fn token(&self) -> Result<String, Error> {
        if let Some(token) = self.current().await? {
            return Ok(token);
        }
        let token = DefaultIds.generate()?;
        self.session.insert(TOKEN_KEY, &token).await?;
        Ok(token)
    }

    /// Whether `submitted` is the session's token, compared in constant time. `false` when the
    /// session has no token (none was ever handed out, or the id changed since): a request cannot
    /// be vouched for by a token it could not have seen. Creates nothing.
    pub async fn verify(&self, submitted: &str) -> Result<bool, Error> {
        let Some(token) = self.current().await? else {
            return Ok(false);
        };
        Ok(bool::from(token.as_bytes().ct_eq(submitted.as_bytes())))
    }

    /// The stored token; a value that is not a string (written by something else) counts as none.
    async fn current(&self) -> Result<Option<String>, Error> {
        match self.session.get::<String>(TOKEN_KEY).await {
            Ok(token) => Ok(token.filter(|t| DefaultIds.is_valid(t))),
            Err(Error::Decode(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests;
