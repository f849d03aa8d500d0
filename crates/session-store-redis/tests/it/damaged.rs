//! Hashes this store cannot read, written by hand: no panic, no error, no session.

use session_core::store::{Clock, Store, SystemClock};
use session_store_redis::redis;
use session_store_redis::testing::RedisServer;

use crate::common::{self, cmd, exists, key, live, raw};

/// A hash's fields, as raw bytes.
type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// Hash contents that are not a session this store wrote, each with a live `expires` where it has
/// one at all.
fn damaged(expires: &str) -> Vec<(&'static str, Fields)> {
    let meta = |extra: &[(&[u8], &[u8])]| {
        let mut fields: Fields = vec![
            (b"created".to_vec(), b"1".to_vec()),
            (b"last_active".to_vec(), b"1".to_vec()),
            (b"expires".to_vec(), expires.as_bytes().to_vec()),
        ];
        fields.extend(extra.iter().map(|(n, v)| (n.to_vec(), v.to_vec())));
        fields
    };
    vec![
        (
            "no expires",
            vec![
                (b"created".to_vec(), b"1".to_vec()),
                (b"v:a".to_vec(), b"1".to_vec()),
            ],
        ),
        ("expires not a number", {
            let mut f = meta(&[]);
            f[2].1 = b"soon".to_vec();
            f
        }),
        ("value not JSON", meta(&[(b"v:user", b"{not json")])),
        ("value not UTF-8", meta(&[(b"v:user", b"\"\xff\xfe\"")])),
        ("unknown field", meta(&[(b"surprise", b"1")])),
        ("field name not UTF-8", meta(&[(b"v:\xff", b"1")])),
        ("lifetime garbage", meta(&[(b"lifetime", b"[]")])),
        (
            "no created",
            vec![(b"expires".to_vec(), expires.as_bytes().to_vec())],
        ),
    ]
}

#[tokio::test]
async fn damaged_hashes_load_as_no_session() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut conn = raw(&server).await;
    let expires = (SystemClock.now().as_millis() + 3_600_000).to_string();
    for (n, (what, fields)) in damaged(&expires).into_iter().enumerate() {
        let key = key(u8::try_from(n).expect("few cases"));
        let name = store.key_name(&key);
        let mut hset = redis::cmd("HSET");
        hset.arg(&name);
        for (field, text) in fields {
            hset.arg(field).arg(text);
        }
        let _: i64 = hset.query_async(&mut conn).await.expect("HSET");
        let loaded = store.load(&key).await;
        assert!(matches!(loaded, Ok(None)), "{what}: {loaded:?}");
        assert!(exists(&mut conn, &name).await, "{what}: left in place");
    }
}

#[tokio::test]
async fn damaged_metadata_is_no_live_session_for_writes_either() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut conn = raw(&server).await;
    let record = live(&[("user", "\"alice\"")]);

    // No expires: save and touch refuse it, create replaces it whole.
    let name = store.key_name(&key(1));
    let _: i64 = cmd(&mut conn, &["HSET", &name, "created", "1", "v:stale", "1"]).await;
    assert!(!store.save(&key(1), &record).await.expect("save"));
    assert!(
        !store
            .touch(&key(1), record.last_active, record.expires)
            .await
            .expect("touch")
    );
    assert!(store.create(&key(1), &record).await.expect("create"));
    assert_eq!(
        store.load(&key(1)).await.expect("load"),
        Some(record.clone())
    );

    // Not a hash at all: load answers None, delete answers false, create replaces it.
    let name = store.key_name(&key(2));
    let _: () = cmd(&mut conn, &["SET", &name, "a string"]).await;
    assert_eq!(
        store.load(&key(2)).await.expect("load of a string key"),
        None
    );
    assert!(!store.save(&key(2), &record).await.expect("save"));
    assert!(
        !store
            .touch(&key(2), record.last_active, record.expires)
            .await
            .expect("touch of a string key")
    );
    assert!(store.create(&key(2), &record).await.expect("create"));
    assert_eq!(
        store.load(&key(2)).await.expect("load"),
        Some(record.clone())
    );
    let _: () = cmd(&mut conn, &["SET", &name, "a string"]).await;
    assert!(!store.delete(&key(2)).await.expect("delete"));
    assert!(!exists(&mut conn, &name).await);
}
