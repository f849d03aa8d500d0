//! A time limit on every store call:
//! [`EngineBuilder::store_timeout`](crate::EngineBuilder::store_timeout) (feature `tokio`).

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::{StoreError, StoreErrorKind};
use crate::id::Key;
use crate::record::{Changes, Record, Timestamp};
use crate::store::Store;
use crate::subject::BoundSession;

/// The engine's store, each call bounded by `limit`.
pub(crate) struct TimeoutStore {
    pub(crate) inner: Box<dyn Store>,
    pub(crate) limit: Duration,
}

/// Why a store call was cut off: the operation and the limit it ran past.
#[derive(Debug)]
struct TimedOut {
    operation: &'static str,
    limit: Duration,
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "session store `{}` did not finish within {:?}",
            self.operation, self.limit
        )
    }
}

impl StdError for TimedOut {}

impl TimeoutStore {
    /// Runs `call`, failing with [`StoreErrorKind::Timeout`] once `limit` has passed.
    ///
    /// Outside a Tokio runtime there is no timer to arm, and the call runs unbounded (inside one
    /// whose timer is disabled, Tokio panics, as documented on `store_timeout`).
    async fn bounded<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return call.await;
        }
        match tokio::time::timeout(self.limit, call).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::new(
                StoreErrorKind::Timeout,
                TimedOut {
                    operation,
                    limit: self.limit,
                },
            )),
        }
    }
}

#[async_trait]
impl Store for TimeoutStore {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.bounded("load", self.inner.load(key)).await
    }

    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.bounded("create", self.inner.create(key, record)).await
    }

    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.bounded("save", self.inner.save(key, record)).await
    }

    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        self.bounded("delete", self.inner.delete(key)).await
    }

    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        self.bounded("apply", self.inner.apply(key, changes)).await
    }

    async fn touch(
        &self,
        key: &Key,
        last_active: Timestamp,
        expires: Timestamp,
    ) -> Result<bool, StoreError> {
        self.bounded("touch", self.inner.touch(key, last_active, expires))
            .await
    }

    fn applies_atomically(&self) -> bool {
        self.inner.applies_atomically()
    }

    fn lists_subjects(&self) -> bool {
        self.inner.lists_subjects()
    }

    async fn list_subject(&self, subject: &str) -> Result<Vec<BoundSession>, StoreError> {
        self.bounded("list_subject", self.inner.list_subject(subject))
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::future::pending;

    use super::*;
    use crate::MemoryStore;

    /// A store whose every call never finishes.
    struct Hanging;

    #[async_trait]
    impl Store for Hanging {
        async fn load(&self, _: &Key) -> Result<Option<Record>, StoreError> {
            pending().await
        }
        async fn create(&self, _: &Key, _: &Record) -> Result<bool, StoreError> {
            pending().await
        }
        async fn save(&self, _: &Key, _: &Record) -> Result<bool, StoreError> {
            pending().await
        }
        async fn delete(&self, _: &Key) -> Result<bool, StoreError> {
            pending().await
        }
    }

    fn key() -> Key {
        Key::from_digest([7; 32])
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_call_is_cut_off_at_the_limit() {
        let store = TimeoutStore {
            inner: Box::new(Hanging),
            limit: Duration::from_millis(250),
        };
        let started = tokio::time::Instant::now();
        let error = store.load(&key()).await.expect_err("cut off");
        assert_eq!(error.kind(), StoreErrorKind::Timeout);
        assert_eq!(started.elapsed(), Duration::from_millis(250));
        let cause = error.source().expect("a cause").to_string();
        assert!(
            cause.contains("`load`") && cause.contains("250ms"),
            "{cause}"
        );
        // The defaulted methods are bounded too (here `apply` on the default load-merge-save).
        let error = store
            .apply(&key(), &Changes::default())
            .await
            .expect_err("cut off");
        assert_eq!(error.kind(), StoreErrorKind::Timeout);
    }

    #[tokio::test]
    async fn a_working_store_answers_through_the_limit() {
        let store = TimeoutStore {
            inner: Box::new(MemoryStore::default()),
            limit: Duration::from_secs(5),
        };
        let record = Record::new(
            Timestamp::from_system_time(std::time::SystemTime::now()),
            Timestamp::from_millis(u64::MAX),
        );
        assert!(store.create(&key(), &record).await.expect("create"));
        assert_eq!(store.load(&key()).await.expect("load"), Some(record));
        assert!(store.applies_atomically());
    }

    #[test]
    fn a_zero_limit_is_no_limit() {
        let builder = crate::Engine::builder(crate::ParamState::default(), MemoryStore::default());
        assert_eq!(
            builder.store_timeout(Duration::ZERO).store_timeout,
            None,
            "a zero limit would fail every call that is not ready at once"
        );
        let builder = crate::Engine::builder(crate::ParamState::default(), MemoryStore::default());
        assert_eq!(
            builder
                .store_timeout(Duration::from_millis(1))
                .store_timeout,
            Some(Duration::from_millis(1))
        );
    }

    #[test]
    fn outside_a_runtime_the_call_runs_unbounded() {
        let store = TimeoutStore {
            inner: Box::new(MemoryStore::default()),
            limit: Duration::from_nanos(1),
        };
        // A hand-rolled executor: no Tokio context, so no timer (and no panic for the lack of one).
        let loaded = poll_once(store.load(&key()));
        assert!(matches!(loaded, Some(Ok(None))));
    }

    fn poll_once<F: Future>(future: F) -> Option<F::Output> {
        use std::pin::pin;
        use std::task::{Context, Poll, Waker};
        let mut future = pin!(future);
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(output) => Some(output),
            Poll::Pending => None,
        }
    }
}
