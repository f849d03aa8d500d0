//! For state authors: the [`State`] trait (how the session id travels between client and
//! server), the [`RequestView`] it reads, the [`Candidates`] it finds, the [`Delivery`] it writes,
//! and the id schemes that generate and validate ids.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use http::HeaderMap;
use http::header::{COOKIE, HeaderName};

pub use crate::id::{DefaultIds, FnIds, HexIds, IdScheme};

use crate::id::Id;

/// The parts of a request a [`State`] may read: its headers and its query string.
///
/// Adapters build one from the request they hold without copying it. Its `Debug` output shows
/// no header values (they carry session ids).
#[derive(Clone, Copy)]
pub struct RequestView<'a> {
    headers: &'a HeaderMap,
    query: Option<&'a str>,
}

impl<'a> RequestView<'a> {
    /// A view of a request's headers and raw query string (without the `?`).
    pub fn new(headers: &'a HeaderMap, query: Option<&'a str>) -> Self {
        RequestView { headers, query }
    }

    /// The request headers.
    pub fn headers(&self) -> &'a HeaderMap {
        self.headers
    }

    /// The raw query string, without the leading `?`.
    pub fn query(&self) -> Option<&'a str> {
        self.query
    }
}

/// The candidate ids a [`State`] found in a request, in the order to try them, and the
/// [`Form`] the request carried them in.
///
/// Holds the first candidate inline, so the common case of one id allocates nothing here. Its
/// `Debug` output shows only how many there are.
#[derive(Clone, Default)]
pub struct Candidates<'a> {
    first: Option<Cow<'a, str>>,
    rest: Vec<Cow<'a, str>>,
    form: Form,
}

/// Which of a [`State`]'s ways of carrying the id a request used, for a State with more than one
/// (the id in a header, else in a cookie: [`HeaderOr`](crate::HeaderOr)).
///
/// The State marks it in [`extract`](State::extract) ([`Candidates::set_form`]) and the engine
/// hands it back in the same request's [`Delivery`], so the answer goes out in the form the request
/// came in. What a number means is the State's own business; a request the State did not mark
/// has the default, `Form(0)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Form(pub u8);

impl<'a> Candidates<'a> {
    /// No candidates.
    pub fn new() -> Self {
        Candidates::default()
    }

    /// Adds a candidate.
    pub fn push(&mut self, candidate: impl Into<Cow<'a, str>>) {
        if self.first.is_none() {
            self.first = Some(candidate.into());
        } else {
            self.rest.push(candidate.into());
        }
    }

    /// The candidates, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.first.iter().chain(self.rest.iter()).map(|c| &**c)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// Marks the form the request carried its id in (with or without candidates: a client that
    /// sends the header empty asks for its id in the header).
    pub fn set_form(&mut self, form: Form) {
        self.form = form;
    }

    /// The form the request carried its id in ([`Form::default`] unless the State marked one).
    pub fn form(&self) -> Form {
        self.form
    }
}

impl fmt::Debug for RequestView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestView")
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("query", &self.query.map(str::len))
            .finish()
    }
}

impl fmt::Debug for Candidates<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Candidates({})", self.iter().count())
    }
}

/// What the engine asks a [`State`] to deliver with a response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// For a persistent session, how long the client should keep the id (a cookie's `Max-Age`);
    /// `None` for a browser-session cookie.
    pub max_age: Option<Duration>,
    /// For a persistent session, when the id expires (a cookie's `Expires`, for old clients).
    pub expires: Option<SystemTime>,
    /// This response's own cookie attributes, set by the handler with
    /// [`Session::set_cookie_options`](crate::Session::set_cookie_options): the State merges them
    /// over its defaults, or ignores them if it writes no cookie.
    pub options: Option<CookieOptions>,
    /// The form the request carried its id in, as the State marked it in
    /// [`extract`](State::extract): a State with more than one answers in the same one.
    pub form: Form,
}

/// One response's own cookie attributes (Plack's per-request `path`, `domain` and `partitioned`
/// options), merged by the State over its defaults; see
/// [`Session::set_cookie_options`](crate::Session::set_cookie_options).
///
/// The State enforces its rules on the merged result. `Partitioned` brings `Secure`, and never
/// weakens a configured `SameSite`: when the State's `SameSite` was not configured, a partitioned
/// cookie gets `SameSite=None` (an unpartitioned one `Lax`); when it was configured, a request's
/// `partitioned(true)` over anything but `SameSite=None` is refused (logged), and the cookie goes
/// out without `Partitioned`, unless the State is configured partitioned too (both then go out as
/// configured). A `__Host-` cookie keeps `Path=/` and no `Domain` whatever is asked
/// (the prefix's rules win). A value that is not a valid path or domain is ignored (and logged):
/// the default is used instead, never a broken header.
///
/// How long the cookie lives is not an option here: a persistent ("remember me") cookie is a
/// session lifetime ([`Session::set_lifetime`](crate::Session::set_lifetime)), kept with the
/// session so that the store keeps it exactly as long as the cookie.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CookieOptions {
    /// The `Path` for this response's cookie.
    pub path: Option<String>,
    /// The `Domain` for this response's cookie.
    pub domain: Option<String>,
    /// Whether this response's cookie is `Partitioned` (CHIPS).
    pub partitioned: Option<bool>,
}

impl CookieOptions {
    /// No options: the State's defaults.
    pub fn new() -> Self {
        CookieOptions::default()
    }

    /// Sets the cookie's `Path`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets the cookie's `Domain`.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Makes the cookie `Partitioned` or not.
    pub fn partitioned(mut self, partitioned: bool) -> Self {
        self.partitioned = Some(partitioned);
        self
    }
}

/// How the session id travels: read from each request, written to responses that need it.
///
/// A State only moves ids: validation happens in core (every candidate passes the configured
/// [`IdScheme`] before any store sees it), and the store is never its concern.
pub trait State: Send + Sync + fmt::Debug + 'static {
    /// Finds the candidate ids in a request.
    ///
    /// Return every plausible one (for instance each cookie with the session's name); the engine
    /// adopts the first that names a live session.
    fn extract<'a>(&self, request: &RequestView<'a>) -> Candidates<'a>;

    /// Writes `id` to the response headers (a `Set-Cookie`, say).
    ///
    /// Called when a session is created, its id changes, or its data or expiry changed.
    fn finalize(&self, id: &Id, delivery: &Delivery, headers: &mut HeaderMap);

    /// Tells the client to forget its id (a removal cookie, say). Called when a session is expired.
    fn expire(&self, headers: &mut HeaderMap);

    /// [`expire`](State::expire) for a response whose handler set its own cookie options
    /// (`delivery.options`): a removal must carry the path and domain of the cookie it removes.
    /// The default ignores them and calls `expire`.
    fn expire_with(&self, delivery: &Delivery, headers: &mut HeaderMap) {
        let _ = delivery;
        self.expire(headers);
    }

    /// The request header the id travels in, named in `Vary` on every response that used the
    /// session (default: `Cookie`). States whose id is in the URL return `None`.
    fn vary(&self) -> Option<HeaderName> {
        Some(COOKIE)
    }

    /// A second request header the id may travel in, also named in `Vary` (a State that reads
    /// the id from a header, else from a cookie, names both). Default: none.
    fn vary_also(&self) -> Option<HeaderName> {
        None
    }

    /// Which request headers [`extract`](State::extract) reads.
    ///
    /// Adapters for frameworks built on another version of the `http` crate (actix-web) copy only
    /// these into the [`RequestView`]. The default, [`RequestHeaders::All`], is always correct;
    /// naming the headers makes such adapters faster.
    fn request_headers(&self) -> RequestHeaders {
        RequestHeaders::All
    }
}

/// The request headers a [`State`] reads: what [`State::request_headers`] answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestHeaders {
    /// Any header may be read.
    All,
    /// Only these headers are read (none, for a State that reads only the query string).
    Only(&'static [HeaderName]),
}

impl RequestHeaders {
    /// Only the `Cookie` header.
    pub const COOKIE: RequestHeaders = RequestHeaders::Only(&[COOKIE]);
    /// No header at all.
    pub const NONE: RequestHeaders = RequestHeaders::Only(&[]);
}

/// `Arc<dyn State>` and `Box<dyn State>` are States too, for states chosen at run time.
macro_rules! forward_state {
    ($($wrapper:ty),*) => {$(
        impl<S: State + ?Sized> State for $wrapper {
            fn extract<'a>(&self, request: &RequestView<'a>) -> Candidates<'a> {
                (**self).extract(request)
            }
            fn finalize(&self, id: &Id, delivery: &Delivery, headers: &mut HeaderMap) {
                (**self).finalize(id, delivery, headers)
            }
            fn expire(&self, headers: &mut HeaderMap) {
                (**self).expire(headers)
            }
            fn expire_with(&self, delivery: &Delivery, headers: &mut HeaderMap) {
                (**self).expire_with(delivery, headers)
            }
            fn vary(&self) -> Option<HeaderName> {
                (**self).vary()
            }
            fn vary_also(&self) -> Option<HeaderName> {
                (**self).vary_also()
            }
            fn request_headers(&self) -> RequestHeaders {
                (**self).request_headers()
            }
        }
    )*};
}

forward_state!(std::sync::Arc<S>, Box<S>);
