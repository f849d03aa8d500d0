//! Late store through session-tower's layer, under axum: the shared scenarios, then an empty body,
//! a body of known length over real HTTP, the layer around a whole router, and a body type late
//! store cannot wrap.

use std::convert::Infallible;
use std::error::Error;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::{COOKIE, SET_COOKIE};
use http::{Request, StatusCode};
use http_body::{Body as _, Frame};
use http_body_util::BodyExt;
use session_core::store::Store;
use session_state_cookie::CookieState;
use session_tower::{Session, SessionLayer};
use tower::ServiceExt;

use super::{Driver, TestStore};

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

async fn get_stored(session: Session) -> String {
    let streamed: Option<u64> = session.get("streamed").await.expect("get");
    let during: Option<u64> = session.get("during").await.expect("get");
    format!("{streamed:?} {during:?}")
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

fn app(store: TestStore) -> Router {
    app_with(store, Slot::default())
}

fn app_with(store: TestStore, slot: Slot) -> Router {
    let state = CookieState::builder()
        .secure(false)
        .build()
        .expect("cookie");
    Router::new()
        .route("/late", get(|s: Session| stream(s, true)))
        .route("/plain", get(|s: Session| stream(s, false)))
        .route("/empty", get(late_and_empty))
        .route("/get", get(get_stored))
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

/// The app of [`app_with`] as a [`Driver`], requests sent with `oneshot`.
struct OnTower {
    app: Router,
    store: TestStore,
}

impl OnTower {
    fn new(store: TestStore, slot: Slot) -> Self {
        OnTower {
            app: app_with(store.clone(), slot),
            store,
        }
    }
}

impl Driver for OnTower {
    type Response = Response;
    type Body = Body;

    const CHUNKS: &'static [&'static str] = &["one ", "two"];

    async fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        self.app
            .clone()
            .oneshot(request(path, cookie))
            .await
            .expect("infallible")
    }

    fn status(&self, response: &Response) -> u16 {
        response.status().as_u16()
    }

    fn set_cookie(&self, response: &Response) -> Option<String> {
        let set_cookie = response.headers().get(SET_COOKIE)?.to_str().expect("ascii");
        Some(set_cookie.split(';').next().expect("pair").to_owned())
    }

    fn body(&self, response: Response) -> Body {
        response.into_body()
    }

    fn assert_size_unchanged(&self, body: &Body) {
        assert_eq!(body.size_hint().exact(), None, "the size is not changed");
    }

    async fn next_chunk(&self, body: &mut Body) -> Option<Result<Bytes, Box<dyn Error>>> {
        let frame = body.frame().await?;
        Some(
            frame
                .map(|frame| frame.into_data().expect("data"))
                .map_err(Into::into),
        )
    }

    async fn read(&self, response: Response) -> Bytes {
        response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
    }

    fn fail_writes(&self) {
        self.store.failing.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn with_late_store_a_key_set_while_streaming_is_stored_before_the_end() {
    let driver = OnTower::new(TestStore::default(), Slot::default());
    super::with_late_store_a_key_set_while_streaming_is_stored_before_the_end(&driver).await;
}

#[tokio::test]
async fn without_late_store_a_key_set_while_streaming_is_not_stored() {
    let driver = OnTower::new(TestStore::default(), Slot::default());
    super::without_late_store_a_key_set_while_streaming_is_not_stored(&driver).await;
}

#[tokio::test]
async fn a_client_gone_midway_still_stores_what_was_set() {
    let driver = OnTower::new(TestStore::default(), Slot::default());
    super::a_client_gone_midway_still_stores_what_was_set(&driver).await;
}

#[tokio::test]
async fn a_failed_late_commit_ends_the_body_with_an_error() {
    let driver = OnTower::new(TestStore::default(), Slot::default());
    super::a_failed_late_commit_ends_the_body_with_an_error(&driver).await;
}

/// An empty late-store body: a change made after the head is stored when the body is read to its
/// end.
#[tokio::test]
async fn an_empty_late_store_body_still_commits() {
    let slot = Slot::default();
    let driver = OnTower::new(TestStore::default(), slot.clone());
    let response = driver.get("/empty", None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cookie = driver.set_cookie(&response).expect("a Set-Cookie");
    // A change after the head (from a task the handler left behind, say), then the empty body.
    let session = slot.lock().expect("slot").take().expect("the handler ran");
    session.insert("streamed", 2).await.expect("insert");
    response.into_body().collect().await.expect("body");
    assert_eq!(driver.stored(&cookie).await, "Some(2) None");
}

/// Over real HTTP (hyper through axum::serve): a late-store body of known length goes out chunked,
/// so that its end (which waits for the late commit) is what completes the response.
#[tokio::test]
async fn a_late_store_body_of_known_length_is_sent_chunked() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = app(TestStore::default());
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
    let app = SessionLayer::new(state, TestStore::default()).layer(router.clone());
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

    let store = TestStore::default();
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
