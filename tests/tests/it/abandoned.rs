//! A logout is carried out even when the handler never finishes: it calls `expire()` and then
//! panics, the panic unwinding through the session middleware (over real HTTP, with no
//! panic-catching layer inside it), or the request is dropped before its response head (in
//! process, the adapter's future dropped as a server does when its client goes away). The
//! record is deleted; the handler's other changes are not stored.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use http::header::{COOKIE, SET_COOKIE};
use session_core::MemoryStore;
use session_core::store::Store;
use session_state_cookie::CookieState;
use session_tests::{Fault, FaultStore, StoreOp};
use tokio::sync::Notify;

/// Waits (up to 10 s) until `store` holds no session: the expiry runs in the background after
/// the request's future is gone.
async fn wait_until_empty(store: &MemoryStore, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !store.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{what}: the session outlived its logout"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The `name=value` of the session cookie a response set.
fn cookie_of(headers: &http::HeaderMap) -> String {
    let set_cookie = headers
        .get(SET_COOKIE)
        .expect("a Set-Cookie")
        .to_str()
        .expect("ascii");
    set_cookie.split(';').next().expect("name=value").to_owned()
}

/// Drives `responding` until `event` happens, then drops it (as a server drops a request whose
/// client went away).
async fn drop_when(responding: impl Future, event: impl Future<Output = ()>) {
    tokio::select! {
        _ = responding => panic!("the request answered before it could be dropped"),
        () = event => {}
    }
}

/// A handler's failure: a panic that unwinds through the session middleware.
fn fail(what: &str) -> &'static str {
    panic!("{what}")
}

/// A real HTTP client that keeps no cookies and opens a new connection per request (a server
/// whose handler panicked closes the connection).
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .expect("an HTTP client")
}

/// Over HTTP at `base`: `/login` makes a session; `/write-then-panic` changes it and panics (not
/// stored); `/logout-then-panic` expires it and panics (carried out).
async fn panics_over_http(base: &str, store: &MemoryStore) {
    let client = client();
    let get = |path: &str, cookie: Option<&str>| {
        let request = client.get(format!("{base}{path}"));
        let request = match cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        };
        request.send()
    };
    let read = async |cookie: &str| {
        let reply = get("/read", Some(cookie)).await.expect("read");
        reply.text().await.expect("body")
    };
    let login = get("/login", None).await.expect("login");
    assert_eq!(login.status(), StatusCode::OK);
    let cookie = cookie_of(login.headers());
    assert_eq!(store.len(), 1);

    // A write, then a panic: the write is dropped (no response, no commit); then an expiry and a
    // panic: the session is gone all the same.
    for path in ["/write-then-panic", "/logout-then-panic"] {
        let reply = get(path, Some(&cookie)).await;
        assert!(
            reply
                .as_ref()
                .map_or(true, |r| r.status().is_server_error()),
            "{path}: a panicking handler answered {reply:?}"
        );
        if path == "/write-then-panic" {
            assert_eq!(read(&cookie).await, "user=alice written=none");
        }
    }
    wait_until_empty(store, "a panic after expire()").await;
    assert_eq!(read(&cookie).await, "user=none written=none");
}

mod on_axum {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use session_tower::{Error, Session, SessionLayer};
    use tower::ServiceExt;

    use super::*;

    fn router(store: impl Store, reached: Arc<Notify>) -> Router {
        Router::new()
            .route(
                "/logout",
                get(|session: Session| async move {
                    session.expire();
                    "bye"
                }),
            )
            .route(
                "/login",
                get(|session: Session| async move {
                    session.insert("user", "alice").await?;
                    Ok::<_, Error>("ok")
                }),
            )
            .route(
                "/read",
                get(|session: Session| async move {
                    let user = session.get::<String>("user").await?;
                    let written = session.get::<String>("written").await?;
                    Ok::<_, Error>(format!(
                        "user={} written={}",
                        user.as_deref().unwrap_or("none"),
                        written.as_deref().unwrap_or("none")
                    ))
                }),
            )
            .route(
                "/write-then-panic",
                get(|session: Session| async move {
                    session.insert("written", "yes").await?;
                    Ok::<_, Error>(fail("the handler fails after a write"))
                }),
            )
            .route(
                "/logout-then-panic",
                get(|session: Session| async move {
                    session.expire();
                    fail("the handler fails after its logout")
                }),
            )
            .route(
                "/logout-then-hang",
                get({
                    let reached = reached.clone();
                    move |session: Session| async move {
                        session.expire();
                        reached.notify_one();
                        std::future::pending::<()>().await;
                        "unreachable"
                    }
                }),
            )
            .route(
                "/hang-with-guard",
                get(move |session: Session| async move {
                    let _guard = LogoutOnDrop(session);
                    reached.notify_one();
                    std::future::pending::<()>().await;
                    "unreachable"
                }),
            )
            .layer(SessionLayer::new(CookieState::default(), store))
    }

    #[tokio::test]
    async fn a_panic_after_expire_still_logs_out() {
        let store = MemoryStore::default();
        let app = router(store.clone(), Arc::new(Notify::new()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        panics_over_http(&format!("http://{addr}"), &store).await;
        server.abort();
    }

    /// The cookie of a new session made by `/login`.
    async fn login(app: &Router) -> String {
        let request = http::Request::get("/login").body(Body::empty());
        let response = app.clone().oneshot(request.expect("request")).await;
        cookie_of(response.expect("login").headers())
    }

    /// `GET path` carrying `cookie`.
    fn get_with(path: &str, cookie: &str) -> http::Request<Body> {
        let request = http::Request::get(path).header(COOKIE, cookie);
        request.body(Body::empty()).expect("request")
    }

    #[tokio::test]
    async fn a_request_dropped_before_its_head_still_logs_out() {
        let store = MemoryStore::default();
        let reached = Arc::new(Notify::new());
        let app = router(store.clone(), reached.clone());
        let cookie = login(&app).await;
        assert_eq!(store.len(), 1);
        let responding = app.oneshot(get_with("/logout-then-hang", &cookie));
        drop_when(responding, reached.notified()).await;
        wait_until_empty(&store, "a request dropped after expire()").await;
    }

    /// Ends the session when dropped: a handler's clean-up that logs out on failure.
    struct LogoutOnDrop(Session);

    impl Drop for LogoutOnDrop {
        fn drop(&mut self) {
            self.0.expire();
        }
    }

    #[tokio::test]
    async fn a_logout_in_a_dropped_handlers_clean_up_is_carried_out() {
        let store = MemoryStore::default();
        let reached = Arc::new(Notify::new());
        let app = router(store.clone(), reached.clone());
        let cookie = login(&app).await;
        let responding = app.oneshot(get_with("/hang-with-guard", &cookie));
        drop_when(responding, reached.notified()).await;
        wait_until_empty(&store, "a logout in a dropped handler's guard").await;
    }

    #[tokio::test]
    async fn a_request_dropped_during_its_commit_still_logs_out() {
        let store = MemoryStore::default();
        let fault = slow_deletes(&store);
        let app = router(fault.clone(), Arc::new(Notify::new()));
        let cookie = login(&app).await;
        let responding = app.oneshot(get_with("/logout", &cookie));
        drop_when(responding, delete_started(&fault)).await;
        let what = "a request dropped while its expiry was being stored";
        wait_until_empty(&store, what).await;
    }
}

/// A store whose deletes take 300 ms, in front of `store`, and a way to wait until a delete has
/// started.
fn slow_deletes(store: &MemoryStore) -> FaultStore {
    let fault = FaultStore::new(store.clone());
    fault.set(StoreOp::Delete, Fault::Slow(Duration::from_millis(300)));
    fault
}

/// Returns once `fault` has started a delete.
async fn delete_started(fault: &FaultStore) {
    while fault.calls().delete == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

mod on_actix {
    use actix_web::dev::{Service, ServiceResponse};
    use actix_web::{App, HttpResponse, HttpServer, test, web};
    use session_actix::{Error, Session, SessionMiddleware};

    use super::*;

    fn routes(config: &mut web::ServiceConfig) {
        config
            .route(
                "/login",
                web::get().to(|session: Session| async move {
                    session.insert("user", "alice").await?;
                    Ok::<_, Error>(HttpResponse::Ok().body("ok"))
                }),
            )
            .route(
                "/logout",
                web::get().to(|session: Session| async move {
                    session.expire();
                    HttpResponse::Ok().body("bye")
                }),
            )
            .route(
                "/read",
                web::get().to(|session: Session| async move {
                    let user = session.get::<String>("user").await?;
                    let written = session.get::<String>("written").await?;
                    Ok::<_, Error>(HttpResponse::Ok().body(format!(
                        "user={} written={}",
                        user.as_deref().unwrap_or("none"),
                        written.as_deref().unwrap_or("none")
                    )))
                }),
            )
            .route(
                "/write-then-panic",
                web::get().to(|session: Session| async move {
                    session.insert("written", "yes").await?;
                    Ok::<_, Error>(HttpResponse::Ok().body(fail("the handler fails after a write")))
                }),
            )
            .route(
                "/logout-then-panic",
                web::get().to(|session: Session| async move {
                    session.expire();
                    HttpResponse::Ok().body(fail("the handler fails after its logout"))
                }),
            );
    }

    #[actix_rt::test]
    async fn a_panic_after_expire_still_logs_out() {
        let store = MemoryStore::default();
        let middleware = SessionMiddleware::new(CookieState::default(), store.clone());
        let server = HttpServer::new(move || App::new().wrap(middleware.clone()).configure(routes))
            .workers(1)
            .disable_signals()
            .bind("127.0.0.1:0")
            .expect("bind");
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_rt::spawn(server);
        panics_over_http(&format!("http://{addr}"), &store).await;
        handle.stop(false).await;
    }

    /// The cookie of a new session made by `/login`.
    async fn login<S, B>(app: &S) -> String
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    {
        let login = test::call_service(app, test::TestRequest::get().uri("/login").to_request());
        let login = login.await;
        let set_cookie = login.headers().get("set-cookie").expect("a Set-Cookie");
        let set_cookie = set_cookie.to_str().expect("ascii");
        set_cookie.split(';').next().expect("name=value").to_owned()
    }

    /// `GET path` carrying `cookie`.
    fn get_with(path: &str, cookie: &str) -> actix_http::Request {
        let request = test::TestRequest::get().uri(path);
        request.insert_header(("cookie", cookie)).to_request()
    }

    #[actix_rt::test]
    async fn a_request_dropped_before_its_head_still_logs_out() {
        let store = MemoryStore::default();
        let reached = Arc::new(Notify::new());
        let signal = reached.clone();
        let hang = move |session: Session| {
            let signal = signal.clone();
            async move {
                session.expire();
                signal.notify_one();
                std::future::pending::<()>().await;
                HttpResponse::Ok().finish()
            }
        };
        let app = test::init_service(
            App::new()
                .wrap(SessionMiddleware::new(
                    CookieState::default(),
                    store.clone(),
                ))
                .configure(routes)
                .route("/logout-then-hang", web::get().to(hang)),
        )
        .await;
        let cookie = login(&app).await;
        assert_eq!(store.len(), 1);
        let responding = app.call(get_with("/logout-then-hang", &cookie));
        drop_when(responding, reached.notified()).await;
        wait_until_empty(&store, "a request dropped after expire()").await;
    }

    #[actix_rt::test]
    async fn a_request_dropped_during_its_commit_still_logs_out() {
        let store = MemoryStore::default();
        let fault = slow_deletes(&store);
        let app = test::init_service(
            App::new()
                .wrap(SessionMiddleware::new(
                    CookieState::default(),
                    fault.clone(),
                ))
                .configure(routes),
        )
        .await;
        let cookie = login(&app).await;
        let responding = app.call(get_with("/logout", &cookie));
        drop_when(responding, delete_started(&fault)).await;
        let what = "a request dropped while its expiry was being stored";
        wait_until_empty(&store, what).await;
    }
}
