//! [`SealedCookie`]: the whole session inside an encrypted (or signed) cookie, no server storage.

use std::error::Error;
use std::fmt;

use http::HeaderMap;
use http::header::SET_COOKIE;
use session_core::Id;
use session_core::state::{Delivery, RequestHeaders, RequestView, State};
use session_core::store::{ClientStore, Opened, Record, StoreError, StoreErrorKind, Unsealed};

use crate::envelope::{self, Envelope};
use crate::{CookieState, SealKey, legacy};

/// The largest `Set-Cookie` a sealed session may take, name and attributes included.
///
/// The 4096 bytes every browser must accept for one cookie (RFC 6265, section 6.1).
pub const MAX_COOKIE_BYTES: usize = 4096;

/// How many cookies of the session's name are tried per request (a browser may send several).
const MAX_CANDIDATES: usize = 4;

/// How a [`SealedCookie`] protects the session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealMode {
    /// Encrypted and authenticated (AES-256-GCM): the client can neither read nor change it.
    ///
    /// A random 96-bit nonce per seal, the cookie's name as associated data. The default.
    #[default]
    Private,
    /// Signed (HMAC-SHA256): the client cannot change the session but **can read it**.
    ///
    /// The cookie's name is signed in too; the session is only base64url-encoded. Use it only for
    /// data the user may see.
    Signed,
}

/// Keeps the whole session in a sealed cookie: no server-side storage at all.
///
/// The successor of Plack's Session::Cookie, with authenticated encryption, key rotation and expiry
/// checks.
///
/// Give it to [`Engine::client_side`](session_core::Engine::client_side), or to an adapter's
/// `client_side` constructor; handlers use the same `Session` API as with any store.
///
/// - **Sealing**: the session id, the record's timestamps (created, last active, expires, its own
///   lifetime), its binding to a subject if any, and its values are encoded in a compact binary
///   layout and sealed with the current key, in [`SealMode::Private`] (the default) or
///   [`SealMode::Signed`], then base64url-encoded once. The cookie's name is bound in: a value
///   moved to another cookie name does not open.
/// - **Opening**: each cookie of the session's name (at most four) is authenticated with the
///   current key, then with each older key; only then is it decoded, with its size bounded. A
///   session opened with an older key, or from a cookie in the first release's format (which
///   still opens), is sealed again with the current key and format on that response.
///   Anything that does not open (tampered, truncated, garbage, unknown key, another name) is a
///   fresh, empty session: never an error page.
/// - **Expiry**: the engine checks the sealed expiry (idle timeout and absolute cap) on every
///   request; a stale cookie is a fresh session. The cookie's `Max-Age` only mirrors it.
/// - **Size**: a `Set-Cookie` longer than [`MAX_COOKIE_BYTES`] is an error
///   ([`StoreErrorKind::TooLarge`], logged by the adapter, a bare 500; `Session::save` reports it
///   to the handler first), never a truncated cookie. With the default cookie (`id`,
///   browser-session) that leaves about **3,000 bytes** of encoded session in either mode; the
///   encoding costs the key's length plus the value's JSON (a string's without its quotes) and a
///   few bytes each. A session of three short values takes a `Set-Cookie` of about 220 bytes.
///
/// # When to pick it, and what it cannot do
///
/// Pick it for small sessions (a user id, a CSRF token, preferences) when no shared store is at
/// hand, or to scale out without one. It cannot revoke a session: logging out sends a removal
/// cookie, but a copy of the cookie (stolen, or kept by a client that ignores the removal) opens
/// until its sealed expiry, so keep the idle timeout short and rotate the key to end every
/// session at once. Concurrent requests do not merge their writes: the last response the client
/// keeps wins, and a read-only request that reseals (a rolling-expiry refresh, or a key rotation)
/// counts, so a background request that spans a login can restore the pre-login session. The
/// whole session travels with every request.
///
/// A session too large to seal fails with `Error::Store(e)` where
/// `e.kind() == StoreErrorKind::TooLarge`; its source is a [`SealError::TooLarge`] naming the
/// sizes.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use session_core::Engine;
/// use session_core::state::RequestView;
/// use session_state_cookie::{SealKey, SealedCookie};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let engine = Engine::client_side(SealedCookie::new(SealKey::generate()?));
///
/// let session = engine.start(&RequestView::new(&HeaderMap::new(), None));
/// session.insert("user", "alice").await?;
/// let mut response = HeaderMap::new();
/// engine.commit(&session, StatusCode::OK).await?.apply_to(&mut response);
/// let set_cookie = response["set-cookie"].to_str()?;
/// assert!(!set_cookie.contains("alice"), "private mode encrypts");
///
/// // The browser sends the cookie back: the session is in it.
/// let mut request = HeaderMap::new();
/// request.insert("cookie", set_cookie.split(';').next().unwrap().parse()?);
/// let session = engine.start(&RequestView::new(&request, None));
/// assert_eq!(session.get::<String>("user").await?.as_deref(), Some("alice"));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct SealedCookie {
    cookie: CookieState,
    mode: SealMode,
    key: SealKey,
    old_keys: Vec<SealKey>,
    /// For `mode` and the cookie's name (set again by [`SealedCookieBuilder::build`]).
    envelope: Envelope,
}

impl SealedCookie {
    /// Sealed in private mode with `key`, in the default cookie ([`CookieState::default`]).
    pub fn new(key: SealKey) -> Self {
        SealedCookie::builder(key).build()
    }

    /// Starts configuring a sealed cookie that seals with `key`.
    pub fn builder(key: SealKey) -> SealedCookieBuilder {
        SealedCookieBuilder {
            sealed: SealedCookie {
                envelope: Envelope::new(SealMode::Private, CookieState::default().name()),
                cookie: CookieState::default(),
                mode: SealMode::Private,
                key,
                old_keys: Vec::new(),
            },
        }
    }

    /// The cookie's name and attributes.
    pub fn cookie(&self) -> &CookieState {
        &self.cookie
    }

    /// The sealing mode.
    pub fn mode(&self) -> SealMode {
        self.mode
    }

    /// Opens one cookie value: `Some((id, record, reseal))` if some key authenticates it; `reseal`
    /// if that was an older key or an older format.
    fn unseal(&self, value: &str) -> Option<(String, Record, bool)> {
        if value.len() > MAX_COOKIE_BYTES {
            return None;
        }
        match value.as_bytes().first() {
            Some(&envelope::FIRST_CHAR) => self.envelope.open(value, &self.key, &self.old_keys),
            Some(&envelope::NEXT_FIRST_CHAR) => None,
            _ => {
                let keys = std::iter::once(&self.key).chain(&self.old_keys);
                let (id, record) = legacy::open(self.mode, self.cookie.name(), value, keys)?;
                Some((id, record, true))
            }
        }
    }
}

impl ClientStore for SealedCookie {
    fn open(&self, request: &RequestView<'_>, accept: &mut dyn FnMut(&Unsealed) -> bool) -> Opened {
        let candidates = self.cookie.extract(request);
        if candidates.is_empty() {
            return Opened::Nothing;
        }
        // More than are tried: the one left out could be the only other live session (cookies
        // tossed in ahead of the victim's), so none is opened.
        if candidates.iter().nth(MAX_CANDIDATES).is_some() {
            tracing::warn!(
                "the request carries more than four cookies under the session's name (cookies \
                 tossed from a sibling domain?): opening none, starting a fresh session"
            );
            return Opened::Refused;
        }
        // Every candidate is offered, so that the engine sees a second live session (a tossed
        // cookie) and adopts neither.
        let mut first = None;
        for value in candidates.iter().take(MAX_CANDIDATES) {
            if let Some((id, record, reseal)) = self.unseal(value) {
                let unsealed = Unsealed::new(id, record, reseal);
                if accept(&unsealed) && first.is_none() {
                    first = Some(unsealed);
                }
            }
        }
        first.map_or(Opened::Refused, Opened::Session)
    }

    fn seal(
        &self,
        id: &Id,
        record: &Record,
        delivery: &Delivery,
        headers: &mut HeaderMap,
    ) -> Result<(), StoreError> {
        let sealed = self
            .envelope
            .seal(&self.key, id.as_str(), record)
            .map_err(|e| StoreError::new(StoreErrorKind::Codec, e))?;
        let value = self
            .cookie
            .set_cookie(&sealed, delivery)
            .ok_or_else(|| StoreError::new(StoreErrorKind::Codec, SealError::Seal))?;
        if value.len() > MAX_COOKIE_BYTES {
            return Err(StoreError::new(
                StoreErrorKind::TooLarge,
                SealError::TooLarge {
                    size: value.len(),
                    limit: MAX_COOKIE_BYTES,
                },
            ));
        }
        headers.append(SET_COOKIE, value);
        Ok(())
    }

    fn expire(&self, headers: &mut HeaderMap) {
        self.cookie.expire(headers);
    }

    fn expire_with(&self, delivery: &Delivery, headers: &mut HeaderMap) {
        self.cookie.expire_with(delivery, headers);
    }

    fn request_headers(&self) -> RequestHeaders {
        RequestHeaders::COOKIE
    }
}

impl fmt::Debug for SealedCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedCookie")
            .field("cookie", &self.cookie)
            .field("mode", &self.mode)
            .field("old_keys", &self.old_keys.len())
            .finish_non_exhaustive()
    }
}

/// Configures a [`SealedCookie`]; start with [`SealedCookie::builder`].
#[derive(Debug)]
pub struct SealedCookieBuilder {
    sealed: SealedCookie,
}

impl SealedCookieBuilder {
    /// The sealing mode (default: [`SealMode::Private`]).
    pub fn mode(mut self, mode: SealMode) -> Self {
        self.sealed.mode = mode;
        self
    }

    /// The cookie's name and attributes (default: [`CookieState::default`]).
    ///
    /// They were validated when that `CookieState` was built.
    pub fn cookie(mut self, cookie: CookieState) -> Self {
        self.sealed.cookie = cookie;
        self
    }

    /// Adds an older key that still opens sessions (newest first), for key rotation.
    ///
    /// Make the new key the current one and list the previous key here until its sessions have
    /// expired. A session opened with an older key is sealed again with the current one.
    pub fn old_key(mut self, key: SealKey) -> Self {
        self.sealed.old_keys.push(key);
        self
    }

    /// Builds the sealed cookie.
    pub fn build(mut self) -> SealedCookie {
        self.sealed.envelope = Envelope::new(self.sealed.mode, self.sealed.cookie.name());
        self.sealed
    }
}

/// Why a session could not be sealed (the source of a [`StoreError`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum SealError {
    /// The sealed `Set-Cookie` would exceed the cookie limit.
    TooLarge {
        /// Its length, in bytes, name and attributes included.
        size: usize,
        /// The limit ([`MAX_COOKIE_BYTES`]).
        limit: usize,
    },
    /// The sealed value could not be made (not expected to happen).
    Seal,
    /// The operating system's random source failed (private mode draws a nonce per seal).
    Random(getrandom::Error),
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::TooLarge { size, limit } => write!(
                f,
                "the sealed session cookie would be {size} bytes, over the {limit}-byte cookie \
                 limit: keep less in the session, or use a server-side store"
            ),
            SealError::Seal => f.write_str("the session could not be sealed"),
            SealError::Random(_) => f.write_str(
                "the session could not be sealed: the operating system's random source failed",
            ),
        }
    }
}

impl Error for SealError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            SealError::Random(e) => Some(e),
            _ => None,
        }
    }
}
