//! The record size limit: a write over it fails with `TooLarge` and changes nothing, a hash over
//! it (grown behind the store's back) is damaged, and the size the scripts keep stays exact.

use std::collections::HashMap;

use session_core::store::{
    Changes, DEFAULT_MAX_RECORD_BYTES, Record, Store, StoreError, StoreErrorKind,
};
use session_store_redis::testing::RedisServer;
use session_store_redis::{RedisStore, RedisStoreError};

use crate::common::{self, cmd, exists, key, live, raw, value};
use crate::layout::size_of;

/// A JSON string of `len` bytes, quotes included.
fn text(len: usize) -> String {
    format!("\"{}\"", "x".repeat(len - 2))
}

/// Changes setting `name` to the JSON `json`, keeping `record`'s expiry.
fn set(record: &Record, name: &str, json: &str) -> Changes {
    let mut changes = Changes::touch(record.last_active, record.expires);
    changes.updates = vec![(name.to_owned(), Some(value(json)))];
    changes
}

/// Asserts that `result` failed with `TooLarge`, naming `limit`; the size it reports.
#[track_caller]
fn too_large<T: std::fmt::Debug>(result: Result<T, StoreError>, limit: usize) -> usize {
    let error = result.expect_err("over the limit");
    assert_eq!(error.kind(), StoreErrorKind::TooLarge, "{error}");
    let source = std::error::Error::source(&error).and_then(|s| s.downcast_ref());
    match source {
        Some(RedisStoreError::TooLarge { size, limit: named }) => {
            assert_eq!(*named, limit);
            assert!(*size > limit, "{size} over {limit}");
            *size
        }
        other => panic!("expected RedisStoreError::TooLarge, got {other:?}"),
    }
}

/// The hash of `key` as Redis holds it.
async fn hash(store: &RedisStore, server: &RedisServer, n: u8) -> HashMap<String, String> {
    cmd(
        &mut raw(server).await,
        &["HGETALL", &store.key_name(&key(n))],
    )
    .await
}

#[tokio::test]
async fn the_default_limit_is_the_file_stores() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut conn = raw(&server).await;
    let limit = DEFAULT_MAX_RECORD_BYTES;

    // A new session over the limit is not written at all.
    let big = live(&[("big", &text(limit))]);
    too_large(store.create(&key(1), &big).await, limit);
    assert!(!exists(&mut conn, &store.key_name(&key(1))).await);

    // A session that fits, grown past the limit by a save or an apply: unchanged.
    let small = live(&[("a", "1")]);
    assert!(store.create(&key(1), &small).await.expect("create"));
    let before = hash(&store, &server, 1).await;
    too_large(store.save(&key(1), &big).await, limit);
    too_large(
        store
            .apply(&key(1), &set(&small, "big", &text(limit)))
            .await,
        limit,
    );
    assert_eq!(hash(&store, &server, 1).await, before);
    assert!(
        store.load(&key(1)).await.expect("load") == Some(small),
        "changed"
    );
}

#[tokio::test]
async fn a_hash_grown_over_the_limit_behind_the_stores_back_is_damaged() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut conn = raw(&server).await;
    let small = live(&[("a", "1")]);
    assert!(store.create(&key(2), &small).await.expect("create"));
    let name = store.key_name(&key(2));
    let huge = text(DEFAULT_MAX_RECORD_BYTES);
    let _: i64 = cmd(&mut conn, &["HSET", &name, "v:huge", &huge]).await;
    let loaded = store.load(&key(2)).await.expect("load");
    assert!(
        loaded.is_none(),
        "a hash over the limit loaded as a session"
    );
    assert!(
        exists(&mut conn, &name).await,
        "left in place, as damage is"
    );
}

#[tokio::test]
async fn writes_over_a_configured_limit_fail_and_change_nothing() {
    let server = RedisServer::start();
    let limit = 1000;
    let store = common::builder(&server)
        .max_record_bytes(limit)
        .connect()
        .await
        .expect("connect");
    assert_eq!(store.max_record_bytes(), limit);

    let small = live(&[("a", "1")]);
    assert!(store.create(&key(3), &small).await.expect("create"));
    let fitted = hash(&store, &server, 3).await;
    let mut size: usize = fitted["size"].parse().expect("a size");
    assert_eq!(size, size_of(&fitted));

    // Values of 300 bytes, one by one, until the script refuses one: the size it reports is the
    // one the record would have had, and the hash is as it was.
    let mut added = Vec::new();
    loop {
        let name = format!("n{}", added.len());
        let changes = set(&small, &name, &text(300));
        let before = hash(&store, &server, 3).await;
        match store.apply(&key(3), &changes).await {
            Ok(applied) => {
                assert!(applied);
                size += 2 + name.len() + 300;
                added.push(name);
                assert!(size <= limit);
            }
            Err(error) => {
                let refused = too_large(Err::<(), _>(error), limit);
                assert_eq!(refused, size + 2 + name.len() + 300);
                assert_eq!(hash(&store, &server, 3).await, before, "refused, unchanged");
                break;
            }
        }
        let now = hash(&store, &server, 3).await;
        assert_eq!(now["size"], size.to_string());
        assert_eq!(size_of(&now), size);
    }
    assert_eq!(added.len(), 3);

    // A removal makes room; a clear makes room for one large value.
    let mut changes = set(&small, "late", &text(300));
    changes.updates.insert(0, (added[0].clone(), None));
    assert!(
        store
            .apply(&key(3), &changes)
            .await
            .expect("fits once one is gone")
    );
    let mut changes = set(&small, "big", &text(900));
    changes.clear = true;
    assert!(
        store
            .apply(&key(3), &changes)
            .await
            .expect("fits once all are gone")
    );
    let cleared = hash(&store, &server, 3).await;
    assert_eq!(cleared["size"], size_of(&cleared).to_string());
    let record = store.load(&key(3)).await.expect("load").expect("live");
    assert_eq!(record.data.keys().collect::<Vec<_>>(), ["big"]);

    // A value too large by itself is refused before reaching Redis; a whole record too.
    let before = hash(&store, &server, 3).await;
    too_large(
        store.apply(&key(3), &set(&small, "x", &text(1200))).await,
        limit,
    );
    let big = live(&[("big", &text(1200))]);
    too_large(store.save(&key(3), &big).await, limit);
    assert_eq!(hash(&store, &server, 3).await, before);

    // The builder caps the limit as the file store does.
    let capped = common::builder(&server)
        .max_record_bytes(usize::MAX)
        .connect()
        .await
        .expect("connect");
    assert_eq!(
        capped.max_record_bytes(),
        session_core::store::MAX_RECORD_BYTES_LIMIT
    );
}

#[tokio::test]
async fn the_size_field_follows_every_kind_of_change() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let record = live(&[("a", "1"), ("b", "[1,2,3]")]);
    assert!(store.create(&key(4), &record).await.expect("create"));
    let lifetime = session_core::Lifetime::persistent(std::time::Duration::from_secs(60));
    for step in 0..40usize {
        let mut changes = Changes::touch(record.last_active, record.expires);
        let name = ["a", "b", "c", "d"][step % 4];
        match step % 5 {
            // Short and long texts (over 256 bytes, whose old length the script measures apart).
            0 => changes.updates.push((
                name.into(),
                Some(value(&text(if step % 2 == 0 {
                    step + 3
                } else {
                    300 + step
                }))),
            )),
            1 => changes.updates.push((name.into(), None)),
            2 => changes.lifetime = Some(Some(lifetime)),
            3 => changes.lifetime = Some(None),
            _ => {
                changes.clear = step % 3 == 0;
                changes.updates.push((name.into(), Some(value("true"))));
                changes
                    .updates
                    .push((name.into(), Some(value(&text(step + 9)))));
                changes.updates.push(("e".into(), None));
                // A long value listed before a short one: the store sends the short ones first.
                changes
                    .updates
                    .push(("f".into(), Some(value(&text(400 + step)))));
                changes
                    .updates
                    .push(("g".into(), Some(value(&text(2 + step % 7)))));
            }
        }
        assert!(store.apply(&key(4), &changes).await.expect("apply"));
        let fields = hash(&store, &server, 4).await;
        assert_eq!(fields["size"], size_of(&fields).to_string(), "step {step}");
    }
}

#[tokio::test]
async fn a_hash_without_a_readable_size_is_measured_at_its_next_apply() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut conn = raw(&server).await;
    let record = live(&[("a", "1")]);
    let name = store.key_name(&key(5));
    assert!(store.create(&key(5), &record).await.expect("create"));

    // Written before the size field existed: read as before, measured by the next apply.
    let _: i64 = cmd(&mut conn, &["HDEL", &name, "size"]).await;
    assert_eq!(
        store.load(&key(5)).await.expect("load"),
        Some(record.clone())
    );
    assert!(
        store
            .apply(&key(5), &set(&record, "b", "2"))
            .await
            .expect("apply")
    );
    let fields = hash(&store, &server, 5).await;
    assert_eq!(fields["size"], size_of(&fields).to_string());

    // A size that is not a count of bytes (Lua's tonumber takes most of these): damage for a
    // load, measured again by an apply, never a check turned off.
    for (n, garbage) in ["many", "-5", "nan", "0x10", " 12 ", "1e3"]
        .into_iter()
        .enumerate()
    {
        let _: i64 = cmd(&mut conn, &["HSET", &name, "size", garbage]).await;
        assert_eq!(
            store.load(&key(5)).await.expect("load"),
            None,
            "{garbage:?}"
        );
        let value = format!("{n}");
        assert!(
            store
                .apply(&key(5), &set(&record, "c", &value))
                .await
                .expect("apply")
        );
        let fields = hash(&store, &server, 5).await;
        assert_eq!(fields["size"], size_of(&fields).to_string(), "{garbage:?}");
        assert!(store.load(&key(5)).await.expect("load").is_some());
    }
}

/// Changes too many for one `HSET` (the script splits them), with removals and a clear: the
/// record and the size come out as the changes say.
#[tokio::test]
async fn changes_of_many_keys_are_written_in_bounded_calls() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let record = live(&[("keep", "1")]);
    assert!(store.create(&key(6), &record).await.expect("create"));
    let mut many = Changes::touch(record.last_active, record.expires);
    many.updates = (0..1500)
        .map(|n| (format!("k{n}"), Some(value(&n.to_string()))))
        .collect();
    assert!(store.apply(&key(6), &many).await.expect("apply many"));
    let mut expected = record.clone();
    many.apply_to(&mut expected);
    assert_eq!(
        store.load(&key(6)).await.expect("load"),
        Some(expected.clone())
    );

    // Removing most of them, and setting a few, in one apply.
    let mut fewer = Changes::touch(record.last_active, record.expires);
    fewer.updates = (0..1400).map(|n| (format!("k{n}"), None)).collect();
    fewer.updates.push(("late".into(), Some(value("[1]"))));
    assert!(store.apply(&key(6), &fewer).await.expect("apply fewer"));
    fewer.apply_to(&mut expected);
    assert_eq!(
        store.load(&key(6)).await.expect("load"),
        Some(expected.clone())
    );
    let fields = hash(&store, &server, 6).await;
    assert_eq!(fields["size"], size_of(&fields).to_string());

    // A clear and a set.
    let mut cleared = Changes::touch(record.last_active, record.expires);
    cleared.clear = true;
    cleared.updates.push(("only".into(), Some(value("true"))));
    assert!(store.apply(&key(6), &cleared).await.expect("apply clear"));
    cleared.apply_to(&mut expected);
    assert_eq!(store.load(&key(6)).await.expect("load"), Some(expected));
    let fields = hash(&store, &server, 6).await;
    assert_eq!(fields["size"], size_of(&fields).to_string());
}
