//! [`CookieCarrier`]: the client side of any State that carries the id in a cookie.

use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue};
use session_core::adapter::Commit;

use crate::{Carrier, Delivered, RequestParts};

/// The client side of a cookie State.
///
/// Sends `Cookie: NAME=ID` and reads the `Set-Cookie` named `NAME` from a commit.
///
/// Generic over the cookie name only, so it depends on no cookie State crate. A `Set-Cookie` for
/// the name counts as a removal when its value is empty, its `Max-Age` is zero or negative, or
/// (without `Max-Age`) its `Expires` is not in the future; otherwise it delivers its value
/// (unquoted). When several name the cookie, the last wins.
///
/// ```
/// use http::header::{COOKIE, SET_COOKIE};
/// use session_conformance::{Carrier, CookieCarrier, Delivered};
///
/// let carrier = CookieCarrier::new("id");
/// let request = carrier.request(Some("abc"));
/// assert_eq!(request.headers[COOKIE], "id=abc");
/// assert_eq!(carrier.read("id=xyz; Path=/; HttpOnly"), Some(Delivered::Id("xyz".into())));
/// assert_eq!(carrier.read("id=; Max-Age=0; Path=/"), Some(Delivered::Removed));
/// assert_eq!(carrier.read("other=xyz"), None);
/// ```
#[derive(Clone, Debug)]
pub struct CookieCarrier {
    name: String,
}

impl CookieCarrier {
    /// Carries the id in the cookie `name` (the State's cookie name, prefix included).
    pub fn new(name: impl Into<String>) -> Self {
        CookieCarrier { name: name.into() }
    }

    /// What one `Set-Cookie` value says about the id.
    ///
    /// `None` if it names another cookie (or does not parse). Parsed with the `cookie` crate.
    pub fn read(&self, set_cookie: &str) -> Option<Delivered> {
        let cookie = cookie::Cookie::parse(set_cookie).ok()?;
        if cookie.name() != self.name {
            return None;
        }
        let value = cookie.value_trimmed();
        let expired = cookie
            .expires_datetime()
            .is_some_and(|at| at <= cookie::time::OffsetDateTime::now_utc());
        let removed = value.is_empty()
            || cookie
                .max_age()
                .map_or(expired, |age| age <= cookie::time::Duration::ZERO);
        Some(if removed {
            Delivered::Removed
        } else {
            Delivered::Id(value.to_owned())
        })
    }
}

impl Carrier for CookieCarrier {
    fn request(&self, id: Option<&str>) -> RequestParts {
        let mut headers = HeaderMap::new();
        if let Some(id) = id {
            let value =
                HeaderValue::from_str(&format!("{}={id}", self.name)).unwrap_or_else(|_| {
                    panic!("session-conformance: cannot put the id {id:?} in a Cookie header")
                });
            headers.insert(COOKIE, value);
        }
        RequestParts {
            headers,
            query: None,
        }
    }

    fn delivered(&self, commit: &Commit) -> Delivered {
        let values = commit.state_headers().get_all(SET_COOKIE);
        let mut read = values
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| self.read(v));
        read.next_back().unwrap_or(Delivered::Nothing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removals_are_recognised() {
        let carrier = CookieCarrier::new("sid");
        let removed = Some(Delivered::Removed);
        assert_eq!(carrier.read("sid=; Path=/"), removed);
        assert_eq!(carrier.read("sid=x; Max-Age=-1"), removed);
        assert_eq!(
            carrier.read("sid=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
            removed
        );
        let kept = Some(Delivered::Id("x".into()));
        assert_eq!(
            carrier.read("sid=x; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
            kept
        );
        assert_eq!(carrier.read("sid=\"x\"; Expires=whenever"), kept);
        assert_eq!(
            carrier.read("sid=x; Expires=Fri, 01 Jan 9999 00:00:00 GMT"),
            kept
        );
    }
}
