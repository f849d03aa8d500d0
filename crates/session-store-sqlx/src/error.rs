//! [`SqlStoreError`]: what can go wrong building a SQL store, migrating its schema, or running a
//! session operation.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use session_core::store::{StoreError, StoreErrorKind};

/// Why a SQL store could not be built or migrated, or an operation on it failed.
///
/// Errors of a session operation reach the engine as a [`StoreError`] whose `source()` is this
/// error: of kind [`Timeout`](StoreErrorKind::Timeout) for [`Timeout`](SqlStoreError::Timeout)
/// (and for a pool that timed out handing out a connection), of kind
/// [`TooLarge`](StoreErrorKind::TooLarge) for [`TooLarge`](SqlStoreError::TooLarge), of kind
/// [`Backend`](StoreErrorKind::Backend) otherwise. No error names a session key or a value.
#[derive(Debug)]
#[non_exhaustive]
pub enum SqlStoreError {
    /// A table or schema name is not a plain identifier (an ASCII letter or `_`, then ASCII
    /// letters, digits and `_`) or is too long.
    InvalidName {
        /// `"table"` or `"schema"`.
        what: &'static str,
        /// The name refused.
        name: String,
        /// The longest name accepted.
        max: usize,
    },
    /// A statement failed: the database is unreachable, the pool is closed, the schema is
    /// missing ([`migrate`](crate::PgStore::migrate) not run), or the server answered an error.
    Database {
        /// What was being done, e.g. `"load"` or `"migrate"`.
        op: &'static str,
        /// sqlx's error.
        source: sqlx::Error,
    },
    /// The database did not answer within the store's time-out.
    ///
    /// A write that timed out may or may not have been applied.
    Timeout {
        /// What was being done.
        op: &'static str,
        /// The time-out that passed.
        after: Duration,
    },
    /// A write would have made the session larger than the store's `max_record_bytes`; nothing
    /// was written.
    TooLarge {
        /// The size the write would have given the session: its values' names and JSON texts,
        /// in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The database holds a newer schema than this build knows: a newer version of this crate
    /// migrated it. Nothing was changed.
    SchemaTooNew {
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The database file could not be created or opened with the right permissions
    /// ([`SqliteStore::open`](crate::SqliteStore::open)).
    File {
        /// The database file.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl SqlStoreError {
    /// The [`StoreErrorKind`] this error reaches the engine as.
    pub fn kind(&self) -> StoreErrorKind {
        match self {
            SqlStoreError::Timeout { .. }
            | SqlStoreError::Database {
                source: sqlx::Error::PoolTimedOut,
                ..
            } => StoreErrorKind::Timeout,
            // PostgreSQL's lock_not_available: a row lock not granted within `lock_timeout`,
            // which the store sets to its own time-out.
            SqlStoreError::Database {
                source: sqlx::Error::Database(database),
                ..
            } if database.code().as_deref() == Some("55P03") => StoreErrorKind::Timeout,
            SqlStoreError::TooLarge { .. } => StoreErrorKind::TooLarge,
            _ => StoreErrorKind::Backend,
        }
    }

    pub(crate) fn database(op: &'static str) -> impl FnOnce(sqlx::Error) -> SqlStoreError {
        move |source| SqlStoreError::Database { op, source }
    }
}

impl fmt::Display for SqlStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlStoreError::InvalidName { what, name, max } => write!(
                f,
                "invalid {what} name {name:?}: use an ASCII letter or '_', then ASCII letters, \
                 digits and '_', at most {max} bytes"
            ),
            SqlStoreError::Database { op, .. } => write!(f, "the database failed during {op}"),
            SqlStoreError::Timeout { op, after } => {
                write!(f, "the database did not answer {op} within {after:?}")
            }
            SqlStoreError::TooLarge { size, limit } => write!(
                f,
                "session of {size} bytes not written: over the SQL store's limit of {limit} bytes"
            ),
            SqlStoreError::SchemaTooNew { found, supported } => write!(
                f,
                "the session tables are at schema version {found}, newer than this build's \
                 {supported}: upgrade session-store-sqlx"
            ),
            SqlStoreError::File { path, .. } => {
                write!(
                    f,
                    "cannot create or open the database file {}",
                    path.display()
                )
            }
        }
    }
}

impl StdError for SqlStoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            SqlStoreError::Database { source, .. } => Some(source),
            SqlStoreError::File { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<SqlStoreError> for StoreError {
    fn from(error: SqlStoreError) -> Self {
        StoreError::new(error.kind(), error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_messages() {
        let timeout = SqlStoreError::Timeout {
            op: "load",
            after: Duration::from_secs(2),
        };
        assert_eq!(timeout.kind(), StoreErrorKind::Timeout);
        assert_eq!(
            timeout.to_string(),
            "the database did not answer load within 2s"
        );
        let pool = SqlStoreError::Database {
            op: "load",
            source: sqlx::Error::PoolTimedOut,
        };
        assert_eq!(StoreError::from(pool).kind(), StoreErrorKind::Timeout);
        let closed = SqlStoreError::Database {
            op: "apply",
            source: sqlx::Error::PoolClosed,
        };
        assert!(closed.source().is_some());
        assert_eq!(StoreError::from(closed).kind(), StoreErrorKind::Backend);
        let large = SqlStoreError::TooLarge {
            size: 2000,
            limit: 1000,
        };
        assert_eq!(StoreError::from(large).kind(), StoreErrorKind::TooLarge);
        let newer = SqlStoreError::SchemaTooNew {
            found: 3,
            supported: 1,
        };
        assert!(newer.to_string().contains("version 3"), "{newer}");
    }
}
