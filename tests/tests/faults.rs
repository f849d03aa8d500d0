//! Fault injection (issue 9, hardening): the demo over a [`FaultStore`] whose operations fail,
//! hang or slow down on command, on both adapters, with a short store time limit.
//!
//! What DESIGN.md section 4 rule 6 asks, checked request by request: a store failure is a bare 500
//! (empty body, no internal detail in the body or any header, no `Set-Cookie` issuing or changing
//! an id); nothing the failed request did is half-written, and nothing the session held before is
//! lost; a store that hangs costs a request at most about the limit per call; routes that never
//! touch the session keep working, with no store call at all, while the store fails or hangs; a
//! late-store body whose late commit fails or hangs ends with an error, never a clean end. No panic
//! escapes anywhere (a panic hook counts them), every request gets a complete HTTP response, and the
//! server keeps serving afterwards.
//!
//! Timings are asserted with generous upper bounds only (speed is for benchmarks): a cut-off call
//! must take at least the limit and answer well before the client's own time-out.

use std::cell::Cell;
use std::sync::{Mutex, Once, PoisonError};
use std::time::{Duration, Instant};

use http::StatusCode;
use http::header::{COOKIE, SET_COOKIE};
use session_core::{ManualClock, MemoryStore};
use session_examples::demo::Args;
use session_tests::ids::unknown_id;
use session_tests::{
    FAULT_DETAIL, Fault, FaultStore, Framework, Reply, SetCookie, Setup, StoreOp, TestServer,
    counter_body,
};

/// The store time limit of every server here (`--store-timeout-ms 300`), unless a test runs without.
const LIMIT: Duration = Duration::from_millis(300);
/// The client's own time-out: a request stuck this long is a failure, not a stuck test.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// "About the limit", generously: CPU is shared with other test binaries.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------------
// Panics: a hook, installed once for this binary, records every panic outside a test's own thread
// (server tasks, actix-web workers, spawned clients). A test thread's own panics are assertion
// failures, which the test harness reports anyway.

static HOOK: Once = Once::new();
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

thread_local! {
    static TEST_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Installs the panic hook (once) and marks the calling thread as a test's own.
fn watch_panics() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !TEST_THREAD.with(Cell::get) {
                let thread = std::thread::current();
                let name = thread.name().unwrap_or("unnamed").to_owned();
                PANICS
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(format!("{name}: {info}"));
            }
            previous(info);
        }));
    });
    TEST_THREAD.with(|flag| flag.set(true));
}

/// No panic so far outside the tests' own threads (in any test of this binary: they share a process).
#[track_caller]
fn assert_no_panics() {
    let panics = PANICS.lock().unwrap_or_else(PoisonError::into_inner);
    assert!(panics.is_empty(), "panics escaped: {panics:#?}");
}

// ---------------------------------------------------------------------------------------------
// The rig: a demo server over a fault store, and a client with a time-out.

struct Rig {
    server: TestServer,
    fault: FaultStore,
    client: reqwest::Client,
}

/// A fault store (passing everything for now) under the demo's engine with `limit` on each store
/// call (`None`: `--store-timeout-ms 0`), served on `framework`.
async fn rig(framework: Framework, limit: Option<Duration>) -> Rig {
    rig_with(framework, limit, FaultStore::default(), None).await
}

async fn rig_with(
    framework: Framework,
    limit: Option<Duration>,
    fault: FaultStore,
    clock: Option<ManualClock>,
) -> Rig {
    watch_panics();
    let mut setup = Setup::new(Args {
        store_timeout: limit,
        ..Args::default()
    })
    .store(fault.clone());
    if let Some(clock) = clock {
        setup = setup.clock(clock);
    }
    let server = TestServer::demo(framework, &setup).await;
    Rig {
        server,
        fault,
        client: client(),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(CLIENT_TIMEOUT)
        .build()
        .expect("an HTTP client")
}

impl Rig {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr())
    }

    fn request(&self, path: &str, id: Option<&str>) -> reqwest::RequestBuilder {
        let request = self.client.get(self.url(path));
        match id {
            Some(id) => request.header(COOKIE, format!("id={id}")),
            None => request,
        }
    }

    /// `GET path` (with the session cookie `id=ID` if given), read whole, and how long it took. A
    /// client error is a test failure: the server dropped the connection, or never answered.
    async fn timed(&self, path: &str, id: Option<&str>) -> (Reply, Duration) {
        let started = Instant::now();
        let response = self
            .request(path, id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("no complete HTTP response to {path}: {e}"));
        let reply = Reply::read(response, self.server.cookie_name()).await;
        (reply, started.elapsed())
    }

    async fn get(&self, path: &str, id: Option<&str>) -> Reply {
        self.timed(path, id).await.0
    }

    /// A new session holding `a=1`, made while the store passes; its id.
    async fn session(&self) -> String {
        let reply = self.get("/set/a/1", None).await;
        reply.assert_ok();
        reply.expect_new_id()
    }

    /// `/get/KEY` on session `id`: `Some(value)`, or `None` for a 404.
    async fn value(&self, id: &str, key: &str) -> Option<String> {
        let reply = self.get(&format!("/get/{key}"), Some(id)).await;
        match reply.status {
            StatusCode::OK => Some(reply.body),
            StatusCode::NOT_FOUND => None,
            other => panic!("/get/{key} answered {other}: {:?}", reply.body),
        }
    }

    /// `/static`, without a cookie, with the live session `id`, and with an unknown id: 200,
    /// `static`, no `Set-Cookie`, and no store call.
    async fn assert_static_untouched(&self, id: &str, what: &str) {
        let before = self.fault.calls();
        let unknown = unknown_id();
        for cookie in [None, Some(id), Some(unknown.as_str())] {
            let (reply, took) = self.timed("/static", cookie).await;
            let what = format!("{what}, /static with cookie {:?}", cookie.is_some());
            assert_eq!(
                (reply.status, reply.body.as_str()),
                (StatusCode::OK, "static"),
                "{what}"
            );
            assert!(!reply.has_set_cookie(), "{what}: {:?}", reply.headers);
            assert!(took < ANSWER_WITHIN, "{what}: took {took:?}");
        }
        assert_eq!(
            self.fault.calls(),
            before,
            "{what}: /static called the store"
        );
    }

    /// The epilogue of every scenario: the store passes again, the server still serves untouched
    /// and session routes, and no panic escaped.
    async fn still_serving(&self) {
        self.fault.set_all(Fault::Pass);
        let reply = self.get("/static", None).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (StatusCode::OK, "static")
        );
        let reply = self.get("/", None).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        assert_eq!(reply.body, counter_body(0));
        let id = reply.expect_new_id();
        assert_eq!(self.get("/", Some(&id)).await.body, counter_body(1));
        assert_no_panics();
    }
}

/// A bare 500: empty body, no `Set-Cookie` (no id issued, changed or removed), and nothing of the
/// store's error anywhere in the response.
#[track_caller]
fn assert_bare_500(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{what}: {:?}",
        reply.body
    );
    assert!(
        reply.body.is_empty(),
        "{what}: the 500 has a body: {:?}",
        reply.body
    );
    assert!(
        !reply.has_set_cookie(),
        "{what}: a failed request sets a cookie: {:?}",
        reply.headers
    );
    assert_no_detail(reply, what);
}

/// Nothing in the body or any header (name or value) that comes from the store's error: its secret
/// detail, its address, the words `backend` or `store` (`Cache-Control: no-store` aside), a time-out.
#[track_caller]
fn assert_no_detail(reply: &Reply, what: &str) {
    assert!(FAULT_DETAIL.contains("hunter2") && FAULT_DETAIL.contains("10.0.0.9"));
    const LEAKS: [&str; 8] = [
        "hunter2",
        "password",
        "10.0.0.9",
        "backend",
        "store",
        "timed out",
        "did not finish",
        "failed",
    ];
    let mut texts = vec![("body".to_owned(), reply.body.to_ascii_lowercase())];
    for (name, value) in &reply.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).to_ascii_lowercase();
        let text = format!("{name}: {}", value.replace("no-store", ""));
        texts.push((name.as_str().to_owned(), text));
    }
    for (place, text) in texts {
        for leak in LEAKS {
            assert!(
                !text.contains(leak),
                "{what}: {leak:?} reached the client in the {place}: {text:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Failures.

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
    let fault = FaultStore::new(MemoryStore::default().with_clock(clock.clone()));
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

// ---------------------------------------------------------------------------------------------
// Hangs and slow stores.

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

// ---------------------------------------------------------------------------------------------
// Untouched routes.

/// With every operation failing, then hanging, `/static` answers 200 with no `Set-Cookie` and no
/// store call, with or without a session cookie; a session route meanwhile is a bare 500.
async fn untouched_routes_never_notice(framework: Framework) {
    let rig = rig(framework, Some(LIMIT)).await;
    let id = rig.session().await;
    for fault in [Fault::Fail, Fault::Hang] {
        rig.fault.set_all(fault);
        let what = format!("store {fault:?}");
        rig.assert_static_untouched(&id, &what).await;
        assert_bare_500(&rig.get("/get/a", Some(&id)).await, &what);
        rig.assert_static_untouched(&id, &what).await;
    }
    rig.still_serving().await;
}

// ---------------------------------------------------------------------------------------------
// Late store (`/stream`). tests/tests/streaming.rs covers late store that works; the adapters'
// own tests (crates/*/tests/late.rs) a late commit failing in-process. Here: over TCP, through the
// demo, failing and hanging, on both adapters.

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
    failing_load,
    failing_create,
    failing_apply,
    failing_delete_on_logout,
    failing_login,
    failing_touch,
    hanging_store_is_cut_off_at_the_limit,
    hang_without_a_limit_spares_untouched_routes,
    slow_store_within_the_limit_works,
    slow_store_past_the_limit_fails,
    untouched_routes_never_notice,
    late_commit_failing_breaks_the_body,
    late_commit_hanging_breaks_the_body,
    writes_that_land_then_fail,
);
