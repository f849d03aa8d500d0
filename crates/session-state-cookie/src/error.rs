//! [`CookieConfigError`]: why a [`CookieState`](crate::CookieState) could not be built.

use std::error::Error;
use std::fmt;

/// A cookie configuration that cannot be sent safely.
///
/// It is reported when the [`CookieState`](crate::CookieState) is built, rather than as a broken
/// `Set-Cookie` header later.
///
/// The `cookie` crate formats whatever it is given, so a `;` in a name, path or domain would inject
/// attributes of the attacker's choosing: every such value is checked here first.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CookieConfigError {
    /// The cookie name is not a valid RFC 6265 token.
    ///
    /// It is empty, longer than 256 bytes, or contains a control character, a space, non-ASCII, or
    /// one of `()<>@,;:\"/[]?={}`.
    InvalidName {
        /// The rejected name.
        name: String,
    },
    /// The path is not a valid cookie path.
    ///
    /// It does not start with `/`, is longer than 1024 bytes, or contains something other than
    /// visible ASCII characters (a space, a control character, non-ASCII) or a `;`.
    InvalidPath {
        /// The rejected path.
        path: String,
    },
    /// The domain is not a host name.
    ///
    /// A host name is dot-separated labels of 1 to 63 ASCII letters, digits and `-` (not at either
    /// end of a label), 253 bytes at most, with an optional leading dot. Internationalized names
    /// must be given in their ASCII (punycode) form.
    InvalidDomain {
        /// The rejected domain.
        domain: String,
    },
    /// `Partitioned` was asked for together with `secure(false)`.
    ///
    /// Browsers reject partitioned (CHIPS) cookies without `Secure`.
    PartitionedWithoutSecure,
    /// `SameSite=None` was asked for together with `secure(false)`: browsers reject such cookies.
    SameSiteNoneWithoutSecure,
    /// The name has a `__Secure-` or `__Host-` prefix but the cookie is not `Secure`.
    ///
    /// Browsers reject such a cookie.
    PrefixWithoutSecure {
        /// The prefix found (`"__Secure-"` or `"__Host-"`).
        prefix: &'static str,
    },
    /// The name starts with `__Host-` but the path is not `/`.
    HostPrefixWithPath,
    /// The name starts with `__Host-` but a domain is set.
    HostPrefixWithDomain,
}

impl fmt::Display for CookieConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CookieConfigError::InvalidName { name } => write!(
                f,
                "invalid cookie name {name:?}: it must be 1 to 256 bytes of an RFC 6265 token \
                 (no spaces, control characters, non-ASCII or separators such as ';' and '=')"
            ),
            CookieConfigError::InvalidPath { path } => write!(
                f,
                "invalid cookie path {path:?}: it must start with '/' and contain only visible \
                 ASCII characters other than ';' (1024 bytes at most)"
            ),
            CookieConfigError::InvalidDomain { domain } => write!(
                f,
                "invalid cookie domain {domain:?}: it must be an ASCII host name \
                 (letters, digits, '-' and '.'; punycode for international names)"
            ),
            CookieConfigError::PartitionedWithoutSecure => {
                f.write_str("a Partitioned cookie must be Secure; do not call secure(false)")
            }
            CookieConfigError::SameSiteNoneWithoutSecure => {
                f.write_str("a SameSite=None cookie must be Secure; do not call secure(false)")
            }
            CookieConfigError::PrefixWithoutSecure { prefix } => {
                write!(f, "a cookie name starting with {prefix:?} requires Secure")
            }
            CookieConfigError::HostPrefixWithPath => {
                f.write_str("a cookie name starting with \"__Host-\" requires Path=/")
            }
            CookieConfigError::HostPrefixWithDomain => {
                f.write_str("a cookie name starting with \"__Host-\" must not set a Domain")
            }
        }
    }
}

impl Error for CookieConfigError {}
