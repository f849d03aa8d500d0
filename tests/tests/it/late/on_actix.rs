//! Late store through session-actix's middleware: the shared scenarios (the client gone midway
//! also under plain Tokio), then a sized body, an empty body (which actix-web never polls, so it
//! commits before its head), and a client that disconnects over a real connection.

use std::convert::Infallible;
use std::error::Error;
use std::future::{Future, poll_fn};
use std::io::{Read, Write};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use actix_http::Request;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{App, HttpResponse, HttpServer, test, web};
use session_actix::{Session, SessionMiddleware};
use session_state_cookie::CookieState;

use super::{Driver, TestStore};

/// What the handler's body does.
#[derive(Clone, Copy)]
enum Shape {
    /// Three chunks, `streamed=1` set in the session while producing the second; `BodySize::Stream`.
    Stream,
    /// The same, with its size announced (`BodySize::Sized`).
    Sized,
    /// A chunk, `streamed=1` set with the second, then a chunk every 10 ms forever.
    Endless,
}

/// The body of `/late` and `/plain`.
struct Streaming {
    session: Option<Session>,
    shape: Shape,
    step: u32,
    writing: Option<Pin<Box<dyn Future<Output = ()>>>>,
    sleeping: Option<Pin<Box<actix_rt::time::Sleep>>>,
}

const CHUNKS: [&str; 3] = ["one ", "two ", "three"];

impl MessageBody for Streaming {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        match self.shape {
            Shape::Sized => BodySize::Sized(CHUNKS.concat().len() as u64),
            Shape::Stream | Shape::Endless => BodySize::Stream,
        }
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Infallible>>> {
        let this = &mut *self;
        if this.step == 1 {
            // After the head was sent and the first chunk went out: change the session (once).
            if let Some(session) = this.session.take() {
                this.writing = Some(Box::pin(async move {
                    session.insert("streamed", 1).await.expect("insert");
                }));
            }
            if let Some(writing) = this.writing.as_mut() {
                ready!(writing.as_mut().poll(cx));
                this.writing = None;
            }
        }
        if let Shape::Endless = this.shape {
            if this.step > 0 {
                let sleep = this.sleeping.get_or_insert_with(|| {
                    Box::pin(actix_rt::time::sleep(Duration::from_millis(10)))
                });
                ready!(sleep.as_mut().poll(cx));
                this.sleeping = None;
            }
            this.step += 1;
            return Poll::Ready(Some(Ok(Bytes::from_static(b"tick "))));
        }
        let chunk = CHUNKS.get(this.step as usize);
        this.step += 1;
        Poll::Ready(chunk.map(|chunk| Ok(Bytes::from_static(chunk.as_bytes()))))
    }
}

fn streaming(session: Session, late: bool, shape: Shape) -> HttpResponse {
    if late {
        session.late_store();
    }
    HttpResponse::Ok().body(Streaming {
        session: Some(session),
        shape,
        step: 0,
        writing: None,
        sleeping: None,
    })
}

/// Where `/empty` leaves its session, for the store's hook to change while the head commits.
type Slot = Arc<Mutex<Option<Session>>>;

fn app(
    store: TestStore,
    slot: Slot,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let state = CookieState::builder()
        .secure(false)
        .build()
        .expect("cookie");
    App::new()
        .wrap(SessionMiddleware::new(state, store))
        .app_data(web::Data::new(slot))
        .route(
            "/late",
            web::get().to(|s: Session| async move { streaming(s, true, Shape::Stream) }),
        )
        .route(
            "/late-sized",
            web::get().to(|s: Session| async move { streaming(s, true, Shape::Sized) }),
        )
        .route(
            "/late-endless",
            web::get().to(|s: Session| async move { streaming(s, true, Shape::Endless) }),
        )
        .route(
            "/plain",
            web::get().to(|s: Session| async move { streaming(s, false, Shape::Stream) }),
        )
        .route(
            "/empty",
            web::get().to(|s: Session, slot: web::Data<Slot>| async move {
                s.late_store();
                s.insert("empty", 1).await?;
                *slot.lock().expect("slot") = Some(s);
                Ok::<_, session_actix::Error>(HttpResponse::NoContent().finish())
            }),
        )
        .route(
            "/get",
            web::get().to(|s: Session| async move {
                let streamed: Option<u64> = s.get("streamed").await?;
                let during: Option<u64> = s.get("during").await?;
                Ok::<_, session_actix::Error>(format!("{streamed:?} {during:?}"))
            }),
        )
}

fn get(path: &str, cookie: Option<&str>) -> test::TestRequest {
    let mut request = test::TestRequest::get().uri(path);
    if let Some(cookie) = cookie {
        request = request.insert_header(("cookie", cookie));
    }
    request
}

/// The app of [`app`] in process (`actix_web::test`) as a [`Driver`].
struct OnActix<S> {
    app: S,
    store: TestStore,
}

/// [`app`] over `store`, `/empty` leaving its session in `slot`, started in process.
async fn on_actix(
    store: TestStore,
    slot: Slot,
) -> OnActix<
    impl Service<
        Request,
        Response = ServiceResponse<impl MessageBody + Unpin>,
        Error = actix_web::Error,
    >,
> {
    OnActix {
        app: test::init_service(app(store.clone(), slot)).await,
        store,
    }
}

impl<S, B> Driver for OnActix<S>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + Unpin,
{
    type Response = ServiceResponse<B>;
    type Body = B;

    const CHUNKS: &'static [&'static str] = &CHUNKS;

    async fn get(&self, path: &str, cookie: Option<&str>) -> ServiceResponse<B> {
        test::call_service(&self.app, get(path, cookie).to_request()).await
    }

    fn status(&self, response: &ServiceResponse<B>) -> u16 {
        response.status().as_u16()
    }

    fn set_cookie(&self, response: &ServiceResponse<B>) -> Option<String> {
        let header = response
            .headers()
            .get("set-cookie")?
            .to_str()
            .expect("ascii");
        Some(header.split(';').next().expect("a pair").to_owned())
    }

    fn body(&self, response: ServiceResponse<B>) -> B {
        response.into_body()
    }

    fn assert_size_unchanged(&self, body: &B) {
        assert_eq!(body.size(), BodySize::Stream, "the size is not changed");
    }

    /// The next chunk, read the way actix-web's dispatcher does.
    async fn next_chunk(&self, body: &mut B) -> Option<Result<Bytes, Box<dyn Error>>> {
        let chunk = poll_fn(|cx| Pin::new(&mut *body).poll_next(cx)).await;
        chunk.map(|result| result.map_err(Into::into))
    }

    async fn read(&self, response: ServiceResponse<B>) -> Bytes {
        test::read_body(response).await
    }

    fn fail_writes(&self) {
        self.store.failing.store(true, Ordering::SeqCst);
    }
}

#[actix_rt::test]
async fn with_late_store_a_key_set_while_streaming_is_stored_before_the_end() {
    let driver = on_actix(TestStore::default(), Slot::default()).await;
    super::with_late_store_a_key_set_while_streaming_is_stored_before_the_end(&driver).await;
}

#[actix_rt::test]
async fn without_late_store_a_key_set_while_streaming_is_not_stored() {
    let driver = on_actix(TestStore::default(), Slot::default()).await;
    super::without_late_store_a_key_set_while_streaming_is_not_stored(&driver).await;
}

#[actix_rt::test]
async fn a_client_gone_midway_still_stores_what_was_set() {
    let driver = on_actix(TestStore::default(), Slot::default()).await;
    super::a_client_gone_midway_still_stores_what_was_set(&driver).await;
}

/// The same under plain Tokio, with no actix `System` (as under `#[tokio::main]`, where actix-web
/// workers have no Arbiter): the background commit must still run.
#[tokio::test]
async fn a_client_gone_midway_still_stores_what_was_set_under_plain_tokio() {
    let driver = on_actix(TestStore::default(), Slot::default()).await;
    super::a_client_gone_midway_still_stores_what_was_set(&driver).await;
}

#[actix_rt::test]
async fn a_failed_late_commit_ends_the_body_with_an_error() {
    let driver = on_actix(TestStore::default(), Slot::default()).await;
    super::a_failed_late_commit_ends_the_body_with_an_error(&driver).await;
}

#[actix_rt::test]
async fn a_sized_body_holds_its_last_chunk_until_the_late_commit_ran() {
    let driver = on_actix(TestStore::default(), Slot::default()).await;
    let response = driver.get("/late-sized", None).await;
    let cookie = driver.set_cookie(&response).expect("a Set-Cookie");
    let mut body = response.into_body();
    assert_eq!(body.size(), BodySize::Sized(13), "the size is not changed");
    for expected in ["one ", "two "] {
        let chunk = driver
            .next_chunk(&mut body)
            .await
            .expect("a chunk")
            .expect("ok");
        assert_eq!(chunk, expected);
    }
    assert_eq!(driver.stored(&cookie).await, "None None");
    // With the last byte of a sized body the client has the whole response: it comes only once
    // the key is stored.
    let chunk = driver
        .next_chunk(&mut body)
        .await
        .expect("a chunk")
        .expect("ok");
    assert_eq!(chunk, "three");
    assert_eq!(driver.stored(&cookie).await, "Some(1) None");
    assert!(driver.next_chunk(&mut body).await.is_none(), "a clean end");
}

#[actix_rt::test]
async fn an_empty_late_store_body_commits_before_its_head() {
    let store = TestStore::default();
    let slot = Slot::default();
    let driver = on_actix(store.clone(), slot.clone()).await;
    // While the head's commit writes, the session changes (a task the handler left behind, say):
    // actix-web never polls an empty body, so the late commit must run before the head is sent.
    let changing = slot.clone();
    *store.hook.lock().expect("hook") = Some(Box::pin(async move {
        let session = changing
            .lock()
            .expect("slot")
            .take()
            .expect("the handler ran");
        session.insert("during", 2).await.expect("insert");
    }));
    let response = driver.get("/empty", None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cookie = driver.set_cookie(&response).expect("a Set-Cookie");
    assert!(store.hook.lock().expect("hook").is_none(), "the hook ran");
    // No body to read: the change is already stored when the response is.
    assert_eq!(driver.stored(&cookie).await, "None Some(2)");

    // The same with a late commit that fails: a bare 500, never a clean answer.
    let changing = slot.clone();
    let failing = store.failing.clone();
    *store.hook.lock().expect("hook") = Some(Box::pin(async move {
        let session = changing
            .lock()
            .expect("slot")
            .take()
            .expect("the handler ran");
        session.insert("during", 3).await.expect("insert");
        failing.store(true, Ordering::SeqCst);
    }));
    let response = driver.get("/empty", None).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.headers().get("set-cookie").is_none());
}

#[test]
fn a_client_that_disconnects_midway_over_tcp_still_stores_what_was_set() {
    actix_rt::System::new().block_on(async {
        let store = TestStore::default();
        let server_store = store.clone();
        let server = HttpServer::new(move || app(server_store.clone(), Slot::default()))
            .workers(1)
            .bind(("127.0.0.1", 0))
            .expect("bind");
        let address = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_rt::spawn(server);

        // A blocking client on its own thread: the server's worker is another thread.
        let cookie = actix_rt::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(address).expect("connect");
            stream
                .write_all(b"GET /late-endless HTTP/1.1\r\nhost: localhost\r\n\r\n")
                .expect("write");
            // Read until the second chunk (the one after which `streamed` was set) arrived.
            let mut received = Vec::new();
            let mut buffer = [0u8; 1024];
            while String::from_utf8_lossy(&received).matches("tick").count() < 2 {
                let n = stream.read(&mut buffer).expect("read");
                assert!(n > 0, "the server closed early");
                received.extend_from_slice(&buffer[..n]);
            }
            // The client goes away; the stream is endless, so only the disconnect ends it.
            drop(stream);
            let text = String::from_utf8_lossy(&received).into_owned();
            let line = text
                .lines()
                .find(|line| line.to_ascii_lowercase().starts_with("set-cookie:"))
                .expect("a Set-Cookie in the head");
            let value = line.split_once(':').expect("header").1.trim();
            value.split(';').next().expect("pair").to_owned()
        })
        .await
        .expect("client");

        let deadline = Instant::now() + Duration::from_secs(10);
        let answer = loop {
            let request = format!("GET /get HTTP/1.1\r\nhost: localhost\r\ncookie: {cookie}\r\nconnection: close\r\n\r\n");
            let answer = actix_rt::task::spawn_blocking(move || {
                let mut stream = std::net::TcpStream::connect(address).expect("connect");
                stream.write_all(request.as_bytes()).expect("write");
                let mut answer = String::new();
                stream.read_to_string(&mut answer).expect("read");
                answer
            })
            .await
            .expect("client");
            if answer.ends_with("Some(1) None") || Instant::now() > deadline {
                break answer;
            }
            actix_rt::time::sleep(Duration::from_millis(20)).await;
        };
        handle.stop(true).await;
        assert!(
            answer.ends_with("Some(1) None"),
            "the late commit never ran: {answer}"
        );
    });
}
