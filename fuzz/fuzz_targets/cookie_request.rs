//! The request path from raw `Cookie` header bytes to a loaded session.
//!
//! With `CookieState` over a `MemoryStore` that holds one live session (`KNOWN_ID`).
//!
//! The input is split at `\n` into `Cookie` header values (values `HeaderValue::from_bytes`
//! refuses are skipped); then start, read, write, commit. Checked: the session is the known one
//! (only if the client sent its id) or empty and new; reads, writes and the commit never fail;
//! every `Set-Cookie` names the session cookie; a new session gets exactly one cookie, with a
//! fresh id the client did not send, stored with only the new value; the known session keeps its
//! id and gets the write; no cookie ever carries an id the client sent, other than the known one.

#![no_main]

use http::header::SET_COOKIE;
use libfuzzer_sys::fuzz_target;
use session_core::state::RequestView;
use session_fuzz::{KNOWN_ID, check_outcome, contains, cookie_headers, serve, server_engine};
use session_state_cookie::CookieState;

fuzz_target!(|data: &[u8]| {
    let headers = cookie_headers(data);
    let (store, engine) = server_engine(CookieState::default());
    let served = serve(&engine, &RequestView::new(&headers, None), data, false);

    let mut ids = Vec::new();
    for value in served.response.get_all(SET_COOKIE) {
        let text = value.to_str().expect("a Set-Cookie is ASCII");
        let pair = text.split(';').next().unwrap_or_default();
        let id = pair
            .strip_prefix("id=")
            .expect("every Set-Cookie is the session cookie");
        assert!(!id.is_empty(), "a removal cookie for a live session");
        assert!(
            id == KNOWN_ID || !contains(data, id.as_bytes()),
            "a Set-Cookie carries an id the client sent"
        );
        ids.push(id.to_owned());
    }
    if served.known {
        assert!(
            ids.iter().all(|id| id == KNOWN_ID),
            "the known session got another id"
        );
        check_outcome(&store, &served, KNOWN_ID, data);
    } else {
        assert_eq!(ids.len(), 1, "a new session gets exactly one cookie");
        check_outcome(&store, &served, &ids[0], data);
    }
});
