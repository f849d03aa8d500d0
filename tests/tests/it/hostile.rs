//! Hostile and unknown session ids over HTTP: never adopted unless they name a live session, never
//! a 5xx, always a fresh session with a new id of the server's own.

use http::StatusCode;
use session_core::state::{DefaultIds, IdScheme};
use session_tests::ids::unknown_id;
use session_tests::{Framework, Reply, Setup, TestServer, counter_body};

/// A server and a live session whose `counter` is 1.
async fn with_live_session(framework: Framework) -> (TestServer, String) {
    let server = TestServer::demo(framework, &Setup::cookie()).await;
    let live = server.get("/").await.expect_new_id();
    assert!(
        DefaultIds.is_valid(&live),
        "the server issued a malformed id"
    );
    (server, live)
}

/// The counter page of a fresh session: 0th, and a new well-formed id that is none of `sent`.
#[track_caller]
fn assert_fresh(reply: &Reply, sent: &[&str], what: &str) {
    assert_eq!(reply.status, StatusCode::OK, "{what}: {}", reply.body);
    assert_eq!(reply.body, counter_body(0), "{what}: not a fresh session");
    let id = reply
        .new_id()
        .unwrap_or_else(|| panic!("{what}: no new id in {:?}", reply.headers));
    assert!(
        DefaultIds.is_valid(&id),
        "{what}: new id {id:?} is malformed"
    );
    assert!(
        !sent.contains(&id.as_str()),
        "{what}: the client's id was adopted"
    );
}

/// `/get/counter` answered from the live session.
#[track_caller]
fn assert_adopted(reply: &Reply, what: &str) {
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "1"),
        "{what}: the live session was not adopted"
    );
}

/// A well-formed id the server never issued is not adopted: the response sets a new id.
async fn unknown_id_is_not_adopted(framework: Framework) {
    let (server, live) = with_live_session(framework).await;
    let unknown = unknown_id();
    assert!(
        DefaultIds.is_valid(&unknown),
        "the test's id {unknown:?} is malformed"
    );
    assert_ne!(unknown, live);

    let reply = server.get_as("/", &unknown).await;
    assert_fresh(&reply, &[&unknown, &live], "unknown id");
    let issued = reply.expect_new_id();
    assert_eq!(server.get_as("/", &issued).await.body, counter_body(1));

    // The unknown id still names nothing.
    let again = server.get_as("/get/counter", &unknown).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);
}

/// Malformed values in the session cookie: each gives a fresh session.
async fn malformed_values_give_a_fresh_session(framework: Framework) {
    let (server, live) = with_live_session(framework).await;
    let big = "A".repeat(10 * 1024);
    let cases: [(&str, &str); 8] = [
        ("path traversal", "../wrong"),
        ("10 KB value", &big),
        ("empty value", ""),
        ("quoted garbage", "\"garbage\""),
        (
            "live id with a trailing newline escape",
            &format!("{live}%0A"),
        ),
        ("live id, uppercased", &live.to_uppercase()),
        ("live id plus one character", &format!("{live}A")),
        ("live id minus one character", &live[..live.len() - 1]),
    ];
    for (what, value) in cases {
        let reply = server.get_as("/", value).await;
        assert_fresh(&reply, &[value, &live], what);
    }
}

/// Several session cookies: the live one is adopted whatever its place; none live gives a fresh
/// session with an id of the server's own.
async fn duplicated_cookies(framework: Framework) {
    let (server, live) = with_live_session(framework).await;
    let (u1, u2) = (unknown_id(), unknown_id());

    for header in [
        format!("id={live}; id=garbage"),
        format!("id=garbage; id={live}"),
        format!("id=../wrong; other=1; id={live}"),
        format!("id={u1}; id={live}"),
    ] {
        let reply = server.send("/get/counter", &[header.as_bytes()]).await;
        assert_adopted(&reply, &header);
    }
    let lines = ["id=garbage".to_owned(), format!("id={live}")];
    let reply = server
        .send("/get/counter", &[lines[0].as_bytes(), lines[1].as_bytes()])
        .await;
    assert_adopted(&reply, "two Cookie header lines");

    for header in [format!("id={u1}; id={u2}"), format!("id=garbage; id={u1}")] {
        let reply = server.send("/", &[header.as_bytes()]).await;
        assert_fresh(&reply, &[&u1, &u2, &live], &header);
    }
}

/// Bytes that are not ASCII: never adopted, never an error.
async fn non_ascii_bytes(framework: Framework) {
    let (server, live) = with_live_session(framework).await;
    let latin1 = [b"id=caf\xe9".as_slice(), b"id=\xff\xfe\x80".as_slice()];
    let utf8 = "id=café-\u{1F36A}".as_bytes().to_vec();
    let mut live_plus = format!("id={live}").into_bytes();
    live_plus.push(0xe9);
    for header in [latin1[0], latin1[1], &utf8, &live_plus] {
        let reply = server.send("/", &[header]).await;
        assert_fresh(&reply, &[&live], &String::from_utf8_lossy(header));
    }
    // A non-UTF-8 line does not hide a live cookie in another line.
    let live_line = format!("id={live}");
    let reply = server
        .send("/get/counter", &[latin1[1], live_line.as_bytes()])
        .await;
    assert_adopted(&reply, "a non-UTF-8 line before the live cookie");
}

/// A quoted live id is adopted (Plack unquotes cookie values); quoted garbage gives a fresh
/// session (see `malformed_values_give_a_fresh_session`).
async fn quoted_live_id_is_adopted(framework: Framework) {
    let (server, live) = with_live_session(framework).await;
    let reply = server.get_as("/get/counter", &format!("\"{live}\"")).await;
    assert_adopted(&reply, "quoted live id");
    let reply = server.get_as("/", &format!("\"{}\"", unknown_id())).await;
    assert_fresh(&reply, &[&live], "quoted unknown id");
}

/// Cookie headers without `=`, and with many semicolons.
async fn broken_cookie_syntax(framework: Framework) {
    let (server, live) = with_live_session(framework).await;
    let semicolons = ";".repeat(2000);
    let spaced = "; ".repeat(500);
    for header in [
        "id".to_owned(),
        live.clone(),
        format!("id{live}"),
        format!("=; ={live}; id;"),
        semicolons.clone(),
        format!("{spaced}id=garbage{spaced}"),
    ] {
        let reply = server.send("/", &[header.as_bytes()]).await;
        let what = format!("{:.60}", header);
        assert_fresh(&reply, &[&live], &what);
    }
    // Empty pairs around the live cookie are skipped, as Plack's parser does.
    let header = format!("{semicolons}id={live}{semicolons}");
    assert_adopted(
        &server.send("/get/counter", &[header.as_bytes()]).await,
        "live id among semicolons",
    );
}

/// No hostile value makes any route answer 5xx.
async fn no_route_fails_on_hostile_ids(framework: Framework) {
    let (server, live) = with_live_session(framework).await;
    let big = "x".repeat(10 * 1024);
    let headers: Vec<Vec<u8>> = vec![
        b"id=../wrong".to_vec(),
        format!("id={big}").into_bytes(),
        b"id=".to_vec(),
        b"id=\"\"".to_vec(),
        b"id=\xff\xfe".to_vec(),
        b"id".to_vec(),
        b";;;;;;;;;;".to_vec(),
        format!("id={}; id=garbage", unknown_id()).into_bytes(),
        format!("id=\"{live}").into_bytes(),
    ];
    for path in [
        "/",
        "/get/counter",
        "/set/x/1",
        "/login",
        "/logout",
        "/id",
        "/nostore",
    ] {
        for header in &headers {
            let reply = server.send(path, &[header]).await;
            assert!(
                !reply.status.is_server_error(),
                "{path} with {:?}: {}",
                String::from_utf8_lossy(header),
                reply.status
            );
            if let Some(id) = reply.new_id() {
                assert!(DefaultIds.is_valid(&id), "{path}: malformed new id {id:?}");
                assert_ne!(
                    id, live,
                    "{path}: the live id was handed to a hostile client"
                );
            }
        }
    }
    // The live session survived all of it, untouched.
    assert_adopted(
        &server.get_as("/get/counter", &live).await,
        "after the attack",
    );
}

session_tests::per_framework!(
    unknown_id_is_not_adopted,
    malformed_values_give_a_fresh_session,
    duplicated_cookies,
    non_ascii_bytes,
    quoted_live_id_is_adopted,
    broken_cookie_syntax,
    no_route_fails_on_hostile_ids,
);
