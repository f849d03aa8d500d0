//! Hostile cookies and key rotation over the sealed cookie store (`--store cookie`), in both seal
//! modes, on axum and actix-web: whatever the client sends in the session's place that does not
//! open is a fresh session (counter 0) with 200, never a 500; a key rotation keeps sessions alive
//! and moves them to the new key.

use http::StatusCode;
use session_state_cookie::SealMode;
use session_tests::sealed::random_seal_key;
use session_tests::{Browser, Framework, Setup, TestServer, counter_body};

/// The hostile variants of a genuine cookie `value`, by name.
fn variants(value: &str) -> Vec<(&'static str, String)> {
    let mid = value.len() / 2;
    let mut tampered = value.as_bytes().to_vec();
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    vec![
        ("tampered", String::from_utf8(tampered).expect("ascii")),
        ("truncated", value[..value.len() - 10].to_owned()),
        (
            "halves swapped",
            format!("{}{}", &value[mid..], &value[..mid]),
        ),
        ("garbage", "garbage".to_owned()),
        ("empty", String::new()),
        ("10 KB long", "A".repeat(10 * 1024)),
        ("not base64", "%%%not*base64!!~~".to_owned()),
    ]
}

/// Every hostile variant: 200, counter 0, a new cookie; the genuine one still counts on.
async fn hostile_cookies_give_a_fresh_session(framework: Framework, mode: SealMode) {
    let setup = Setup::sealed().seal_mode(mode);
    let server = TestServer::demo(framework, &setup).await;
    let genuine = server.get("/").await.expect_new_id();
    assert_eq!(server.get_as("/", &genuine).await.body, counter_body(1));

    for (what, value) in variants(&genuine) {
        let reply = server.get_as("/", &value).await;
        assert_eq!(reply.status, StatusCode::OK, "{what}: {}", reply.body);
        assert_eq!(reply.body, counter_body(0), "{what} opened");
        let fresh = reply.expect_new_id();
        assert_ne!(fresh, value, "{what}");
        assert_eq!(
            server.get_as("/", &fresh).await.body,
            counter_body(1),
            "{what}"
        );
    }

    // Signed with another key, under the same name.
    let other = TestServer::demo(framework, &Setup::sealed().seal_mode(mode)).await;
    let foreign = other.get("/").await.expect_new_id();
    let reply = server.get_as("/", &foreign).await;
    assert_eq!(
        (reply.status, reply.body),
        (StatusCode::OK, counter_body(0)),
        "wrong key"
    );

    // The same key, moved to another cookie name: the name is sealed in.
    let renamed = setup.clone().session_key("other");
    let elsewhere = TestServer::demo(framework, &renamed).await;
    let reply = elsewhere.get_as("/", &genuine).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        counter_body(0),
        "a value moved to another name opened"
    );
    // ... while that server's own cookies open there (same key).
    let own = reply.expect_new_id();
    assert_eq!(elsewhere.get_as("/", &own).await.body, counter_body(1));
}

async fn hostile_private(framework: Framework) {
    hostile_cookies_give_a_fresh_session(framework, SealMode::Private).await;
}

async fn hostile_signed(framework: Framework) {
    hostile_cookies_give_a_fresh_session(framework, SealMode::Signed).await;
}

/// Server 1 (key K1) issues a cookie; server 2 (K2, old K1) opens it and reseals it with K2;
/// server 3 (K2 only) opens the resealed cookie but not the original.
async fn key_rotation(framework: Framework, mode: SealMode) {
    let (k1, k2) = (random_seal_key(), random_seal_key());
    let base = Setup::sealed().seal_mode(mode);
    let one = TestServer::demo(framework, &base.clone().seal_key(&k1)).await;
    let two = TestServer::demo(framework, &base.clone().seal_key(&k2).old_seal_key(&k1)).await;
    let three = TestServer::demo(framework, &base.clone().seal_key(&k2)).await;

    let mut on_one = Browser::new(&one);
    on_one.get("/set/a/1").await.assert_ok();
    let id = on_one.id().await;
    let original = on_one.expect_cookie();

    // Server 2 opens it with the old key and answers a read with a resealed cookie.
    let read = two.get_as("/get/a", &original).await;
    assert_eq!((read.status, read.body.as_str()), (StatusCode::OK, "1"));
    let resealed = read
        .new_id()
        .expect("a cookie opened with an old key is resealed on that response");
    assert_ne!(resealed, original);
    let mut on_two = Browser::holding(&two, &resealed);
    assert_eq!(on_two.id().await, id, "resealing changed the session");
    let again = on_two.get("/get/a").await;
    assert!(!again.has_set_cookie(), "a current-key cookie was resealed");

    // The resealed cookie no longer needs K1; the original needs it.
    let mut on_three = Browser::holding(&three, &resealed);
    assert_eq!(on_three.get("/get/a").await.body, "1");
    assert_eq!(on_three.id().await, id);
    let stale = three.get_as("/", &original).await;
    assert_eq!(
        (stale.status, stale.body),
        (StatusCode::OK, counter_body(0))
    );
    // And K1 alone does not open what K2 sealed.
    assert_eq!(one.get_as("/", &resealed).await.body, counter_body(0));
}

async fn rotation_private(framework: Framework) {
    key_rotation(framework, SealMode::Private).await;
}

async fn rotation_signed(framework: Framework) {
    key_rotation(framework, SealMode::Signed).await;
}

session_tests::per_framework!(
    hostile_private,
    hostile_signed,
    rotation_private,
    rotation_signed
);
