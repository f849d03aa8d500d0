//! Cookie tossing over HTTP: a sibling subdomain sets a cookie of the session's name for the
//! parent domain on a longer path, so browsers send it before the victim's own. When a request
//! carries more than one live session under the name, none is adopted: the attacker's session
//! does not follow the victim through login, and the victim's is not reachable through it. The
//! same for ids (a store keeps the data) and for sealed cookies.

use http::StatusCode;
use session_tests::{Framework, Setup, TestServer};

/// `GET path` carrying the session cookies `values` in one `Cookie` header, in order.
async fn send_with(server: &TestServer, path: &str, values: &[&str]) -> session_tests::Reply {
    let name = server.cookie_name().expect("a cookie setup");
    let header = values
        .iter()
        .map(|value| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ");
    server.send(path, &[header.as_bytes()]).await
}

#[track_caller]
fn assert_value(reply: &session_tests::Reply, value: Option<&str>, what: &str) {
    match value {
        Some(value) => assert_eq!(
            (reply.status, reply.body.as_str()),
            (StatusCode::OK, value),
            "{what}"
        ),
        None => assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{what}: {}",
            reply.body
        ),
    }
}

async fn a_tossed_cookie_is_never_adopted(framework: Framework, setup: Setup) {
    let server = TestServer::demo(framework, &setup).await;
    // The attacker's own session, planted in the victim's browser from a sibling subdomain.
    let attacker = server.get("/set/planted/1").await.expect_new_id();
    let victim = server.get("/set/mine/1").await.expect_new_id();

    // Either order: neither session is read.
    for order in [[&*attacker, &*victim], [&*victim, &*attacker]] {
        let reply = send_with(&server, "/get/planted", &order).await;
        assert_value(&reply, None, "the tossed session was adopted");
        let reply = send_with(&server, "/get/mine", &order).await;
        assert_value(&reply, None, "a session was adopted among two live ones");
    }

    // A login with both cookies: a fresh session, without the attacker's data.
    let login = send_with(&server, "/login", &[&attacker, &victim]).await;
    login.assert_ok();
    let logged_in = login.expect_new_id();
    assert!(logged_in != attacker && logged_in != victim);
    let reply = server.get_as("/get/planted", &logged_in).await;
    assert_value(&reply, None, "the attacker's data followed the login");
    assert_value(
        &server.get_as("/get/user", &logged_in).await,
        Some("demo-user"),
        "the login",
    );

    // Alone, each session is still itself; the same cookie sent twice is one session.
    let reply = server.get_as("/get/planted", &attacker).await;
    assert_value(&reply, Some("1"), "the attacker's own session");
    let reply = server.get_as("/get/mine", &victim).await;
    assert_value(&reply, Some("1"), "the victim's own session");
    let reply = send_with(&server, "/get/mine", &[&victim, &victim]).await;
    assert_value(&reply, Some("1"), "the same cookie twice");
    // A dead or garbage cookie beside a live one hides nothing.
    let reply = send_with(&server, "/get/mine", &["garbage", &victim]).await;
    assert_value(&reply, Some("1"), "garbage before the live cookie");
}

async fn ids(framework: Framework) {
    a_tossed_cookie_is_never_adopted(framework, Setup::cookie()).await;
}

async fn sealed_cookies(framework: Framework) {
    a_tossed_cookie_is_never_adopted(framework, Setup::sealed()).await;
}

session_tests::per_framework!(ids, sealed_cookies);
