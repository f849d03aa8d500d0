//! [`RedisStoreError`]: what can go wrong connecting to Redis or running a session operation.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use session_core::store::{StoreError, StoreErrorKind};

/// Why a [`RedisStore`](crate::RedisStore) could not be built, or an operation on it failed.
///
/// Construction errors come straight from
/// [`RedisStoreBuilder::connect`](crate::RedisStoreBuilder::connect). Errors of a session operation
/// reach the engine as a [`StoreError`] whose `source()` is this error: of kind
/// [`Timeout`](StoreErrorKind::Timeout) for [`Timeout`](RedisStoreError::Timeout) (and for a
/// [`Redis`](RedisStoreError::Redis) error that is an I/O time-out), of kind
/// [`TooLarge`](StoreErrorKind::TooLarge) for [`TooLarge`](RedisStoreError::TooLarge), of kind
/// [`Backend`](StoreErrorKind::Backend) otherwise. No error names a session key or the password of
/// the connection URL.
#[derive(Debug)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// The URL or connection information was refused (bad scheme, host, port or database).
    InvalidUrl(redis::RedisError),
    /// The first connection to Redis failed (refused, unreachable, authentication failed).
    Connect(redis::RedisError),
    /// A Redis command failed: the connection broke, or the server answered with an error.
    Redis {
        /// What was being done, e.g. `"load"`.
        op: &'static str,
        /// The redis crate's error.
        source: redis::RedisError,
    },
    /// Redis did not answer within the configured time-out.
    ///
    /// A write that timed out may or may not have been applied.
    Timeout {
        /// What was being done, e.g. `"apply"` or `"connect"`.
        op: &'static str,
        /// The time-out that passed.
        after: Duration,
    },
    /// A script answered something other than the 0 or 1 it returns.
    ///
    /// The key prefix is shared with something else, or the server is not Redis-compatible.
    UnexpectedReply {
        /// What was being done.
        op: &'static str,
    },
    /// A write would have made the session larger than
    /// [`max_record_bytes`](crate::RedisStoreBuilder::max_record_bytes); nothing was written.
    TooLarge {
        /// The size the write would have given the session, in bytes: its value fields' names
        /// and JSON texts, summed (the metadata is not counted); for an `apply` refused before
        /// reaching Redis, the size of the values it sets, which alone pass the limit.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The client-side cache ([`RedisStoreBuilder::client_cache`](crate::RedisStoreBuilder::client_cache))
    /// could not be set up: its connection failed, or the server refused RESP3 or
    /// `CLIENT TRACKING` (both need Redis 6 or later).
    ClientCache {
        /// The redis crate's error.
        source: redis::RedisError,
    },
    /// The client-side cache was asked for on a Redis Cluster, which it does not support.
    ClientCacheOnCluster,
}

impl RedisStoreError {
    /// The [`StoreErrorKind`] this error reaches the engine as.
    pub fn kind(&self) -> StoreErrorKind {
        match self {
            RedisStoreError::Timeout { .. } => StoreErrorKind::Timeout,
            RedisStoreError::Redis { source, .. } if source.is_timeout() => StoreErrorKind::Timeout,
            RedisStoreError::TooLarge { .. } => StoreErrorKind::TooLarge,
            _ => StoreErrorKind::Backend,
        }
    }
}

impl fmt::Display for RedisStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedisStoreError::InvalidUrl(_) => f.write_str("invalid Redis connection information"),
            RedisStoreError::Connect(_) => f.write_str("could not connect to Redis"),
            RedisStoreError::Redis { op, .. } => write!(f, "Redis failed during session {op}"),
            RedisStoreError::Timeout { op, after } => {
                write!(f, "Redis did not answer session {op} within {after:?}")
            }
            RedisStoreError::UnexpectedReply { op } => {
                write!(f, "Redis answered session {op} with an unexpected reply")
            }
            RedisStoreError::ClientCache { .. } => f.write_str(
                "could not set up the Redis client-side cache (RESP3 and CLIENT TRACKING, Redis 6 \
                 or later)",
            ),
            RedisStoreError::ClientCacheOnCluster => {
                f.write_str("the Redis client-side cache is not supported on a Redis Cluster")
            }
            RedisStoreError::TooLarge { size, limit } => write!(
                f,
                "session of {size} bytes not written: over the Redis store's limit of {limit} bytes"
            ),
        }
    }
}

impl StdError for RedisStoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            RedisStoreError::InvalidUrl(source)
            | RedisStoreError::Connect(source)
            | RedisStoreError::Redis { source, .. }
            | RedisStoreError::ClientCache { source } => Some(source),
            RedisStoreError::ClientCacheOnCluster
            | RedisStoreError::Timeout { .. }
            | RedisStoreError::UnexpectedReply { .. }
            | RedisStoreError::TooLarge { .. } => None,
        }
    }
}

impl From<RedisStoreError> for StoreError {
    fn from(error: RedisStoreError) -> Self {
        StoreError::new(error.kind(), error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_sources() {
        let timeout = RedisStoreError::Timeout {
            op: "load",
            after: Duration::from_secs(1),
        };
        assert_eq!(timeout.kind(), StoreErrorKind::Timeout);
        assert_eq!(
            timeout.to_string(),
            "Redis did not answer session load within 1s"
        );
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "slow");
        let slow = RedisStoreError::Redis {
            op: "apply",
            source: redis::RedisError::from(io),
        };
        assert_eq!(StoreError::from(slow).kind(), StoreErrorKind::Timeout);
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let down = RedisStoreError::Redis {
            op: "apply",
            source: redis::RedisError::from(refused),
        };
        assert!(down.source().is_some());
        assert_eq!(StoreError::from(down).kind(), StoreErrorKind::Backend);
        let large = RedisStoreError::TooLarge {
            size: 2000,
            limit: 1000,
        };
        assert_eq!(
            large.to_string(),
            "session of 2000 bytes not written: over the Redis store's limit of 1000 bytes"
        );
        assert_eq!(StoreError::from(large).kind(), StoreErrorKind::TooLarge);
    }
}
