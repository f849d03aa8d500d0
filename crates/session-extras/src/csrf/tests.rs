use super::*;
use crate::test_support::Server;

#[test]
fn the_token_key_is_bound_to_the_id() {
    assert_eq!(TOKEN_KEY, format!("{}csrf", Session::ID_BOUND_PREFIX));
}

/// Created lazily, once per session, kept across requests; checked exactly.
#[tokio::test]
async fn one_token_per_session_checked_exactly() {
    let server = Server::new();
    let session = server.start(None);
    assert!(!Csrf::new(&session).verify("").await.expect("verify"));
    assert_eq!(
        server.finish(&session).await,
        None,
        "verify created something"
    );

    let session = server.start(None);
    let token = Csrf::new(&session).token().await.expect("token");
    assert!(DefaultIds.is_valid(&token));
    let id = server.finish(&session).await.expect("stored");

    let next = server.start(Some(&id));
    let csrf = Csrf::new(&next);
    assert_eq!(csrf.token().await.expect("token"), token);
    assert!(csrf.verify(&token).await.expect("verify"));
    let mut wrong = token.clone().into_bytes();
    wrong[42] = if wrong[42] == b'A' { b'E' } else { b'A' };
    let wrong = String::from_utf8(wrong).expect("ascii");
    for bad in ["", "x", &token[..42], &format!("{token}A"), &wrong] {
        assert!(!csrf.verify(bad).await.expect("verify"), "{bad:?} passed");
    }

    let other = server.start(None);
    let theirs = Csrf::new(&other).token().await.expect("token");
    assert_ne!(theirs, token, "two sessions share a token");
    assert!(!csrf.verify(&theirs).await.expect("verify"));
}

/// A login (`cycle_id`) replaces the token: the old one stops working, the data stays.
#[tokio::test]
async fn an_id_change_replaces_the_token() {
    let server = Server::new();
    let session = server.start(None);
    session.insert("cart", 3).await.expect("insert");
    let old_token = Csrf::new(&session).token().await.expect("token");
    let id = server.finish(&session).await.expect("stored");

    let login = server.start(Some(&id));
    login.cycle_id();
    let new_token = Csrf::new(&login).token().await.expect("token");
    assert_ne!(new_token, old_token);
    let new_id = server.finish(&login).await.expect("stored");
    assert_ne!(new_id, id);

    let next = server.start(Some(&new_id));
    let csrf = Csrf::new(&next);
    assert!(!csrf.verify(&old_token).await.expect("verify"));
    assert!(csrf.verify(&new_token).await.expect("verify"));
    assert_eq!(next.get::<u32>("cart").await.expect("get"), Some(3));
}

/// A stored value that is not a token counts as none, and is replaced.
#[tokio::test]
async fn a_damaged_token_is_replaced() {
    let server = Server::new();
    let session = server.start(None);
    session.insert(TOKEN_KEY, 7).await.expect("insert");
    let csrf = Csrf::new(&session);
    assert!(!csrf.verify("7").await.expect("verify"));
    let token = csrf.token().await.expect("token");
    assert!(DefaultIds.is_valid(&token));
    session.insert(TOKEN_KEY, "short").await.expect("insert");
    assert!(!csrf.verify("short").await.expect("verify"));
}
