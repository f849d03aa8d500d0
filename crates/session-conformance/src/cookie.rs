//! [`CookieCarrier`]: the client side of any State that carries the id in a cookie.

use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue};
use session_core::Commit;

use crate::{Carrier, Delivered, RequestParts};

/// The client side of a cookie State: sends `Cookie: NAME=ID` and reads the `Set-Cookie` named
/// `NAME` from a commit.
///
/// Generic over the cookie name only, so it depends on no cookie State crate. A `Set-Cookie`
/// for the name counts as a removal when its value is empty, its `Max-Age` is zero or negative,
/// or (without `Max-Age`) its `Expires` is an IMF-fixdate (`Thu, 01 Jan 1970 00:00:00 GMT`) not
/// in the future; otherwise it delivers its value (unquoted). When several name the cookie, the
/// last wins.
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

    /// What one `Set-Cookie` value says about the id, or `None` if it names another cookie.
    pub fn read(&self, set_cookie: &str) -> Option<Delivered> {
        let mut parts = set_cookie.split(';');
        let (name, value) = parts.next()?.split_once('=')?;
        if name.trim() != self.name {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        let (mut max_age, mut expired) = (None, false);
        for attribute in parts {
            let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
            let (key, val) = (key.trim(), val.trim());
            if key.eq_ignore_ascii_case("max-age") {
                max_age = val.parse::<i64>().ok();
            } else if key.eq_ignore_ascii_case("expires") {
                expired = http_date_secs(val).is_some_and(|at| at <= now_secs());
            }
        }
        let removed = value.is_empty() || max_age.map_or(expired, |secs| secs <= 0);
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

fn now_secs() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// Seconds since the epoch of an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date_secs(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut fields = text.split_whitespace().skip(1);
    let day: i64 = fields.next()?.parse().ok()?;
    let month = fields.next()?;
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))?;
    let year: i64 = fields.next()?.parse().ok()?;
    let mut clock = fields
        .next()?
        .split(':')
        .map(|part| part.parse::<i64>().ok());
    let (hours, minutes, seconds) = (clock.next()??, clock.next()??, clock.next()??);
    let month = i64::try_from(month).ok()? + 1;
    Some(days_from_civil(year, month, day) * 86_400 + hours * 3_600 + minutes * 60 + seconds)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse() {
        assert_eq!(http_date_secs("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            http_date_secs("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            http_date_secs("Tue, 29 Feb 2000 12:00:00 GMT"),
            Some(951_825_600)
        );
        assert_eq!(http_date_secs("yesterday"), None);
    }

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
