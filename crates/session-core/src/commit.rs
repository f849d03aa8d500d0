//! [`Commit`]: the headers a commit adds to the response.

use std::fmt;

use http::header::{CACHE_CONTROL, HeaderName, VARY};
use http::{HeaderMap, HeaderValue};

/// The headers a commit adds to the response: what the State wrote (`Set-Cookie`, say), `Vary`,
/// and `Cache-Control: no-store`.
///
/// Its `Debug` output names the headers but never shows their values (they carry session ids).
#[derive(Default)]
pub struct Commit {
    pub(crate) headers: HeaderMap,
    pub(crate) vary: Option<HeaderName>,
    pub(crate) sets_id: bool,
}

impl Commit {
    /// The headers the State wrote (`Set-Cookie`, say), without the caching headers.
    pub fn state_headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Adds everything to a response's headers: every header the State wrote (appended, so a
    /// handler's own `Set-Cookie` headers stay), `Vary` naming the header the id travels in when the
    /// response depended on the session, and `Cache-Control: no-store` when it sets or removes the
    /// id (replacing any other `Cache-Control`, unless that already says `no-store`).
    pub fn apply_to(self, headers: &mut HeaderMap) {
        let mut last = None;
        for (name, value) in self.headers {
            // The map yields a name only with the first of several values for it.
            if let Some(name) = name {
                last = Some(name);
            }
            if let Some(name) = &last {
                headers.append(name.clone(), value);
            }
        }
        if let Some(vary) = self.vary
            && !directives(headers, &VARY)
                .any(|d| d.eq_ignore_ascii_case(vary.as_str()) || d == "*")
        {
            headers.append(VARY, HeaderValue::from_name(vary));
        }
        if self.sets_id
            && !directives(headers, &CACHE_CONTROL).any(|d| d.eq_ignore_ascii_case("no-store"))
        {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
}

/// The comma-separated items of every value of header `name`, trimmed, directive names only.
fn directives<'h>(headers: &'h HeaderMap, name: &HeaderName) -> impl Iterator<Item = &'h str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|item| item.split('=').next().unwrap_or_default().trim())
}

impl fmt::Debug for Commit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Commit")
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("vary", &self.vary)
            .field("sets_id", &self.sets_id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{COOKIE, SET_COOKIE};

    #[test]
    fn every_state_header_is_kept_and_caching_headers_merge() {
        let mut commit = Commit {
            vary: Some(COOKIE),
            sets_id: true,
            ..Commit::default()
        };
        commit
            .headers
            .append(SET_COOKIE, HeaderValue::from_static("a=1"));
        commit
            .headers
            .append(SET_COOKIE, HeaderValue::from_static("b=2"));
        assert!(
            !format!("{commit:?}").contains("a=1"),
            "Debug must not show values"
        );
        let mut response = HeaderMap::new();
        response.append(SET_COOKIE, HeaderValue::from_static("app=1"));
        response.append(VARY, HeaderValue::from_static("Accept-Encoding"));
        response.append(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        );
        commit.apply_to(&mut response);
        let cookies: Vec<_> = response.get_all(SET_COOKIE).iter().collect();
        assert_eq!(cookies, ["app=1", "a=1", "b=2"]);
        let vary: Vec<_> = response.get_all(VARY).iter().collect();
        assert_eq!(vary, ["Accept-Encoding", "cookie"]);
        assert_eq!(response[CACHE_CONTROL], "no-store");
    }

    #[test]
    fn existing_no_store_and_vary_are_kept() {
        let commit = Commit {
            vary: Some(COOKIE),
            sets_id: true,
            ..Commit::default()
        };
        let mut response = HeaderMap::new();
        response.append(VARY, HeaderValue::from_static("accept, Cookie"));
        response.append(CACHE_CONTROL, HeaderValue::from_static("private"));
        response.append(CACHE_CONTROL, HeaderValue::from_static("No-Store"));
        commit.apply_to(&mut response);
        assert_eq!(response.get_all(VARY).iter().count(), 1);
        assert_eq!(response.get_all(CACHE_CONTROL).iter().count(), 2);
    }
}
