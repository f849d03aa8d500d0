//! The Redis store's record size limit over HTTP: a write past it is a bare 500 at the commit
//! (the demo over `--store redis --redis-max-record-bytes 300`, on axum and actix-web) and changes
//! nothing in Redis; `Session::save` reports it to the handler, which can then carry on (an app
//! of its own through each adapter, in process).

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::routing::get;
use http::{Request, StatusCode, header};
use session_core::store::StoreErrorKind;
use session_core::{Error, Session};
use session_examples::demo::{Args, DEFAULT_REDIS_PREFIX, StoreKind};
use session_state_cookie::CookieState;
use session_store_redis::RedisStore;
use session_store_redis::redis::AsyncCommands;
use session_store_redis::testing::RedisServer;
use session_tests::redis::{connection, key_of, keys};
use session_tests::{Framework, Setup, TestServer};
use tower::ServiceExt;

/// The limit every test here sets.
const LIMIT: usize = 300;

/// The demo on `framework` over the Redis at `url`, with `--redis-max-record-bytes 300`.
async fn demo(framework: Framework, url: &str) -> TestServer {
    let args = Args {
        store: StoreKind::Redis,
        redis_url: Some(url.to_owned()),
        redis_max_record_bytes: Some(LIMIT),
        ..Args::default()
    };
    TestServer::demo(framework, &Setup::new(args)).await
}

/// A write past the limit answers a bare 500 and leaves the session, and Redis, as they were.
async fn a_write_over_the_limit_is_a_500_and_changes_nothing(framework: Framework) {
    let redis = RedisServer::start();
    let server = demo(framework, &redis.url()).await;
    let id = server.get("/set/a/1").await.expect_new_id();
    let key = key_of(DEFAULT_REDIS_PREFIX, &id);
    let mut conn = connection(&redis.url()).await;
    let before: HashMap<String, String> = conn.hgetall(&key).await.expect("HGETALL");

    let big = "x".repeat(LIMIT);
    let reply = server.get_as(&format!("/set/big/{big}"), &id).await;
    assert_eq!(
        reply.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{framework:?}"
    );
    assert!(reply.body.is_empty(), "a bare 500: {:?}", reply.body);
    let after: HashMap<String, String> = conn.hgetall(&key).await.expect("HGETALL");
    assert_eq!(after, before, "{framework:?}: the hash changed");
    assert_eq!(server.get_as("/get/a", &id).await.body, "1");
    assert_eq!(
        server.get_as("/get/big", &id).await.status,
        StatusCode::NOT_FOUND
    );

    // A new visitor's first write past the limit: a 500, no session, no key.
    let reply = server.get(&format!("/set/big/{big}")).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        !reply.has_set_cookie(),
        "{framework:?}: a cookie for nothing"
    );
    assert_eq!(keys(&redis.url()).await, [key]);

    // Within the limit, the same session takes more.
    let fits = "y".repeat(LIMIT / 2);
    server
        .get_as(&format!("/set/b/{fits}"), &id)
        .await
        .assert_ok();
    assert_eq!(server.get_as("/get/b", &id).await.body, fits);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_axum_a_write_over_the_limit_is_a_500_and_changes_nothing() {
    a_write_over_the_limit_is_a_500_and_changes_nothing(Framework::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_actix_a_write_over_the_limit_is_a_500_and_changes_nothing() {
    a_write_over_the_limit_is_a_500_and_changes_nothing(Framework::Actix).await;
}

/// `GET /save/LEN`: stores a string of LEN bytes under `big` and saves at once; when the store
/// refuses it as too large, puts back what `big` held and answers 413 with the error, else 200
/// `saved`.
async fn save_big(session: &Session, len: usize) -> (u16, String) {
    let old = session.get_value("big").await.expect("get");
    session
        .insert("big", "x".repeat(len))
        .await
        .expect("insert");
    match session.save().await {
        Ok(_) => (200, "saved".into()),
        Err(Error::Store(error)) if error.kind() == StoreErrorKind::TooLarge => {
            match old {
                Some(old) => session.insert_value("big", old).await.expect("insert"),
                None => drop(session.remove_value("big").await.expect("remove")),
            }
            let cause = std::error::Error::source(&error).map(ToString::to_string);
            (413, cause.unwrap_or_default())
        }
        Err(error) => (500, error.to_string()),
    }
}

/// `GET /get/KEY`: the value's JSON text, or 404.
async fn get_json(session: &Session, key: &str) -> (u16, String) {
    match session.get_value(key).await.expect("get") {
        Some(value) => (200, value.as_json().to_owned()),
        None => (404, String::new()),
    }
}

/// What `Session::save` must answer, for a new session and for one that exists, on an adapter
/// reached through `send` (path and cookie to status, body and the new cookie).
async fn save_reports_too_large<F, Fut>(send: F)
where
    F: Fn(String, Option<String>) -> Fut,
    Fut: Future<Output = (u16, String, Option<String>)>,
{
    let refused = format!("not written: over the Redis store's limit of {LIMIT} bytes");
    let (status, body, cookie) = send(format!("/save/{}", LIMIT / 2), None).await;
    assert_eq!((status, body.as_str()), (200, "saved"));
    let cookie = cookie.expect("a new session, saved");

    // Too large for an existing session, then for a new one: the handler hears of it.
    let (status, body, _) = send(format!("/save/{LIMIT}"), Some(cookie.clone())).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains(&refused), "{body}");
    let (status, body, _) = send(format!("/save/{LIMIT}"), None).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains(&refused), "{body}");

    // The handler put the old value back, and the commit stored it.
    let (status, body, _) = send("/get/big".into(), Some(cookie)).await;
    assert_eq!(
        (status, body.len()),
        (200, LIMIT / 2 + 2),
        "the value that fitted"
    );
}

async fn store(redis: &RedisServer) -> RedisStore {
    RedisStore::builder(redis.url())
        .max_record_bytes(LIMIT)
        .connect()
        .await
        .expect("connect")
}

#[tokio::test]
async fn on_axum_session_save_reports_a_session_over_the_limit() {
    let redis = RedisServer::start();
    let layer = session_tower::SessionLayer::new(CookieState::default(), store(&redis).await);
    let app = Router::new()
        .route(
            "/save/{len}",
            get(
                |s: session_tower::Session, Path(len): Path<usize>| async move {
                    let (status, body) = save_big(&s, len).await;
                    (StatusCode::from_u16(status).expect("status"), body)
                },
            ),
        )
        .route(
            "/get/{key}",
            get(
                |s: session_tower::Session, Path(key): Path<String>| async move {
                    let (status, body) = get_json(&s, &key).await;
                    (StatusCode::from_u16(status).expect("status"), body)
                },
            ),
        )
        .layer(layer);
    save_reports_too_large(|path, cookie| {
        let app = app.clone();
        async move {
            let mut request = Request::builder().uri(path);
            if let Some(cookie) = cookie {
                request = request.header(header::COOKIE, cookie);
            }
            let request = request.body(Body::empty()).expect("request");
            let response = app.oneshot(request).await.expect("infallible");
            let cookie = set_cookie(response.headers());
            let status = response.status().as_u16();
            let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .expect("body");
            (status, String::from_utf8_lossy(&body).into_owned(), cookie)
        }
    })
    .await;
}

#[actix_rt::test]
async fn on_actix_session_save_reports_a_session_over_the_limit() {
    use actix_web::{App, HttpResponse, test, web};

    let redis = RedisServer::start();
    let middleware =
        session_actix::SessionMiddleware::new(CookieState::default(), store(&redis).await);
    let answer = |(status, body): (u16, String)| {
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status"))
            .body(body)
    };
    let app = test::init_service(
        App::new()
            .wrap(middleware)
            .route(
                "/save/{len}",
                web::get().to(
                    move |s: session_actix::Session, len: web::Path<usize>| async move {
                        answer(save_big(&s, len.into_inner()).await)
                    },
                ),
            )
            .route(
                "/get/{key}",
                web::get().to(
                    move |s: session_actix::Session, key: web::Path<String>| async move {
                        answer(get_json(&s, &key).await)
                    },
                ),
            ),
    )
    .await;
    save_reports_too_large(|path, cookie| {
        let mut request = test::TestRequest::get().uri(&path);
        if let Some(cookie) = cookie {
            request = request.insert_header(("cookie", cookie));
        }
        let app = &app;
        async move {
            let response = test::call_service(app, request.to_request()).await;
            let cookie = response
                .headers()
                .get("set-cookie")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.split(';').next())
                .map(str::to_owned);
            let status = response.status().as_u16();
            let body = test::read_body(response).await;
            (status, String::from_utf8_lossy(&body).into_owned(), cookie)
        }
    })
    .await;
}

/// The `NAME=VALUE` of a response's `Set-Cookie`, if any.
fn set_cookie(headers: &http::HeaderMap) -> Option<String> {
    let value = headers.get(header::SET_COOKIE)?.to_str().ok()?;
    value.split(';').next().map(str::to_owned)
}
