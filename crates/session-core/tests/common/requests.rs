//! One request through an engine whose State is a `HeaderState`, run on the calling thread: for
//! the tests that watch what a request tells observers (`it/observe.rs`, `spans.rs`).

use http::{HeaderMap, HeaderValue, StatusCode};
use session_core::Engine;
use session_core::state::RequestView;

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
