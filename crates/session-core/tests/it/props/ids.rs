//! Ids: `DefaultIds` accepts exactly the canonical unpadded base64url text of 32 bytes, `HexIds`
//! exactly `2n` lowercase hex digits, `Key::from_hex` exactly 64 lowercase hex digits; and through
//! the engine (`ParamState`), an arbitrary id loads the session issued under that exact id or
//! nothing.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use http::HeaderMap;
use proptest::prelude::*;
use session_conformance::props::{IssuedSessions, near_miss, text};
use session_core::state::{DefaultIds, HexIds, IdScheme, RequestView};
use session_core::store::Key;
use session_core::{Engine, MemoryStore, ParamState};

/// The oracle for `DefaultIds`: `s` decodes to 32 bytes whose encoding is `s` again.
fn canonical_default_id(s: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(s)
        .is_ok_and(|bytes| bytes.len() == 32 && URL_SAFE_NO_PAD.encode(&bytes) == s)
}

/// The oracle for hex ids and keys: exactly `len` characters, each a lowercase hex digit.
fn lowercase_hex(s: &str, len: usize) -> bool {
    s.chars().count() == len && s.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

/// Candidates for `DefaultIds`: arbitrary text, base64-ish text of about the right length, and
/// near-misses of valid ids (in the URL-safe and the standard alphabets, padded or not).
fn default_id_candidate() -> impl Strategy<Value = String> {
    let encoded = any::<[u8; 32]>().prop_flat_map(|bytes| {
        prop::sample::select(vec![
            URL_SAFE_NO_PAD.encode(bytes),
            STANDARD_NO_PAD.encode(bytes),
            STANDARD.encode(bytes),
        ])
    });
    prop_oneof![
        2 => text(50),
        2 => "[A-Za-z0-9_+/=-]{41,45}",
        6 => near_miss(encoded),
    ]
}

/// A hex scheme size and candidates for it: arbitrary text, hex-ish text of about the right
/// length, and near-misses of valid ids.
fn hex_candidate() -> impl Strategy<Value = (usize, String)> {
    (16usize..=64).prop_flat_map(|n| {
        let valid =
            proptest::string::string_regex(&format!("[0-9a-f]{{{}}}", 2 * n)).expect("regex");
        let near = proptest::string::string_regex(&format!(
            "[0-9a-fA-Fg ]{{{},{}}}",
            2 * n - 1,
            2 * n + 1
        ))
        .expect("regex");
        (
            Just(n),
            prop_oneof![
                1 => text(140),
                2 => near,
                4 => near_miss(valid),
            ],
        )
    })
}

/// Candidates for `Key::from_hex`.
fn key_hex_candidate() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => text(70),
        2 => "[0-9a-fA-F]{62,66}",
        1 => "[0-9a-f]{64}",
        4 => near_miss(any::<[u8; 32]>().prop_map(|digest| Key::from_digest(digest).to_hex())),
    ]
}

/// An engine on `ParamState` and a `MemoryStore` with three sessions issued.
fn issued() -> &'static IssuedSessions {
    static ISSUED: OnceLock<IssuedSessions> = OnceLock::new();
    ISSUED.get_or_init(|| {
        IssuedSessions::issue(
            Engine::new(ParamState::default(), MemoryStore::default()),
            3,
        )
    })
}

/// A value for the `plack_session` parameter: arbitrary text, an issued id, a near-miss of one,
/// a valid id never issued, or several parameters (a name that is empty stands for
/// `plack_session`).
fn param_value() -> impl Strategy<Value = String> {
    let unissued = any::<[u8; 32]>().prop_map(|bytes| URL_SAFE_NO_PAD.encode(bytes));
    issued().sent_ids(unissued, "[a-z_]{0,14}", |a, name, b| {
        let name = if name.is_empty() {
            "plack_session"
        } else {
            name
        };
        format!("{a}&{name}={b}")
    })
}

proptest! {
    /// Every 32 bytes, as unpadded base64url, are a valid default id.
    #[test]
    fn default_ids_accept_every_32_bytes(bytes in any::<[u8; 32]>()) {
        let id = URL_SAFE_NO_PAD.encode(bytes);
        prop_assert_eq!(id.len(), 43);
        prop_assert!(DefaultIds.is_valid(&id));
    }

    /// `DefaultIds::is_valid` holds exactly for canonical unpadded base64url of 32 bytes.
    #[test]
    fn default_ids_accept_exactly_canonical_base64url(s in default_id_candidate()) {
        prop_assert_eq!(DefaultIds.is_valid(&s), canonical_default_id(&s), "{:?}", s);
    }

    /// `HexIds::new(n)` accepts exactly `2n` lowercase hex digits.
    #[test]
    fn hex_ids_accept_exactly_lowercase_hex_of_their_length((n, s) in hex_candidate()) {
        let scheme = HexIds::new(n).expect("16..=64 is a valid size");
        prop_assert_eq!(scheme.is_valid(&s), lowercase_hex(&s, 2 * n), "{} bytes: {:?}", n, s);
    }

    /// Generated ids are always valid, and of the documented form.
    #[test]
    fn generated_ids_are_valid(n in 16usize..=64) {
        let scheme = HexIds::new(n).expect("16..=64 is a valid size");
        let id = scheme.generate().expect("generate");
        prop_assert!(lowercase_hex(&id, 2 * n), "{:?}", id);
        prop_assert!(scheme.is_valid(&id));
        let id = DefaultIds.generate().expect("generate");
        prop_assert!(canonical_default_id(&id), "{:?}", id);
        prop_assert!(DefaultIds.is_valid(&id));
    }

    /// Sizes outside 16..=64 bytes are refused.
    #[test]
    fn hex_ids_refuse_other_sizes(n in prop_oneof![0usize..16, 65usize..100_000, Just(usize::MAX)]) {
        prop_assert!(HexIds::new(n).is_err());
    }

    /// `Key::from_hex(key.to_hex()) == Some(key)`, and `to_hex` is 64 lowercase hex digits.
    #[test]
    fn keys_round_trip_through_hex(digest in any::<[u8; 32]>()) {
        let key = Key::from_digest(digest);
        let hex = key.to_hex();
        prop_assert!(lowercase_hex(&hex, 64), "{:?}", hex);
        prop_assert_eq!(Key::from_hex(&hex), Some(key));
        prop_assert_eq!(key.digest(), &digest);
    }

    /// `Key::from_hex` accepts exactly 64 lowercase hex digits, and gives back the key they spell.
    #[test]
    fn key_from_hex_accepts_exactly_64_lowercase_hex_digits(s in key_hex_candidate()) {
        match Key::from_hex(&s) {
            Some(key) => {
                prop_assert!(lowercase_hex(&s, 64), "accepted {:?}", s);
                prop_assert_eq!(key.to_hex(), s);
            }
            None => prop_assert!(!lowercase_hex(&s, 64), "refused {:?}", s),
        }
    }

    /// With `ParamState`, the query's id loads the session issued under that exact id (the only
    /// one that at most four `plack_session` parameters name), or an empty session: never
    /// another one.
    #[test]
    fn a_query_id_loads_its_own_session_or_none(value in param_value()) {
        let issued = issued();
        let query = format!("plack_session={value}");
        let candidates = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .filter(|(name, _)| *name == "plack_session")
            .map(|(_, id)| id);
        let expected = issued.must_load(candidates, canonical_default_id);
        let headers = HeaderMap::new();
        let view = RequestView::new(&headers, Some(&query));
        prop_assert_eq!(issued.open(&view, &query)?, expected, "{:?}", query);
    }
}
