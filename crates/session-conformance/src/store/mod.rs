//! The [`Store`] contract checks: [`check_store`] and [`check_store_with`].

mod basic;
mod changes;
mod concurrent;
mod expiry;
mod nothing;
mod subjects;

use serde_json::json;
use session_core::store::{Changes, Key, Store};

use crate::check::Contract;
use crate::fixtures::{HOUR, live_record, now, value};
use crate::{Expect, Report};

/// Checks every [`Store`] contract against stores built by `make`.
///
/// Panics at the first broken one with a message naming it.
///
/// The same as [`check_store_with`]`(`[`Expect::Persistent`]`, make)`: for every store meant to
/// keep sessions. See [`check_store_with`] for what is checked and what the store must allow.
///
/// ```
/// use session_conformance::check_store;
/// use session_core::MemoryStore;
///
/// # tokio::runtime::Runtime::new().expect("runtime").block_on(async {
/// let report = check_store(MemoryStore::default).await;
/// assert!(report.skipped().is_empty(), "MemoryStore claims atomic applies");
/// # });
/// ```
pub async fn check_store<S: Store, F: Fn() -> S>(make: F) -> Report {
    check_store_with(Expect::Persistent, make).await
}

/// Checks the [`Store`] contracts that fit `expect` against stores built by `make`.
///
/// Every check calls `make` for a store of its own and uses fresh random keys, so `make` may as
/// well return clones of one store sharing a backend (a Redis connection, a directory) that other
/// data lives in. The "log out everywhere" check calls `make` twice and needs both stores to see
/// the same sessions: for a store that claims [`Store::lists_subjects`], `make` must return
/// handles on one backend, not independent stores. The kit writes a few dozen small records and leaves some of them behind; all
/// of them expire within an hour (or two, for the concurrent check).
///
/// # What is checked
///
/// With [`Expect::Persistent`], the contracts documented on [`Store`]:
///
/// - `load` of a key never stored is `None`;
/// - `create` then `load` returns the record exactly: every value (numbers at the limits of
///   their types, strings with escapes and non-ASCII text, nested JSON, a 4 KiB string, unicode
///   keys), the three timestamps to the millisecond, and the session's own lifetime (the values
///   given share one text, as a store that reads a pack of them makes them:
///   [`SharedText`](session_core::store::SharedText));
/// - `create` on a key holding a live record returns `false` and does not overwrite it;
/// - `save` replaces a live record; `save` of an absent key returns `false` and creates nothing;
/// - `delete` returns `true` for a live record, then `false`;
/// - after `delete`, `save`, `apply` and `touch` return `false` and nothing comes back;
/// - a record that expired an hour ago is never loaded, `save`, `apply`, `touch` and `delete`
///   treat it as absent, and `create` over it succeeds;
/// - `apply` sets, replaces and removes single keys, honours `clear`, sets and resets the
///   session's own lifetime, and moves `last_active` and `expires`: the stored result equals
///   [`Changes::apply_to`](session_core::store::Changes::apply_to) on the record;
/// - `touch` moves `last_active` and `expires` and changes nothing else;
/// - **only if the store claims [`Store::applies_atomically`]**: 50 Tokio tasks, released at
///   once, each `apply` a change setting a different key of one session (three rounds); every
///   write must be there afterwards. A store that does not claim atomicity skips this check, and
///   the returned [`Report`] lists it under [`skipped`](Report::skipped): nothing is skipped
///   silently;
/// - **only if the store claims [`Store::lists_subjects`]** (else reported as skipped): bound
///   records are listed under their subject only, with their binding and timestamps, and
///   round-trip through `load`; a deleted or expired record is not listed; `apply` and `touch`
///   keep the binding and move the listed timestamps; and, through an [`Engine`](session_core::Engine) on the store
///   (`make` is called for it) with 24 sessions bound to one subject, half of them changing their
///   ids (a new login, `cycle_id`) at the moment
///   [`Subjects::end_all`](session_core::subject::Subjects::end_all) runs, no session of the
///   subject survives (three rounds).
///
/// With [`Expect::KeepsNothing`] (a store such as `NullStore`): `load` of an unknown key is
/// `None`, `create` returns `true` every time (so the engine issues an id), nothing created is
/// ever loaded, and `save`, `apply`, `touch` and `delete` return `false`. The concurrent check is
/// reported as skipped.
///
/// With [`Expect::ClientSide`] (sessions kept by the client, as a sealed cookie keeps them) nothing
/// is checked and `make` is never called: a client-side store implements
/// [`ClientStore`](session_core::store::ClientStore), not [`Store`], so every contract above is listed
/// under [`Report::skipped`] with the reason (see the crate docs). Run
/// [`plack_scenario`](crate::plack_scenario) and [`plack_counter`](crate::plack_counter) with
/// [`Expect::ClientSide`] instead.
///
/// # What the store must allow
///
/// - Time: the kit's timestamps come from the system clock, so the store must judge expiry by it
///   too (a store built on a `ManualClock` would see the kit's expired records as live).
/// - Already expired records: the kit stores them with `create` (the engine may do the same when
///   a session's absolute lifetime runs out during a request); the store must accept them, and may
///   drop them at once.
/// - Runtime: call the kit from inside a Tokio runtime; it starts none of its own. The concurrent
///   check spawns tasks on the caller's runtime: use `#[tokio::test(flavor = "multi_thread")]` so
///   that the writes run in parallel.
///
/// # Panics
///
/// At the first broken contract, with a message such as
/// `session-conformance: store contract "create never overwrites a live record" failed: ...`;
/// a store error is reported with its chain of causes.
pub async fn check_store_with<S: Store, F: Fn() -> S>(expect: Expect, make: F) -> Report {
    let mut report = Report::default();
    match expect {
        Expect::Persistent => {
            report.pass(basic::load_unknown(make()).await);
            report.pass(basic::round_trip(make()).await);
            report.pass(basic::create_never_overwrites(make()).await);
            report.pass(basic::save_replaces(make()).await);
            report.pass(basic::save_needs_a_record(make()).await);
            report.pass(basic::delete_reports(make()).await);
            report.pass(basic::no_resurrection(make()).await);
            report.pass(expiry::never_loaded(make()).await);
            report.pass(expiry::not_updated(make()).await);
            report.pass(expiry::create_replaces_expired(make()).await);
            report.pass(changes::apply_keys(make()).await);
            report.pass(changes::apply_clear(make()).await);
            report.pass(changes::apply_lifetime(make()).await);
            report.pass(changes::touch(make()).await);
            let store = make();
            if store.applies_atomically() {
                report.pass(concurrent::applies(store).await);
            } else {
                report.skip(
                    concurrent::NAME,
                    "the store does not claim applies_atomically()",
                );
            }
            if make().lists_subjects() {
                report.pass(subjects::listed_by_subject(make()).await);
                report.pass(subjects::listing_follows(make()).await);
                report.pass(subjects::end_all_races_id_changes(&make).await);
            } else {
                for name in subjects::NAMES {
                    report.skip(name, "the store does not claim lists_subjects()");
                }
            }
        }
        Expect::ClientSide => {
            for name in PERSISTENT_CONTRACTS.into_iter().chain(subjects::NAMES) {
                report.skip(name, client_side_reason(name));
            }
        }
        Expect::KeepsNothing => {
            report.pass(basic::load_unknown(make()).await);
            report.pass(nothing::create_pretends(make()).await);
            report.pass(nothing::nothing_loaded(make()).await);
            report.pass(nothing::nothing_updated(make()).await);
            for name in std::iter::once(concurrent::NAME).chain(subjects::NAMES) {
                report.skip(name, "the store keeps nothing (Expect::KeepsNothing)");
            }
        }
    }
    report
}

/// The names of the contracts [`check_store_with`] checks with [`Expect::Persistent`], in order.
const PERSISTENT_CONTRACTS: [&str; 15] = [
    "load of an unknown key is None",
    "create then load round-trips the record",
    "create never overwrites a live record",
    "save replaces a live record",
    "save of an absent key creates nothing",
    "delete reports whether a live record was removed",
    "no write brings a deleted session back",
    "an expired record is never loaded",
    "an expired record is treated as absent",
    "create replaces an expired record",
    "apply changes keys one by one",
    "apply with clear drops every key first",
    "apply sets and resets the session's own lifetime",
    "touch extends expiry without changing values",
    concurrent::NAME,
];

/// Why the contract `name` does not apply to a client-side store ([`Expect::ClientSide`]).
fn client_side_reason(name: &str) -> &'static str {
    match name {
        "create never overwrites a live record" => {
            "client-side store: no server-side records to collide with (create collisions do not apply)"
        }
        "no write brings a deleted session back" => {
            "client-side store: no server-side revocation (a copy of a removed cookie opens until its \
             sealed expiry)"
        }
        concurrent::NAME => {
            "client-side store: concurrent requests do not merge key-level writes (the client keeps \
             the last response's cookie)"
        }
        _ => "client-side store: it does not implement the Store trait these contracts test",
    }
}

/// Checks that `save`, `apply` and `touch` all refuse `key`, which names no live record.
///
/// `why` says why ("after delete", "to an expired record", ...); nothing may be loaded afterwards.
async fn refuses_updates<S: Store>(c: Contract, store: &S, key: &Key, why: &str) {
    let record = live_record(&[("user", json!("revived"))]);
    let saved = c.ok(store.save(key, &record).await, "save");
    c.ensure(!saved, format!("save {why} returned true"));
    let mut changes = Changes::touch(now(), now().saturating_add(HOUR));
    changes
        .updates
        .push(("user".to_owned(), Some(value(json!("revived")))));
    let applied = c.ok(store.apply(key, &changes).await, "apply");
    c.ensure(!applied, format!("apply {why} returned true"));
    let touched = c.ok(
        store.touch(key, changes.last_active, changes.expires).await,
        "touch",
    );
    c.ensure(
        !touched,
        format!("touch {why} returned true (it would bring the session back)"),
    );
    let found = c.ok(store.load(key).await, "load");
    c.expect_none(found, &format!("after save, apply and touch {why}"));
}
