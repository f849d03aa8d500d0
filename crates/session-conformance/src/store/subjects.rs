//! Sessions per subject: what a store claiming [`Store::lists_subjects`] promises.

use std::collections::BTreeSet;
use std::sync::Arc;

use http::{HeaderMap, StatusCode};
use serde_json::json;
use session_core::state::RequestView;
use session_core::store::{Binding, Changes, Key, Record, Store};
use session_core::subject::{ClientInfo, Subjects};
use session_core::{Engine, Id, ParamState};
use tokio::sync::Barrier;

use crate::check::Contract;
use crate::fixtures::{HOUR, expired_record, fresh_key, live_record, now, value};

/// The contracts' names, for the report when they are skipped.
pub(super) const NAMES: [&str; 3] = [LISTED, FOLLOWS, END_ALL];

const LISTED: &str = "bound records are listed by subject";
const FOLLOWS: &str = "a subject's listing follows deletes, expiry and writes";
const END_ALL: &str = "ending a subject's sessions ends those changing their ids";

/// A subject no other check or run uses.
fn fresh_subject(what: &str) -> String {
    format!("{what}-{}", fresh_key().to_hex())
}

/// A live record bound to `subject`.
fn bound_record(subject: &str, data: &[(&str, serde_json::Value)]) -> Record {
    let mut record = live_record(data);
    let info = ClientInfo::new()
        .user_agent("Mozilla/5.0 (conformance; \u{e9}\u{2603})")
        .address("192.0.2.0/24");
    let binding = Binding::new(subject, info, now());
    record.binding = Some(Box::new(binding.unwrap_or_else(|error| {
        panic!("session-conformance: cannot bind a record: {error}")
    })));
    record
}

/// The keys `store` lists for `subject`.
async fn listed<S: Store>(c: Contract, store: &S, subject: &str) -> BTreeSet<Key> {
    let listed = c.ok(store.list_subject(subject).await, "list_subject");
    let keys: BTreeSet<Key> = listed.iter().map(|bound| bound.key).collect();
    c.ensure(
        keys.len() == listed.len(),
        format_args!("list_subject listed a key twice: {listed:?}"),
    );
    for bound in &listed {
        c.ensure(
            bound.binding.subject == subject,
            format_args!(
                "list_subject({subject:?}) listed a record bound to {:?}",
                bound.binding.subject
            ),
        );
    }
    keys
}

/// Bound records are listed under their subject only, with their binding and timestamps;
/// unbound ones are never listed; a bound record round-trips through `load` with its binding.
pub(super) async fn listed_by_subject<S: Store>(store: S) -> Contract {
    let c = Contract::store(LISTED);
    let (alice, bob) = (fresh_subject("alice"), fresh_subject("bob"));
    let mut alices = BTreeSet::new();
    for n in 0..3 {
        let (key, record) = (fresh_key(), bound_record(&alice, &[("n", json!(n))]));
        c.ensure(
            c.ok(store.create(&key, &record).await, "create"),
            "create of a new key returned false",
        );
        c.expect_record(
            c.ok(store.load(&key).await, "load"),
            &record,
            "a bound record",
        );
        alices.insert(key);
    }
    let (bobs, bob_record) = (fresh_key(), bound_record(&bob, &[]));
    c.ok(store.create(&bobs, &bob_record).await, "create");
    c.ok(
        store.create(&fresh_key(), &live_record(&[])).await,
        "create",
    );
    c.ensure(
        listed(c, &store, &alice).await == alices,
        "list_subject does not list exactly the subject's three records",
    );
    let bob_listing = c.ok(store.list_subject(&bob).await, "list_subject");
    let [only] = &bob_listing[..] else {
        c.fail(format_args!(
            "list_subject listed {bob_listing:?} for a subject with one record"
        ));
    };
    let expected = (bobs, bob_record.binding.as_deref(), bob_record.created);
    c.ensure(
        (only.key, Some(&only.binding), only.created) == expected
            && (only.last_active, only.expires) == (bob_record.last_active, bob_record.expires),
        format_args!("list_subject listed {only:?} for the record {bob_record:?}"),
    );
    c.ensure(
        listed(c, &store, &fresh_subject("nobody")).await.is_empty(),
        "list_subject of a subject with no records listed some",
    );
    c
}

/// A deleted record leaves the listing; an expired one is never listed; `apply` and `touch` keep
/// the binding and move the listed timestamps.
pub(super) async fn listing_follows<S: Store>(store: S) -> Contract {
    let c = Contract::store(FOLLOWS);
    let subject = fresh_subject("carol");
    let (kept, gone, stale) = (fresh_key(), fresh_key(), fresh_key());
    let record = bound_record(&subject, &[("user", json!("carol"))]);
    c.ok(store.create(&kept, &record).await, "create");
    c.ok(store.create(&gone, &record).await, "create");
    let mut expired = expired_record();
    expired.binding.clone_from(&record.binding);
    c.ok(store.create(&stale, &expired).await, "create");
    c.ensure(
        c.ok(store.delete(&gone).await, "delete"),
        "delete of a live bound record returned false",
    );
    c.ensure(
        listed(c, &store, &subject).await == BTreeSet::from([kept]),
        "after a delete, with an expired record beside it, list_subject does not list exactly \
         the one live record",
    );
    let later = now().saturating_add(HOUR);
    let mut changes = Changes::touch(now(), later);
    changes
        .updates
        .push(("user".to_owned(), Some(value(json!("carol 2")))));
    c.ensure(
        c.ok(store.apply(&kept, &changes).await, "apply"),
        "apply to a live bound record returned false",
    );
    let touched_until = later.saturating_add(HOUR);
    c.ensure(
        c.ok(store.touch(&kept, later, touched_until).await, "touch"),
        "touch of a live bound record returned false",
    );
    let found = c.ok(store.load(&kept).await, "load");
    c.ensure(
        found.as_ref().and_then(|r| r.binding.as_ref()) == record.binding.as_ref(),
        format_args!("apply and touch changed a record's binding: {found:?}"),
    );
    let listing = c.ok(store.list_subject(&subject).await, "list_subject");
    c.ensure(
        listing.len() == 1
            && listing[0].last_active == later
            && listing[0].expires == touched_until,
        format_args!("after apply and touch, list_subject listed {listing:?}"),
    );
    c
}

/// How many sessions of the subject change their ids while all are ended.
const MOVERS: usize = 12;

/// Through an [`Engine`] on the store: sessions bound to one subject, half of them changing their
/// ids (a login again, `cycle_id`) at the moment [`Subjects::end_all`] runs. None survives: every
/// id the clients were given opens nothing afterwards, and the subject lists nothing. Three rounds.
pub(super) async fn end_all_races_id_changes<S: Store, F: Fn() -> S>(make: &F) -> Contract {
    let c = Contract::store(END_ALL);
    if tokio::runtime::Handle::try_current().is_err() {
        c.fail("the check spawns Tokio tasks: call the kit from a Tokio runtime");
    }
    let engine = Arc::new(Engine::new(ParamState::default(), make()));
    let store = make();
    for _ in 0..3 {
        let subject = fresh_subject("dave");
        let mut ids = Vec::new();
        for n in 0..2 * MOVERS {
            ids.push(login(c, &engine, &subject, n).await);
        }
        let start = Arc::new(Barrier::new(MOVERS + 1));
        let movers: Vec<_> = ids[..MOVERS]
            .iter()
            .enumerate()
            .map(|(n, id)| {
                let (engine, start, id) = (engine.clone(), start.clone(), id.clone());
                let subject = subject.clone();
                tokio::spawn(async move {
                    start.wait().await;
                    // Even ones log in again, odd ones change their id only.
                    let again = (n % 2 == 0).then_some(subject.as_str());
                    cycle(c, &engine, &id, again).await
                })
            })
            .collect();
        start.wait().await;
        let subjects = Subjects::new(&store);
        c.ok(subjects.end_all(&subject).await, "Subjects::end_all");
        for mover in movers {
            match mover.await {
                Ok(Some(id)) => ids.push(id),
                Ok(None) => {}
                Err(error) => c.fail(format_args!("a task changing an id failed: {error}")),
            }
        }
        for id in &ids {
            let found = c.ok(store.load(&id.key()).await, "load");
            c.ensure(
                found.is_none(),
                "a session of the subject survived the end of all its sessions (its id was \
                 changing at that moment)",
            );
        }
        c.ensure(
            listed(c, &store, &subject).await.is_empty(),
            "the subject still lists sessions after all were ended",
        );
    }
    c
}

/// One request: with the id `id` (or none), binds the session to `subject`, writes `n`; the id
/// the session is stored under afterwards.
async fn login(c: Contract, engine: &Engine, subject: &str, n: usize) -> Id {
    let headers = HeaderMap::new();
    let session = engine.start(&RequestView::new(&headers, None));
    c.ok(session.insert("n", n).await, "Session::insert");
    c.ok(session.bind(subject).await, "Session::bind");
    c.ok(
        engine.commit(&session, StatusCode::OK).await,
        "Engine::commit",
    );
    let id = c.ok(session.id().await, "Session::id");
    match id {
        Some(id) => id,
        None => c.fail("a login stored no session"),
    }
}

/// One request on the session `id` that changes its id (binding it to `again` if given); the new
/// id, or `None` if the session was gone.
async fn cycle(c: Contract, engine: &Engine, id: &Id, again: Option<&str>) -> Option<Id> {
    let headers = HeaderMap::new();
    let query = format!("plack_session={}", id.as_str());
    let session = engine.start(&RequestView::new(&headers, Some(&query)));
    // Only a session that was still there changes its id (a login on a session already ended is
    // a new login, after the end).
    let before = c.ok(session.id().await, "Session::id")?;
    match again {
        Some(subject) => c.ok(session.bind(subject).await, "Session::bind"),
        None => session.cycle_id(),
    }
    c.ok(
        engine.commit(&session, StatusCode::OK).await,
        "Engine::commit",
    );
    let after = c.ok(session.id().await, "Session::id")?;
    (after != before).then_some(after)
}
