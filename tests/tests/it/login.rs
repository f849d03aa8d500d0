//! Login rotates the id; logout removes the cookie and kills the id server-side.

use http::StatusCode;
use session_core::state::{DefaultIds, IdScheme};
use session_tests::{Framework, Setup, TestServer, counter_body};

/// `/login` (cycle_id): the new cookie differs, the old id is dead, the new id carries the old data
/// plus `user`.
async fn login_rotates_the_id(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;
    let old = server.get("/set/a/1").await.expect_new_id();
    assert_eq!(server.get_as("/", &old).await.body, counter_body(0));

    let login = server.get_as("/login", &old).await;
    login.assert_ok();
    let new = login.expect_new_id();
    assert_ne!(new, old, "login kept the id");
    assert!(DefaultIds.is_valid(&new));
    assert!(login.is_no_store(), "{:?}", login.headers);

    // The old id is dead: a fresh session, none of the data.
    for key in ["a", "counter", "user"] {
        let reply = server.get_as(&format!("/get/{key}"), &old).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "old id still reads {key}"
        );
    }
    let reply = server.get_as("/", &old).await;
    assert_eq!(reply.body, counter_body(0));
    assert_ne!(reply.expect_new_id(), old, "the old id was brought back");

    // The new id has everything.
    for (key, value) in [("a", "1"), ("counter", "1"), ("user", "demo-user")] {
        let reply = server.get_as(&format!("/get/{key}"), &new).await;
        assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, value));
    }
    assert_eq!(server.get_as("/", &new).await.body, counter_body(1));
}

/// `/login` on a new session: a session with `user` under a fresh id.
async fn login_without_a_session(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;
    let login = server.get("/login").await;
    login.assert_ok();
    let id = login.expect_new_id();
    let user = server.get_as("/get/user", &id).await;
    assert_eq!(
        (user.status, user.body.as_str()),
        (StatusCode::OK, "demo-user")
    );
}

/// `/logout` (expire): a removal `Set-Cookie` for the same name with the live cookie's `Path`,
/// `Secure`, `HttpOnly` and `SameSite`; the id is dead server-side.
async fn logout_removes_the_cookie(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;
    let created = server.get("/set/a/1").await;
    let live = created.session_cookie().expect("a session cookie");
    assert!(!live.is_removal());
    // The demo's defaults (Secure, since `--secure` defaults to true).
    for flag in ["Secure", "HttpOnly"] {
        assert!(live.has(flag), "live cookie lacks {flag}: {live:?}");
    }
    assert_eq!(live.attribute("path"), Some(Some("/")));
    assert_eq!(
        live.attribute("samesite")
            .flatten()
            .map(str::to_ascii_lowercase),
        Some("lax".to_owned())
    );

    let logout = server.get_as("/logout", &live.value).await;
    logout.assert_ok();
    let removal = logout
        .session_cookie()
        .unwrap_or_else(|| panic!("no removal cookie: {:?}", logout.headers));
    assert_eq!(removal.name, live.name);
    assert!(removal.is_removal(), "{removal:?}");
    assert!(
        removal.value.is_empty() || removal.value == "\"\"",
        "{removal:?}"
    );
    if let Some(max_age) = removal.attribute("max-age").flatten() {
        assert_eq!(max_age, "0");
    }
    assert_eq!(removal.scope(), live.scope(), "removal attributes differ");

    // Dead server-side: the old id reads nothing and is not brought back.
    let reply = server.get_as("/get/a", &live.value).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    let reply = server.get_as("/", &live.value).await;
    assert_eq!(reply.body, counter_body(0));
    assert_ne!(reply.expect_new_id(), live.value);
}

/// Logging out with no session, or an unknown one, is harmless.
async fn logout_without_a_session(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;
    let reply = server.get("/logout").await;
    reply.assert_ok();
    assert!(reply.new_id().is_none(), "{:?}", reply.headers);
    let reply = server
        .get_as("/logout", &session_tests::ids::unknown_id())
        .await;
    reply.assert_ok();
    assert!(reply.new_id().is_none(), "{:?}", reply.headers);
}

session_tests::per_framework!(
    login_rotates_the_id,
    login_without_a_session,
    logout_removes_the_cookie,
    logout_without_a_session,
);
