//! Checks for the cookie name, path and domain: the `cookie` crate formats whatever it is given.

/// Longest accepted cookie name: name and id must stay far below the 4096 bytes browsers keep.
const MAX_NAME_LEN: usize = 256;
/// Browsers ignore `Path` and `Domain` values longer than this (RFC 6265bis).
const MAX_ATTRIBUTE_LEN: usize = 1024;

pub(crate) const HOST_PREFIX: &str = "__Host-";
pub(crate) const SECURE_PREFIX: &str = "__Secure-";

/// The cookie prefix `name` starts with, matched case-insensitively as browsers do.
pub(crate) fn name_prefix(name: &str) -> Option<&'static str> {
    let starts = |prefix: &str| {
        name.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    [HOST_PREFIX, SECURE_PREFIX]
        .into_iter()
        .find(|prefix| starts(prefix))
}

/// An RFC 6265 cookie-name: an RFC 9110 token.
pub(crate) fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
}

/// Starts with `/`; visible ASCII except `;`.
pub(crate) fn is_valid_path(path: &str) -> bool {
    path.starts_with('/')
        && path.len() <= MAX_ATTRIBUTE_LEN
        && path.bytes().all(|c| c.is_ascii_graphic() && c != b';')
}

/// A host name or IPv4 address, with an optional leading dot (which browsers ignore).
pub(crate) fn is_valid_domain(domain: &str) -> bool {
    let host = domain.strip_prefix('.').unwrap_or(domain);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_tokens() {
        for good in ["id", "sid", "__Host-id", "a.b-c_d!#$%&'*+^`|~"] {
            assert!(is_valid_name(good), "{good:?} refused");
        }
        let long = "a".repeat(MAX_NAME_LEN + 1);
        for bad in [
            "", "a b", "a;b", "a=b", "a,b", "a\"b", "a\tb", "a\nb", "a\u{7f}", "é", "a/b", "(a)",
            &long,
        ] {
            assert!(!is_valid_name(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn paths_start_with_a_slash_and_hold_no_separators() {
        for good in ["/", "/app", "/a/b%20c/", "/x=y"] {
            assert!(is_valid_path(good), "{good:?} refused");
        }
        let long = format!("/{}", "a".repeat(MAX_ATTRIBUTE_LEN));
        for bad in [
            "",
            "app",
            "/a;b",
            "/a b",
            "/a\r\nSet-Cookie: x=y",
            "/\0",
            "/é",
            &long,
        ] {
            assert!(!is_valid_path(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn domains_are_host_names() {
        for good in [
            "example.com",
            ".example.com",
            "localhost",
            "xn--bcher-kva.example",
            "127.0.0.1",
        ] {
            assert!(is_valid_domain(good), "{good:?} refused");
        }
        let long_label = format!("{}.com", "a".repeat(64));
        for bad in [
            "",
            ".",
            "example..com",
            "example.com.",
            "-a.com",
            "a-.com",
            "a b.com",
            "a;b.com",
            "bücher.de",
            "a\u{1}.com",
            &long_label,
        ] {
            assert!(!is_valid_domain(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn prefixes_match_case_insensitively() {
        assert_eq!(name_prefix("__Host-id"), Some(HOST_PREFIX));
        assert_eq!(name_prefix("__host-id"), Some(HOST_PREFIX));
        assert_eq!(name_prefix("__SECURE-id"), Some(SECURE_PREFIX));
        assert_eq!(name_prefix("__Hostid"), None);
        assert_eq!(name_prefix("id"), None);
    }
}
