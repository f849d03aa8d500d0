use super::*;
use crate::test_support::Server;

#[tokio::test]
async fn messages_survive_one_redirect_in_order_then_are_gone() {
    let server = Server::new();
    let session = server.start(None);
    let flash = Flash::new(&session);
    flash.info("one").await.expect("push");
    flash.error("two").await.expect("push");
    flash.push(Level::Success, "three").await.expect("push");
    let id = server.finish(&session).await.expect("stored");

    let next = server.start(Some(&id));
    assert!(!Flash::new(&next).is_empty().await.expect("peek"));
    let taken = Flash::new(&next).take().await.expect("take");
    let texts: Vec<_> = taken.iter().map(|m| (m.level, m.text.as_str())).collect();
    assert_eq!(
        texts,
        [
            (Level::Info, "one"),
            (Level::Error, "two"),
            (Level::Success, "three")
        ]
    );
    assert!(Flash::new(&next).take().await.expect("take").is_empty());
    server.finish(&next).await;

    let after = server.start(Some(&id));
    assert!(Flash::new(&after).take().await.expect("take").is_empty());
    assert!(
        after.is_empty().await.expect("len"),
        "a flash key was left behind"
    );
}

/// Two requests pushing at once both keep their messages (one key each).
#[tokio::test]
async fn concurrent_pushes_both_survive() {
    let server = Server::new();
    let first = server.start(None);
    first.insert("user", "alice").await.expect("insert");
    let id = server.finish(&first).await.expect("stored");

    let a = server.start(Some(&id));
    let b = server.start(Some(&id));
    Flash::new(&a).info("from a").await.expect("push");
    Flash::new(&b).info("from b").await.expect("push");
    server.finish(&a).await;
    server.finish(&b).await;

    let next = server.start(Some(&id));
    let mut texts: Vec<_> = Flash::new(&next)
        .take()
        .await
        .expect("take")
        .into_iter()
        .map(|m| m.text)
        .collect();
    texts.sort();
    assert_eq!(texts, ["from a", "from b"]);
}

/// A request that neither pushes nor finds messages writes nothing: a new session stays unstored,
/// an existing one is not written.
#[tokio::test]
async fn nothing_is_written_without_messages() {
    let server = Server::new();
    let session = server.start(None);
    assert!(Flash::new(&session).take().await.expect("take").is_empty());
    assert_eq!(server.finish(&session).await, None);
    assert!(server.store.is_empty());

    let first = server.start(None);
    first.insert("user", "alice").await.expect("insert");
    let id = server.finish(&first).await.expect("stored");
    let read = server.start(Some(&id));
    assert!(Flash::new(&read).take().await.expect("take").is_empty());
    assert!(
        format!("{read:?}").contains("changed: Some([])"),
        "taking nothing changed the session: {read:?}"
    );
}

/// A value under the prefix that is not a message is dropped, not an error.
#[tokio::test]
async fn foreign_values_under_the_prefix_are_dropped() {
    let server = Server::new();
    let session = server.start(None);
    session
        .insert(&format!("{KEY_PREFIX}0"), 42)
        .await
        .expect("insert");
    Flash::new(&session).warning("real").await.expect("push");
    let taken = Flash::new(&session).take().await.expect("take");
    assert_eq!(taken, [Message::new(Level::Warning, "real")]);
    assert!(session.is_empty().await.expect("len"));
}

#[test]
fn keys_are_unique_and_sort_in_push_order() {
    let keys: Vec<String> = (0..1000).map(|_| new_key().expect("a key")).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, keys);
    assert!(keys.iter().all(|k| k.starts_with(KEY_PREFIX)));
}
