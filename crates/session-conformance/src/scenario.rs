//! The Plack scenarios at the engine level: [`plack_scenario`] and [`plack_counter`].

use session_core::Engine;

use crate::check::Contract;
use crate::client::{Client, Tracked, expect_data, expect_id, expect_value, set};
use crate::{Carrier, Delivered, Expect, Report};

/// Plack's nine-step scenario over two sessions, A and B, run through `engine`.
///
/// Requests are built by `carrier`. Panics at the first step that goes wrong, naming it.
///
/// Each step is one request carrying the id it is told to, committed with `200 OK`:
///
/// 1. No id: a new session A; `foo` absent; set `foo=bar`, `bar=baz`; the client is given A.
/// 2. No id: a new session B, not A; `foo` absent; set `foo=baz`.
/// 3. Id A: session A, `foo` is `bar`; remove `foo`; data `{bar: baz}`; A is given again.
/// 4. Id B: `foo` is `baz`; data `{foo: baz}`.
/// 5. Id A: `foo` absent; set `baz=gorch`; data `{bar: baz, baz: gorch}`.
/// 6. Id A: `bar` is `baz`; expire; a carrier that writes ids sees the id removed.
/// 7. Id A again: not adopted (a new session, no id); `bar` absent; data empty; no id given.
/// 8. Id B: still session B, `foo` is `baz` (expiring A did not touch B).
/// 9. Id `../wrong`: not adopted; `foo` absent; set `foo=baz`; a new id is given (neither A nor
///    B); a last request with it finds `foo=baz`.
///
/// With [`Expect::KeepsNothing`] nothing persists: no id is ever adopted, every step finds its
/// session empty, step 3's removal leaves nothing to store (no id given), step 5 is given a new
/// id (not A), step 6 may or may not remove the id, and step 8 and the last request find `foo`
/// absent.
///
/// With [`Expect::ClientSide`] (an engine built with
/// [`Engine::client_side`](session_core::Engine::client_side)) the steps are those of
/// [`Expect::Persistent`], with sessions compared by the id sealed inside
/// ([`Session::id`](session_core::Session::id), read by a request carrying the value that is never
/// committed) and the client sending back the latest value each response gave. Step 7 cannot
/// hold (a sealed session cannot be revoked): the kit checks that the replayed value still opens
/// as A with its data, and lists step 7 under [`Report::skipped`] with the reason.
///
/// The kit fails at once if `expect` does not fit the engine: [`Expect::ClientSide`] exactly when
/// [`Engine::is_client_side`](session_core::Engine::is_client_side), and then a carrier that
/// reads responses ([`Carrier::writes_id`]).
///
/// For a carrier whose State writes no id ([`Carrier::writes_id`] is `false`, `ParamState`), the
/// id each step gives is the one its handler learns: [`Session::id`](session_core::Session::id),
/// or [`Session::save`](session_core::Session::save) for a new session holding values.
///
/// The engine must accept ids as its default scheme does (so that `../wrong` is malformed), and
/// its store must judge expiry by the system clock.
///
/// ```
/// use session_conformance::{plack_scenario, Expect, ParamCarrier};
/// use session_core::{Engine, MemoryStore, ParamState};
///
/// # tokio::runtime::Runtime::new().expect("runtime").block_on(async {
/// let engine = Engine::new(ParamState::default(), MemoryStore::default());
/// plack_scenario(&engine, &ParamCarrier::default(), Expect::Persistent).await;
/// # });
/// ```
pub async fn plack_scenario<C: Carrier>(engine: &Engine, carrier: &C, expect: Expect) -> Report {
    let c = Contract::scenario("plack step 1: no id starts session A");
    let client = Client::new(engine, carrier, expect);
    let keeps = expect != Expect::KeepsNothing;
    let mut report = Report::default();

    let s = client.start(None);
    expect_value(c, &s, "foo", None).await;
    set(c, &s, "foo", "bar").await;
    set(c, &s, "bar", "baz").await;
    expect_data(c, &s, &[("foo", "bar"), ("bar", "baz")]).await;
    let given = client.finish(c, &s, true).await.expect_given(c);
    let mut a = client.track(c, given).await;
    report.pass(c);

    let c = Contract::scenario("plack step 2: no id starts session B");
    let s = client.start(None);
    expect_value(c, &s, "foo", None).await;
    set(c, &s, "foo", "baz").await;
    expect_data(c, &s, &[("foo", "baz")]).await;
    let given = client.finish(c, &s, true).await.expect_given(c);
    let mut b = client.track(c, given).await;
    c.ensure(a.id != b.id, "session B was given the same id as session A");
    report.pass(c);

    let c = Contract::scenario("plack step 3: id A finds foo=bar, removes it");
    let s = client.start(Some(&a.token));
    expect_id(c, &s, keeps.then_some(a.id.as_str())).await;
    expect_value(c, &s, "foo", keeps.then_some("bar")).await;
    c.ok(s.remove::<String>("foo").await, "Session::remove");
    expect_data(c, &s, if keeps { &[("bar", "baz")] } else { &[] }).await;
    let out = client.finish(c, &s, true).await;
    if let Some(given) = expect_given(c, &client, out.given(), keeps.then_some(&a), "A").await {
        a = given;
    }
    report.pass(c);

    let c = Contract::scenario("plack step 4: id B finds foo=baz");
    let s = client.start(Some(&b.token));
    expect_id(c, &s, keeps.then_some(b.id.as_str())).await;
    expect_data(c, &s, if keeps { &[("foo", "baz")] } else { &[] }).await;
    let out = client.finish(c, &s, true).await;
    c.ensure(
        out.delivered != Delivered::Removed,
        "the response removed the id",
    );
    let given = out.given();
    if let Some(given) = expect_given_or_none(c, &client, given, keeps.then_some(&b), "B").await {
        b = given;
    }
    report.pass(c);

    let c = Contract::scenario("plack step 5: id A sets baz=gorch");
    let s = client.start(Some(&a.token));
    expect_id(c, &s, keeps.then_some(a.id.as_str())).await;
    expect_value(c, &s, "foo", None).await;
    set(c, &s, "baz", "gorch").await;
    let data: &[(&str, &str)] = if keeps {
        &[("bar", "baz"), ("baz", "gorch")]
    } else {
        &[("baz", "gorch")]
    };
    expect_data(c, &s, data).await;
    let given = client.finish(c, &s, true).await.expect_given(c);
    let given = client.track(c, given).await;
    let why = if keeps {
        "A was given another id"
    } else {
        "the id A was adopted"
    };
    c.ensure((given.id == a.id) == keeps, why);
    if keeps {
        a = given;
    }
    report.pass(c);

    let c = Contract::scenario("plack step 6: id A expires");
    let s = client.start(Some(&a.token));
    expect_value(c, &s, "bar", keeps.then_some("baz")).await;
    s.expire();
    let out = client.finish(c, &s, false).await;
    if client.writes() && keeps {
        let removed = out.delivered == Delivered::Removed;
        c.ensure(
            removed,
            format_args!(
                "the response did not remove the id (it delivered {:?})",
                out.delivered
            ),
        );
    }
    c.ensure(
        !matches!(out.delivered, Delivered::Id(_)),
        "expiring the session gave the client an id",
    );
    report.pass(c);

    if client.is_client_side() {
        let c = Contract::scenario(STEP_7_CLIENT_SIDE);
        let s = client.start(Some(&a.token));
        expect_id(c, &s, Some(a.id.as_str())).await;
        expect_data(c, &s, &[("bar", "baz"), ("baz", "gorch")]).await;
        let out = client.finish(c, &s, true).await;
        expect_given_or_none(c, &client, out.given(), Some(&a), "A").await;
        report.pass(c);
        report.skip(STEP_7, NO_REVOCATION);
    } else {
        let c = Contract::scenario(STEP_7);
        let s = client.start(Some(&a.token));
        expect_id(c, &s, None).await;
        expect_value(c, &s, "bar", None).await;
        expect_data(c, &s, &[]).await;
        let out = client.finish(c, &s, true).await;
        expect_given(c, &client, out.given(), None, "").await;
        report.pass(c);
    }

    let c = Contract::scenario("plack step 8: id B survives A's expiry");
    let s = client.start(Some(&b.token));
    expect_id(c, &s, keeps.then_some(b.id.as_str())).await;
    expect_value(c, &s, "foo", keeps.then_some("baz")).await;
    let out = client.finish(c, &s, true).await;
    let given = out.given();
    if let Some(given) = expect_given_or_none(c, &client, given, keeps.then_some(&b), "B").await {
        b = given;
    }
    report.pass(c);

    let c = Contract::scenario("plack step 9: a malformed id is not adopted");
    let s = client.start(Some("../wrong"));
    expect_id(c, &s, None).await;
    expect_value(c, &s, "foo", None).await;
    set(c, &s, "foo", "baz").await;
    let given = client.finish(c, &s, true).await.expect_given(c);
    let given = client.track(c, given).await;
    c.ensure(
        ![a.token.as_str(), b.token.as_str(), "../wrong"].contains(&given.token.as_str())
            && ![a.id.as_str(), b.id.as_str()].contains(&given.id.as_str()),
        "the new session was given an old id",
    );
    let s = client.start(Some(&given.token));
    expect_value(c, &s, "foo", keeps.then_some("baz")).await;
    report.pass(c);
    report
}

/// Plack's step 7, as [`plack_scenario`] names it.
const STEP_7: &str = "plack step 7: id A is not adopted after expiry";

/// What [`plack_scenario`] checks instead of step 7 for a client-side store.
const STEP_7_CLIENT_SIDE: &str =
    "plack step 7 (client-side): the expired session's value, replayed, still opens as A";

/// Why step 7 does not apply to a client-side store.
const NO_REVOCATION: &str = "a client-side session cannot be revoked: a copy of its value opens \
     until its sealed expiry, whatever the removal said (checked instead: the replay opens as A)";

/// Plack's counter: three requests, each reading `counter` and storing it plus one.
///
/// A missing `counter` reads as 0, and each request sends back the id it was given. Expects 0, 1, 2
/// ([`Expect::Persistent`] and [`Expect::ClientSide`], always the same session id) or 0, 0, 0
/// ([`Expect::KeepsNothing`]); panics otherwise.
pub async fn plack_counter<C: Carrier>(engine: &Engine, carrier: &C, expect: Expect) -> Report {
    let c = Contract::scenario("plack counter: 0, then 1 with the id sent back");
    let client = Client::new(engine, carrier, expect);
    let keeps = expect != Expect::KeepsNothing;
    let mut session: Option<Tracked> = None;
    for request in 0..3u64 {
        let s = client.start(session.as_ref().map(|t| t.token.as_str()));
        let counter = c
            .ok(s.get::<u64>("counter").await, "Session::get")
            .unwrap_or(0);
        let expected = if keeps { request } else { 0 };
        c.ensure(
            counter == expected,
            format_args!(
                "request {} counted {counter}, expected {expected}",
                request + 1
            ),
        );
        c.ok(s.insert("counter", &(counter + 1)).await, "Session::insert");
        let out = client.finish(c, &s, true).await;
        if let Some(given) = out.given() {
            let given = client.track(c, given.to_owned()).await;
            if let Some(first) = &session
                && keeps
                && given.id != first.id
            {
                c.fail(format_args!(
                    "request {} gave the client another session id",
                    request + 1
                ));
            }
            session = Some(given);
        } else if session.is_none() || !keeps {
            c.fail(format_args!(
                "request {} gave the client no id",
                request + 1
            ));
        }
    }
    let mut report = Report::default();
    report.pass(c);
    report
}

/// Fails unless the response gave exactly session `expected` (`None`: no id), compared by id.
///
/// Returns the session as given (its latest value, for a client-side store).
async fn expect_given<C: Carrier>(
    c: Contract,
    client: &Client<'_, C>,
    given: Option<&str>,
    expected: Option<&Tracked>,
    name: &str,
) -> Option<Tracked> {
    match (given, expected) {
        (Some(given), Some(expected)) => {
            let given = client.track(c, given.to_owned()).await;
            c.ensure(
                given.id == expected.id,
                format_args!("the client was given another id than {name}"),
            );
            Some(given)
        }
        (None, Some(_)) => c.fail(format_args!("the client was not given {name}")),
        (Some(_), None) => c.fail("the client was given an id for a session that holds nothing"),
        (None, None) => None,
    }
}

/// Fails if the response gave another session than `expected` (no id is fine).
async fn expect_given_or_none<C: Carrier>(
    c: Contract,
    client: &Client<'_, C>,
    given: Option<&str>,
    expected: Option<&Tracked>,
    name: &str,
) -> Option<Tracked> {
    match given {
        Some(_) => expect_given(c, client, given, expected, name).await,
        None => None,
    }
}
