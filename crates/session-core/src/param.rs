//! [`ParamState`]: the session id in a query parameter (Plack's base State).

use http::HeaderMap;
use http::header::HeaderName;

use crate::error::Error;
use crate::id::Id;
use crate::state::{Candidates, Delivery, RequestHeaders, RequestView, State};

/// Carries the session id in a query parameter (`?plack_session=ID`) and writes nothing to the
/// response: the application passes the id along itself, in the links it renders.
///
/// # Security
///
/// An id in a URL leaks through `Referer` headers, browser history, proxy and server logs, and
/// makes session fixation easy (an attacker sends a victim a link with the attacker's id). Prefer a
/// cookie; if you must use this, call [`Session::cycle_id`](crate::Session::cycle_id) at every
/// login, keep idle timeouts short, and serve over HTTPS only.
///
/// Every parameter with the configured name is a candidate, in order. Values are compared as they
/// appear in the query string: valid ids never need percent-decoding, and an encoded one is
/// rejected like any other malformed id.
///
/// ```
/// use http::HeaderMap;
/// use session_core::ParamState;
/// use session_core::state::{RequestView, State};
///
/// let state = ParamState::new("sid").unwrap();
/// let headers = HeaderMap::new();
/// let found = state.extract(&RequestView::new(&headers, Some("a=1&sid=abc&sid=def")));
/// assert_eq!(found.iter().collect::<Vec<_>>(), ["abc", "def"]);
/// ```
#[derive(Clone, Debug)]
pub struct ParamState {
    name: Box<str>,
}

impl ParamState {
    /// The default query parameter name, as in Plack: `plack_session`.
    pub const DEFAULT_NAME: &str = "plack_session";

    /// Carries the id in the parameter `name`: 1 to 64 characters of ASCII letters, digits, `-`,
    /// `_` and `.`.
    pub fn new(name: &str) -> Result<Self, Error> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
        if !valid {
            return Err(Error::Config(
                "a query parameter name must be 1 to 64 ASCII letters, digits, '-', '_' or '.'",
            ));
        }
        Ok(ParamState { name: name.into() })
    }

    /// The parameter name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Default for ParamState {
    /// The parameter `plack_session`.
    fn default() -> Self {
        ParamState {
            name: Self::DEFAULT_NAME.into(),
        }
    }
}

impl State for ParamState {
    fn extract<'a>(&self, request: &RequestView<'a>) -> Candidates<'a> {
        let mut found = Candidates::new();
        for pair in request.query().unwrap_or_default().split('&') {
            if let Some((name, value)) = pair.split_once('=')
                && name == &*self.name
            {
                found.push(value);
            }
        }
        found
    }

    fn finalize(&self, _id: &Id, _delivery: &Delivery, _headers: &mut HeaderMap) {}

    fn expire(&self, _headers: &mut HeaderMap) {}

    fn vary(&self) -> Option<HeaderName> {
        None
    }

    fn request_headers(&self) -> RequestHeaders {
        RequestHeaders::NONE
    }
}
