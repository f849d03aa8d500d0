//! Late store through the layer (lifecycle rule 8): a key set while the body streams is stored
//! when the body ends, before the end reaches the client; also when the client goes away midway.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::{COOKIE, SET_COOKIE};
use http::{Request, StatusCode};
use http_body::Frame;
use http_body_util::BodyExt;
use session_core::MemoryStore;
use session_core::store::{Changes, Key, Record, Store, StoreError};
use session_state_cookie::CookieState;
use session_tower::{Session, SessionLayer};
use tower::ServiceExt;

/// A body of two chunks that sets `streamed=1` in the session between them.
struct Streaming {
    session: Option<Session>,
    step: u8,
    writing: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl http_body::Body for Streaming {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.step {
            0 => {
                self.step = 1;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"one ")))))
            }
            1 => {
                if self.writing.is_none() {
                    let session = self.session.take().expect("session");
                    self.writing = Some(Box::pin(async move {
                        session.insert("streamed", 1).await.expect("insert");
                    }));
                }
                ready!(self.writing.as_mut().expect("writing").as_mut().poll(cx));
                self.step = 2;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"two")))))
            }
            _ => Poll::Ready(None),
        }
    }
}

async fn stream(session: Session, late: bool) -> Response {
    if late {
        session.late_store();
    }
    let body = Streaming {
        session: Some(session),
        step: 0,
        writing: None,
    };
    Body::new(body).into_response()
}

async fn get_streamed(session: Session) -> String {
    let n: Option<u64> = session.get("streamed").await.expect("get");
    format!("{n:?}")
}

/// Where `/empty` leaves its session, for the test to change after the head.
type Slot = Arc<std::sync::Mutex<Option<session_core::Session>>>;

async fn late_and_empty(
    axum::Extension(slot): axum::Extension<Slot>,
    session: Session,
) -> StatusCode {
    session.late_store();
    session.insert("empty", 1).await.expect("insert");
    *slot.lock().expect("slot") = Some((*session).clone());
    StatusCode::NO_CONTENT
}

/// A memory store whose writes fail once `failing` is set.
#[derive(Clone, Default)]
struct Switchable {
    inner: MemoryStore,
    failing: Arc<AtomicBool>,
}

impl Switchable {
    fn check(&self) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::backend(std::io::Error::other("store is down")));
        }
        Ok(())
    }
}

#[async_trait]
impl Store for Switchable {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.inner.load(key).await
    }
    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.create(key, record).await
    }
    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.save(key, record).await
    }
    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.delete(key).await
    }
    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.apply(key, changes).await
    }
    fn applies_atomically(&self) -> bool {
        true
    }
}

fn app(store: Switchable) -> Router {
    app_with(store, Slot::default())
}

fn app_with(store: Switchable, slot: Slot) -> Router {
    let state = CookieState::builder()
        .secure(false)
        .build()
        .expect("cookie");
    Router::new()
        .route("/late", get(|s: Session| stream(s, true)))
        .route("/plain", get(|s: Session| stream(s, false)))
        .route("/empty", get(late_and_empty))
        .route("/get", get(get_streamed))
        .route(
            "/sized",
            get(|session: Session| async move {
                session.late_store();
                "abc"
            }),
        )
        .route(
            "/declared",
            get(|session: Session| async move {
                session.late_store();
                ([(http::header::CONTENT_LENGTH, "3")], "abc")
            }),
        )
        .layer(SessionLayer::new(state, store))
        .layer(axum::Extension(slot))
}

fn request(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.body(Body::empty()).expect("request")
}

/// One request through `app`.
async fn send(app: &Router, path: &str, cookie: Option<&str>) -> Response {
    app.clone()
        .oneshot(request(path, cookie))
        .await
        .expect("infallible")
}

fn cookie_of(response: &Response) -> String {
    let set_cookie = response.headers()[SET_COOKIE].to_str().expect("ascii");
    set_cookie.split(';').next().expect("pair").to_owned()
}

async fn streamed(app: &Router, cookie: &str) -> String {
    let response = send(app, "/get", Some(cookie)).await;
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

#[tokio::test]
async fn with_late_store_a_key_set_while_streaming_is_stored_before_the_end() {
    let app = app(Switchable::default());
    // A new visitor: the head carries the cookie although nothing was set before it.
    let response = send(&app, "/late", None).await;
    let cookie = cookie_of(&response);
    let mut body = response.into_body();
    let first = body.frame().await.expect("a frame").expect("ok");
    assert_eq!(first.into_data().expect("data"), "one ");
    let second = body.frame().await.expect("a frame").expect("ok");
    assert_eq!(second.into_data().expect("data"), "two");
    // The key was set with the second chunk; the body has not ended yet: not stored.
    assert_eq!(streamed(&app, &cookie).await, "None");
    // The end of the body is reported only once the late commit has stored it.
    assert!(body.frame().await.is_none());
    assert_eq!(streamed(&app, &cookie).await, "Some(1)");
}

#[tokio::test]
async fn without_late_store_a_key_set_while_streaming_is_not_stored() {
    let app = app(Switchable::default());
    let response = send(&app, "/late", None).await;
    let cookie = cookie_of(&response);
    response.into_body().collect().await.expect("body");
    let response = send(&app, "/plain", Some(&cookie)).await;
    assert!(
        response.headers().get(SET_COOKIE).is_none(),
        "nothing changed before the head"
    );
    let text = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(text, "one two");
    // streamed=1 was already stored by the first request; use a fresh session to see the loss.
    let response = send(&app, "/empty", None).await;
    let fresh = cookie_of(&response);
    response.into_body().collect().await.expect("body");
    let response = send(&app, "/plain", Some(&fresh)).await;
    response.into_body().collect().await.expect("body");
    assert_eq!(streamed(&app, &fresh).await, "None");
}

#[tokio::test]
async fn a_client_gone_midway_still_stores_what_was_set() {
    let app = app(Switchable::default());
    let response = send(&app, "/late", None).await;
    let cookie = cookie_of(&response);
    let mut body = response.into_body();
    body.frame().await.expect("a frame").expect("ok");
    body.frame().await.expect("a frame").expect("ok");
    drop(body); // the client goes away before the end
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while streamed(&app, &cookie).await != "Some(1)" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the late commit never ran"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_failed_late_commit_ends_the_body_with_an_error() {
    let store = Switchable::default();
    let app = app(store.clone());
    let response = send(&app, "/late", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    body.frame().await.expect("a frame").expect("ok");
    store.failing.store(true, Ordering::SeqCst);
    body.frame().await.expect("a frame").expect("ok");
    let end = body.frame().await.expect("an error, not a clean end");
    assert!(end.is_err());
}

#[tokio::test]
async fn an_empty_late_store_body_still_commits() {
    let slot = Slot::default();
    let app = app_with(Switchable::default(), slot.clone());
    let response = send(&app, "/empty", None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cookie = cookie_of(&response);
    // A change after the head (from a task the handler left behind, say), then the empty body.
    let session = slot.lock().expect("slot").take().expect("the handler ran");
    session.insert("streamed", 2).await.expect("insert");
    response.into_body().collect().await.expect("body");
    assert_eq!(streamed(&app, &cookie).await, "Some(2)");
}

/// Over real HTTP (hyper through axum::serve): a late-store body of known length goes out chunked,
/// so that its end (which waits for the late commit) is what completes the response.
#[tokio::test]
async fn a_late_store_body_of_known_length_is_sent_chunked() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = app(Switchable::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    // Also when the handler declared the length itself.
    for path in ["/sized", "/declared"] {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        tcp.write_all(request.as_bytes()).await.expect("write");
        let mut response = String::new();
        tcp.read_to_string(&mut response).await.expect("read");
        let lower = response.to_ascii_lowercase();
        assert!(
            lower.contains("transfer-encoding: chunked"),
            "{path}: {response}"
        );
        assert!(!lower.contains("content-length"), "{path}: {response}");
        assert!(
            response.ends_with("3\r\nabc\r\n0\r\n\r\n"),
            "{path}: {response}"
        );
    }
}

/// The layer around the whole router keeps the router's body type, so `axum::serve` takes the
/// result as it is; late store works there too.
#[tokio::test]
async fn around_the_router_it_serves_with_axum_serve_and_late_store_works() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tower::Layer;

    let state = CookieState::builder()
        .secure(false)
        .build()
        .expect("cookie");
    let router = Router::new().route("/late", get(|s: Session| stream(s, true)));
    let app = SessionLayer::new(state, Switchable::default()).layer(router.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, tower::make::Shared::new(app)).await });
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(b"GET /late HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.to_ascii_lowercase().contains("set-cookie: id="),
        "{response}"
    );
    assert!(
        response.contains("one ") && response.contains("two"),
        "{response}"
    );
}

/// A body type late store cannot wrap (here `String`): the response goes out as it is, nothing
/// panics, and a change made afterwards is not stored (it is reported).
#[tokio::test]
async fn a_body_type_late_store_cannot_follow_is_answered_as_it_is() {
    use session_tower::SessionExt;
    use tower::{Layer, ServiceExt, service_fn};

    let store = Switchable::default();
    let slot = Slot::default();
    let handler_slot = slot.clone();
    let service = service_fn(move |request: Request<Body>| {
        let slot = handler_slot.clone();
        async move {
            let session = request.session().expect("the layer is there");
            session.late_store();
            session.insert("before", 1).await.expect("insert");
            *slot.lock().expect("slot") = Some(session.clone());
            Ok::<_, Infallible>(http::Response::new(String::from("text")))
        }
    });
    let state = CookieState::builder()
        .secure(false)
        .build()
        .expect("cookie");
    let service = SessionLayer::new(state, store.clone()).layer(service);
    let response = service
        .oneshot(request("/", None))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get(http::header::SET_COOKIE).is_some());
    assert_eq!(response.into_body(), "text");
    let session = slot.lock().expect("slot").take().expect("the handler ran");
    session.insert("after", 1).await.expect("insert");
    let id = session.id().await.expect("id").expect("stored at the head");
    let record = store
        .inner
        .load(&id.key())
        .await
        .expect("load")
        .expect("live");
    assert!(record.data.contains_key("before"));
    assert!(!record.data.contains_key("after"));
}
