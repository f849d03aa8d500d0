//! Packed values: a session of many values is kept in one `pack` field, written over key by key,
//! packed again by the `apply` script when its fields pile up, and always read back as written.

use std::collections::HashMap;

use session_core::store::{Changes, Record, Store};
use session_store_redis::RedisStore;
use session_store_redis::testing::RedisServer;

use crate::common::{self, cmd, key, live, raw, value};
use crate::layout::{size_of, unpack};

/// The session hash numbered `n`, as Redis holds it.
async fn hash(store: &RedisStore, server: &RedisServer, n: u8) -> HashMap<String, String> {
    cmd(
        &mut raw(server).await,
        &["HGETALL", &store.key_name(&key(n))],
    )
    .await
}

/// The hash's value fields (`v:`), sorted.
fn loose(fields: &HashMap<String, String>) -> Vec<&str> {
    let mut names: Vec<&str> = fields
        .keys()
        .map(String::as_str)
        .filter(|name| name.starts_with("v:"))
        .collect();
    names.sort_unstable();
    names
}

/// A record of `count` values `k0`.. holding `"<i>"`, and a counter.
fn many(count: usize) -> Record {
    let mut record = live(&[("counter", "0")]);
    for i in 0..count {
        record
            .data
            .insert(format!("k{i}"), value(&format!("\"{i}\"")));
    }
    record
}

/// Changes setting each (name, JSON) pair and removing each name of `removed`.
fn changes(record: &Record, set: &[(&str, &str)], removed: &[&str]) -> Changes {
    let mut changes = Changes::touch(record.last_active, record.expires);
    changes.updates = set
        .iter()
        .map(|(name, json)| ((*name).to_owned(), Some(value(json))))
        .chain(removed.iter().map(|name| ((*name).to_owned(), None)))
        .collect();
    changes
}

#[tokio::test]
async fn a_large_record_is_written_packed_and_changed_key_by_key() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut expected = many(20);
    assert!(store.create(&key(1), &expected).await.expect("create"));
    let fields = hash(&store, &server, 1).await;
    assert!(loose(&fields).is_empty(), "{fields:?}");
    assert_eq!(unpack(&fields["pack"]).len(), 21);
    assert_eq!(fields["size"], size_of(&fields).to_string());
    assert_eq!(
        store.load(&key(1)).await.expect("load"),
        Some(expected.clone())
    );

    // A change writes the changed value's field only, over the packed one.
    let change = changes(&expected, &[("counter", "1"), ("k3", "[3]")], &["k4"]);
    assert!(store.apply(&key(1), &change).await.expect("apply"));
    change.apply_to(&mut expected);
    let fields = hash(&store, &server, 1).await;
    assert_eq!(loose(&fields), ["v:counter", "v:k3", "v:k4"]);
    assert_eq!(
        fields["v:k4"], "",
        "a removed packed value is an empty field"
    );
    assert_eq!(unpack(&fields["pack"]).len(), 21, "the pack is left alone");
    assert_eq!(fields["size"], size_of(&fields).to_string());
    assert_eq!(
        store.load(&key(1)).await.expect("load"),
        Some(expected.clone())
    );

    // The removed value stays removed when set and removed again, and through a touch.
    let change = changes(&expected, &[("k4", "4")], &[]);
    assert!(store.apply(&key(1), &change).await.expect("apply"));
    let change = changes(&expected, &[], &["k4"]);
    assert!(store.apply(&key(1), &change).await.expect("apply"));
    let touch = Changes::touch(expected.last_active, expected.expires);
    assert!(store.apply(&key(1), &touch).await.expect("touch"));
    assert_eq!(store.load(&key(1)).await.expect("load"), Some(expected));
}

#[tokio::test]
async fn fields_that_pile_up_are_packed_by_the_script() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut expected = live(&[("counter", "0")]);
    assert!(store.create(&key(2), &expected).await.expect("create"));
    // Values added one request at a time, as a handler would: each in a field of its own until
    // the hash has more than twelve fields (the four of metadata among them).
    for i in 0..30 {
        let name = format!("k{i}");
        let json = format!("{{\"i\":{i}}}");
        let change = changes(
            &expected,
            &[(&name, &json), ("counter", &i.to_string())],
            &[],
        );
        assert!(store.apply(&key(2), &change).await.expect("apply"));
        change.apply_to(&mut expected);
        let fields = hash(&store, &server, 2).await;
        assert!(fields.len() <= 12, "{} fields after {i}", fields.len());
        assert_eq!(fields["size"], size_of(&fields).to_string(), "after {i}");
        assert_eq!(
            store.load(&key(2)).await.expect("load"),
            Some(expected.clone())
        );
    }
    let fields = hash(&store, &server, 2).await;
    assert!(fields.contains_key("pack"), "{fields:?}");

    // Removals pile up as empty fields, and go with the next packing.
    for i in 0..30 {
        let name = format!("k{i}");
        let change = changes(&expected, &[], &[&name]);
        assert!(store.apply(&key(2), &change).await.expect("apply"));
        change.apply_to(&mut expected);
        let fields = hash(&store, &server, 2).await;
        assert!(
            fields.len() <= 12,
            "{} fields after removing {i}",
            fields.len()
        );
        assert_eq!(
            store.load(&key(2)).await.expect("load"),
            Some(expected.clone())
        );
    }
    let fields = hash(&store, &server, 2).await;
    assert_eq!(fields["size"], size_of(&fields).to_string());
}

#[tokio::test]
async fn a_clear_drops_the_pack_too() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut expected = many(20);
    assert!(store.create(&key(3), &expected).await.expect("create"));
    let mut change = changes(&expected, &[("only", "true")], &[]);
    change.clear = true;
    assert!(store.apply(&key(3), &change).await.expect("apply"));
    change.apply_to(&mut expected);
    let fields = hash(&store, &server, 3).await;
    assert!(!fields.contains_key("pack"), "{fields:?}");
    assert_eq!(loose(&fields), ["v:only"]);
    assert_eq!(fields["size"], size_of(&fields).to_string());
    assert_eq!(store.load(&key(3)).await.expect("load"), Some(expected));
}

/// Concurrent requests changing different keys of one packed session, packing it again as they
/// go: no change is lost.
#[tokio::test]
async fn concurrent_changes_to_a_packed_session_all_land() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let record = many(10);
    assert!(store.create(&key(4), &record).await.expect("create"));
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let (store, record) = (store.clone(), record.clone());
        tasks.spawn(async move {
            for round in 0..25 {
                let name = format!("w{worker}-{round}");
                let mut change = changes(&record, &[(&name, &round.to_string())], &[]);
                if round % 5 == 4 {
                    // And some removals of packed values, each by one worker only.
                    change.updates.push((format!("k{worker}"), None));
                }
                assert!(store.apply(&key(4), &change).await.expect("apply"));
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("a worker");
    }
    let mut expected = record.clone();
    for worker in 0..8 {
        expected.data.remove(&format!("k{worker}"));
        for round in 0..25 {
            expected
                .data
                .insert(format!("w{worker}-{round}"), value(&round.to_string()));
        }
    }
    assert_eq!(store.load(&key(4)).await.expect("load"), Some(expected));
    let fields = hash(&store, &server, 4).await;
    assert!(fields.len() <= 12, "{} fields", fields.len());
    assert_eq!(fields["size"], size_of(&fields).to_string());
}

/// Redis's count of `command` calls so far (inside scripts too).
async fn calls(server: &RedisServer, command: &str) -> u64 {
    let stats: String = cmd(&mut raw(server).await, &["INFO", "commandstats"]).await;
    stats
        .lines()
        .find_map(|line| line.strip_prefix(&format!("cmdstat_{command}:calls=")))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |calls| calls.parse().expect("a count"))
}

/// Overridden packed values count until the values are packed again; a change that puts that
/// count over the limit prunes them from the pack (and the value it sets, which stays in a field
/// of its own), and is refused only if the values' own size passes the limit.
#[tokio::test]
async fn the_limit_counts_what_the_values_take_once_pruned() {
    let server = RedisServer::start();
    let limit = 4_000;
    let store = common::builder(&server)
        .max_record_bytes(limit)
        .connect()
        .await
        .expect("connect");
    let big = |len: usize| format!("\"{}\"", "x".repeat(len - 2));
    let mut expected = many(10);
    expected.data.insert("big".into(), value(&big(2_000)));
    assert!(store.create(&key(5), &expected).await.expect("create"));
    let before = size_of(&hash(&store, &server, 5).await);

    // Replaced by a value 100 bytes larger: 2 105 bytes more as counted, over the limit, but
    // not once the pack is pruned of the old one.
    let change = changes(&expected, &[("big", &big(2_100))], &[]);
    assert!(before + 2_100 + 5 > limit && before + 100 <= limit);
    let reads = calls(&server, "hgetall").await;
    assert!(store.apply(&key(5), &change).await.expect("apply"));
    assert_eq!(calls(&server, "hgetall").await, reads + 1, "one pruning");
    change.apply_to(&mut expected);
    let fields = hash(&store, &server, 5).await;
    assert_eq!(
        loose(&fields),
        ["v:big"],
        "the changed value in a field of its own"
    );
    assert!(
        !unpack(&fields["pack"])
            .iter()
            .any(|(name, _)| name == "big")
    );
    assert_eq!(size_of(&fields), before + 100);
    assert_eq!(fields["size"], size_of(&fields).to_string());
    assert_eq!(
        store.load(&key(5)).await.expect("load"),
        Some(expected.clone())
    );

    // Changed again, it is counted once: no pruning.
    let change = changes(&expected, &[("big", &big(2_200)), ("counter", "3")], &[]);
    let reads = calls(&server, "hgetall").await;
    assert!(store.apply(&key(5), &change).await.expect("apply"));
    assert_eq!(calls(&server, "hgetall").await, reads, "no second pruning");
    change.apply_to(&mut expected);
    let fields = hash(&store, &server, 5).await;
    assert_eq!(fields["size"], size_of(&fields).to_string());
    assert_eq!(
        store.load(&key(5)).await.expect("load"),
        Some(expected.clone())
    );

    // A change that passes the limit once pruned is refused, and changes nothing.
    let change = changes(&expected, &[("big", &big(limit))], &[]);
    assert!(store.apply(&key(5), &change).await.is_err());
    // Over by a byte once pruned: k1 shrinks by 2 bytes, k2 goes (7), `v:more` names 6 (the
    // hash's own count is more, by the counter's packed copy).
    let exact: usize = expected
        .data
        .iter()
        .map(|(name, value)| 2 + name.len() + value.as_json().len())
        .sum();
    assert!(size_of(&fields) > exact);
    let more = big(limit - exact + 4);
    let smaller = changes(&expected, &[("k1", "2"), ("more", &more)], &["k2"]);
    assert!(store.apply(&key(5), &smaller).await.is_err());
    assert_eq!(hash(&store, &server, 5).await, fields);
    assert_eq!(store.load(&key(5)).await.expect("load"), Some(expected));
}

/// Values that take more than 128 KiB are not packed, by a whole write or by the script.
#[tokio::test]
async fn values_too_large_to_pack_stay_in_fields_of_their_own() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let mut expected = live(&[]);
    for i in 0..20 {
        let text = format!("\"{}\"", "y".repeat(7_000));
        expected.data.insert(format!("k{i}"), value(&text));
    }
    assert!(store.create(&key(7), &expected).await.expect("create"));
    let fields = hash(&store, &server, 7).await;
    assert!(!fields.contains_key("pack"), "140 KB of values");
    assert_eq!(loose(&fields).len(), 20);
    let change = changes(&expected, &[("new", "1")], &[]);
    assert!(store.apply(&key(7), &change).await.expect("apply"));
    change.apply_to(&mut expected);
    let fields = hash(&store, &server, 7).await;
    assert!(
        !fields.contains_key("pack"),
        "not packed by the script either"
    );
    assert_eq!(fields["size"], size_of(&fields).to_string());
    assert_eq!(store.load(&key(7)).await.expect("load"), Some(expected));
}

#[tokio::test]
async fn a_damaged_pack_is_no_session_and_is_left_in_place() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    let record = many(20);
    assert!(store.create(&key(6), &record).await.expect("create"));
    let name = store.key_name(&key(6));
    let mut conn = raw(&server).await;
    // Malformed, then well formed around a text that is not JSON (which only a load checks).
    for (bad, malformed) in [
        ("3:1:k1", true),
        ("1:x:k1", true),
        ("2:3:k1\"1\"junk", true),
        ("2:3:k1{{{", false),
    ] {
        let _: i64 = cmd(&mut conn, &["HSET", &name, "pack", bad]).await;
        assert_eq!(store.load(&key(6)).await.expect("load"), None, "{bad:?}");
        // A change that would pack the values again: a malformed pack is left alone.
        let mut change = changes(&record, &[], &[]);
        change.updates = (0..12)
            .map(|i| (format!("n{i}"), Some(value("1"))))
            .collect();
        assert!(store.apply(&key(6), &change).await.expect("apply"));
        assert_eq!(store.load(&key(6)).await.expect("load"), None, "{bad:?}");
        if malformed {
            assert_eq!(hash(&store, &server, 6).await["pack"], bad);
        }
    }
}

/// With `pack_values(false)` (a rolling upgrade from a release before packing), nothing is
/// packed, and a hash packed by another process is still read and changed correctly.
#[tokio::test]
async fn a_store_that_does_not_pack_still_reads_packs() {
    let server = RedisServer::start();
    let plain = common::builder(&server)
        .pack_values(false)
        .connect()
        .await
        .expect("connect");
    let mut expected = many(20);
    assert!(plain.create(&key(8), &expected).await.expect("create"));
    let change = changes(&expected, &[("a", "1"), ("b", "2")], &["k3"]);
    assert!(plain.apply(&key(8), &change).await.expect("apply"));
    change.apply_to(&mut expected);
    let fields = hash(&plain, &server, 8).await;
    assert!(
        !fields.contains_key("pack"),
        "{} fields, none packed",
        fields.len()
    );
    assert_eq!(
        plain.load(&key(8)).await.expect("load"),
        Some(expected.clone())
    );

    // Packed by a store that packs, then changed by the one that does not.
    let packing = common::store(&server).await;
    assert!(packing.save(&key(8), &expected).await.expect("save"));
    assert!(hash(&plain, &server, 8).await.contains_key("pack"));
    let change = changes(&expected, &[("a", "3")], &["k4"]);
    assert!(plain.apply(&key(8), &change).await.expect("apply"));
    change.apply_to(&mut expected);
    assert_eq!(plain.load(&key(8)).await.expect("load"), Some(expected));
}
