//! Hangs and slow stores: each call is cut off at the limit, or held forever with no limit.

use std::time::{Duration, Instant};

use session_tests::{Fault, Framework, StoreOp};

use super::rig::{ANSWER_WITHIN, LIMIT, assert_bare_500, rig};

/// A store that hangs on `load`, on `create`, on `apply`: each request answers a bare 500 once the
/// limit has passed (at least the limit, well before the client gives up); the session is intact.
async fn hanging_store_is_cut_off_at_the_limit(framework: Framework) {
    let rig = rig(framework, Some(LIMIT)).await;
    let id = rig.session().await;
    let cases = [
        (StoreOp::Load, "/get/a", Some(id.as_str())),
        (StoreOp::Create, "/set/b/1", None),
        (StoreOp::Apply, "/set/a/2", Some(id.as_str())),
    ];
    for (op, path, cookie) in cases {
        let what = format!("{path}, {op:?} hanging");
        let before = rig.fault.calls().of(op);
        rig.fault.set(op, Fault::Hang);
        let (reply, took) = rig.timed(path, cookie).await;
        assert_bare_500(&reply, &what);
        assert!(
            took >= LIMIT,
            "{what}: answered in {took:?}, before the limit"
        );
        assert!(took < ANSWER_WITHIN, "{what}: answered only after {took:?}");
        assert_eq!(rig.fault.calls().of(op), before + 1, "{what}");
        rig.fault.set(op, Fault::Pass);
        assert_eq!(rig.value(&id, "a").await.as_deref(), Some("1"), "{what}");
    }
    assert_eq!(rig.fault.stored(), 1, "the cut-off create stored nothing");
    rig.still_serving().await;
}

/// With no limit (`--store-timeout-ms 0`) a hanging store holds a session request forever; a
/// request to `/static` meanwhile, with that very session's cookie too, still answers at once.
async fn hang_without_a_limit_spares_untouched_routes(framework: Framework) {
    let rig = rig(framework, None).await;
    let id = rig.session().await;
    rig.fault.set_all(Fault::Hang);
    let before = rig.fault.calls().load;
    let stuck = tokio::spawn(rig.request("/get/a", Some(&id)).send());
    let deadline = Instant::now() + ANSWER_WITHIN;
    while rig.fault.calls().load == before {
        assert!(
            Instant::now() < deadline,
            "the session request never loaded"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    rig.assert_static_untouched(&id, "a session request stuck")
        .await;
    assert!(
        !stuck.is_finished(),
        "the session request answered with no limit and a hanging store"
    );
    stuck.abort();
    assert!(stuck.await.is_err_and(|e| e.is_cancelled()));
    rig.still_serving().await;
}

/// Every call 100 ms slow under a 300 ms limit: everything works, even a login that makes four
/// store calls in a row (the limit is per call).
async fn slow_store_within_the_limit_works(framework: Framework) {
    let rig = rig(framework, Some(LIMIT)).await;
    rig.fault.set_all(Fault::Slow(Duration::from_millis(100)));
    let id = rig.session().await;
    assert_eq!(rig.value(&id, "a").await.as_deref(), Some("1"));
    rig.get("/set/a/2", Some(&id)).await.assert_ok();
    assert_eq!(rig.value(&id, "a").await.as_deref(), Some("2"));
    let (reply, took) = rig.timed("/login", Some(&id)).await;
    reply.assert_ok();
    assert!(took >= LIMIT, "/login made several slow calls, in {took:?}");
    let new = reply.expect_new_id();
    assert_eq!(rig.value(&new, "user").await.as_deref(), Some("demo-user"));
    assert_eq!(rig.value(&new, "a").await.as_deref(), Some("2"));
    rig.still_serving().await;
}

/// Every call 600 ms slow under a 300 ms limit: a bare 500 after the limit, and the cut-off write
/// never lands.
async fn slow_store_past_the_limit_fails(framework: Framework) {
    let rig = rig(framework, Some(LIMIT)).await;
    let id = rig.session().await;
    rig.fault.set_all(Fault::Slow(Duration::from_millis(600)));
    for (path, cookie) in [
        ("/set/b/1", None),
        ("/get/a", Some(id.as_str())),
        ("/set/a/2", Some(id.as_str())),
    ] {
        let what = format!("{path}, store 600 ms slow");
        let (reply, took) = rig.timed(path, cookie).await;
        assert_bare_500(&reply, &what);
        assert!(took >= LIMIT, "{what}: answered in {took:?}");
        assert!(took < ANSWER_WITHIN, "{what}: answered only after {took:?}");
    }
    rig.fault.set_all(Fault::Pass);
    // Past the slow calls' own end: a write that was cut off would have landed by now.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(rig.value(&id, "a").await.as_deref(), Some("1"));
    assert_eq!(rig.fault.stored(), 1);
    rig.still_serving().await;
}

session_tests::per_framework!(
    hanging_store_is_cut_off_at_the_limit,
    hang_without_a_limit_spares_untouched_routes,
    slow_store_within_the_limit_works,
    slow_store_past_the_limit_fails,
);
