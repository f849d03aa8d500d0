//! [`Commit`]: the headers a commit adds to the response.

use std::fmt;

use http::header::{CACHE_CONTROL, HeaderName, VARY};
use http::{HeaderMap, HeaderValue};

use crate::state::{CookieOptions, Delivery, Form};

/// The headers a commit adds to the response: what the State wrote (`Set-Cookie`, say), `Vary`,
/// and `Cache-Control: no-store`.
///
/// Its `Debug` output names the headers but never shows their values (they carry session ids).
#[derive(Default)]
pub struct Commit {
    pub(crate) headers: HeaderMap,
    /// The request headers the id travels in, named in `Vary`.
    pub(crate) vary: [Option<HeaderName>; 2],
    pub(crate) sets_id: bool,
    /// The handler's own cookie options, for the State's headers (not written to the response).
    pub(crate) options: Option<Box<CookieOptions>>,
    /// The form the request carried its id in, for the State's headers.
    pub(crate) form: Form,
    /// A late commit is due when the response body ends.
    pub(crate) late: bool,
}

impl Commit {
    /// The request's own part of what the State is asked to deliver: the handler's cookie
    /// options and the form the id came in.
    pub(crate) fn delivery(&self) -> Delivery {
        Delivery {
            options: self.options.as_deref().cloned(),
            form: self.form,
            ..Delivery::default()
        }
    }

    /// Whether the session asked for [late store](crate::Session::late_store) and the head's
    /// commit left something for it: the adapter then runs
    /// [`Engine::prepare_late`](crate::Engine::prepare_late) when the response body ends.
    pub fn late_store(&self) -> bool {
        self.late
    }

    /// The headers the State wrote (`Set-Cookie`, say), without the caching headers.
    pub fn state_headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Adds everything to a response's headers: every header the State wrote (appended, so a
    /// handler's own `Set-Cookie` headers stay), `Vary` naming the header the id travels in when
    /// the response depended on the session, and `Cache-Control: no-store` when it sets or removes
    /// the id (replacing any other `Cache-Control`, unless that already says `no-store`).
    ///
    /// `headers` is an `http::HeaderMap`, or an adapter's wrapper around its framework's own
    /// header map (see [`ResponseHeaders`]).
    pub fn apply_to<H: ResponseHeaders + ?Sized>(self, headers: &mut H) {
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
        for vary in self.vary.into_iter().flatten() {
            if !has_directive(headers, &VARY, |d| {
                d.eq_ignore_ascii_case(vary.as_str().as_bytes()) || d == b"*"
            }) {
                headers.append(VARY, HeaderValue::from_name(vary));
            }
        }
        if self.sets_id
            && !has_directive(headers, &CACHE_CONTROL, |d| {
                d.eq_ignore_ascii_case(b"no-store")
            })
        {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
}

/// A response's header map, as [`Commit::apply_to`] writes to it.
///
/// Implemented for `http::HeaderMap`. An adapter for a framework with a header map of its own
/// (actix-web's, on `http` 0.2) implements it on a wrapper, converting names and values through
/// their bytes.
pub trait ResponseHeaders {
    /// Calls `visit` with each value of header `name`, as bytes.
    fn each_value(&self, name: &HeaderName, visit: &mut dyn FnMut(&[u8]));

    /// Adds a value for `name`, keeping the values already there.
    fn append(&mut self, name: HeaderName, value: HeaderValue);

    /// Sets `name` to this one value, replacing any others.
    fn insert(&mut self, name: HeaderName, value: HeaderValue);
}

impl ResponseHeaders for HeaderMap {
    fn each_value(&self, name: &HeaderName, visit: &mut dyn FnMut(&[u8])) {
        for value in self.get_all(name) {
            visit(value.as_bytes());
        }
    }

    fn append(&mut self, name: HeaderName, value: HeaderValue) {
        HeaderMap::append(self, name, value);
    }

    fn insert(&mut self, name: HeaderName, value: HeaderValue) {
        HeaderMap::insert(self, name, value);
    }
}

/// Whether some comma-separated item of some value of header `name` has a directive name (the
/// part before any `=`, trimmed) for which `matches` holds.
fn has_directive<H: ResponseHeaders + ?Sized>(
    headers: &H,
    name: &HeaderName,
    matches: impl Fn(&[u8]) -> bool,
) -> bool {
    let mut found = false;
    headers.each_value(name, &mut |value| {
        found = found
            || value.split(|&b| b == b',').any(|item| {
                let directive = item.split(|&b| b == b'=').next().unwrap_or_default();
                matches(directive.trim_ascii())
            });
    });
    found
}

impl fmt::Debug for Commit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Commit")
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("vary", &self.vary)
            .field("sets_id", &self.sets_id)
            .field("late", &self.late)
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
            vary: [Some(COOKIE), None],
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
            vary: [Some(COOKIE), None],
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
