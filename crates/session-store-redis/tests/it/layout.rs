//! What the store writes to Redis: key names, fields, and prefixes that keep stores apart.

use std::collections::HashMap;

use session_core::Lifetime;
use session_core::store::{Changes, Store};
use session_store_redis::testing::RedisServer;

use crate::common::{self, cmd, key, live, raw};

#[tokio::test]
async fn one_hash_per_session_under_prefix_and_digest() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut conn = raw(&server).await;
    let mut record = live(&[("user", "\"alice\""), ("cart", "[1,2]")]);
    record.lifetime = Some(Lifetime::persistent(std::time::Duration::from_secs(600)));
    assert!(store.create(&key(7), &record).await.expect("create"));

    let keys: Vec<String> = cmd(&mut conn, &["KEYS", "*"]).await;
    assert_eq!(keys, [format!("session:{}", key(7).to_hex())]);
    let fields: HashMap<String, String> = cmd(&mut conn, &["HGETALL", &keys[0]]).await;
    let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "created",
            "expires",
            "last_active",
            "lifetime",
            "size",
            "v:cart",
            "v:user"
        ]
    );
    assert_eq!(fields["size"], size_of(&fields).to_string());
    assert_eq!(fields["v:user"], "\"alice\"");
    assert_eq!(fields["expires"], record.expires.as_millis().to_string());
    assert_eq!(fields["lifetime"], r#"{"idle_secs":600,"persistent":true}"#);

    // clear drops every value field and keeps the metadata.
    let mut changes = Changes::touch(record.last_active, record.expires);
    changes.clear = true;
    changes.lifetime = Some(None);
    assert!(store.apply(&key(7), &changes).await.expect("apply"));
    let fields: HashMap<String, String> = cmd(&mut conn, &["HGETALL", &keys[0]]).await;
    let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["created", "expires", "last_active", "size"]);
    assert_eq!(fields["size"], "0");
}

/// The size the `size` field counts: the value fields' names and texts, in bytes (an empty one
/// its name), and a packed value as a field of its own would.
pub(crate) fn size_of(fields: &HashMap<String, String>) -> usize {
    let loose: usize = fields
        .iter()
        .filter(|(name, _)| name.starts_with("v:"))
        .map(|(name, text)| name.len() + text.len())
        .sum();
    let packed: usize = fields
        .get("pack")
        .map(|pack| {
            unpack(pack)
                .iter()
                .map(|(name, text)| 2 + name.len() + text.len())
                .sum()
        })
        .unwrap_or(0);
    loose + packed
}

/// The (name, text) entries of a `pack` field: `<name length>:<text length>:<name><text>` each.
pub(crate) fn unpack(pack: &str) -> Vec<(String, String)> {
    let mut entries = Vec::new();
    let mut rest = pack.as_bytes();
    while !rest.is_empty() {
        let mut lengths = rest.splitn(3, |&b| b == b':');
        let mut number = || -> usize {
            let digits = lengths.next().expect("a length");
            std::str::from_utf8(digits)
                .expect("digits")
                .parse()
                .expect("a length")
        };
        let (name_len, text_len) = (number(), number());
        let body = lengths.next().expect("an entry");
        let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).expect("UTF-8");
        entries.push((
            text(&body[..name_len]),
            text(&body[name_len..name_len + text_len]),
        ));
        rest = &body[name_len + text_len..];
    }
    entries
}

#[tokio::test]
async fn stores_with_different_prefixes_do_not_see_each_other() {
    let server = RedisServer::start();
    let a = common::builder(&server)
        .prefix("app-a:")
        .connect()
        .await
        .expect("a");
    let b = common::builder(&server)
        .prefix("app-b:")
        .connect()
        .await
        .expect("b");
    let (in_a, in_b) = (live(&[("owner", "\"a\"")]), live(&[("owner", "\"b\"")]));

    assert!(a.create(&key(1), &in_a).await.expect("create a"));
    assert_eq!(b.load(&key(1)).await.expect("load b"), None);
    assert!(
        !b.save(&key(1), &in_b).await.expect("save b"),
        "b has no such session"
    );
    assert!(
        b.create(&key(1), &in_b)
            .await
            .expect("create b: no collision with a")
    );
    assert_eq!(a.load(&key(1)).await.expect("load a"), Some(in_a.clone()));
    assert_eq!(b.load(&key(1)).await.expect("load b"), Some(in_b));

    assert!(b.delete(&key(1)).await.expect("delete b"));
    assert_eq!(a.load(&key(1)).await.expect("load a"), Some(in_a));
    assert_eq!(b.prefix(), "app-b:");
}
