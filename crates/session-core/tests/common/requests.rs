//! One request through an engine whose State is a `HeaderState`, run on the calling thread: for
//! the tests that watch what a request tells observers (`it/observe.rs`, `spans.rs`).

use http::{HeaderMap, HeaderValue, StatusCode};
use session_core::state::RequestView;
use session_core::{Engine, HeaderState, MemoryStore};

/// Runs `run` to its end on a runtime of the calling thread (so a thread's default subscriber or
/// recorder sees it).
pub(crate) fn block_on<F: Future>(run: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(run)
}

/// One request on `engine` carrying `id`: `handler`, then the commit; the id it sends, if any.
pub(crate) async fn request<F, Fut>(engine: &Engine, id: Option<&str>, handler: F) -> Option<String>
where
    F: FnOnce(session_core::Session) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut headers = HeaderMap::new();
    if let Some(id) = id {
        headers.insert("x-session-id", HeaderValue::from_str(id).expect("ascii"));
    }
    let session = engine.start(&RequestView::new(&headers, None));
    handler(session.clone()).await;
    let commit = engine
        .commit(&session, StatusCode::OK)
        .await
        .expect("commit");
    let mut out = HeaderMap::new();
    commit.apply_to(&mut out);
    let sent = out.get("x-session-id")?.to_str().expect("ascii");
    (!sent.is_empty()).then(|| sent.to_owned())
}

/// A client's four requests on a fresh engine over a `MemoryStore`: a new session storing `n`, a
/// counter write, a read and a logout. Returns the session's id.
pub(crate) async fn create_write_read_logout() -> String {
    let engine = Engine::new(HeaderState::default(), MemoryStore::default());
    let id = request(&engine, None, |s| async move {
        s.insert("n", 1).await.expect("insert");
    })
    .await
    .expect("an id");
    request(&engine, Some(&id), |s| async move {
        let n: u32 = s.get("n").await.expect("get").unwrap_or(0);
        s.insert("n", n + 1).await.expect("insert");
    })
    .await;
    request(&engine, Some(&id), |s| async move {
        s.get::<u32>("n").await.expect("get");
    })
    .await;
    request(&engine, Some(&id), |s| async move { s.expire() }).await;
    id
}
