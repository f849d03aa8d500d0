//! Late store (`/stream`): a late commit that fails or hangs ends the body with an error.
//!
//! The `streaming` module covers late store that works; the `late` module, each adapter in
//! process, a late commit failing there. Here: over TCP, through the demo, failing and hanging, on
//! both adapters.

use std::time::Instant;

use http::StatusCode;
use http::header::SET_COOKIE;
use session_tests::{Fault, Framework, SetCookie, StoreOp};

use super::rig::{ANSWER_WITHIN, LIMIT, Rig, rig};

/// `/stream` with `apply` (the late commit) doing `fault`, for a new visitor (`None`) or a live
/// session: the head and its cookie come, the body ends with an error (not a clean end) within
/// about the limit, and `streamed` is not stored.
async fn late_commit_broken(rig: &Rig, fault: Fault, cookie: Option<&str>) {
    let what = format!("/stream, apply {fault:?}, cookie {:?}", cookie.is_some());
    rig.fault.set(StoreOp::Apply, fault);
    let before = rig.fault.calls().apply;
    let started = Instant::now();
    let mut response = rig
        .request("/stream", cookie)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: no response head: {e}"));
    assert_eq!(response.status(), StatusCode::OK, "{what}");
    let issued: Vec<SetCookie> = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| SetCookie::parse(value.to_str().ok()?))
        .filter(|c| c.name == "id" && !c.is_removal())
        .collect();
    let id = match cookie {
        Some(id) => id.to_owned(),
        None => match issued.as_slice() {
            [one] => one.value.clone(),
            other => panic!("{what}: expected one new id with the head, got {other:?}"),
        },
    };
    let mut body = Vec::new();
    let end = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break Ok(()),
            Err(error) => break Err(error),
        }
    };
    let took = started.elapsed();
    let body = String::from_utf8_lossy(&body).into_owned();
    let error = end.expect_err(&format!(
        "{what}: the body ended cleanly ({body:?}) though the late commit failed"
    ));
    assert!(
        !error.is_timeout(),
        "{what}: the client gave up after {took:?}: {error}"
    );
    assert!(
        "one\ntwo\nthree\n".starts_with(&body),
        "{what}: body {body:?}"
    );
    assert!(took < ANSWER_WITHIN, "{what}: ended only after {took:?}");
    if fault == Fault::Hang {
        assert!(took >= LIMIT, "{what}: ended in {took:?}, before the limit");
    }
    assert_eq!(rig.fault.calls().apply, before + 1, "{what}");
    rig.fault.set(StoreOp::Apply, Fault::Pass);
    assert_eq!(rig.value(&id, "streamed").await, None, "{what}");
    // The session itself is there: the head's commit worked.
    let reply = rig.get("/id", Some(&id)).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, id.as_str()),
        "{what}"
    );
}

/// The late commit failing: the body ends with an error, for a new visitor and a live session.
async fn late_commit_failing_breaks_the_body(framework: Framework) {
    let rig = rig(framework, Some(LIMIT)).await;
    let id = rig.session().await;
    late_commit_broken(&rig, Fault::Fail, None).await;
    late_commit_broken(&rig, Fault::Fail, Some(&id)).await;
    assert_eq!(rig.value(&id, "a").await.as_deref(), Some("1"));
    rig.still_serving().await;
}

/// The late commit hanging: the body ends with an error once the limit has passed.
async fn late_commit_hanging_breaks_the_body(framework: Framework) {
    let rig = rig(framework, Some(LIMIT)).await;
    let id = rig.session().await;
    late_commit_broken(&rig, Fault::Hang, None).await;
    late_commit_broken(&rig, Fault::Hang, Some(&id)).await;
    assert_eq!(rig.value(&id, "a").await.as_deref(), Some("1"));
    rig.still_serving().await;
}

session_tests::per_framework!(
    late_commit_failing_breaks_the_body,
    late_commit_hanging_breaks_the_body,
);
