//! The rig: a demo server over a fault store, a client with a time-out, and shared assertions.

use std::time::{Duration, Instant};

use http::StatusCode;
use http::header::COOKIE;
use session_core::store::ManualClock;
use session_examples::demo::Args;
use session_tests::ids::unknown_id;
use session_tests::{
    FAULT_DETAIL, Fault, FaultStore, Framework, Reply, Setup, TestServer, counter_body,
};

use super::{assert_no_panics, watch_panics};

/// The store time limit of every server here (`--store-timeout-ms 300`), unless a test runs without.
pub(crate) const LIMIT: Duration = Duration::from_millis(300);
/// The client's own time-out: a request stuck this long is a failure, not a stuck test.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// "About the limit", generously: CPU is shared with other test binaries.
pub(crate) const ANSWER_WITHIN: Duration = Duration::from_secs(5);

pub(crate) struct Rig {
    server: TestServer,
    pub(crate) fault: FaultStore,
    client: reqwest::Client,
}

/// A fault store (passing everything for now) under the demo's engine with `limit` on each store
/// call (`None`: `--store-timeout-ms 0`), served on `framework`.
pub(crate) async fn rig(framework: Framework, limit: Option<Duration>) -> Rig {
    rig_with(framework, limit, FaultStore::default(), None).await
}

pub(crate) async fn rig_with(
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

    pub(crate) fn request(&self, path: &str, id: Option<&str>) -> reqwest::RequestBuilder {
        let request = self.client.get(self.url(path));
        match id {
            Some(id) => request.header(COOKIE, format!("id={id}")),
            None => request,
        }
    }

    /// `GET path` (with the session cookie `id=ID` if given), read whole, and how long it took. A
    /// client error is a test failure: the server dropped the connection, or never answered.
    pub(crate) async fn timed(&self, path: &str, id: Option<&str>) -> (Reply, Duration) {
        let started = Instant::now();
        let response = self
            .request(path, id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("no complete HTTP response to {path}: {e}"));
        let reply = Reply::read(response, self.server.cookie_name()).await;
        (reply, started.elapsed())
    }

    pub(crate) async fn get(&self, path: &str, id: Option<&str>) -> Reply {
        self.timed(path, id).await.0
    }

    /// A new session holding `a=1`, made while the store passes; its id.
    pub(crate) async fn session(&self) -> String {
        let reply = self.get("/set/a/1", None).await;
        reply.assert_ok();
        reply.expect_new_id()
    }

    /// `/get/KEY` on session `id`: `Some(value)`, or `None` for a 404.
    pub(crate) async fn value(&self, id: &str, key: &str) -> Option<String> {
        let reply = self.get(&format!("/get/{key}"), Some(id)).await;
        match reply.status {
            StatusCode::OK => Some(reply.body),
            StatusCode::NOT_FOUND => None,
            other => panic!("/get/{key} answered {other}: {:?}", reply.body),
        }
    }

    /// `/static`, without a cookie, with the live session `id`, and with an unknown id: 200,
    /// `static`, no `Set-Cookie`, and no store call.
    pub(crate) async fn assert_static_untouched(&self, id: &str, what: &str) {
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
    pub(crate) async fn still_serving(&self) {
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
pub(crate) fn assert_bare_500(reply: &Reply, what: &str) {
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
