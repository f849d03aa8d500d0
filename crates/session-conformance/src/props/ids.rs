//! Ids as a client might send them.
//!
//! Near-misses of valid ids, and sessions issued on an engine to aim them at ([`IssuedSessions`]).

use http::{HeaderMap, StatusCode};
use proptest::prelude::*;
use proptest::sample::Index;
use session_core::state::RequestView;
use session_core::{Engine, Error};

use super::{runtime, text};

/// The URL-safe base64 alphabet of the default ids.
const URL_SAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// One way to spoil (or keep) a valid id: what [`miss`] generates, applied by [`Miss::apply`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Miss {
    /// The id as it is.
    Keep,
    /// The character at an index replaced by another (maybe the same).
    Replace(Index, char),
    /// One character more at the end.
    Longer(char),
    /// One character less, at an index.
    Shorter(Index),
    /// `=` (1) or `==` (2) padding.
    Padding(usize),
    /// A trailing newline.
    Newline,
    /// A space on each side.
    Spaces,
    /// A double quote on each side.
    Quotes,
    /// The ASCII case of the character at an index flipped.
    Case(Index),
    /// The standard base64 alphabet (`+` and `/`) instead of the URL-safe one (`-` and `_`).
    StandardAlphabet,
    /// The last character replaced by one of the URL-safe base64 alphabet (its trailing bits).
    LastChar(Index),
}

impl Miss {
    /// `id` spoiled (or not) this way.
    ///
    /// ```
    /// use session_conformance::props::Miss;
    ///
    /// assert_eq!(Miss::Quotes.apply("abc"), "\"abc\"");
    /// assert_eq!(Miss::StandardAlphabet.apply("a-b_c"), "a+b/c");
    /// ```
    pub fn apply(&self, id: &str) -> String {
        let mut chars: Vec<char> = id.chars().collect();
        match self {
            Miss::Keep => {}
            Miss::Replace(at, c) if !chars.is_empty() => {
                let at = at.index(chars.len());
                chars[at] = *c;
            }
            Miss::Longer(c) => chars.push(*c),
            Miss::Shorter(at) if !chars.is_empty() => {
                chars.remove(at.index(chars.len()));
            }
            Miss::Padding(n) => chars.extend(std::iter::repeat_n('=', *n)),
            Miss::Newline => chars.push('\n'),
            Miss::Spaces => {
                chars.insert(0, ' ');
                chars.push(' ');
            }
            Miss::Quotes => {
                chars.insert(0, '"');
                chars.push('"');
            }
            Miss::Case(at) if !chars.is_empty() => {
                let at = at.index(chars.len());
                let c = &mut chars[at];
                *c = if c.is_ascii_lowercase() {
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
            Miss::Replace(..) | Miss::Shorter(_) | Miss::Case(_) => {}
        }
        chars.into_iter().collect()
    }
}

/// A character to put into an id.
///
/// Mostly one of the URL-safe base64 alphabet, often one that means something nearby (the standard
/// alphabet's `+` and `/`, padding, separators of cookies and queries, quotes, whitespace, NUL,
/// non-ASCII look-alikes), sometimes any.
pub fn id_char() -> impl Strategy<Value = char> + Clone {
    prop_oneof![
        3 => prop::sample::select(URL_SAFE.chars().collect::<Vec<_>>()),
        2 => prop::sample::select(vec![
            '+', '/', '=', ' ', ';', ',', '&', '"', '\t', '\n', '\0', '.', '~', '%', 'é', 'Ａ',
        ]),
        1 => any::<char>(),
    ]
}

/// A way to spoil an id, or to keep it ([`Miss`]), with [`id_char`]s.
pub fn miss() -> impl Strategy<Value = Miss> + Clone {
    prop_oneof![
        Just(Miss::Keep),
        (any::<Index>(), id_char()).prop_map(|(i, c)| Miss::Replace(i, c)),
        id_char().prop_map(Miss::Longer),
        any::<Index>().prop_map(Miss::Shorter),
        (1usize..=2).prop_map(Miss::Padding),
        Just(Miss::Newline),
        Just(Miss::Spaces),
        Just(Miss::Quotes),
        any::<Index>().prop_map(Miss::Case),
        Just(Miss::StandardAlphabet),
        any::<Index>().prop_map(Miss::LastChar),
    ]
}

/// An id from `ids` spoiled (or kept) by a [`miss`].
pub fn near_miss(ids: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (ids, miss()).prop_map(|(id, miss)| miss.apply(&id))
}

/// Sessions issued on an engine, each holding its index under the key `who`.
///
/// What a property aims ids at, to check that a request opens the session named by the exact id it
/// carries, or a new empty one, and never another.
#[derive(Debug)]
pub struct IssuedSessions {
    engine: Engine,
    ids: Vec<String>,
    headers: Vec<HeaderMap>,
}

impl IssuedSessions {
    /// Issues `n` sessions on `engine`, blocking on the kit's [`runtime`].
    ///
    /// Each starts from a request carrying nothing, stores its index under `who`, is saved (which
    /// gives it its id) and committed with a 200.
    ///
    /// # Panics
    ///
    /// If a session cannot be saved or committed, or when called from inside a Tokio runtime.
    pub fn issue(engine: Engine, n: usize) -> Self {
        let (ids, headers) = runtime().block_on(async {
            let mut issued = (Vec::new(), Vec::new());
            for who in 0..n {
                let session = engine.start(&RequestView::new(&HeaderMap::new(), None));
                let fail = |e: Error| -> ! {
                    panic!("session-conformance: issuing session {who}: {}", e.report())
                };
                session.insert("who", who).await.unwrap_or_else(|e| fail(e));
                let id = session.save().await.unwrap_or_else(|e| fail(e));
                let commit = engine
                    .commit(&session, StatusCode::OK)
                    .await
                    .unwrap_or_else(|e| fail(e));
                issued.0.push(id.as_str().to_owned());
                issued.1.push(commit.state_headers().clone());
            }
            issued
        });
        IssuedSessions {
            engine,
            ids,
            headers,
        }
    }

    /// The engine the sessions were issued on.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The sessions' ids, in the order they were issued (session `i` holds `who = i`).
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The issued session a request must load, by the engine's rule against cookie tossing:
    /// `candidates` are the values the State extracts, in order, and `valid` says which the id
    /// scheme accepts. With more than four candidates, none; otherwise the issued session named by
    /// the accepted ones if there is exactly one (named once or more), else none.
    pub fn must_load<'a>(
        &self,
        candidates: impl IntoIterator<Item = &'a str>,
        valid: impl Fn(&str) -> bool,
    ) -> Option<usize> {
        let candidates: Vec<&str> = candidates.into_iter().collect();
        if candidates.len() > 4 {
            return None;
        }
        let mut named = candidates
            .into_iter()
            .filter(|value| valid(value))
            .filter_map(|value| self.ids.iter().position(|id| id == value));
        let first = named.next()?;
        named.all(|other| other == first).then_some(first)
    }

    /// The headers the State wrote in session `i`'s response (a `Set-Cookie`, say).
    ///
    /// # Panics
    ///
    /// If `i` is not the index of an issued session.
    pub fn state_headers(&self, i: usize) -> &HeaderMap {
        &self.headers[i]
    }

    /// What a client might send where an id belongs.
    ///
    /// One candidate (arbitrary text, an issued id, a [`near_miss`] of one, or one of `unissued`,
    /// well-formed ids never issued), or one time in five two candidates `a` and `b` joined by
    /// `join(a, name, b)`, with a name drawn from `names` (a regex, such as `"[a-z]{0,3}"`: the
    /// parameter or cookie name of `b`).
    ///
    /// # Panics
    ///
    /// If `names` is not a valid regex.
    pub fn sent_ids<U: Strategy<Value = String> + Clone>(
        &self,
        unissued: U,
        names: &str,
        join: fn(&str, &str, &str) -> String,
    ) -> impl Strategy<Value = String> + use<U> {
        let issued = prop::sample::select(self.ids.clone());
        let single = prop_oneof![
            2 => text(60),
            2 => issued.clone(),
            4 => near_miss(issued),
            1 => unissued,
        ];
        let names = proptest::string::string_regex(names)
            .unwrap_or_else(|error| panic!("session-conformance: names {names:?}: {error}"));
        prop_oneof![
            4 => single.clone(),
            1 => (single.clone(), names, single).prop_map(move |(a, name, b)| join(&a, &name, &b)),
        ]
    }

    /// Opens the session of `request` on the engine, blocking on the kit's [`runtime`].
    ///
    /// Returns the index of the issued session it loaded, or `None` for a new one. `sent` is what
    /// the client sent where the id belongs (a `Cookie` header, a query).
    ///
    /// Fails the case unless the session is consistent: a loaded session has the id of the
    /// issued session whose index it holds, and `sent` contains that id; any other session is
    /// empty and has no id.
    pub fn open(
        &self,
        request: &RequestView<'_>,
        sent: &str,
    ) -> Result<Option<usize>, TestCaseError> {
        let session = self.engine.start(request);
        let (who, id, empty) = runtime().block_on(async {
            (
                session.get::<usize>("who").await,
                session.id().await,
                session.is_empty().await,
            )
        });
        let fail = |e: Error| TestCaseError::fail(e.report().to_string());
        let (who, id, empty) = (who.map_err(fail)?, id.map_err(fail)?, empty.map_err(fail)?);
        let id = id.as_ref().map(|id| id.as_str());
        let issued = who.and_then(|i| self.ids.get(i)).map(String::as_str);
        prop_assert_eq!(id, issued, "{:?}", sent);
        match who {
            Some(i) => prop_assert!(
                issued.is_some_and(|id| sent.contains(id)),
                "{:?} loaded session {} without carrying its id",
                sent,
                i
            ),
            None => prop_assert!(
                empty,
                "{:?}: a session that is not an issued one holds data",
                sent
            ),
        }
        Ok(who)
    }
}
