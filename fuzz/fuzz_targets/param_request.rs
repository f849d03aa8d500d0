//! The request path from a raw query string to a loaded session.
//!
//! With `ParamState` over a `MemoryStore` that holds one live session (`KNOWN_ID`).
//!
//! The input (lossily made UTF-8) is the query string; then start, read, write, `Session::save`
//! (the only way a handler learns the id with `ParamState`), commit. Checked: the session is the
//! known one (only if the query holds its id) or empty and new; reads, writes, `save` and the
//! commit never fail; `ParamState` writes no response header; a new session's id is fresh (one
//! the scheme generates, not in the query) and stored with only the new value; the known session
//! keeps its id and gets the write.

#![no_main]

use http::HeaderMap;
use http::header::SET_COOKIE;
use libfuzzer_sys::fuzz_target;
use session_core::ParamState;
use session_core::state::RequestView;
use session_fuzz::{check_outcome, serve, server_engine};

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    let headers = HeaderMap::new();
    let (store, engine) = server_engine(ParamState::default());
    let served = serve(
        &engine,
        &RequestView::new(&headers, Some(&query)),
        query.as_bytes(),
        true,
    );
    assert!(
        served.response.get(SET_COOKIE).is_none(),
        "ParamState set a cookie"
    );
    let id = served.saved_id.as_deref().expect("save returns the id");
    check_outcome(&store, &served, id, query.as_bytes());
});
