//! Late store through each adapter, in process: a key set while the body
//! streams is stored when the body ends, before the end reaches the client; also when the client
//! goes away midway, never when late store was not asked for; a failed late commit ends the body
//! with an error.
//!
//! The scenarios both adapters share are written once, here, against a [`Driver`]: one adapter's
//! app in process with the same routes, read chunk by chunk. [`on_tower`] (session-tower under
//! axum) and [`on_actix`] (session-actix) each implement it and run every shared scenario, then
//! the tests only their adapter has:
//!
//! - session-tower: an empty late-store body commits when it is polled; a late-store body of known
//!   length goes out chunked over HTTP; the layer around a whole router; a body type late store
//!   cannot wrap.
//! - session-actix: a sized body holds its last chunk until the late commit ran; actix-web never
//!   polls an empty body, so one commits before its head; a client that disconnects over TCP; and
//!   the client-gone scenario once more under plain Tokio (no actix `System`).
//!
//! The engine's own late-store tests (session-core's `tests/it/late.rs`) stay with the engine: they
//! drive its API by hand (`prepare_late`, a late commit's headers, cookie options, the warnings),
//! below any body or framework.

mod on_actix;
mod on_tower;

use std::error::Error;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use session_core::MemoryStore;
use session_core::store::{Changes, Key, Record, Store, StoreError};

/// One adapter's side of the shared scenarios: its app in process over a [`TestStore`], with
///
/// - `/late`: late store; a body of [`Driver::CHUNKS`] that sets `streamed=1` in the session while
///   it produces the second chunk (after the head);
/// - `/plain`: the same body without late store;
/// - `/empty`: late store, `empty=1` set before the head, an empty body (204);
/// - `/get`: the session's `streamed` and `during` as `"{streamed:?} {during:?}"` (`Option<u64>`).
pub(crate) trait Driver {
    /// A response, its body not read yet.
    type Response;
    /// A response body, read chunk by chunk.
    type Body;

    /// The chunks of `/late` and `/plain`.
    const CHUNKS: &'static [&'static str];

    /// `GET path` with the cookie `NAME=VALUE`, if any.
    async fn get(&self, path: &str, cookie: Option<&str>) -> Self::Response;

    /// The response's status code.
    fn status(&self, response: &Self::Response) -> u16;

    /// The `NAME=VALUE` part of the response's `Set-Cookie`, if it has one.
    fn set_cookie(&self, response: &Self::Response) -> Option<String>;

    /// The response's body.
    fn body(&self, response: Self::Response) -> Self::Body;

    /// The body of `/late` says what the handler's body said of its size (nothing: a stream).
    fn assert_size_unchanged(&self, body: &Self::Body);

    /// The body's next chunk, `None` at a clean end.
    async fn next_chunk(&self, body: &mut Self::Body) -> Option<Result<Bytes, Box<dyn Error>>>;

    /// The whole body of a response.
    async fn read(&self, response: Self::Response) -> Bytes;

    /// Makes the store's writes fail from now on.
    fn fail_writes(&self);

    /// `/get`'s answer for the session behind `cookie`: `"{streamed:?} {during:?}"`.
    async fn stored(&self, cookie: &str) -> String {
        let response = self.get("/get", Some(cookie)).await;
        let body = self.read(response).await;
        String::from_utf8(body.to_vec()).expect("utf-8")
    }
}

/// What [`TestStore`] runs after a write.
pub(crate) type Hook = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A memory store whose writes fail once `failing` is set, and that runs `hook` (once) after the
/// next successful write.
#[derive(Clone, Default)]
pub(crate) struct TestStore {
    pub(crate) inner: MemoryStore,
    pub(crate) failing: Arc<AtomicBool>,
    pub(crate) hook: Arc<Mutex<Option<Hook>>>,
}

impl TestStore {
    fn check(&self) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::backend(std::io::Error::other("store is down")));
        }
        Ok(())
    }

    async fn wrote<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        let hook = self.hook.lock().expect("hook").take();
        if let Some(hook) = hook {
            hook.await;
        }
        result
    }
}

#[async_trait]
impl Store for TestStore {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.inner.load(key).await
    }
    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.check()?;
        let result = self.inner.create(key, record).await;
        self.wrote(result).await
    }
    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.check()?;
        let result = self.inner.save(key, record).await;
        self.wrote(result).await
    }
    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.delete(key).await
    }
    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        self.check()?;
        let result = self.inner.apply(key, changes).await;
        self.wrote(result).await
    }
    fn applies_atomically(&self) -> bool {
        true
    }
}

/// A new visitor on `/late`: the head carries the cookie although nothing was set before it; the
/// key set with the second chunk is not stored before the body ends, and is once the end came.
async fn with_late_store_a_key_set_while_streaming_is_stored_before_the_end<D: Driver>(driver: &D) {
    let response = driver.get("/late", None).await;
    assert_eq!(driver.status(&response), 200);
    let cookie = driver.set_cookie(&response).expect("a Set-Cookie");
    let mut body = driver.body(response);
    driver.assert_size_unchanged(&body);
    let (before, after) = D::CHUNKS.split_at(2);
    for expected in before {
        let chunk = driver
            .next_chunk(&mut body)
            .await
            .expect("a chunk")
            .expect("ok");
        assert_eq!(chunk, expected);
    }
    // The key was set with the second chunk; the body has not ended: not stored yet.
    assert_eq!(driver.stored(&cookie).await, "None None");
    for expected in after {
        let chunk = driver
            .next_chunk(&mut body)
            .await
            .expect("a chunk")
            .expect("ok");
        assert_eq!(chunk, expected);
    }
    // The end is reported only once the late commit has stored the key.
    assert!(driver.next_chunk(&mut body).await.is_none(), "a clean end");
    assert_eq!(driver.stored(&cookie).await, "Some(1) None");
}

/// `/plain` (no late store) on a live session: nothing changed before the head, so no
/// `Set-Cookie`, and the key set while the body streamed is lost.
async fn without_late_store_a_key_set_while_streaming_is_not_stored<D: Driver>(driver: &D) {
    // A session whose `streamed=1` is already stored (by `/late`).
    let response = driver.get("/late", None).await;
    let cookie = driver.set_cookie(&response).expect("a Set-Cookie");
    driver.read(response).await;
    let response = driver.get("/plain", Some(&cookie)).await;
    assert!(
        driver.set_cookie(&response).is_none(),
        "nothing changed before the head"
    );
    assert_eq!(driver.read(response).await, D::CHUNKS.concat());
    // A fresh session to see the loss (the key `empty` is set before the head).
    let response = driver.get("/empty", None).await;
    let fresh = driver.set_cookie(&response).expect("a Set-Cookie");
    driver.read(response).await;
    let response = driver.get("/plain", Some(&fresh)).await;
    assert_eq!(driver.status(&response), 200);
    assert!(
        driver.set_cookie(&response).is_none(),
        "nothing changed before the head"
    );
    assert_eq!(driver.read(response).await, D::CHUNKS.concat());
    assert_eq!(driver.stored(&fresh).await, "None None");
}

/// The client reads two chunks of `/late` (the key is set with the second) and goes away: the
/// late commit still runs.
async fn a_client_gone_midway_still_stores_what_was_set<D: Driver>(driver: &D) {
    let response = driver.get("/late", None).await;
    let cookie = driver.set_cookie(&response).expect("a Set-Cookie");
    let mut body = driver.body(response);
    driver
        .next_chunk(&mut body)
        .await
        .expect("a chunk")
        .expect("ok");
    driver
        .next_chunk(&mut body)
        .await
        .expect("a chunk")
        .expect("ok");
    drop(body); // the client goes away before the end
    let deadline = Instant::now() + Duration::from_secs(5);
    while driver.stored(&cookie).await != "Some(1) None" {
        assert!(Instant::now() < deadline, "the late commit never ran");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The store goes down after the head of `/late`: every chunk still comes, then an error where the
/// end would be, never a clean end.
async fn a_failed_late_commit_ends_the_body_with_an_error<D: Driver>(driver: &D) {
    let response = driver.get("/late", None).await;
    assert_eq!(driver.status(&response), 200);
    let mut body = driver.body(response);
    driver
        .next_chunk(&mut body)
        .await
        .expect("a chunk")
        .expect("ok");
    driver.fail_writes();
    for _ in 1..D::CHUNKS.len() {
        driver
            .next_chunk(&mut body)
            .await
            .expect("a chunk")
            .expect("ok");
    }
    let end = driver
        .next_chunk(&mut body)
        .await
        .expect("an error, not a clean end");
    let error = end.expect_err("the late commit failed");
    assert!(error.to_string().contains("could not be stored"), "{error}");
}
