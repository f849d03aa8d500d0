//! Ids: `DefaultIds` accepts exactly the canonical unpadded base64url text of 32 bytes, `HexIds`
//! exactly `2n` lowercase hex digits, `Key::from_hex` exactly 64 lowercase hex digits; and through
//! the engine (`ParamState`), an arbitrary id loads the session issued under that exact id or
//! nothing.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use http::HeaderMap;
use proptest::prelude::*;
use proptest::sample::Index;
use session_core::{
    DefaultIds, Engine, HexIds, IdScheme, Key, MemoryStore, ParamState, RequestView,
};

use super::{runtime, text};

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

/// One way to spoil (or keep) a valid id.
#[derive(Clone, Debug)]
enum Miss {
    Keep,
    /// The character at an index replaced by another (maybe the same).
    Replace(Index, char),
    /// One character more at the end.
    Longer(char),
    /// One character less at an index.
    Shorter(Index),
    /// `=` or `==` padding.
    Padding(usize),
    /// A trailing newline.
    Newline,
    /// Surrounding whitespace.
    Spaces,
    /// The case of the character at an index flipped.
    Case(Index),
    /// The standard alphabet (`+` and `/`) instead of the URL-safe one.
    StandardAlphabet,
    /// The last character replaced by another of the alphabet (trailing bits).
    LastChar(Index),
}

const URL_SAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn replacement() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(URL_SAFE.chars().collect::<Vec<_>>()),
        2 => prop::sample::select(vec!['+', '/', '=', ' ', '\n', '\0', '.', '~', '%', 'é', 'Ａ']),
        1 => any::<char>(),
    ]
}

fn miss() -> impl Strategy<Value = Miss> {
    prop_oneof![
        Just(Miss::Keep),
        (any::<Index>(), replacement()).prop_map(|(i, c)| Miss::Replace(i, c)),
        replacement().prop_map(Miss::Longer),
        any::<Index>().prop_map(Miss::Shorter),
        (1usize..=2).prop_map(Miss::Padding),
        Just(Miss::Newline),
        Just(Miss::Spaces),
        any::<Index>().prop_map(Miss::Case),
        Just(Miss::StandardAlphabet),
        any::<Index>().prop_map(Miss::LastChar),
    ]
}

/// `id` spoiled (or not) by `miss`.
fn spoil(id: &str, miss: &Miss) -> String {
    let mut chars: Vec<char> = id.chars().collect();
    match miss {
        Miss::Keep => {}
        Miss::Replace(at, c) => {
            let at = at.index(chars.len());
            chars[at] = *c;
        }
        Miss::Longer(c) => chars.push(*c),
        Miss::Shorter(at) => {
            chars.remove(at.index(chars.len()));
        }
        Miss::Padding(n) => chars.extend(std::iter::repeat_n('=', *n)),
        Miss::Newline => chars.push('\n'),
        Miss::Spaces => {
            chars.insert(0, ' ');
            chars.push(' ');
        }
        Miss::Case(at) => {
            let at = at.index(chars.len());
            let c = chars[at];
            chars[at] = if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
        }
        Miss::StandardAlphabet => {
            for c in &mut chars {
                *c = match *c {
                    '-' => '+',
                    '_' => '/',
                    c => c,
                };
            }
        }
        Miss::LastChar(at) => {
            let alphabet: Vec<char> = URL_SAFE.chars().collect();
            if let Some(last) = chars.last_mut() {
                *last = alphabet[at.index(alphabet.len())];
            }
        }
    }
    chars.into_iter().collect()
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
        6 => (encoded, miss()).prop_map(|(id, miss)| spoil(&id, &miss)),
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
                4 => (valid, miss()).prop_map(|(id, miss)| spoil(&id, &miss)),
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
        4 => (any::<[u8; 32]>(), miss())
            .prop_map(|(digest, miss)| spoil(&Key::from_digest(digest).to_hex(), &miss)),
    ]
}

/// An engine on `ParamState` and a `MemoryStore` with three sessions issued, each holding its
/// index under `who`; their ids.
struct Issued {
    engine: Engine,
    ids: Vec<String>,
}

fn issued() -> &'static Issued {
    static ISSUED: OnceLock<Issued> = OnceLock::new();
    ISSUED.get_or_init(|| {
        let engine = Engine::new(ParamState::default(), MemoryStore::default());
        let ids = runtime().block_on(async {
            let mut ids = Vec::new();
            for who in 0..3usize {
                let session = engine.start(&RequestView::new(&HeaderMap::new(), None));
                session.insert("who", who).await.expect("insert");
                let id = session.save().await.expect("save");
                engine
                    .commit(&session, http::StatusCode::OK)
                    .await
                    .expect("commit");
                ids.push(id.as_str().to_owned());
            }
            ids
        });
        Issued { engine, ids }
    })
}

/// A value for the `plack_session` parameter: arbitrary text, an issued id, a near-miss of one,
/// a valid id never issued, or several parameters.
fn param_value() -> impl Strategy<Value = String> {
    let issued = prop::sample::select(issued().ids.clone());
    let single = prop_oneof![
        2 => text(60),
        2 => issued.clone(),
        4 => (issued, miss()).prop_map(|(id, miss)| spoil(&id, &miss)),
        1 => any::<[u8; 32]>().prop_map(|bytes| URL_SAFE_NO_PAD.encode(bytes)),
    ];
    prop_oneof![
        4 => single.clone(),
        1 => (single.clone(), single, "[a-z_]{0,14}").prop_map(|(a, b, name)| {
            let name = if name.is_empty() { "plack_session".to_owned() } else { name };
            format!("{a}&{name}={b}")
        }),
    ]
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

    /// With `ParamState`, the query's id loads the session issued under that exact id (the first
    /// of at most four `plack_session` parameters that names one), or an empty session: never
    /// another one.
    #[test]
    fn a_query_id_loads_its_own_session_or_none(value in param_value()) {
        let issued = issued();
        let query = format!("plack_session={value}");
        let expected = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .filter(|(name, _)| *name == "plack_session")
            .map(|(_, id)| id)
            .take(4)
            .filter(|id| canonical_default_id(id))
            .find_map(|id| issued.ids.iter().position(|issued| issued == id));
        let headers = HeaderMap::new();
        let session = issued.engine.start(&RequestView::new(&headers, Some(&query)));
        let (who, id, empty) = runtime().block_on(async {
            (
                session.get::<usize>("who").await.expect("get"),
                session.id().await.expect("id"),
                session.is_empty().await.expect("is_empty"),
            )
        });
        prop_assert_eq!(who, expected, "{:?}", query);
        prop_assert_eq!(
            id.as_ref().map(|id| id.as_str()),
            expected.map(|i| issued.ids[i].as_str())
        );
        prop_assert_eq!(empty, expected.is_none());
    }
}
