//! Streaming bodies and per-request cookie options over both adapters (issue: Plack's
//! `late_store` and per-request options): the demo's `/stream`, `/remember` and `/cookie`.

use std::time::Duration;

use session_examples::demo::Args;
use session_tests::{Framework, Setup, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Plack's streaming scenario with late store: a key set after the first chunk (after the head)
/// is stored when the body ends, for a new visitor too (the head carries the cookie).
async fn late_store_keeps_a_key_set_while_streaming(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;
    let reply = server.get("/stream").await;
    reply.assert_ok();
    assert_eq!(reply.body, "one\ntwo\nthree\n");
    let id = reply.expect_new_id();
    assert!(
        reply.is_no_store(),
        "a response that sets the id is not cached"
    );
    assert_eq!(server.get_as("/get/streamed", &id).await.body, "1");
}

/// Without late store the key set after the head is not stored (the engine reports it with a
/// `tracing` warning): a new visitor gets no cookie at all, an existing session no new key.
async fn without_late_store_the_key_is_not_stored(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;
    let reply = server.get("/stream?late=off").await;
    assert_eq!(reply.body, "one\ntwo\nthree\n");
    assert!(!reply.has_set_cookie(), "nothing was set before the head");

    let id = server.get("/set/a/1").await.expect_new_id();
    let reply = server.get_as("/stream?late=off", &id).await;
    assert_eq!(reply.body, "one\ntwo\nthree\n");
    assert_eq!(server.get_as("/get/streamed", &id).await.status, 404);
    assert_eq!(server.get_as("/get/a", &id).await.body, "1");
}

/// A client that goes away midway (after `two`, while the server pauses before `three`): the body
/// never ends, and what the handler set until then is still stored.
async fn a_client_gone_midway_still_stores_the_key(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;
    let id = server.get("/set/a/1").await.expect_new_id();
    let mut tcp = TcpStream::connect(server.addr()).await.expect("connect");
    let request =
        format!("GET /stream?pause_ms=3000 HTTP/1.1\r\nHost: test\r\nCookie: id={id}\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut seen = Vec::new();
    let mut buffer = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("two\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buffer))
            .await
            .expect("the second chunk in time")
            .expect("read");
        assert!(n > 0, "the server closed before the second chunk");
        seen.extend_from_slice(&buffer[..n]);
    }
    assert!(!String::from_utf8_lossy(&seen).contains("three"));
    drop(tcp); // gone before the end
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let reply = server.get_as("/get/streamed", &id).await;
        if reply.status == 200 {
            assert_eq!(reply.body, "1");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the key set before the client left was never stored"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// "Remember me": the cookie becomes persistent for 30 days (Max-Age and Expires), and stays so.
async fn remember_me_makes_the_cookie_persistent(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;
    let id = server.get("/set/a/1").await.expect_new_id();
    let plain = server
        .get_as("/set/b/2", &id)
        .await
        .session_cookie()
        .expect("cookie");
    assert!(!plain.has("Max-Age"), "a browser-session cookie by default");

    let reply = server.get_as("/remember", &id).await;
    let cookie = reply.session_cookie().expect("the cookie is sent again");
    assert_eq!(cookie.value, id, "the same session");
    assert_eq!(cookie.attribute("Max-Age"), Some(Some("2592000")));
    assert!(cookie.has("Expires"));
    // Kept with the session: a later write sends it persistent again.
    let later = server
        .get_as("/set/c/3", &id)
        .await
        .session_cookie()
        .expect("cookie");
    assert!(
        later.has("Max-Age"),
        "the lifetime is kept with the session"
    );
}

/// Per-request options: this response's cookie gets the path, domain and partitioning asked for,
/// with the rules holding; the next response uses the defaults again.
async fn per_request_cookie_options(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;
    let id = server.get("/set/a/1").await.expect_new_id();

    let cookie = server
        .get_as("/cookie?path=/app&domain=example.com", &id)
        .await
        .session_cookie()
        .expect("cookie");
    assert_eq!(cookie.value, id);
    assert_eq!(cookie.attribute("Path"), Some(Some("/app")));
    assert_eq!(cookie.attribute("Domain"), Some(Some("example.com")));

    let cookie = server
        .get_as("/cookie?partitioned=true", &id)
        .await
        .session_cookie()
        .expect("cookie");
    assert!(cookie.has("Partitioned"));
    assert!(cookie.has("Secure"));
    assert_eq!(cookie.attribute("SameSite"), Some(Some("None")));

    // Invalid values are ignored, never written.
    let cookie = server
        .get_as("/cookie?path=nope&domain=bad..domain", &id)
        .await
        .session_cookie()
        .expect("cookie");
    assert_eq!(cookie.attribute("Path"), Some(Some("/")));
    assert!(!cookie.has("Domain"));

    // The next response without options: the defaults.
    let cookie = server
        .get_as("/set/b/2", &id)
        .await
        .session_cookie()
        .expect("cookie");
    assert_eq!(cookie.attribute("Path"), Some(Some("/")));
    assert!(!cookie.has("Partitioned"));
}

/// A `__Host-` cookie keeps `Path=/` and no `Domain` whatever a request asks: the prefix wins.
async fn host_prefix_rules_win_over_request_options(framework: Framework) {
    let setup = Setup::new(Args {
        session_key: Some("__Host-id".into()),
        ..Args::default()
    });
    let server = TestServer::demo(framework, &setup).await;
    let id = server.get("/set/a/1").await.expect_new_id();
    let cookie = server
        .get_as("/cookie?path=/app&domain=example.com&partitioned=true", &id)
        .await
        .session_cookie()
        .expect("cookie");
    assert_eq!(cookie.name, "__Host-id");
    assert_eq!(cookie.attribute("Path"), Some(Some("/")));
    assert!(!cookie.has("Domain"));
    assert!(cookie.has("Secure") && cookie.has("Partitioned"));
}

session_tests::per_framework!(
    late_store_keeps_a_key_set_while_streaming,
    without_late_store_the_key_is_not_stored,
    a_client_gone_midway_still_stores_the_key,
    remember_me_makes_the_cookie_persistent,
    per_request_cookie_options,
    host_prefix_rules_win_over_request_options,
);
