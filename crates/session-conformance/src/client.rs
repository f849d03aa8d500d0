//! A scenario's client: one request at a time through the engine, carrying the id it is told to.

use http::StatusCode;
use session_core::{Engine, Session};

use crate::check::Contract;
use crate::{Carrier, Delivered, Expect};

/// Runs requests through an engine, as a client with the given carrier.
pub(crate) struct Client<'a, C> {
    engine: &'a Engine,
    carrier: &'a C,
    client_side: bool,
}

/// One session as the client knows it: the value it sends back (`token`) and the session's id.
///
/// For a server-side store both are the id the response gave. For a client-side store the token
/// is the latest sealed value (it changes with every write) and the id is the one sealed inside.
#[derive(Clone, Debug)]
pub(crate) struct Tracked {
    pub(crate) token: String,
    pub(crate) id: String,
}

/// What one response told the client.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// What the response headers said (always `Nothing` for a carrier that writes no id).
    pub(crate) delivered: Delivered,
    /// The id learned in the handler, for a carrier that writes no id.
    pub(crate) learned: Option<String>,
    writes: bool,
}

impl Outcome {
    /// The id the response gave the client.
    ///
    /// The one delivered in its headers or, for a carrier that writes nothing, the one learned in
    /// the handler.
    pub(crate) fn given(&self) -> Option<&str> {
        match (&self.delivered, self.writes) {
            (Delivered::Id(id), true) => Some(id),
            (_, true) => None,
            (_, false) => self.learned.as_deref(),
        }
    }

    /// The given id, failing `c` if there is none.
    pub(crate) fn expect_given(&self, c: Contract) -> String {
        match self.given() {
            Some(id) => id.to_owned(),
            None if self.writes => c.fail(format_args!(
                "the response gave the client no id (it delivered {:?})",
                self.delivered
            )),
            None => c.fail("the handler learned no id (Session::save gave none)"),
        }
    }
}

impl<'a, C: Carrier> Client<'a, C> {
    /// A client for `expect`; fails if the engine does not fit it.
    pub(crate) fn new(engine: &'a Engine, carrier: &'a C, expect: Expect) -> Self {
        let c = Contract::scenario("the expectation fits the engine");
        let client_side = expect == Expect::ClientSide;
        if engine.is_client_side() && !client_side {
            c.fail(
                "the engine keeps sessions with the client (Engine::client_side): \
                 run the scenarios with Expect::ClientSide",
            );
        }
        if client_side && !engine.is_client_side() {
            c.fail("Expect::ClientSide needs an engine built with Engine::client_side");
        }
        if client_side && !carrier.writes_id() {
            c.fail(
                "a client-side session travels in the response: Expect::ClientSide needs a \
                 carrier that reads it from the response (Carrier::writes_id)",
            );
        }
        Client {
            engine,
            carrier,
            client_side,
        }
    }

    /// Whether the client keeps the sessions ([`Expect::ClientSide`]).
    pub(crate) fn is_client_side(&self) -> bool {
        self.client_side
    }

    /// The session a response gave as `token`.
    ///
    /// For a client-side store, the id sealed inside, read by a request that carries it and is
    /// never committed; otherwise the token itself.
    pub(crate) async fn track(&self, c: Contract, token: String) -> Tracked {
        if !self.client_side {
            return Tracked {
                id: token.clone(),
                token,
            };
        }
        let probe = self.start(Some(&token));
        match c.ok(probe.id().await, "Session::id") {
            Some(id) => Tracked {
                id: id.as_str().to_owned(),
                token,
            },
            None => c.fail("the session value the response gave does not open"),
        }
    }

    /// Whether responses carry the id.
    pub(crate) fn writes(&self) -> bool {
        self.carrier.writes_id()
    }

    /// Starts a request carrying `id`.
    pub(crate) fn start(&self, id: Option<&str>) -> Session {
        let parts = self.carrier.request(id);
        self.engine.start(&parts.view())
    }

    /// Ends the handler and commits with `200 OK`.
    ///
    /// With `keep` (the session was not expired) and a carrier that writes nothing, first learns
    /// the id as an application would.
    pub(crate) async fn finish(&self, c: Contract, session: &Session, keep: bool) -> Outcome {
        let writes = self.carrier.writes_id();
        let learned = if !writes && keep {
            learn(c, session).await
        } else {
            None
        };
        let commit = c.ok(
            self.engine.commit(session, StatusCode::OK).await,
            "Engine::commit",
        );
        let delivered = if writes {
            self.carrier.delivered(&commit)
        } else {
            Delivered::Nothing
        };
        Outcome {
            delivered,
            learned,
            writes,
        }
    }
}

/// The session's id, saving it first if it is new and holds values.
async fn learn(c: Contract, session: &Session) -> Option<String> {
    if let Some(id) = c.ok(session.id().await, "Session::id") {
        return Some(id.as_str().to_owned());
    }
    if c.ok(session.is_empty().await, "Session::is_empty") {
        return None;
    }
    Some(
        c.ok(session.save().await, "Session::save")
            .as_str()
            .to_owned(),
    )
}

/// Reads `key` as a string.
pub(crate) async fn get(c: Contract, session: &Session, key: &str) -> Option<String> {
    c.ok(session.get::<String>(key).await, "Session::get")
}

/// Sets `key` to the string `value`.
pub(crate) async fn set(c: Contract, session: &Session, key: &str, value: &str) {
    c.ok(session.insert(key, value).await, "Session::insert");
}

/// Fails unless `key` holds `expected`.
pub(crate) async fn expect_value(
    c: Contract,
    session: &Session,
    key: &str,
    expected: Option<&str>,
) {
    let found = get(c, session, key).await;
    c.ensure(
        found.as_deref() == expected,
        format_args!("{key} is {found:?}, expected {expected:?}"),
    );
}

/// Fails unless the session holds exactly `expected`.
pub(crate) async fn expect_data(c: Contract, session: &Session, expected: &[(&str, &str)]) {
    let keys = c.ok(session.keys().await, "Session::keys");
    let mut wanted: Vec<&str> = expected.iter().map(|(key, _)| *key).collect();
    wanted.sort_unstable();
    c.ensure(
        keys == wanted,
        format_args!("the session holds the keys {keys:?}, expected {wanted:?}"),
    );
    for (key, value) in expected {
        expect_value(c, session, key, Some(value)).await;
    }
}

/// Fails unless the session's id is `expected` (`None`: a new session).
pub(crate) async fn expect_id(c: Contract, session: &Session, expected: Option<&str>) {
    let found = c.ok(session.id().await, "Session::id");
    let found = found.as_ref().map(|id| id.as_str());
    let detail = match (found, expected) {
        (Some(_), Some(_)) => "the session has another id than the one the request carried",
        (Some(_), None) => "the session has an id, expected a new session (the id was adopted)",
        (None, _) => "the session is new (no id), expected the session the request's id names",
    };
    c.ensure(found == expected, detail);
}
