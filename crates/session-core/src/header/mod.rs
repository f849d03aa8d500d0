//! [`HeaderState`]: the session id in a request header and a response header, for clients that
//! are not browsers; [`HeaderOr`]: that header when a request carries it, another State otherwise.

use http::header::{ACCESS_CONTROL_EXPOSE_HEADERS, COOKIE, HeaderName, HeaderValue};
use http::{HeaderMap, header};

use crate::error::Error;
use crate::id::Id;
use crate::state::{Candidates, Delivery, Form, RequestHeaders, RequestView, State};

/// The default header, `x-session-id`, as the one header a default [`HeaderState`] reads.
static DEFAULT_HEADER: [HeaderName; 1] = [HeaderName::from_static(HeaderState::DEFAULT_NAME)];

/// The default header, then `Cookie`: what a default [`HeaderOr`] over a cookie State reads.
static DEFAULT_HEADER_AND_COOKIE: [HeaderName; 2] =
    [HeaderName::from_static(HeaderState::DEFAULT_NAME), COOKIE];

/// Carries the session id in a request header and returns it in a response header of the same
/// name (`x-session-id` unless configured), for clients that keep no cookies: mobile apps,
/// command-line tools, API consumers.
///
/// - **Request**: every value of the header is a candidate id, validated by the engine like any
///   other (a malformed one means no session, never an error).
/// - **Response**: when the session is created, its id changes, or it is written, the response
///   carries the id in the header, and names the header in `Access-Control-Expose-Headers` so
///   that a browser script calling the API cross-origin may read it (a CORS layer must still
///   allow the request header itself, and one that sets `Access-Control-Expose-Headers` itself
///   should list the session header too). A logout answers the header with an empty value: the
///   client forgets its id.
/// - **Caching**: responses that used the session say `Vary: x-session-id` (not `Cookie`), and
///   those that send or remove the id `Cache-Control: no-store`, as with a cookie.
///
/// The client stores the id and sends it back; nothing sends it for the client, so an id in a
/// header cannot be ridden by a cross-site request the way a cookie can (no CSRF), but the client
/// must keep it as carefully as a password.
///
/// ```
/// use http::{HeaderMap, HeaderValue};
/// use session_core::HeaderState;
/// use session_core::state::{RequestView, State};
///
/// let state = HeaderState::default();
/// let mut headers = HeaderMap::new();
/// headers.insert("x-session-id", HeaderValue::from_static("an-id"));
/// let found = state.extract(&RequestView::new(&headers, None));
/// assert_eq!(found.iter().collect::<Vec<_>>(), ["an-id"]);
/// assert_eq!(state.vary().unwrap(), "x-session-id");
/// ```
#[derive(Clone, Debug)]
pub struct HeaderState {
    name: HeaderName,
}

impl HeaderState {
    /// The default header name: `x-session-id`.
    pub const DEFAULT_NAME: &str = "x-session-id";

    /// Carries the id in the header `name` (any case; headers are case-insensitive).
    ///
    /// Refuses what is not a header name, the headers HTTP itself, proxies, CORS or the cookie
    /// machinery own (a proxy would strip a hop-by-hop one on the way): `cookie`, `set-cookie`,
    /// `authorization`, `proxy-authorization`, `proxy-authenticate`, `host`, `origin`,
    /// `location`, `content-length`, `content-type`, `transfer-encoding`, `te`, `trailer`,
    /// `upgrade`, `connection`, `keep-alive`, `proxy-connection`, `vary`, `cache-control`, and
    /// every `access-control-*` header.
    pub fn new(name: &str) -> Result<Self, Error> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::Config("a session header name must be a valid HTTP header name"))?;
        let reserved = [
            header::COOKIE,
            header::SET_COOKIE,
            header::AUTHORIZATION,
            header::PROXY_AUTHORIZATION,
            header::PROXY_AUTHENTICATE,
            header::HOST,
            header::ORIGIN,
            header::LOCATION,
            header::CONTENT_LENGTH,
            header::CONTENT_TYPE,
            header::TRANSFER_ENCODING,
            header::TE,
            header::TRAILER,
            header::UPGRADE,
            header::CONNECTION,
            header::VARY,
            header::CACHE_CONTROL,
        ];
        let hop_by_hop = ["keep-alive", "proxy-connection"];
        if reserved.contains(&name)
            || hop_by_hop.contains(&name.as_str())
            || name.as_str().starts_with("access-control-")
        {
            return Err(Error::Config(
                "the session header cannot be one HTTP or cookies already use",
            ));
        }
        Ok(HeaderState { name })
    }

    /// The header's name (lowercase).
    pub fn name(&self) -> &HeaderName {
        &self.name
    }

    /// Whether the request carries the header at all (even empty).
    fn is_in(&self, request: &RequestView<'_>) -> bool {
        request.headers().contains_key(&self.name)
    }

    /// Appends the header with `value`, and names it in `Access-Control-Expose-Headers`.
    fn answer(&self, value: HeaderValue, headers: &mut HeaderMap) {
        headers.append(self.name.clone(), value);
        headers.append(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_name(self.name.clone()),
        );
    }

    fn is_default(&self) -> bool {
        self.name == DEFAULT_HEADER[0]
    }
}

impl Default for HeaderState {
    /// The header `x-session-id`.
    fn default() -> Self {
        HeaderState {
            name: DEFAULT_HEADER[0].clone(),
        }
    }
}

impl State for HeaderState {
    fn extract<'a>(&self, request: &RequestView<'a>) -> Candidates<'a> {
        let mut found = Candidates::new();
        for value in request.headers().get_all(&self.name) {
            // Ids are visible ASCII: anything else is no id (and is never logged).
            match value.to_str() {
                Ok(text) if !text.is_empty() => found.push(text),
                Ok(_) => {}
                Err(_) => tracing::debug!(
                    len = value.len(),
                    "skipping a session header that is not visible ASCII"
                ),
            }
        }
        found
    }

    fn finalize(&self, id: &Id, _delivery: &Delivery, headers: &mut HeaderMap) {
        // The engine only issues ids that can travel in a header.
        match HeaderValue::from_str(id.as_str()) {
            Ok(mut value) => {
                value.set_sensitive(true);
                self.answer(value, headers);
            }
            Err(_) => tracing::error!("a session id that cannot travel in a header was not sent"),
        }
    }

    fn expire(&self, headers: &mut HeaderMap) {
        self.answer(HeaderValue::from_static(""), headers);
    }

    fn vary(&self) -> Option<HeaderName> {
        Some(self.name.clone())
    }

    fn request_headers(&self) -> RequestHeaders {
        if self.is_default() {
            RequestHeaders::Only(&DEFAULT_HEADER)
        } else {
            // A custom name is not `'static`; every header is then the correct answer.
            RequestHeaders::All
        }
    }
}

/// The id in a [`HeaderState`]'s header when a request carries that header, otherwise where
/// `fallback` finds it (a cookie, say); the response answers in the form the request used.
///
/// For applications that serve browsers and API clients alike. A request that carries the header
/// (even empty, which is how a new API client asks for a session) is served in the header alone:
/// the fallback's candidates are not read, and the id goes back in the header. Any other request
/// is the fallback's. `Vary` names both.
///
/// ```
/// use http::{HeaderMap, HeaderValue};
/// use session_core::{HeaderOr, HeaderState, ParamState};
/// use session_core::state::{RequestView, State};
///
/// let state = HeaderOr::new(HeaderState::default(), ParamState::default());
/// let mut headers = HeaderMap::new();
/// let query = Some("plack_session=from-the-query");
/// let found = state.extract(&RequestView::new(&headers, query));
/// assert_eq!(found.iter().collect::<Vec<_>>(), ["from-the-query"]);
///
/// headers.insert("x-session-id", HeaderValue::from_static("from-the-header"));
/// let found = state.extract(&RequestView::new(&headers, query));
/// assert_eq!(found.iter().collect::<Vec<_>>(), ["from-the-header"]);
/// assert_eq!(found.form(), HeaderOr::<ParamState>::HEADER);
/// ```
#[derive(Clone, Debug)]
pub struct HeaderOr<S> {
    header: HeaderState,
    fallback: S,
}

impl<S: State> HeaderOr<S> {
    /// The [`Form`] of a request served in the header. The fallback's own forms pass through
    /// unchanged, so a fallback must not use this one.
    pub const HEADER: Form = Form(u8::MAX);

    /// `header` when the request carries it, `fallback` otherwise.
    pub fn new(header: HeaderState, fallback: S) -> Self {
        HeaderOr { header, fallback }
    }

    /// The header State.
    pub fn header(&self) -> &HeaderState {
        &self.header
    }

    /// The State of requests without the header.
    pub fn fallback(&self) -> &S {
        &self.fallback
    }
}

impl<S: State> State for HeaderOr<S> {
    fn extract<'a>(&self, request: &RequestView<'a>) -> Candidates<'a> {
        if !self.header.is_in(request) {
            return self.fallback.extract(request);
        }
        let mut found = self.header.extract(request);
        found.set_form(Self::HEADER);
        found
    }

    fn finalize(&self, id: &Id, delivery: &Delivery, headers: &mut HeaderMap) {
        if delivery.form == Self::HEADER {
            self.header.finalize(id, delivery, headers);
        } else {
            self.fallback.finalize(id, delivery, headers);
        }
    }

    /// The fallback's removal: without a [`Delivery`], the request's form is unknown. The engine
    /// calls [`expire_with`](State::expire_with), which answers in the request's form.
    fn expire(&self, headers: &mut HeaderMap) {
        self.fallback.expire(headers);
    }

    fn expire_with(&self, delivery: &Delivery, headers: &mut HeaderMap) {
        if delivery.form == Self::HEADER {
            self.header.expire(headers);
        } else {
            self.fallback.expire_with(delivery, headers);
        }
    }

    fn vary(&self) -> Option<HeaderName> {
        self.header.vary()
    }

    fn vary_also(&self) -> Option<HeaderName> {
        self.fallback.vary()
    }

    fn request_headers(&self) -> RequestHeaders {
        if !self.header.is_default() {
            return RequestHeaders::All;
        }
        match self.fallback.request_headers() {
            RequestHeaders::Only([]) => RequestHeaders::Only(&DEFAULT_HEADER),
            RequestHeaders::Only([only]) if *only == COOKIE => {
                RequestHeaders::Only(&DEFAULT_HEADER_AND_COOKIE)
            }
            _ => RequestHeaders::All,
        }
    }
}

#[cfg(test)]
mod tests;
