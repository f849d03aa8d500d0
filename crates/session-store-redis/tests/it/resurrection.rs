//! No write brings a deleted session back, even when it races with the delete.

use std::sync::Arc;

use tokio::sync::Barrier;

use session_core::store::{Changes, Clock, Store, SystemClock};
use session_store_redis::testing::RedisServer;

use crate::common::{self, exists, key, live, raw, value};

/// How many requests write while the session is deleted.
const WRITERS: usize = 20;

#[tokio::test]
async fn writes_after_delete_write_nothing() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut conn = raw(&server).await;
    let record = live(&[("user", "\"alice\"")]);
    let name = store.key_name(&key(1));
    assert!(store.create(&key(1), &record).await.expect("create"));
    assert!(store.delete(&key(1)).await.expect("delete"));

    let mut changes = Changes::touch(SystemClock.now(), record.expires);
    changes
        .updates
        .push(("user".to_owned(), Some(value("\"mallory\""))));
    assert!(!store.apply(&key(1), &changes).await.expect("apply"));
    assert!(!exists(&mut conn, &name).await, "apply wrote after delete");
    assert!(!store.save(&key(1), &record).await.expect("save"));
    assert!(!exists(&mut conn, &name).await, "save wrote after delete");
    assert!(
        !store
            .touch(&key(1), record.last_active, record.expires)
            .await
            .expect("touch")
    );
    assert!(!exists(&mut conn, &name).await, "touch wrote after delete");
    assert_eq!(store.load(&key(1)).await.expect("load"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn applies_racing_a_delete_leave_nothing_behind() {
    let server = RedisServer::start();
    let store = Arc::new(common::store(&server).await);
    let mut conn = raw(&server).await;
    for round in 0..5u8 {
        let record = live(&[("user", "\"alice\"")]);
        assert!(store.create(&key(round), &record).await.expect("create"));
        // Every writer applies again and again until told the session is gone, so the delete
        // lands between their applies.
        let start = Arc::new(Barrier::new(WRITERS + 1));
        let writers: Vec<_> = (0..WRITERS)
            .map(|n| {
                let (store, start) = (Arc::clone(&store), Arc::clone(&start));
                let mut changes = Changes::touch(SystemClock.now(), record.expires);
                changes
                    .updates
                    .push((format!("k{n}"), Some(value(&n.to_string()))));
                tokio::spawn(async move {
                    start.wait().await;
                    let mut applied = 0;
                    while store.apply(&key(round), &changes).await.expect("apply") {
                        applied += 1;
                        assert!(applied < 10_000, "the session was never deleted");
                    }
                })
            })
            .collect();
        start.wait().await;
        tokio::task::yield_now().await;
        assert!(store.delete(&key(round)).await.expect("delete"));
        for writer in writers {
            writer.await.expect("task");
        }
        assert!(
            !exists(&mut conn, &store.key_name(&key(round))).await,
            "an apply brought the session back after the delete"
        );
    }
}
