//! [`CookieStateBuilder`]: the cookie's name and attributes, checked when built.

use crate::validate::{HOST_PREFIX, is_valid_domain, is_valid_name, is_valid_path, name_prefix};
use crate::{CookieConfigError, CookieState};

/// The default cookie name: generic, so that it says nothing about the software behind it.
pub const DEFAULT_COOKIE_NAME: &str = "id";

/// The cookie's `SameSite` attribute: when browsers send it with cross-site requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SameSite {
    /// Sent with same-site requests only.
    Strict,
    /// Sent with same-site requests and top-level cross-site navigations (the default).
    Lax,
    /// Sent with every request; requires `Secure`.
    None,
}

impl SameSite {
    pub(crate) fn to_cookie(self) -> cookie::SameSite {
        match self {
            SameSite::Strict => cookie::SameSite::Strict,
            SameSite::Lax => cookie::SameSite::Lax,
            SameSite::None => cookie::SameSite::None,
        }
    }
}

/// The validated settings a [`CookieState`] writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Config {
    pub(crate) name: Box<str>,
    pub(crate) path: Box<str>,
    pub(crate) domain: Option<Box<str>>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: Option<SameSite>,
    /// Whether `same_site` was configured (with `same_site` or `no_same_site`) rather than
    /// defaulted: a configured `SameSite` is never changed by `Partitioned`.
    pub(crate) same_site_set: bool,
    pub(crate) partitioned: bool,
}

/// Configures a [`CookieState`]; start with [`CookieState::builder`].
///
/// Every value is checked by [`build`](CookieStateBuilder::build), which refuses (with a
/// [`CookieConfigError`]) anything that would break the `Set-Cookie` header or that browsers would
/// reject:
///
/// - `Partitioned` and `SameSite=None` each require `Secure`: asking for them together with
///   `secure(false)` is an error (nothing is silently forced).
/// - A name starting with `__Secure-` requires `Secure`; one starting with `__Host-` requires
///   `Secure`, `Path=/` and no `Domain` (prefixes are matched case-insensitively, as browsers do).
///
/// ```
/// use session_state_cookie::{CookieState, SameSite};
///
/// let state = CookieState::builder()
///     .name("__Host-sid")
///     .same_site(SameSite::Strict)
///     .build()
///     .unwrap();
/// assert_eq!(state.name(), "__Host-sid");
///
/// // A domain on a `__Host-` cookie is refused.
/// assert!(CookieState::builder().name("__Host-sid").domain("example.com").build().is_err());
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct CookieStateBuilder {
    name: String,
    path: String,
    domain: Option<String>,
    secure: bool,
    http_only: bool,
    same_site: Option<Option<SameSite>>,
    partitioned: bool,
}

impl Default for CookieStateBuilder {
    fn default() -> Self {
        CookieStateBuilder {
            name: DEFAULT_COOKIE_NAME.to_owned(),
            path: "/".to_owned(),
            domain: None,
            secure: true,
            http_only: true,
            same_site: None,
            partitioned: false,
        }
    }
}

impl CookieStateBuilder {
    /// The cookie name (default: [`DEFAULT_COOKIE_NAME`], `id`).
    ///
    /// It must be an RFC 6265 token of at most 256 bytes.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The `Path` attribute (default: `/`).
    ///
    /// It must start with `/` and hold only visible ASCII characters other than `;` (percent-encode
    /// anything else).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The `Domain` attribute (default: none).
    ///
    /// Without it, only the exact host that set the cookie gets it back; setting it shares the
    /// cookie with every subdomain.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Whether the cookie is `Secure`, sent over HTTPS only (default: `true`).
    ///
    /// Turn it off for plain-HTTP development only.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Whether the cookie is `HttpOnly`, hidden from scripts (default: `true`).
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// The `SameSite` attribute.
    ///
    /// Default: [`SameSite::Lax`], or [`SameSite::None`] for a partitioned cookie. A value set here
    /// is never changed by `Partitioned`; see [`partitioned`](CookieStateBuilder::partitioned).
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = Some(Some(same_site));
        self
    }

    /// Sends no `SameSite` attribute, leaving the choice to the browser (most treat it as `Lax`).
    pub fn no_same_site(mut self) -> Self {
        self.same_site = Some(None);
        self
    }

    /// Whether the cookie is `Partitioned` (default: `false`).
    ///
    /// CHIPS: a separate cookie jar per top-level site, for a service embedded in other sites. A
    /// partitioned cookie must be `Secure`.
    ///
    /// `Partitioned` never weakens a `SameSite` you configured. When `SameSite` is not
    /// configured, a partitioned cookie (configured here, or asked for by one response through
    /// [`CookieOptions`](session_core::CookieOptions)) gets `SameSite=None`, and an unpartitioned
    /// one `SameSite=Lax`. When it is configured ([`same_site`](CookieStateBuilder::same_site) or
    /// [`no_same_site`](CookieStateBuilder::no_same_site)), it is sent as configured: set together
    /// here, both go out as set; a response that asks for `Partitioned` over a configured `Strict`,
    /// `Lax` or no `SameSite` is refused (logged), and its cookie goes out without `Partitioned`.
    pub fn partitioned(mut self, partitioned: bool) -> Self {
        self.partitioned = partitioned;
        self
    }

    /// Checks the configuration and builds the [`CookieState`].
    pub fn build(self) -> Result<CookieState, CookieConfigError> {
        if !is_valid_name(&self.name) {
            return Err(CookieConfigError::InvalidName { name: self.name });
        }
        if !is_valid_path(&self.path) {
            return Err(CookieConfigError::InvalidPath { path: self.path });
        }
        if let Some(domain) = &self.domain
            && !is_valid_domain(domain)
        {
            return Err(CookieConfigError::InvalidDomain {
                domain: domain.clone(),
            });
        }
        let same_site = self
            .same_site
            .unwrap_or(Some(default_same_site(self.partitioned)));
        if self.partitioned && !self.secure {
            return Err(CookieConfigError::PartitionedWithoutSecure);
        }
        if same_site == Some(SameSite::None) && !self.secure {
            return Err(CookieConfigError::SameSiteNoneWithoutSecure);
        }
        if let Some(prefix) = name_prefix(&self.name) {
            if !self.secure {
                return Err(CookieConfigError::PrefixWithoutSecure { prefix });
            }
            if prefix == HOST_PREFIX {
                if self.path != "/" {
                    return Err(CookieConfigError::HostPrefixWithPath);
                }
                if self.domain.is_some() {
                    return Err(CookieConfigError::HostPrefixWithDomain);
                }
            }
        }
        Ok(CookieState::from_config(Config {
            name: self.name.into(),
            path: self.path.into(),
            domain: self.domain.map(Into::into),
            secure: self.secure,
            http_only: self.http_only,
            same_site,
            same_site_set: self.same_site.is_some(),
            partitioned: self.partitioned,
        }))
    }
}

/// The `SameSite` of a cookie whose `SameSite` was not configured: `None` for a partitioned cookie
/// (it is meant for other sites' frames), else `Lax`.
pub(crate) fn default_same_site(partitioned: bool) -> SameSite {
    if partitioned {
        SameSite::None
    } else {
        SameSite::Lax
    }
}
