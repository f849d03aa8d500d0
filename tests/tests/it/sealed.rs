//! The demo's HTTP contract over the sealed cookie store (`--store cookie`: the whole session in
//! an encrypted or signed cookie, no server storage), on axum and actix-web: the counter and the
//! caching headers, skip_store and 5xx, Plack's cookie-store counter, login and logout, the
//! 4096-byte limit, and what each seal mode shows the client.
//!
//! The cookie's value changes on every write; "the same session" means the same id sealed inside
//! (`GET /id`). Expiry is in `sealed_expiry.rs`, hostile cookies and key rotation in
//! `sealed_hostile.rs`, the Plack nine steps in `sealed_plack.rs`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use session_state_cookie::{MAX_COOKIE_BYTES, SealMode};
use session_tests::{App, Browser, Framework, Setup, TestServer, contract, counter_body};

async fn demo_contract(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::sealed()).await;
    let cookie = contract::counter_counts_following(&server).await;
    contract::untouched_nostore_and_5xx_store_nothing(&server, &cookie).await;
    // Not run: `contract::concurrent_writes_lose_nothing`. A client-side store cannot merge
    // concurrent writes: each response carries the whole session, and the client keeps whichever
    // it processes last (documented on `ClientStore`).
}

/// Plack's cookie-store check: the counter counts 0, 1, 2, expires on the third request, and the
/// fourth (the client honoured the removal) starts again at 0.
async fn plack_cookie_counter(framework: Framework) {
    let server = TestServer::start(framework, App::PlackCounter, &Setup::sealed()).await;
    let mut browser = Browser::new(&server);
    for n in 0..2 {
        let reply = browser.get("/counter").await;
        assert_eq!(reply.body, format!("counter={n}"));
        assert!(reply.new_id().is_some(), "request {n} sent no cookie");
    }
    let holding_two = browser.expect_cookie();
    let third = browser.get("/counter").await;
    assert_eq!(third.body, "counter=2");
    let removal = third.session_cookie().expect("the third request expires");
    assert!(removal.is_removal(), "{removal:?}");
    assert_eq!(browser.cookie(), None);
    let fourth = browser.get("/counter").await;
    assert_eq!(fourth.body, "counter=0", "the fourth request starts again");
    assert!(fourth.new_id().is_some());
    // A client that ignores the removal still holds a session that opens: a sealed cookie cannot
    // be revoked (see `ClientStore`); it expires on every third request all the same.
    let replayed = server.get_as("/counter", &holding_two).await;
    assert_eq!(replayed.body, "counter=2");
}

/// `/login` cycles the id: a new sealed id, the data kept, `user` added.
async fn login_cycles_the_sealed_id(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::sealed()).await;
    let mut browser = Browser::new(&server);
    browser.get("/set/a/1").await.assert_ok();
    let before = browser.expect_cookie();
    let old_id = browser.id().await;

    let login = browser.get("/login").await;
    login.assert_ok();
    let after = login.expect_new_id();
    assert_ne!(after, before);
    assert!(login.is_no_store() && login.varies_on_cookie());
    let new_id = browser.id().await;
    assert_ne!(new_id, old_id, "login kept the sealed id");
    for (key, value) in [("a", "1"), ("user", "demo-user")] {
        let reply = browser.get(&format!("/get/{key}")).await;
        assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, value));
    }

    // The documented limitation: cycle_id replaces the client's copy only. The cookie from before
    // the login still opens, with the old id and without `user`.
    let mut old = Browser::holding(&server, &before);
    assert_eq!(old.id().await, old_id);
    assert_eq!(old.get("/get/user").await.status, StatusCode::NOT_FOUND);
}

/// `/logout`: a removal cookie with the live cookie's attributes; a client that honours it starts
/// afresh.
async fn logout_removes_the_cookie(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::sealed()).await;
    let mut browser = Browser::new(&server);
    let created = browser.get("/set/a/1").await;
    let live = created.session_cookie().expect("a session cookie");
    assert!(live.has("Secure") && live.has("HttpOnly"), "{live:?}");
    let id = browser.id().await;

    let logout = browser.get("/logout").await;
    logout.assert_ok();
    let removal = logout.session_cookie().expect("a removal cookie");
    assert_eq!(removal.name, live.name);
    assert!(removal.is_removal(), "{removal:?}");
    assert!(
        removal.value.is_empty() || removal.value == "\"\"",
        "{removal:?}"
    );
    assert_eq!(removal.scope(), live.scope(), "removal attributes differ");
    assert!(logout.is_no_store(), "{:?}", logout.headers);
    assert_eq!(browser.cookie(), None);

    let fresh = browser.get("/").await;
    assert_eq!(fresh.body, counter_body(0));
    assert_eq!(browser.get("/get/a").await.status, StatusCode::NOT_FOUND);
    assert_ne!(browser.id().await, id);

    // Logging out with no cookie sends nothing; with one that does not open, a removal.
    let nothing = server.get("/logout").await;
    assert!(!nothing.has_set_cookie(), "{:?}", nothing.headers);
    let garbage = server.get_as("/logout", "garbage").await;
    let removal = garbage.session_cookie().expect("a removal for garbage");
    assert!(removal.is_removal(), "{removal:?}");
}

/// A session pushed past 4096 bytes: a bare 500 without `Set-Cookie`, and the client's previous
/// cookie still opens the previous session.
async fn too_large_is_a_bare_500_and_loses_nothing(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::sealed()).await;
    let mut browser = Browser::new(&server);
    let value = "x".repeat(500);
    let mut stored = 0;
    let failed = loop {
        assert!(stored < 10, "ten 500-byte values fit in one cookie");
        let reply = browser.get(&format!("/set/big{stored}/{value}")).await;
        if reply.status != StatusCode::OK {
            break reply;
        }
        let set = reply.session_cookie().expect("a write sends the cookie");
        let line = reply.headers["set-cookie"].len();
        assert!(
            line <= MAX_COOKIE_BYTES,
            "{line}-byte Set-Cookie for {set:?}"
        );
        stored += 1;
    };
    assert!(stored >= 2, "only {stored} values fit");
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(failed.body.is_empty(), "not bare: {:?}", failed.body);
    assert!(!failed.has_set_cookie(), "{:?}", failed.headers);

    // Nothing lost: the previous cookie (still the browser's) opens everything stored before.
    for n in 0..stored {
        let reply = browser.get(&format!("/get/big{n}")).await;
        assert_eq!(
            (reply.status, reply.body.len()),
            (StatusCode::OK, 500),
            "big{n}"
        );
    }
    let missing = browser.get(&format!("/get/big{stored}")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

const MARKER: &str = "visible-marker-value";

/// `--seal-mode signed`: the value is not plain text but readable by anyone (base64url after the
/// 44-character tag); it opens; one character changed and it does not.
async fn signed_mode_is_readable_but_not_writable(framework: Framework) {
    let setup = Setup::sealed().seal_mode(SealMode::Signed);
    let server = TestServer::demo(framework, &setup).await;
    let cookie = server
        .get(&format!("/set/note/{MARKER}"))
        .await
        .expect_new_id();
    assert!(!cookie.contains(MARKER), "plain text: {cookie}");
    let payload = URL_SAFE_NO_PAD
        .decode(&cookie[44..])
        .expect("a signed value is base64url after its tag");
    assert!(
        String::from_utf8_lossy(&payload).contains(MARKER),
        "signed mode is documented as readable"
    );
    assert_eq!(server.get_as("/get/note", &cookie).await.body, MARKER);

    for at in [10, 44 + (cookie.len() - 44) / 2] {
        let tampered = flip(&cookie, at);
        let reply = server.get_as("/get/note", &tampered).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "flipped at {at}");
        assert_eq!(server.get_as("/", &tampered).await.body, counter_body(0));
    }
}

/// Private mode (the default): neither the `Set-Cookie` nor its base64url decoding holds the stored
/// value's text.
async fn private_mode_hides_the_values(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::sealed()).await;
    let set = server.get(&format!("/set/note/{MARKER}")).await;
    let line = set.headers["set-cookie"].to_str().expect("ascii");
    assert!(!line.contains(MARKER), "{line}");
    let cookie = set.expect_new_id();
    let bytes = URL_SAFE_NO_PAD
        .decode(&cookie)
        .expect("private values are base64url");
    assert!(!String::from_utf8_lossy(&bytes).contains(MARKER));
    assert_eq!(server.get_as("/get/note", &cookie).await.body, MARKER);
}

/// `value` with the character at `at` replaced by another base64 character.
fn flip(value: &str, at: usize) -> String {
    let mut bytes = value.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ascii")
}

session_tests::per_framework!(
    demo_contract,
    plack_cookie_counter,
    login_cycles_the_sealed_id,
    logout_removes_the_cookie,
    too_large_is_a_bare_500_and_loses_nothing,
    signed_mode_is_readable_but_not_writable,
    private_mode_hides_the_values,
);
