//! A streamed page (`/stream`: three chunks, `streamed=1` set after the first, with late store):
//! the browser keeps the cookie from the head, and the next page shows the late-stored value.

use session_state_cookie::DEFAULT_COOKIE_NAME;
use session_tests::{Framework, counter_body};

use crate::demo;
use crate::harness::scenario;

/// What the browser shows of `/stream`'s three chunks.
const STREAMED: &str = "one\ntwo\nthree";

/// Without late store nothing set after the head is kept; with it a new visitor's cookie comes
/// in the head and the value set while streaming is on the next page, the rest of the session
/// kept.
async fn late_stored_value_shows_on_the_next_page(framework: Framework) {
    let (_server, base) = demo(framework, &[]).await;
    scenario(move |browser| async move {
        let page = |path: &str| format!("{base}{path}");
        // Without late store the value set after the head is not kept, and a new visitor gets
        // no cookie.
        assert_eq!(browser.open(&page("/stream?late=off")).await, STREAMED);
        assert!(browser.jar().await.is_empty(), "nothing stored, no cookie");
        assert_eq!(browser.open(&page("/get/streamed")).await, "not found");

        // With it: the head carries a new visitor's cookie, and the value follows the body.
        assert_eq!(browser.open(&page("/stream?pause_ms=300")).await, STREAMED);
        let cookie = browser.cookie(DEFAULT_COOKIE_NAME).await;
        assert_eq!(browser.open(&page("/get/streamed")).await, "1");
        assert_eq!(
            browser.cookie(DEFAULT_COOKIE_NAME).await.value,
            cookie.value
        );
        assert_eq!(browser.open(&page("/")).await, counter_body(0));
        assert_eq!(browser.open(&page("/stream")).await, STREAMED);
        assert_eq!(
            browser.open(&page("/")).await,
            counter_body(1),
            "the stream kept the rest"
        );
    })
    .await;
}

session_tests::per_framework!(late_stored_value_shows_on_the_next_page);
