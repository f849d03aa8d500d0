//! Helpers shared by the integration tests: a server, a store on it, a raw connection for looking
//! at what the store wrote, keys and records.

use std::time::Duration;

use session_core::Value;
use session_core::store::{Clock, Key, Record, SystemClock, Timestamp};
use session_store_redis::redis::{self, aio::MultiplexedConnection};
use session_store_redis::testing::RedisServer;
use session_store_redis::{RedisStore, RedisStoreBuilder};

/// A builder for a store on `server`.
pub(crate) fn builder(server: &RedisServer) -> RedisStoreBuilder {
    RedisStore::builder(server.url())
}

/// A store on `server` with the defaults.
pub(crate) async fn store(server: &RedisServer) -> RedisStore {
    builder(server).connect().await.expect("connect")
}

/// A plain connection to `server`, for commands the store never sends.
pub(crate) async fn raw(server: &RedisServer) -> MultiplexedConnection {
    redis::Client::open(server.url())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("raw connection")
}

/// Runs one command on a raw connection.
pub(crate) async fn cmd<T: redis::FromRedisValue>(
    conn: &mut MultiplexedConnection,
    args: &[&str],
) -> T {
    let mut command = redis::cmd(args[0]);
    for arg in &args[1..] {
        command.arg(*arg);
    }
    command.query_async(conn).await.expect("raw command")
}

/// Whether Redis holds `name`.
pub(crate) async fn exists(conn: &mut MultiplexedConnection, name: &str) -> bool {
    cmd::<i64>(conn, &["EXISTS", name]).await == 1
}

/// The key numbered `n`.
pub(crate) fn key(n: u8) -> Key {
    Key::from_digest([n; 32])
}

/// A JSON value.
pub(crate) fn value(json: &str) -> Value {
    Value::from_json(json.to_owned()).expect("json")
}

/// A record created at `now`, expiring `ttl` later, holding `data` (JSON texts).
pub(crate) fn record_at(now: Timestamp, ttl: Duration, data: &[(&str, &str)]) -> Record {
    let mut record = Record::new(now, now.saturating_add(ttl));
    for (name, json) in data {
        record.data.insert((*name).to_owned(), value(json));
    }
    record
}

/// A record on the system clock, live for an hour.
pub(crate) fn live(data: &[(&str, &str)]) -> Record {
    record_at(SystemClock.now(), Duration::from_secs(3600), data)
}
