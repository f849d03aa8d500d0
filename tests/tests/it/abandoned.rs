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
    let login = client
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), StatusCode::OK);
    let cookie = cookie_of(login.headers());
    assert_eq!(store.len(), 1);

    // A write, then a panic: the write is dropped (no response, no commit).
    let reply = client
        .get(format!("{base}/write-then-panic"))
        .header(COOKIE, &cookie)
        .send()
        .await;
    assert!(
        reply
            .as_ref()
            .map_or(true, |r| r.status().is_server_error()),
        "a panicking handler answered {reply:?}"
    );
    let read = client
        .get(format!("{base}/read"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("read");
    assert_eq!(read.text().await.expect("body"), "user=alice written=none");

    // An expiry, then a panic: the session is gone all the same.
    let reply = client
        .get(format!("{base}/logout-then-panic"))
        .header(COOKIE, &cookie)
        .send()
        .await;
    assert!(
        reply
            .as_ref()
            .map_or(true, |r| r.status().is_server_error()),
        "a panicking handler answered {reply:?}"
    );
    wait_until_empty(store, "a panic after expire()").await;
    let read = client
        .get(format!("{base}/read"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("read");
    assert_eq!(read.text().await.expect("body"), "user=none written=none");
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

    #[tokio::test]
    async fn a_request_dropped_before_its_head_still_logs_out() {
        let store = MemoryStore::default();
        let reached = Arc::new(Notify::new());
        let app = router(store.clone(), reached.clone());
        let login = app
            .clone()
            .oneshot(
                http::Request::get("/login")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("login");
        let cookie = cookie_of(login.headers());
        assert_eq!(store.len(), 1);

        let request = http::Request::get("/logout-then-hang")
            .header(COOKIE, &cookie)
            .body(Body::empty())
            .expect("request");
        let responding = app.oneshot(request);
        tokio::select! {
            _ = responding => panic!("the hanging handler answered"),
            () = reached.notified() => {}
        }
        // `responding` is dropped here, as hyper drops it when the client goes away.
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
        let login = app
            .clone()
            .oneshot(
                http::Request::get("/login")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("login");
        let cookie = cookie_of(login.headers());
        let request = http::Request::get("/hang-with-guard")
            .header(COOKIE, &cookie)
            .body(Body::empty())
            .expect("request");
        let responding = app.oneshot(request);
        tokio::select! {
            _ = responding => panic!("the hanging handler answered"),
            () = reached.notified() => {}
        }
        wait_until_empty(&store, "a logout in a dropped handler's guard").await;
    }

    #[tokio::test]
    async fn a_request_dropped_during_its_commit_still_logs_out() {
        let store = MemoryStore::default();
        let fault = slow_deletes(&store);
        let app = router(fault.clone(), Arc::new(Notify::new()));
        let login = app
            .clone()
            .oneshot(
                http::Request::get("/login")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("login");
        let cookie = cookie_of(login.headers());
        let request = http::Request::get("/logout")
            .header(COOKIE, &cookie)
            .body(Body::empty())
            .expect("request");
        let responding = app.oneshot(request);
        tokio::select! {
            _ = responding => panic!("the commit's slow delete finished first"),
            () = delete_started(&fault) => {}
        }
        wait_until_empty(
            &store,
            "a request dropped while its expiry was being stored",
        )
        .await;
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
    use actix_web::dev::Service;
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

    #[actix_rt::test]
    async fn a_request_dropped_before_its_head_still_logs_out() {
        let store = MemoryStore::default();
        let reached = Arc::new(Notify::new());
        let signal = reached.clone();
        let app = test::init_service(
            App::new()
                .wrap(SessionMiddleware::new(
                    CookieState::default(),
                    store.clone(),
                ))
                .configure(routes)
                .route(
                    "/logout-then-hang",
                    web::get().to(move |session: Session| {
                        let signal = signal.clone();
                        async move {
                            session.expire();
                            signal.notify_one();
                            std::future::pending::<()>().await;
                            HttpResponse::Ok().finish()
                        }
                    }),
                ),
        )
        .await;
        let login =
            test::call_service(&app, test::TestRequest::get().uri("/login").to_request()).await;
        let set_cookie = login.headers().get("set-cookie").expect("a Set-Cookie");
        let set_cookie = set_cookie.to_str().expect("ascii");
        let cookie = set_cookie.split(';').next().expect("name=value").to_owned();
        assert_eq!(store.len(), 1);

        let request = test::TestRequest::get()
            .uri("/logout-then-hang")
            .insert_header(("cookie", cookie.as_str()))
            .to_request();
        let responding = app.call(request);
        tokio::select! {
            _ = responding => panic!("the hanging handler answered"),
            () = reached.notified() => {}
        }
        // `responding` is dropped here, as actix-web drops it when the client goes away.
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
        let login =
            test::call_service(&app, test::TestRequest::get().uri("/login").to_request()).await;
        let set_cookie = login.headers().get("set-cookie").expect("a Set-Cookie");
        let set_cookie = set_cookie.to_str().expect("ascii");
        let cookie = set_cookie.split(';').next().expect("name=value").to_owned();
        let request = test::TestRequest::get()
            .uri("/logout")
            .insert_header(("cookie", cookie.as_str()))
            .to_request();
        let responding = app.call(request);
        tokio::select! {
            _ = responding => panic!("the commit's slow delete finished first"),
            () = delete_started(&fault) => {}
        }
        wait_until_empty(
            &store,
            "a request dropped while its expiry was being stored",
        )
        .await;
    }
}
