//! A minimal cookie State for the scenarios (the real one lives in `session-state-cookie`).

use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue};
use session_core::Id;
use session_core::state::{Candidates, Delivery, RequestView, State};

/// The cookie's name.
pub(crate) const NAME: &str = "sid";

/// `Cookie: sid=ID` in (every `sid` cookie is a candidate), `Set-Cookie: sid=ID; Path=/` out, and
/// a removal that only empties the value and sets an `Expires` in the past.
#[derive(Debug)]
pub(crate) struct TestCookie;

impl State for TestCookie {
    fn extract<'a>(&self, request: &RequestView<'a>) -> Candidates<'a> {
        let mut found = Candidates::new();
        for header in request.headers().get_all(COOKIE) {
            let Ok(header) = header.to_str() else {
                continue;
            };
            for pair in header.split(';') {
                if let Some((name, value)) = pair.trim().split_once('=')
                    && name == NAME
                {
                    found.push(value);
                }
            }
        }
        found
    }

    fn finalize(&self, id: &Id, _delivery: &Delivery, headers: &mut HeaderMap) {
        let value = format!("{NAME}={}; Path=/; HttpOnly", id.as_str());
        headers.append(
            SET_COOKIE,
            HeaderValue::from_str(&value).expect("header-safe id"),
        );
    }

    fn expire(&self, headers: &mut HeaderMap) {
        let value = format!("{NAME}=x; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
        headers.append(
            SET_COOKIE,
            HeaderValue::from_str(&value).expect("static header"),
        );
    }
}
