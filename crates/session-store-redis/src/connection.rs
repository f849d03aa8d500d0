//! The connection a store sends its commands on: one server's, or a Redis Cluster's.
//!
//! [`Target`] is what a builder was given (a server, or a cluster's seed nodes); [`Target::open`]
//! makes the [`Connection`], which the store clones for each call. Both variants implement the
//! redis crate's `ConnectionLike` by handing the command to the inner connection, so a call on
//! one server costs what it did before clusters existed (no allocation of ours, one `match`).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, ConnectionInfo, Pipeline, RedisFuture, RedisResult, Value};

use crate::error::RedisStoreError;

/// The shortest and longest pause between reconnection attempts (and, on a cluster, between a
/// command's retries).
const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(50);
const RECONNECT_MAX_DELAY: Duration = Duration::from_millis(500);

/// A connection to one server or to a cluster; cheap to clone (clones share it).
#[derive(Clone)]
pub(crate) enum Connection {
    /// One server, through a `ConnectionManager` that reconnects by itself.
    Single(ConnectionManager),
    /// A Redis Cluster: each command goes to the master of its first key's slot, following
    /// `MOVED` and `ASK` and refreshing the slot map when a node fails.
    Cluster(ClusterConnection),
}

impl Connection {
    /// Whether this is a cluster connection.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Connection::Cluster(_))
    }
}

impl redis::aio::ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Single(connection) => connection.req_packed_command(cmd),
            Connection::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Single(connection) => {
                connection.req_packed_commands(pipeline, offset, count)
            }
            Connection::Cluster(connection) => {
                connection.req_packed_commands(pipeline, offset, count)
            }
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(connection) => connection.get_db(),
            Connection::Cluster(connection) => connection.get_db(),
        }
    }
}

/// What a builder connects to.
pub(crate) enum Target {
    /// One server.
    Single(redis::Client),
    /// A cluster, through any of these seed nodes (the client learns the others from them).
    Cluster(Vec<ConnectionInfo>),
}

/// The builder's connection settings.
pub(crate) struct Settings {
    /// The response time-out (also the store's bound on each call).
    pub(crate) timeout: Duration,
    /// The bound on each connection attempt.
    pub(crate) connect_timeout: Duration,
    /// Retries per reconnection round (on a cluster: per command).
    pub(crate) reconnect_retries: usize,
}

impl Target {
    /// The server's address, or the seed nodes' addresses joined by commas, for `Debug` (never a
    /// password).
    pub(crate) fn addr(&self) -> String {
        match self {
            Target::Single(client) => client.get_connection_info().addr().to_string(),
            Target::Cluster(nodes) => nodes
                .iter()
                .map(|node| node.addr().to_string())
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// Opens the connection: at once and checked (eager), or on first use (`lazy`).
    ///
    /// Eager, the wait is bounded by one connection attempt and one pause per try.
    pub(crate) async fn open(
        self,
        settings: &Settings,
        lazy: bool,
    ) -> Result<Connection, RedisStoreError> {
        let attempts =
            u32::try_from(settings.reconnect_retries.saturating_add(1)).unwrap_or(u32::MAX);
        let bound = settings
            .connect_timeout
            .saturating_add(RECONNECT_MAX_DELAY)
            .saturating_mul(attempts);
        let bounded = |result: Result<RedisResult<Connection>, _>| {
            result
                .map_err(|_| RedisStoreError::Timeout {
                    op: "connect",
                    after: bound,
                })?
                .map_err(RedisStoreError::Connect)
        };
        match self {
            Target::Single(client) => {
                let config = ConnectionManagerConfig::new()
                    .set_response_timeout(Some(settings.timeout))
                    .set_connection_timeout(Some(settings.connect_timeout))
                    .set_number_of_retries(settings.reconnect_retries)
                    .set_min_delay(RECONNECT_MIN_DELAY)
                    .set_max_delay(RECONNECT_MAX_DELAY);
                if lazy {
                    ConnectionManager::new_lazy_with_config(client, config)
                        .map(Connection::Single)
                        .map_err(RedisStoreError::Connect)
                } else {
                    let connecting = async {
                        ConnectionManager::new_with_config(client, config)
                            .await
                            .map(Connection::Single)
                    };
                    bounded(tokio::time::timeout(bound, connecting).await)
                }
            }
            Target::Cluster(nodes) => {
                let retries = u32::try_from(settings.reconnect_retries).unwrap_or(u32::MAX);
                let client = ClusterClient::builder(nodes)
                    .connection_timeout(settings.connect_timeout)
                    .response_timeout(settings.timeout)
                    .retries(retries)
                    .min_retry_wait(millis(RECONNECT_MIN_DELAY))
                    .max_retry_wait(millis(RECONNECT_MAX_DELAY))
                    .build()
                    .map_err(RedisStoreError::InvalidUrl)?;
                let config = ClusterConfig::new()
                    .set_connection_timeout(settings.connect_timeout)
                    .set_response_timeout(settings.timeout);
                if lazy {
                    Ok(Connection::Cluster(
                        client.get_pending_async_connection_with_config(config),
                    ))
                } else {
                    let connecting = async {
                        client
                            .get_async_connection_with_config(config)
                            .await
                            .map(Connection::Cluster)
                    };
                    bounded(tokio::time::timeout(bound, connecting).await)
                }
            }
        }
    }
}

/// A duration in whole milliseconds, as the cluster client's retry settings take them.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
