//! [`Reply`]: a response read whole, and [`SetCookie`]: one parsed `Set-Cookie` header.

use http::header::{CACHE_CONTROL, HeaderName, SET_COOKIE, VARY};
use http::{HeaderMap, StatusCode};

/// A response, its body read to the end.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, as text (lossily decoded).
    pub body: String,
    cookie_name: Option<String>,
    /// The header the id travels in, for `--state header` (instead of a cookie).
    id_header: Option<HeaderName>,
}

impl Reply {
    /// Reads `response` whole; `cookie_name` is the session cookie's name, if the id travels in a
    /// cookie.
    pub async fn read(response: reqwest::Response, cookie_name: Option<&str>) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("the whole body");
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            cookie_name: cookie_name.map(str::to_owned),
            id_header: None,
        }
    }

    /// The same reply, read as from a server that sends the id in the header `name` (and no
    /// cookie).
    pub fn with_id_header(mut self, name: Option<HeaderName>) -> Self {
        if name.is_some() {
            self.cookie_name = None;
        }
        self.id_header = name;
        self
    }

    /// The values of the id header, for `--state header` (none for another transport).
    fn id_header_values(&self) -> Vec<&str> {
        let Some(name) = &self.id_header else {
            return Vec::new();
        };
        self.headers
            .get_all(name)
            .iter()
            .map(|value| value.to_str().expect("the id header is visible ASCII"))
            .collect()
    }

    /// Whether the response tells the client anything about its id: a `Set-Cookie`, or for
    /// `--state header` the id header (an id, or empty for a logout).
    pub fn sends_id(&self) -> bool {
        match &self.id_header {
            Some(name) => self.headers.contains_key(name),
            None => self.has_set_cookie(),
        }
    }

    /// Whether the response tells the client to forget its id: a removal cookie, or for
    /// `--state header` the id header sent empty.
    pub fn removes_id(&self) -> bool {
        if self.id_header.is_some() {
            return self.id_header_values() == [""];
        }
        self.session_cookie().is_some_and(|c| c.is_removal())
    }

    /// Whether `Vary` lists the header the id travels in (`Cookie`, or the id header).
    pub fn varies_on_id(&self) -> bool {
        match &self.id_header {
            Some(name) => self.varies_on(name.as_str()),
            None => self.varies_on_cookie(),
        }
    }

    /// Every `Set-Cookie` header, parsed (a header that does not parse is a test failure).
    pub fn set_cookies(&self) -> Vec<SetCookie> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|value| {
                let text = value.to_str().expect("Set-Cookie is ASCII");
                SetCookie::parse(text).unwrap_or_else(|| panic!("unparsable Set-Cookie {text:?}"))
            })
            .collect()
    }

    /// The `Set-Cookie` for the session cookie, if there is one; more than one is a test failure.
    pub fn session_cookie(&self) -> Option<SetCookie> {
        let name = self.cookie_name.as_deref()?;
        let mut found: Vec<SetCookie> = self
            .set_cookies()
            .into_iter()
            .filter(|c| c.name == name)
            .collect();
        assert!(
            found.len() <= 1,
            "several Set-Cookie headers for the session cookie: {found:?}"
        );
        found.pop()
    }

    /// The id the response gives the client: the value of a session `Set-Cookie` that is not a
    /// removal. `None` when the response sets no id.
    pub fn new_id(&self) -> Option<String> {
        if self.id_header.is_some() {
            let values = self.id_header_values();
            assert!(values.len() <= 1, "several id headers: {values:?}");
            return values
                .first()
                .filter(|value| !value.is_empty())
                .map(|value| (*value).to_owned());
        }
        self.session_cookie()
            .filter(|cookie| !cookie.is_removal())
            .map(|cookie| cookie.value)
    }

    /// The id the response gives the client; a test failure if it gives none.
    pub fn expect_new_id(&self) -> String {
        self.new_id().unwrap_or_else(|| {
            panic!(
                "expected a session Set-Cookie; got {} with headers {:?}",
                self.status, self.headers
            )
        })
    }

    /// Whether the response has any `Set-Cookie` header.
    pub fn has_set_cookie(&self) -> bool {
        self.headers.contains_key(SET_COOKIE)
    }

    /// Whether a `Vary` header lists `Cookie`.
    pub fn varies_on_cookie(&self) -> bool {
        self.varies_on("cookie")
    }

    /// Whether a `Vary` header lists the header `name`.
    pub fn varies_on(&self, name: &str) -> bool {
        self.lists(&VARY, name)
    }

    /// Whether a `Cache-Control` header says `no-store`.
    pub fn is_no_store(&self) -> bool {
        self.lists(&CACHE_CONTROL, "no-store")
    }

    /// Whether some value of the list header `header` has the item `item` (case-insensitive).
    fn lists(&self, header: &HeaderName, item: &str) -> bool {
        self.headers.get_all(header).iter().any(|value| {
            value.to_str().is_ok_and(|text| {
                text.split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(item))
            })
        })
    }

    /// Asserts a 2xx status, showing the response otherwise.
    pub fn assert_ok(&self) -> &Self {
        assert!(
            self.status.is_success(),
            "expected 2xx, got {}: {:?} {:?}",
            self.status,
            self.headers,
            self.body
        );
        self
    }
}

/// One `Set-Cookie` header: name, value and attributes in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetCookie {
    /// The cookie name.
    pub name: String,
    /// The cookie value (not unquoted).
    pub value: String,
    /// The attributes in order: name as sent, value if it had one.
    pub attributes: Vec<(String, Option<String>)>,
}

impl SetCookie {
    /// Parses `NAME=VALUE; Attr; Attr=Value...`; `None` without a `NAME=` pair.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split(';');
        let (name, value) = parts.next()?.split_once('=')?;
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        let attributes = parts
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| match part.split_once('=') {
                Some((k, v)) => (k.trim().to_owned(), Some(v.trim().to_owned())),
                None => (part.to_owned(), None),
            })
            .collect();
        Some(SetCookie {
            name: name.to_owned(),
            value: value.trim().to_owned(),
            attributes,
        })
    }

    /// The attribute `name` (case-insensitive): `Some(None)` for a flag, `Some(Some(v))` for a
    /// value, `None` if absent.
    pub fn attribute(&self, name: &str) -> Option<Option<&str>> {
        self.attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// Whether the attribute `name` is present (case-insensitive).
    pub fn has(&self, name: &str) -> bool {
        self.attribute(name).is_some()
    }

    /// The attributes that must match between a live cookie and its removal (`Path`, `Domain`,
    /// `Secure`, `HttpOnly`, `SameSite`, `Partitioned`), lowercased names and values, sorted.
    pub fn scope(&self) -> Vec<(String, Option<String>)> {
        const SCOPE: [&str; 6] = [
            "path",
            "domain",
            "secure",
            "httponly",
            "samesite",
            "partitioned",
        ];
        let mut scope: Vec<_> = self
            .attributes
            .iter()
            .filter(|(k, _)| SCOPE.contains(&k.to_ascii_lowercase().as_str()))
            .map(|(k, v)| {
                (
                    k.to_ascii_lowercase(),
                    v.as_ref().map(|v| v.to_ascii_lowercase()),
                )
            })
            .collect();
        scope.sort();
        scope
    }

    /// Whether this tells the browser to drop the cookie: `Max-Age` zero or negative, or an
    /// `Expires` in 1970.
    pub fn is_removal(&self) -> bool {
        let max_age_gone = self
            .attribute("max-age")
            .flatten()
            .and_then(|v| v.parse::<i64>().ok())
            .is_some_and(|secs| secs <= 0);
        let expired = self
            .attribute("expires")
            .flatten()
            .is_some_and(|date| date.contains("1970"));
        max_age_gone || expired
    }
}
