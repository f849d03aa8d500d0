//! `--state header` (`HeaderState`: the id in `x-session-id`, or the header `--session-header`
//! names) and `--state header-or-cookie` (`HeaderOr<CookieState>`) over HTTP: the demo's contract
//! on the memory and Redis stores, what goes out in the header (never a cookie), `Vary`, CORS,
//! login and logout, hostile header values, and the combined state answering in the form each
//! request used.

use std::sync::Arc;

use http::StatusCode;
use http::header::{ACCESS_CONTROL_EXPOSE_HEADERS, SET_COOKIE};
use session_examples::demo::DEFAULT_REDIS_PREFIX;
use session_store_redis::testing::RedisServer;
use session_tests::redis::{key_of, keys};
use session_tests::{Framework, Reply, Setup, TestServer, contract, counter_body};

/// Every value of header `name` in `reply`.
fn values<'a>(reply: &'a Reply, name: &str) -> Vec<&'a str> {
    reply
        .headers
        .get_all(name)
        .iter()
        .map(|value| value.to_str().expect("visible ASCII"))
        .collect()
}

/// The demo's contract with the id in a header: counter, caching headers, untouched routes,
/// `skip_store`, 5xx and 50 concurrent writes; no response ever carries a cookie.
async fn demo_contract(framework: Framework, setup: Setup) -> Arc<TestServer> {
    let server = Arc::new(TestServer::demo(framework, &setup).await);
    let id = contract::counter_counts(&server).await;
    contract::untouched_nostore_and_5xx_store_nothing(&server, &id).await;
    assert_eq!(server.get_as("/", &id).await.body, counter_body(3));
    contract::concurrent_writes_lose_nothing(server.clone()).await;
    server
}

async fn contract_memory(framework: Framework) {
    demo_contract(framework, Setup::header(None)).await;
}

async fn contract_memory_named(framework: Framework) {
    demo_contract(framework, Setup::header(Some("X-Api-Session"))).await;
}

/// On Redis, with `--session-header`: the contract, and the one key the session left is the
/// digest of the id the header carried.
async fn contract_redis_named(framework: Framework) {
    let redis = RedisServer::start();
    let setup = Setup::header(Some("x-api-session")).redis(redis.url());
    crate::redis_store::demo_contract_in(framework, &redis, setup).await;
}

/// What a response carries: the id in the header (sensitive values are not logged, so only the
/// wire can show it), named in `Access-Control-Expose-Headers`; `Vary` names the header and not
/// `Cookie`; no `Set-Cookie`, ever. A read sends no id.
async fn what_the_header_carries(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::header(Some("X-Api-Session"))).await;
    let created = server.get("/set/colour/blue").await;
    created.assert_ok();
    let id = created.expect_new_id();
    assert_eq!(values(&created, "x-api-session"), [id.as_str()]);
    assert_eq!(
        values(&created, ACCESS_CONTROL_EXPOSE_HEADERS.as_str()),
        ["x-api-session"]
    );
    assert!(created.varies_on("x-api-session"), "{:?}", created.headers);
    assert!(!created.varies_on_cookie(), "{:?}", created.headers);
    assert!(created.is_no_store());
    assert!(!created.headers.contains_key(SET_COOKIE));

    let read = server.get_as("/get/colour", &id).await;
    assert_eq!((read.status, read.body.as_str()), (StatusCode::OK, "blue"));
    assert!(!read.sends_id(), "a read sent the id: {:?}", read.headers);
    assert!(read.varies_on("x-api-session"));
    assert!(!read.headers.contains_key(SET_COOKIE));

    // A cookie with the id is not where this server looks.
    let by_cookie = server
        .send("/get/colour", &[format!("id={id}").as_bytes()])
        .await;
    assert_eq!(by_cookie.status, StatusCode::NOT_FOUND);
}

/// Login moves the data to a new id, sent in the header; the old id is dead. Logout answers the
/// header empty, removes the session from Redis and stores nothing new.
async fn login_and_logout_redis(framework: Framework) {
    let redis = RedisServer::start();
    let server = TestServer::demo(framework, &Setup::header(None).redis(redis.url())).await;
    let old = server.get("/set/cart/3").await.expect_new_id();

    let login = server.get_as("/login", &old).await;
    login.assert_ok();
    let new = login.expect_new_id();
    assert_ne!(new, old);
    assert_eq!(server.get_as("/get/cart", &new).await.body, "3");
    assert_eq!(
        server.get_as("/get/cart", &old).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        keys(&redis.url()).await,
        [key_of(DEFAULT_REDIS_PREFIX, &new)]
    );

    let logout = server.get_as("/logout", &new).await;
    logout.assert_ok();
    assert!(logout.removes_id(), "{:?}", logout.headers);
    assert_eq!(values(&logout, "x-session-id"), [""]);
    assert_eq!(
        values(&logout, ACCESS_CONTROL_EXPOSE_HEADERS.as_str()),
        ["x-session-id"]
    );
    assert!(logout.is_no_store());
    assert!(
        keys(&redis.url()).await.is_empty(),
        "the logout left or stored a key"
    );

    let after = server.get_as("/get/cart", &new).await;
    assert_eq!(after.status, StatusCode::NOT_FOUND);
    assert!(!after.sends_id());
    assert!(keys(&redis.url()).await.is_empty());
}

/// Malformed, oversized, unknown and non-ASCII ids in the header: never adopted, never an error;
/// the session starts afresh with a new id.
async fn hostile_header_values(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::header(None)).await;
    let live = server.get("/set/k/v").await.expect_new_id();
    let long = "A".repeat(6000);
    let unknown = session_tests::ids::unknown_id();
    let longer = format!("{live}A");
    let hostile: [&[u8]; 7] = [
        b"../wrong",
        b"x",
        long.as_bytes(),
        unknown.as_bytes(),
        b"caf\xc3\xa9",
        b"\xff\xfe",
        longer.as_bytes(),
    ];
    for value in hostile {
        let reply = server
            .send_headers("/get/k", &[("x-session-id", value)])
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{:?}",
            String::from_utf8_lossy(value)
        );
        let created = server
            .send_headers("/set/k/w", &[("x-session-id", value)])
            .await;
        created.assert_ok();
        let issued = created.expect_new_id();
        assert_ne!(issued.as_bytes(), value);
        assert_ne!(issued, live);
    }
    // Two ids, one of them live: the live one is the only one and is adopted.
    let two = server
        .send_headers(
            "/get/k",
            &[
                ("x-session-id", b"../wrong"),
                ("x-session-id", live.as_bytes()),
            ],
        )
        .await;
    assert_eq!((two.status, two.body.as_str()), (StatusCode::OK, "v"));
}

/// `--state header-or-cookie`: a request with the header is served in the header, one without it
/// with the cookie; both kinds of response vary on both; a request carrying both is the header's;
/// each logout answers in its own form.
async fn header_or_cookie(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::header_or_cookie()).await;

    // A browser: cookies only.
    let browser = server.get("/set/who/browser").await;
    let cookie_id = browser.expect_new_id();
    assert!(
        !browser.headers.contains_key("x-session-id"),
        "{:?}",
        browser.headers
    );
    assert!(!browser.headers.contains_key(ACCESS_CONTROL_EXPOSE_HEADERS));
    assert!(browser.varies_on_cookie() && browser.varies_on("x-session-id"));

    // An API client: asks for a session with an empty header, gets its id in the header.
    let api = server
        .send_headers("/set/who/api", &[("x-session-id", b"")])
        .await;
    api.assert_ok();
    assert!(!api.has_set_cookie(), "{:?}", api.headers);
    let header_id = values(&api, "x-session-id")[0].to_owned();
    assert!(!header_id.is_empty());
    assert_ne!(header_id, cookie_id);
    assert!(api.varies_on_cookie() && api.varies_on("x-session-id"));

    let read = |id: String| {
        let server = &server;
        async move {
            server
                .send_headers("/get/who", &[("x-session-id", id.as_bytes())])
                .await
        }
    };
    assert_eq!(read(header_id.clone()).await.body, "api");
    assert_eq!(server.get_as("/get/who", &cookie_id).await.body, "browser");

    // Both: the header wins, the cookie is not read.
    let both = server
        .send_headers(
            "/get/who",
            &[
                ("x-session-id", header_id.as_bytes()),
                ("cookie", format!("id={cookie_id}").as_bytes()),
            ],
        )
        .await;
    assert_eq!(both.body, "api");
    let empty_and_cookie = server
        .send_headers(
            "/get/who",
            &[
                ("x-session-id", b""),
                ("cookie", format!("id={cookie_id}").as_bytes()),
            ],
        )
        .await;
    assert_eq!(empty_and_cookie.status, StatusCode::NOT_FOUND);

    // Logouts answer in their own form.
    let api_logout = server
        .send_headers("/logout", &[("x-session-id", header_id.as_bytes())])
        .await;
    assert_eq!(values(&api_logout, "x-session-id"), [""]);
    assert!(!api_logout.has_set_cookie(), "{:?}", api_logout.headers);
    assert_eq!(read(header_id).await.status, StatusCode::NOT_FOUND);

    let browser_logout = server.get_as("/logout", &cookie_id).await;
    assert!(browser_logout.removes_id(), "{:?}", browser_logout.headers);
    assert!(!browser_logout.headers.contains_key("x-session-id"));
    assert_eq!(
        server.get_as("/get/who", &cookie_id).await.status,
        StatusCode::NOT_FOUND
    );
}

session_tests::per_framework!(
    contract_memory,
    contract_memory_named,
    contract_redis_named,
    what_the_header_carries,
    login_and_logout_redis,
    hostile_header_values,
    header_or_cookie,
);
