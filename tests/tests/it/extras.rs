//! Flash messages and CSRF tokens (`session-extras`, through each adapter's `extras` extractors)
//! over HTTP: the demo's `/flash/TEXT`, `/flashes`, `/csrf` and `/csrf-check`, on the memory store
//! and on Redis.

use std::sync::Arc;

use http::StatusCode;
use http::header::LOCATION;
use session_store_redis::testing::RedisServer;
use session_tests::{Framework, Reply, Setup, TestServer};

/// `GET /csrf-check` carrying `id` and, if any, `token` in `x-csrf-token`.
async fn check(server: &TestServer, id: &str, token: Option<&[u8]>) -> StatusCode {
    let cookie = format!("id={id}");
    let mut headers: Vec<(&str, &[u8])> = vec![("cookie", cookie.as_bytes())];
    if let Some(token) = token {
        headers.push(("x-csrf-token", token));
    }
    server.send_headers("/csrf-check", &headers).await.status
}

/// A push answers a redirect to `/flashes`, which lists the messages once, in order.
async fn flash_survives_one_redirect(framework: Framework, setup: Setup) {
    let server = TestServer::demo(framework, &setup).await;
    let pushed = server.get("/flash/saved").await;
    assert_eq!(pushed.status, StatusCode::SEE_OTHER);
    assert_eq!(pushed.headers[LOCATION], "/flashes");
    let id = pushed.expect_new_id();
    let second = server.get_as("/flash/hello%20world", &id).await;
    assert_eq!(second.status, StatusCode::SEE_OTHER);

    let shown = server.get_as("/flashes", &id).await;
    shown.assert_ok();
    assert_eq!(shown.body, "saved\nhello world\n");
    let again = server.get_as("/flashes", &id).await;
    assert_eq!((again.status, again.body.as_str()), (StatusCode::OK, ""));
    assert!(!again.has_set_cookie(), "{:?}", again.headers);
    // The rest of the session is untouched.
    assert_eq!(
        server.get_as("/", &id).await.body,
        session_tests::counter_body(0)
    );
}

async fn flash_memory(framework: Framework) {
    flash_survives_one_redirect(framework, Setup::cookie()).await;
}

async fn flash_redis(framework: Framework) {
    let redis = RedisServer::start();
    flash_survives_one_redirect(framework, Setup::cookie().redis(redis.url())).await;
}

/// 20 requests pushing at once on one session: every message survives.
async fn concurrent_pushes_all_survive(framework: Framework, setup: Setup) {
    let server = Arc::new(TestServer::demo(framework, &setup).await);
    let id = server.get("/set/user/alice").await.expect_new_id();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..20 {
        let server = server.clone();
        let id = id.clone();
        tasks.spawn(async move { server.get_as(&format!("/flash/m{n:02}"), &id).await });
    }
    while let Some(reply) = tasks.join_next().await {
        let reply: Reply = reply.expect("a request task");
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    }
    let shown = server.get_as("/flashes", &id).await;
    let mut lines: Vec<&str> = shown.body.lines().collect();
    lines.sort_unstable();
    let expected: Vec<String> = (0..20).map(|n| format!("m{n:02}")).collect();
    assert_eq!(lines, expected);
    assert_eq!(server.get_as("/get/user", &id).await.body, "alice");
}

async fn concurrent_pushes_memory(framework: Framework) {
    concurrent_pushes_all_survive(framework, Setup::cookie()).await;
}

async fn concurrent_pushes_redis(framework: Framework) {
    let redis = RedisServer::start();
    concurrent_pushes_all_survive(framework, Setup::cookie().redis(redis.url())).await;
}

/// Reading flashes that are not there stores nothing: no session, no cookie.
async fn no_flash_no_write(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;
    let empty = server.get("/flashes").await;
    assert_eq!((empty.status, empty.body.as_str()), (StatusCode::OK, ""));
    assert!(!empty.has_set_cookie(), "{:?}", empty.headers);
}

/// The token: created on first ask (and the session with it), the same afterwards; the check
/// passes with it and fails with anything else, or without it.
async fn csrf_token_is_checked(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;
    let first = server.get("/csrf").await;
    first.assert_ok();
    let token = first.body.clone();
    assert_eq!(token.len(), 43, "{token:?}");
    let id = first.expect_new_id();
    let again = server.get_as("/csrf", &id).await;
    assert_eq!(again.body, token);
    assert!(
        !again.has_set_cookie(),
        "asking again wrote: {:?}",
        again.headers
    );

    assert_eq!(
        check(&server, &id, Some(token.as_bytes())).await,
        StatusCode::OK
    );
    let mut wrong = token.clone().into_bytes();
    wrong[0] = if wrong[0] == b'A' { b'B' } else { b'A' };
    for bad in [
        &wrong[..],
        b"",
        b"forged",
        &token.as_bytes()[..42],
        b"\xff\xfe",
    ] {
        assert_eq!(
            check(&server, &id, Some(bad)).await,
            StatusCode::FORBIDDEN,
            "{:?} passed",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(check(&server, &id, None).await, StatusCode::FORBIDDEN);

    // Another session's token is not this one's; a request with no session has none.
    let other = server.get("/csrf").await;
    assert_ne!(other.body, token);
    assert_eq!(
        check(&server, &other.expect_new_id(), Some(token.as_bytes())).await,
        StatusCode::FORBIDDEN
    );
    let anonymous = server
        .send_headers("/csrf-check", &[("x-csrf-token", token.as_bytes())])
        .await;
    assert_eq!(anonymous.status, StatusCode::FORBIDDEN);
    assert!(!anonymous.has_set_cookie());
}

/// A login replaces the token: the old one fails under the new id, the new one passes.
async fn login_replaces_the_token(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;
    let first = server.get("/csrf").await;
    let old_token = first.body.clone();
    let old_id = first.expect_new_id();
    let login = server.get_as("/login", &old_id).await;
    login.assert_ok();
    let new_id = login.expect_new_id();
    assert_eq!(
        check(&server, &new_id, Some(old_token.as_bytes())).await,
        StatusCode::FORBIDDEN
    );
    let new_token = server.get_as("/csrf", &new_id).await.body;
    assert_ne!(new_token, old_token);
    assert_eq!(
        check(&server, &new_id, Some(new_token.as_bytes())).await,
        StatusCode::OK
    );
    assert_eq!(server.get_as("/get/user", &new_id).await.body, "demo-user");
}

session_tests::per_framework!(
    flash_memory,
    flash_redis,
    concurrent_pushes_memory,
    concurrent_pushes_redis,
    no_flash_no_write,
    csrf_token_is_checked,
    login_replaces_the_token,
);
