//! Store failures: a failing operation is a bare 500; nothing is half-written, nothing is lost.

use std::time::Duration;

use session_core::MemoryStore;
use session_core::store::ManualClock;
use session_tests::{Fault, FaultStore, Framework, StoreOp};

use super::rig::{LIMIT, assert_bare_500, rig, rig_with};

/// A failing `load` (the handler's first read): a bare 500; the session is intact afterwards, and
/// the failed counter request wrote nothing.
async fn failing_load(framework: Framework) {
    let rig = rig(framework, Some(LIMIT)).await;
    let id = rig.session().await;
    rig.fault.set(StoreOp::Load, Fault::Fail);
    let before = rig.fault.calls();
    for path in ["/get/a", "/", "/set/a/2", "/login"] {
        assert_bare_500(
            &rig.get(path, Some(&id)).await,
            &format!("{path}, load failing"),
        );
    }
    assert_eq!(
        rig.fault.calls().load,
        before.load + 4,
        "each request loaded"
    );
    assert_eq!(
        rig.fault.calls().total(),
        before.total() + 4,
        "nothing but the failed loads"
    );
    rig.fault.set(StoreOp::Load, Fault::Pass);
    assert_eq!(rig.value(&id, "a").await.as_deref(), Some("1"));
    assert_eq!(rig.value(&id, "counter").await, None);
    assert_eq!(rig.value(&id, "user").await, None);
    rig.still_serving().await;
}

/// A failing `create` (the first write of a new session, and `/id`'s save): a bare 500, no cookie,
/// nothing stored.
async fn failing_create(framework: Framework) {
    let rig = rig(framework, Some(LIMIT)).await;
    rig.fault.set(StoreOp::Create, Fault::Fail);
    for path in ["/set/a/1", "/", "/id"] {
        assert_bare_500(
            &rig.get(path, None).await,
            &format!("{path}, create failing"),
        );
    }
    assert_eq!(rig.fault.calls().create, 3);
    assert_eq!(rig.fault.stored(), 0, "a failed create stored something");
    rig.fault.set(StoreOp::Create, Fault::Pass);
    let id = rig.session().await;
    assert_eq!(rig.value(&id, "a").await.as_deref(), Some("1"));
    rig.still_serving().await;
}

/// A failing `apply` (a write to an existing session): a bare 500, no cookie; the session holds
/// what it held before, none of the failed request's keys.
async fn failing_apply(framework: Framework) {
    let rig = rig(framework, Some(LIMIT)).await;
    let id = rig.session().await;
    rig.fault.set(StoreOp::Apply, Fault::Fail);
    for path in ["/set/a/2", "/set/b/1", "/"] {
        assert_bare_500(
            &rig.get(path, Some(&id)).await,
            &format!("{path}, apply failing"),
        );
    }
    assert_eq!(rig.fault.calls().apply, 3);
    rig.fault.set(StoreOp::Apply, Fault::Pass);
    assert_eq!(rig.value(&id, "a").await.as_deref(), Some("1"));
    assert_eq!(rig.value(&id, "b").await, None);
    assert_eq!(rig.value(&id, "counter").await, None);
    assert_eq!(rig.fault.stored(), 1);
    rig.still_serving().await;
}

/// A failing `delete` on `/logout`: a bare 500 with no removal cookie; the session is still there
/// (the logout can be retried), and a retry once the store is back ends it.
async fn failing_delete_on_logout(framework: Framework) {
    let rig = rig(framework, Some(LIMIT)).await;
    let id = rig.session().await;
    rig.fault.set(StoreOp::Delete, Fault::Fail);
    assert_bare_500(
        &rig.get("/logout", Some(&id)).await,
        "/logout, delete failing",
    );
    assert_eq!(rig.fault.calls().delete, 1);
    rig.fault.set(StoreOp::Delete, Fault::Pass);
    assert_eq!(rig.value(&id, "a").await.as_deref(), Some("1"));
    let reply = rig.get("/logout", Some(&id)).await;
    reply.assert_ok();
    assert!(
        reply.session_cookie().is_some_and(|c| c.is_removal()),
        "{:?}",
        reply.headers
    );
    assert_eq!(rig.value(&id, "a").await, None);
    rig.still_serving().await;
}

/// `/login` (cycle id) with its `create` or its `delete` of the old record failing: a bare 500
/// with no new id; the old session still holds its data, without the login's `user`.
async fn failing_login(framework: Framework) {
    let rig = rig(framework, Some(LIMIT)).await;
    for (op, fault) in [
        (StoreOp::Create, Fault::Fail),
        (StoreOp::Delete, Fault::FailOnce),
        (StoreOp::Delete, Fault::Fail),
    ] {
        let id = rig.session().await;
        let before = rig.fault.calls();
        rig.fault.set(op, fault);
        let what = format!("/login, {op:?} {fault:?}");
        let stored = rig.fault.stored();
        assert_bare_500(&rig.get("/login", Some(&id)).await, &what);
        // A failed create stores nothing. When the delete of the old record fails, the new copy
        // (created first, so that a failure loses nothing) is under an id nobody was given: the
        // engine deletes it again, and only if that delete fails too is it left to expire.
        let orphans = rig.fault.stored() - stored;
        let expected = usize::from(fault == Fault::Fail && op == StoreOp::Delete);
        assert_eq!(orphans, expected, "{what}: records left behind");
        let deletes = usize::from(op == StoreOp::Delete);
        assert_eq!(
            rig.fault.calls().of(op),
            before.of(op) + 1 + deletes,
            "{what}"
        );
        rig.fault.set(op, Fault::Pass);
        assert_eq!(rig.value(&id, "a").await.as_deref(), Some("1"), "{what}");
        assert_eq!(rig.value(&id, "user").await, None, "{what}");
        // And the login works once the store is back.
        let reply = rig.get("/login", Some(&id)).await;
        reply.assert_ok();
        let new = reply.expect_new_id();
        assert_ne!(new, id);
        assert_eq!(rig.value(&new, "a").await.as_deref(), Some("1"), "{what}");
        assert_eq!(
            rig.value(&new, "user").await.as_deref(),
            Some("demo-user"),
            "{what}"
        );
        assert_eq!(
            rig.value(&id, "a").await,
            None,
            "{what}: the old id lives on"
        );
    }
    rig.still_serving().await;
}

/// Writes that land in the store although it reports a failure (a time-out after the backend
/// applied them): the client gets a bare 500 all the same, and the stored session is what the
/// write made it. A write to an existing session keeps the written value; a login whose delete of
/// the old record lands then fails leaves neither id usable (its new copy is deleted again, as
/// after a logout elsewhere): the documented "logout wins".
async fn writes_that_land_then_fail(framework: Framework) {
    let rig = rig(framework, Some(LIMIT)).await;
    let id = rig.session().await;
    rig.fault.set(StoreOp::Apply, Fault::LandThenFail);
    assert_bare_500(
        &rig.get("/set/a/2", Some(&id)).await,
        "/set, apply lands then fails",
    );
    rig.fault.set(StoreOp::Apply, Fault::Pass);
    assert_eq!(
        rig.value(&id, "a").await.as_deref(),
        Some("2"),
        "the write landed"
    );

    let stored = rig.fault.stored();
    rig.fault.set(StoreOp::Delete, Fault::LandThenFail);
    let what = "/login, delete lands then fails";
    let reply = rig.get("/login", Some(&id)).await;
    assert_bare_500(&reply, what);
    rig.fault.set(StoreOp::Delete, Fault::Pass);
    assert_eq!(
        rig.value(&id, "a").await,
        None,
        "{what}: the old id lives on"
    );
    assert_eq!(
        rig.fault.stored(),
        stored - 1,
        "{what}: the new copy was left behind"
    );
    rig.still_serving().await;
}

/// A failing `touch` (a read after the touch interval, on a manual clock): a bare 500; the session
/// is intact and is touched once the store is back.
async fn failing_touch(framework: Framework) {
    let clock = ManualClock::starting_now();
    let fault = FaultStore::new(MemoryStore::default().clock(clock.clone()));
    let rig = rig_with(framework, Some(LIMIT), fault, Some(clock.clone())).await;
    let id = rig.session().await;
    clock.advance(Duration::from_secs(120));
    rig.fault.set(StoreOp::Touch, Fault::Fail);
    assert_bare_500(&rig.get("/get/a", Some(&id)).await, "/get/a, touch failing");
    assert_eq!(rig.fault.calls().touch, 1);
    rig.fault.set(StoreOp::Touch, Fault::Pass);
    assert_eq!(rig.value(&id, "a").await.as_deref(), Some("1"));
    assert_eq!(rig.fault.calls().touch, 2, "touched once the store is back");
    rig.still_serving().await;
}

session_tests::per_framework!(
    failing_load,
    failing_create,
    failing_apply,
    failing_delete_on_logout,
    failing_login,
    failing_touch,
    writes_that_land_then_fail,
);
