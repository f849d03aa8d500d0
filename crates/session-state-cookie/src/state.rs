//! [`CookieState`]: reads the session id from `Cookie` headers and writes it with `Set-Cookie`.

use std::borrow::Cow;
use std::fmt::Write as _;

use cookie::Cookie;
use cookie::time::{Duration, OffsetDateTime};
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue};
use session_core::state::{Candidates, Delivery, RequestHeaders, RequestView, State};
use session_core::{CookieOptions, Id};

use crate::config::{Config, default_same_site};
use crate::validate::{HOST_PREFIX, is_valid_domain, is_valid_path, name_prefix};
use crate::{CookieConfigError, CookieStateBuilder, SameSite};

/// Carries the session id in a cookie (Plack's State::Cookie).
///
/// Built with [`CookieState::builder`] (or [`CookieState::new`] for just a name), which validates
/// every value; [`CookieState::default`] is the secure default: a cookie named `id` with
/// `Path=/`, `HttpOnly`, `Secure`, `SameSite=Lax`, no `Domain`, and no `Max-Age` unless the
/// engine asks for a persistent session.
///
/// - **Reading**: every `Cookie` header is split into its `name=value` pairs (as the `cookie`
///   crate's `split_parse` reads them), and every cookie with the configured name is a candidate,
///   in order (browsers may send several, for instance one per matching path); a value in double
///   quotes is unquoted, as Plack does. Headers that are not UTF-8 and pairs without `=` are
///   skipped. Candidates borrow from the request: no value is copied.
/// - **Writing**: one `Set-Cookie` with the id and the configured attributes; for a persistent
///   session, `Max-Age` and `Expires` from the engine's [`Delivery`].
/// - **Per-response options** ([`CookieOptions`]): merged over the configuration. `Partitioned`
///   brings `Secure`, and never weakens a configured `SameSite`: when the State's `SameSite` was
///   not configured, a partitioned cookie gets `SameSite=None` (an unpartitioned one `Lax`); when
///   it was configured, a request's `partitioned(true)` over anything but `SameSite=None` is
///   refused (logged), and the cookie goes out without `Partitioned`, unless the State is
///   configured partitioned too (both then go out as configured). A `__Host-` cookie keeps
///   `Path=/` and no `Domain`; an invalid path or domain is ignored (logged), never written.
/// - **Removing**: the same name, `Path`, `Domain`, `Secure`, `HttpOnly`, `SameSite` and
///   `Partitioned` as the live cookie (browsers ignore a removal that differs), an empty value,
///   `Max-Age=0` and an `Expires` in 1970.
///
/// ```
/// use http::HeaderMap;
/// use session_core::state::{RequestView, State};
/// use session_state_cookie::CookieState;
///
/// let state = CookieState::default();
/// let mut headers = HeaderMap::new();
/// headers.insert("cookie", "theme=dark; id=\"first\"; id=second".parse().unwrap());
/// let found = state.extract(&RequestView::new(&headers, None));
/// assert_eq!(found.iter().collect::<Vec<_>>(), ["first", "second"]);
///
/// let mut response = HeaderMap::new();
/// state.expire(&mut response);
/// assert_eq!(
///     response["set-cookie"],
///     "id=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0; \
///      Expires=Thu, 01 Jan 1970 00:00:00 GMT"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieState {
    config: Config,
    /// The attributes of a browser-session cookie (`; HttpOnly; SameSite=Lax; ...`).
    ///
    /// Formatted once by the `cookie` crate when the state is built, so the hot path only
    /// concatenates.
    suffix: Box<str>,
    /// The whole removal cookie, formatted once.
    removal: HeaderValue,
}

impl CookieState {
    /// Starts configuring a cookie; every setting starts at the secure default.
    pub fn builder() -> CookieStateBuilder {
        CookieStateBuilder::default()
    }

    /// The default cookie with another name.
    ///
    /// The name must be an RFC 6265 token; `__Host-` and `__Secure-` prefixes are accepted, since
    /// the defaults satisfy their rules.
    pub fn new(name: impl Into<String>) -> Result<Self, CookieConfigError> {
        CookieState::builder().name(name).build()
    }

    pub(crate) fn from_config(config: Config) -> Self {
        let mut state = CookieState {
            config,
            suffix: Box::from(""),
            removal: HeaderValue::from_static(""),
        };
        let live = state.cookie("").to_string();
        // `name=` then the attributes; the name is a validated token, so it is a plain prefix.
        state.suffix = live[state.config.name.len() + 1..].into();
        state.removal =
            sensitive(&state.removal_with(None)).unwrap_or_else(|| HeaderValue::from_static(""));
        state
    }

    /// The cookie name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The `Path` attribute.
    pub fn path(&self) -> &str {
        &self.config.path
    }

    /// The `Domain` attribute, if any.
    pub fn domain(&self) -> Option<&str> {
        self.config.domain.as_deref()
    }

    /// Whether the cookie is `Secure`.
    pub fn is_secure(&self) -> bool {
        self.config.secure
    }

    /// Whether the cookie is `HttpOnly`.
    pub fn is_http_only(&self) -> bool {
        self.config.http_only
    }

    /// The `SameSite` attribute, if one is sent.
    pub fn same_site(&self) -> Option<SameSite> {
        self.config.same_site
    }

    /// Whether the cookie is `Partitioned`.
    pub fn is_partitioned(&self) -> bool {
        self.config.partitioned
    }

    /// The `Set-Cookie` value carrying `value` (a session id, or a sealed session).
    ///
    /// With the configured attributes and `delivery`'s lifetime; `None` (logged) if `value` is not
    /// a cookie value.
    pub(crate) fn set_cookie(&self, value: &str, delivery: &Delivery) -> Option<HeaderValue> {
        if !is_cookie_value(value) {
            // Only a custom id validator could let such an id through; never echo it into a header.
            tracing::error!(
                len = value.len(),
                "refusing to write a session cookie value that is not a valid cookie value"
            );
            return None;
        }
        let options = delivery.options.as_ref();
        let Some(max_age) = delivery.max_age else {
            if let Some(options) = options {
                return sensitive(&self.cookie_with(value, Some(options)));
            }
            // A browser-session cookie: the attributes were formatted when the state was built.
            let mut text =
                String::with_capacity(self.config.name.len() + 1 + value.len() + self.suffix.len());
            text.push_str(&self.config.name);
            text.push('=');
            text.push_str(value);
            text.push_str(&self.suffix);
            return to_header(text);
        };
        let mut cookie = self.cookie_with(value, options);
        let max_age = Duration::seconds(i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX));
        cookie.set_max_age(max_age);
        // `Expires` for clients that predate `Max-Age`, from the engine's clock; left out if the
        // date is out of range.
        if let Some(at) = delivery.expires.and_then(http_date) {
            cookie.set_expires(at);
        }
        sensitive(&cookie)
    }

    /// A cookie with the configured attributes, a request's own `options` merged over them.
    ///
    /// It has no lifetime. The rules of [`CookieOptions`] hold on the result.
    fn cookie_with<'c>(&'c self, value: &'c str, options: Option<&'c CookieOptions>) -> Cookie<'c> {
        let mut cookie = self.cookie(value);
        let Some(options) = options else {
            return cookie;
        };
        let host = name_prefix(&self.config.name) == Some(HOST_PREFIX);
        if let Some(path) = &options.path {
            if host {
                tracing::debug!("a __Host- cookie keeps Path=/: ignoring the request's path");
            } else if is_valid_path(path) {
                cookie.set_path(&**path);
            } else {
                tracing::warn!(
                    len = path.len(),
                    "ignoring an invalid per-request cookie path"
                );
            }
        }
        if let Some(domain) = &options.domain {
            if host {
                tracing::debug!("a __Host- cookie has no Domain: ignoring the request's domain");
            } else if is_valid_domain(domain) {
                cookie.set_domain(&**domain);
            } else {
                tracing::warn!(
                    len = domain.len(),
                    "ignoring an invalid per-request cookie domain"
                );
            }
        }
        if let Some(partitioned) = options.partitioned {
            self.set_partitioned(&mut cookie, partitioned);
        }
        cookie
    }

    /// Makes one response's cookie `partitioned` or not, without weakening a configured
    /// `SameSite` (the rule is stated on [`CookieStateBuilder::partitioned`]).
    fn set_partitioned(&self, cookie: &mut Cookie<'_>, partitioned: bool) {
        let config = &self.config;
        if !config.same_site_set {
            cookie.set_partitioned(partitioned);
            cookie.set_same_site(default_same_site(partitioned).to_cookie());
        } else if !partitioned || config.same_site == Some(SameSite::None) {
            cookie.set_partitioned(partitioned);
        } else if !config.partitioned {
            tracing::warn!(
                same_site = ?config.same_site,
                "a response asked for a Partitioned cookie, but the configured SameSite (not \
                 None) is kept: the cookie goes out without Partitioned (configure the state \
                 partitioned to send both)"
            );
            return;
        }
        if partitioned {
            cookie.set_secure(true);
        }
    }

    /// The removal of the cookie `options` describe: empty, `Max-Age=0`, `Expires` in 1970.
    fn removal_with<'c>(&'c self, options: Option<&'c CookieOptions>) -> Cookie<'c> {
        let mut removal = self.cookie_with("", options);
        removal.set_max_age(Duration::ZERO);
        removal.set_expires(OffsetDateTime::UNIX_EPOCH);
        removal
    }

    /// A cookie with the configured name and attributes, and no lifetime.
    fn cookie<'c>(&'c self, value: &'c str) -> Cookie<'c> {
        let config = &self.config;
        let mut cookie = Cookie::new(&*config.name, value);
        cookie.set_path(&*config.path);
        if let Some(domain) = &config.domain {
            cookie.set_domain(&**domain);
        }
        cookie.set_secure(config.secure);
        cookie.set_http_only(config.http_only);
        cookie.set_same_site(config.same_site.map(SameSite::to_cookie));
        cookie.set_partitioned(config.partitioned);
        cookie
    }
}

impl Default for CookieState {
    /// A cookie named `id` with `Path=/`, `HttpOnly`, `Secure` and `SameSite=Lax`.
    fn default() -> Self {
        CookieState::from_config(Config {
            name: crate::DEFAULT_COOKIE_NAME.into(),
            path: "/".into(),
            domain: None,
            secure: true,
            http_only: true,
            same_site: Some(SameSite::Lax),
            same_site_set: false,
            partitioned: false,
        })
    }
}

impl State for CookieState {
    fn extract<'a>(&self, request: &RequestView<'a>) -> Candidates<'a> {
        let name = &*self.config.name;
        let mut found = Candidates::new();
        for header in request.headers().get_all(COOKIE) {
            let Ok(text) = std::str::from_utf8(header.as_bytes()) else {
                tracing::debug!(
                    len = header.len(),
                    "skipping a Cookie header that is not UTF-8"
                );
                continue;
            };
            for value in values_named(text, name) {
                if !value.is_empty() {
                    found.push(Cow::Borrowed(value));
                }
            }
        }
        found
    }

    fn finalize(&self, id: &Id, delivery: &Delivery, headers: &mut HeaderMap) {
        if let Some(value) = self.set_cookie(id.as_str(), delivery) {
            headers.append(SET_COOKIE, value);
        }
    }

    fn expire(&self, headers: &mut HeaderMap) {
        headers.append(SET_COOKIE, self.removal.clone());
    }

    fn expire_with(&self, delivery: &Delivery, headers: &mut HeaderMap) {
        match &delivery.options {
            Some(options) => {
                if let Some(value) = sensitive(&self.removal_with(Some(options))) {
                    headers.append(SET_COOKIE, value);
                }
            }
            None => self.expire(headers),
        }
    }

    fn request_headers(&self) -> RequestHeaders {
        RequestHeaders::COOKIE
    }
}

/// `time` as a cookie date, or `None` if it is before 1970 or after 9999.
///
/// Never a panic: a "remember me forever" lifetime reaches far beyond what dates can say.
fn http_date(time: std::time::SystemTime) -> Option<OffsetDateTime> {
    let since = time.duration_since(std::time::UNIX_EPOCH).ok()?;
    let at = OffsetDateTime::from_unix_timestamp(i64::try_from(since.as_secs()).ok()?).ok()?;
    (at.year() <= 9999).then_some(at)
}

/// Formats `cookie` as a sensitive `Set-Cookie` value; `None` (logged) if that fails.
fn sensitive(cookie: &Cookie<'_>) -> Option<HeaderValue> {
    let mut text = String::with_capacity(160);
    // Every part was validated as visible ASCII, so neither step fails; but a header is dropped
    // (and logged) rather than a panic if one ever did.
    if write!(text, "{cookie}").is_err() {
        tracing::error!("the session cookie could not be formatted");
        return None;
    }
    to_header(text)
}

/// A sensitive header value.
///
/// It carries the session id, so it is kept out of `Debug` output and never HPACK-indexed.
fn to_header(text: String) -> Option<HeaderValue> {
    match HeaderValue::try_from(text) {
        Ok(mut value) => {
            value.set_sensitive(true);
            Some(value)
        }
        Err(_) => {
            tracing::error!("the session cookie is not a valid header value");
            None
        }
    }
}

/// The values of the cookies named `name` in one `Cookie` header's `text`, in order, unquoted.
///
/// Read as the `cookie` crate's `Cookie::split_parse` reads them, without building a cookie per
/// pair: pairs are separated by `;`; a pair is trimmed, split at its first `=`, and its name and
/// value trimmed again; a pair without `=` is skipped.
fn values_named<'a>(text: &'a str, name: &str) -> impl Iterator<Item = &'a str> {
    text.split(';').filter_map(move |pair| {
        let (found, value) = pair.split_once('=')?;
        (found.trim() == name).then(|| unquote(value.trim()))
    })
}

/// Removes one pair of surrounding double quotes.
fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(value)
}

/// The bytes an RFC 6265 cookie-value may hold: visible ASCII except `"`, `,`, `;` and `\`.
const COOKIE_OCTETS: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0x21;
    while c < 0x7f {
        table[c] = !matches!(c as u8, b'"' | b',' | b';' | b'\\');
        c += 1;
    }
    table
};

/// An RFC 6265 cookie-value: visible ASCII except `"`, `,`, `;` and `\`, not empty.
///
/// Branch-free over the bytes: sealed cookies are random text, on which a per-byte branch
/// mispredicts about half the time (it cost about 1 µs per 300-byte sealed cookie).
fn is_cookie_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .fold(true, |ok, c| ok & COOKIE_OCTETS[usize::from(c)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquote_strips_one_surrounding_pair() {
        assert_eq!(unquote("\"abc\""), "abc");
        assert_eq!(unquote("\"\""), "");
        assert_eq!(unquote("\""), "\"");
        assert_eq!(unquote("\"abc"), "\"abc");
        assert_eq!(unquote("abc\""), "abc\"");
        assert_eq!(unquote("\"\"abc\"\""), "\"abc\"");
    }

    #[test]
    fn cookie_values_are_read_as_the_cookie_crate_reads_them() {
        let headers = [
            "",
            ";",
            " ; ;",
            "id=abc",
            "id=abc; id=def",
            "  id = abc ;other=1;id=\"q\"",
            "theme=dark; id=\"first\"; id=second",
            "id",
            "id=",
            "=abc; id=x=y==",
            "ID=upper; id=lower; xid=no; idx=no",
            "id=a b; id =\t c\t; \u{a0}id=nbsp\u{a0}",
            "a=1;;id=;id=\"\";id=\"",
            "id=\"\"inner\"\"; id=caf\u{e9}",
        ];
        for text in headers {
            for name in ["id", "ID", "xid"] {
                let ours: Vec<&str> = values_named(text, name).collect();
                let theirs: Vec<String> = Cookie::split_parse(text)
                    .flatten()
                    .filter(|cookie| cookie.name() == name)
                    .map(|cookie| unquote(cookie.value_raw().expect("borrowed")).to_owned())
                    .collect();
                assert_eq!(ours, theirs, "{text:?}, {name:?}");
            }
        }
    }

    #[test]
    fn dates_out_of_range_are_left_out_not_a_panic() {
        use std::time::{Duration, UNIX_EPOCH};
        let far = UNIX_EPOCH + Duration::from_secs(400_000 * 366 * 86_400);
        assert_eq!(http_date(far), None);
        assert_eq!(
            http_date(UNIX_EPOCH - Duration::from_secs(1)),
            None,
            "before 1970"
        );
        let at = http_date(UNIX_EPOCH + Duration::from_secs(86_400)).expect("in range");
        assert_eq!(at.unix_timestamp(), 86_400);
    }

    #[test]
    fn only_cookie_octets_are_written() {
        assert!(is_cookie_value("abc-_DEF.123~!#$%&'()*+/:<=>?@[]^`{|}"));
        for bad in [
            "",
            "a b",
            "a;b",
            "a,b",
            "a\"b",
            "a\\b",
            "a\tb",
            "caf\u{e9}",
            "a\u{7f}",
        ] {
            assert!(!is_cookie_value(bad), "{bad:?} accepted");
        }
    }
}
