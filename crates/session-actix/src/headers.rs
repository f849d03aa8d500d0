//! The boundary between actix-web's `http` 0.2 types and the `http` 1 types of session-core:
//! headers cross it as bytes, in both directions.

use actix_web::http::header as actix;
use http::{HeaderMap, HeaderName, HeaderValue};
use session_core::adapter::ResponseHeaders;
use session_core::state::RequestHeaders;

/// Copies the request headers the State reads (all of them, if it does not say) into an `http` 1
/// map. A header that `http` 1 refuses is left out, logged at `debug`.
pub(crate) fn request_headers(wanted: RequestHeaders, from: &actix::HeaderMap) -> HeaderMap {
    match wanted {
        RequestHeaders::Only(names) => {
            let mut headers = HeaderMap::new();
            for name in names {
                for value in from.get_all(name.as_str()) {
                    push(&mut headers, name.clone(), value.as_bytes());
                }
            }
            headers
        }
        _ => {
            let mut headers = HeaderMap::with_capacity(from.len());
            for (name, value) in from {
                match HeaderName::from_bytes(name.as_str().as_bytes()) {
                    Ok(name) => push(&mut headers, name, value.as_bytes()),
                    Err(_) => tracing::debug!("left out a request header http 1 refuses"),
                }
            }
            headers
        }
    }
}

fn push(headers: &mut HeaderMap, name: HeaderName, value: &[u8]) {
    match HeaderValue::from_bytes(value) {
        Ok(value) => {
            headers.append(name, value);
        }
        Err(_) => tracing::debug!(header = %name, "left out a request header value http 1 refuses"),
    }
}

/// An actix-web response's header map, as [`session_core::adapter::Commit::apply_to`] writes to it.
pub(crate) struct ActixHeaders<'a>(pub(crate) &'a mut actix::HeaderMap);

impl ActixHeaders<'_> {
    fn convert(
        name: &HeaderName,
        value: &HeaderValue,
    ) -> Option<(actix::HeaderName, actix::HeaderValue)> {
        let converted = actix::HeaderName::from_bytes(name.as_str().as_bytes())
            .ok()
            .zip(actix::HeaderValue::from_bytes(value.as_bytes()).ok());
        if converted.is_none() {
            // Both sides validate the same grammar, so this does not happen; never panic if it did.
            tracing::error!(header = %name, "a session header could not be converted for actix-web");
        }
        converted.map(|(name, mut converted)| {
            converted.set_sensitive(value.is_sensitive());
            (name, converted)
        })
    }
}

impl ResponseHeaders for ActixHeaders<'_> {
    fn each_value(&self, name: &HeaderName, visit: &mut dyn FnMut(&[u8])) {
        for value in self.0.get_all(name.as_str()) {
            visit(value.as_bytes());
        }
    }

    fn append(&mut self, name: HeaderName, value: HeaderValue) {
        if let Some((name, value)) = Self::convert(&name, &value) {
            self.0.append(name, value);
        }
    }

    fn insert(&mut self, name: HeaderName, value: HeaderValue) {
        if let Some((name, value)) = Self::convert(&name, &value) {
            self.0.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE, USER_AGENT};

    fn actix_map(pairs: &[(&'static str, &'static str)]) -> actix::HeaderMap {
        let mut map = actix::HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                actix::HeaderName::from_static(name),
                actix::HeaderValue::from_static(value),
            );
        }
        map
    }

    #[test]
    fn only_the_headers_the_state_reads_are_copied() {
        let from = actix_map(&[("cookie", "a=1"), ("user-agent", "x"), ("cookie", "b=2")]);
        let copied = request_headers(RequestHeaders::COOKIE, &from);
        assert_eq!(copied.len(), 2);
        let cookies: Vec<_> = copied.get_all(COOKIE).iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert!(request_headers(RequestHeaders::NONE, &from).is_empty());

        let all = request_headers(RequestHeaders::All, &from);
        assert_eq!(all.len(), 3);
        assert_eq!(all[USER_AGENT], "x");
    }

    #[test]
    fn non_ascii_values_cross_as_bytes() {
        let mut from = actix::HeaderMap::new();
        from.append(
            actix::COOKIE,
            actix::HeaderValue::from_bytes(b"id=\xc3\xa9t\xc3\xa9").expect("obs-text is allowed"),
        );
        let copied = request_headers(RequestHeaders::COOKIE, &from);
        assert_eq!(copied[COOKIE].as_bytes(), b"id=\xc3\xa9t\xc3\xa9");
    }

    #[test]
    fn response_headers_keep_values_and_sensitivity() {
        let mut map = actix_map(&[("cache-control", "public")]);
        let mut target = ActixHeaders(&mut map);
        let mut cookie = HeaderValue::from_static("id=abc; Path=/");
        cookie.set_sensitive(true);
        target.append(SET_COOKIE, cookie);
        target.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        let mut seen = Vec::new();
        target.each_value(&SET_COOKIE, &mut |v| seen.push(v.to_vec()));
        assert_eq!(seen, [b"id=abc; Path=/".to_vec()]);
        assert_eq!(map.get("cache-control").expect("set"), "no-store");
        assert!(map.get("set-cookie").expect("set").is_sensitive());
    }
}
