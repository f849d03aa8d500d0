//! How the scenarios carry a session id between requests.
//!
//! The [`Carrier`] trait, and [`ParamCarrier`] for ids in a query parameter.

use http::HeaderMap;
use session_core::ParamState;
use session_core::adapter::Commit;
use session_core::state::RequestView;

/// The parts of a request a [`State`](session_core::state::State) reads, owned by the scenario.
#[derive(Clone, Debug, Default)]
pub struct RequestParts {
    /// The request headers.
    pub headers: HeaderMap,
    /// The raw query string, without the leading `?`.
    pub query: Option<String>,
}

impl RequestParts {
    /// The view [`Engine::start`](session_core::Engine::start) takes.
    pub fn view(&self) -> RequestView<'_> {
        RequestView::new(&self.headers, self.query.as_deref())
    }
}

/// What a committed response told the client about its session id.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivered {
    /// Nothing: the client keeps whatever id it had.
    Nothing,
    /// This id, to send with the next requests.
    Id(String),
    /// Forget the id (a removal cookie).
    Removed,
}

/// The client side of a [`State`](session_core::state::State), for the engine-level scenarios.
///
/// It builds requests carrying an id and reads what responses say about it.
///
/// Ready-made: [`ParamCarrier`] for `ParamState` and [`CookieCarrier`](crate::CookieCarrier) for
/// any State that uses a cookie. Implement it for a State that carries the id elsewhere (a
/// header, say).
pub trait Carrier {
    /// A request carrying `id` (any text: the scenarios also send malformed ids), or no id.
    fn request(&self, id: Option<&str>) -> RequestParts;

    /// What a commit's [`state_headers`](Commit::state_headers) tell the client about its id.
    fn delivered(&self, commit: &Commit) -> Delivered;

    /// Whether responses carry the id (`true`, the default, for cookies).
    ///
    /// A carrier returning `false` stands for a State that writes nothing, such as `ParamState`:
    /// its applications learn the id inside the handler and put it in their links. The scenarios
    /// then learn it the same way, at the end of each handler that keeps its session:
    /// [`Session::id`](session_core::Session::id), or
    /// [`Session::save`](session_core::Session::save) for a new session holding values. Its
    /// [`delivered`](Carrier::delivered) is never consulted.
    fn writes_id(&self) -> bool {
        true
    }
}

/// The client side of `ParamState`: the id travels as `?NAME=ID`, and responses carry nothing.
///
/// ```
/// use session_conformance::{Carrier, ParamCarrier};
///
/// let request = ParamCarrier::default().request(Some("abc"));
/// assert_eq!(request.query.as_deref(), Some("plack_session=abc"));
/// assert!(!ParamCarrier::default().writes_id());
/// ```
#[derive(Clone, Debug)]
pub struct ParamCarrier {
    name: String,
}

impl ParamCarrier {
    /// Carries the id in the query parameter `name` (the `ParamState`'s name).
    pub fn new(name: impl Into<String>) -> Self {
        ParamCarrier { name: name.into() }
    }
}

impl Default for ParamCarrier {
    /// The parameter `plack_session`, as `ParamState::default()`.
    fn default() -> Self {
        ParamCarrier::new(ParamState::DEFAULT_NAME)
    }
}

impl Carrier for ParamCarrier {
    fn request(&self, id: Option<&str>) -> RequestParts {
        RequestParts {
            headers: HeaderMap::new(),
            query: id.map(|id| format!("{}={id}", self.name)),
        }
    }

    fn delivered(&self, _commit: &Commit) -> Delivered {
        Delivered::Nothing
    }

    fn writes_id(&self) -> bool {
        false
    }
}
