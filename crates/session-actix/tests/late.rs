//! Late store through the middleware (lifecycle rule 8): a key set while the body streams is
//! stored when the body ends, before the end reaches the client; also when the client goes away
//! midway (in process and over a real connection), never when late store was not asked for; a
//! failed late commit ends the body with an error; an empty body commits before its head.

use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::io::{Read, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{App, HttpResponse, HttpServer, test, web};
use async_trait::async_trait;
use session_actix::{Session, SessionMiddleware};
use session_core::MemoryStore;
use session_core::store::{Changes, Key, Record, Store, StoreError};
use session_state_cookie::CookieState;

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

/// What [`TestStore`] runs after a write.
type Hook = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A memory store whose writes fail once `failing` is set, and that runs `hook` (once) after the
/// next successful write.
#[derive(Clone, Default)]
struct TestStore {
    inner: MemoryStore,
    failing: Arc<AtomicBool>,
    hook: Arc<Mutex<Option<Hook>>>,
}

impl TestStore {
    fn check(&self) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::backend(std::io::Error::other("store is down")));
        }
        Ok(())
    }

    async fn wrote<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        let hook = self.hook.lock().expect("hook").take();
        if let Some(hook) = hook {
            hook.await;
        }
        result
    }
}

#[async_trait]
impl Store for TestStore {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.inner.load(key).await
    }
    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.check()?;
        let result = self.inner.create(key, record).await;
        self.wrote(result).await
    }
    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.check()?;
        let result = self.inner.save(key, record).await;
        self.wrote(result).await
    }
    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.delete(key).await
    }
    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        self.check()?;
        let result = self.inner.apply(key, changes).await;
        self.wrote(result).await
    }
    fn applies_atomically(&self) -> bool {
        true
    }
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

/// The `NAME=VALUE` part of a response's `Set-Cookie`.
fn cookie_pair<B>(response: &ServiceResponse<B>) -> String {
    let header = response
        .headers()
        .get("set-cookie")
        .expect("a Set-Cookie")
        .to_str()
        .expect("ascii");
    header.split(';').next().expect("a pair").to_owned()
}

fn get(path: &str, cookie: Option<&str>) -> test::TestRequest {
    let mut request = test::TestRequest::get().uri(path);
    if let Some(cookie) = cookie {
        request = request.insert_header(("cookie", cookie));
    }
    request
}

/// `/get`'s answer for the session behind `cookie`: `"{streamed:?} {during:?}"`.
macro_rules! stored {
    ($app:expr, $cookie:expr) => {{
        let request = get("/get", Some($cookie)).to_request();
        let body = test::call_and_read_body($app, request).await;
        String::from_utf8(body.to_vec()).expect("utf-8")
    }};
}

/// The next chunk of a body, read the way actix-web's dispatcher does.
async fn next_chunk<B: MessageBody + Unpin>(
    body: &mut B,
) -> Option<Result<Bytes, Box<dyn std::error::Error>>> {
    let chunk = poll_fn(|cx| Pin::new(&mut *body).poll_next(cx)).await;
    chunk.map(|result| result.map_err(Into::into))
}

#[actix_rt::test]
async fn with_late_store_a_key_set_while_streaming_is_stored_before_the_end() {
    let app = test::init_service(app(TestStore::default(), Slot::default())).await;
    // A new visitor: the head carries the cookie although nothing was set before it.
    let response = test::call_service(&app, get("/late", None).to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = cookie_pair(&response);
    let mut body = response.into_body();
    assert_eq!(body.size(), BodySize::Stream, "the size is not changed");
    for expected in ["one ", "two "] {
        let chunk = next_chunk(&mut body).await.expect("a chunk").expect("ok");
        assert_eq!(chunk, expected);
    }
    // The key was set with the second chunk; the body has not ended: not stored yet.
    assert_eq!(stored!(&app, &cookie), "None None");
    let chunk = next_chunk(&mut body).await.expect("a chunk").expect("ok");
    assert_eq!(chunk, "three");
    // The end is reported only once the late commit has stored the key.
    assert!(next_chunk(&mut body).await.is_none(), "a clean end");
    assert_eq!(stored!(&app, &cookie), "Some(1) None");
}

#[actix_rt::test]
async fn a_sized_body_holds_its_last_chunk_until_the_late_commit_ran() {
    let app = test::init_service(app(TestStore::default(), Slot::default())).await;
    let response = test::call_service(&app, get("/late-sized", None).to_request()).await;
    let cookie = cookie_pair(&response);
    let mut body = response.into_body();
    assert_eq!(body.size(), BodySize::Sized(13), "the size is not changed");
    for expected in ["one ", "two "] {
        let chunk = next_chunk(&mut body).await.expect("a chunk").expect("ok");
        assert_eq!(chunk, expected);
    }
    assert_eq!(stored!(&app, &cookie), "None None");
    // With the last byte of a sized body the client has the whole response: it comes only once
    // the key is stored.
    let chunk = next_chunk(&mut body).await.expect("a chunk").expect("ok");
    assert_eq!(chunk, "three");
    assert_eq!(stored!(&app, &cookie), "Some(1) None");
    assert!(next_chunk(&mut body).await.is_none(), "a clean end");
}

#[actix_rt::test]
async fn without_late_store_a_key_set_while_streaming_is_not_stored() {
    let app = test::init_service(app(TestStore::default(), Slot::default())).await;
    // A session to stream in (the key `empty` is set before the head).
    let response = test::call_service(&app, get("/empty", None).to_request()).await;
    let cookie = cookie_pair(&response);

    let response = test::call_service(&app, get("/plain", Some(&cookie)).to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers().get("set-cookie").is_none(),
        "nothing changed before the head"
    );
    let body = test::read_body(response).await;
    assert_eq!(body, "one two three");
    assert_eq!(stored!(&app, &cookie), "None None");
}

#[actix_rt::test]
async fn a_client_gone_midway_still_stores_what_was_set() {
    client_gone_midway().await;
}

/// The same under plain Tokio, with no actix `System` (as under `#[tokio::main]`, where actix-web
/// workers have no Arbiter): the background commit must still run.
#[tokio::test]
async fn a_client_gone_midway_still_stores_what_was_set_under_plain_tokio() {
    client_gone_midway().await;
}

async fn client_gone_midway() {
    let app = test::init_service(app(TestStore::default(), Slot::default())).await;
    let response = test::call_service(&app, get("/late", None).to_request()).await;
    let cookie = cookie_pair(&response);
    let mut body = response.into_body();
    next_chunk(&mut body).await.expect("a chunk").expect("ok");
    next_chunk(&mut body).await.expect("a chunk").expect("ok");
    drop(body); // the client goes away before the end
    let deadline = Instant::now() + Duration::from_secs(5);
    while stored!(&app, &cookie) != "Some(1) None" {
        assert!(Instant::now() < deadline, "the late commit never ran");
        actix_rt::time::sleep(Duration::from_millis(5)).await;
    }
}

#[actix_rt::test]
async fn a_failed_late_commit_ends_the_body_with_an_error() {
    let store = TestStore::default();
    let app = test::init_service(app(store.clone(), Slot::default())).await;
    let response = test::call_service(&app, get("/late", None).to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    next_chunk(&mut body).await.expect("a chunk").expect("ok");
    store.failing.store(true, Ordering::SeqCst);
    next_chunk(&mut body).await.expect("a chunk").expect("ok");
    next_chunk(&mut body).await.expect("a chunk").expect("ok");
    let end = next_chunk(&mut body)
        .await
        .expect("an error, not a clean end");
    let error = end.expect_err("the late commit failed");
    assert!(error.to_string().contains("could not be stored"), "{error}");
}

#[actix_rt::test]
async fn an_empty_late_store_body_commits_before_its_head() {
    let store = TestStore::default();
    let slot = Slot::default();
    let app = test::init_service(app(store.clone(), slot.clone())).await;
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
    let response = test::call_service(&app, get("/empty", None).to_request()).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cookie = cookie_pair(&response);
    assert!(store.hook.lock().expect("hook").is_none(), "the hook ran");
    // No body to read: the change is already stored when the response is.
    assert_eq!(stored!(&app, &cookie), "None Some(2)");

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
    let response = test::call_service(&app, get("/empty", None).to_request()).await;
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
