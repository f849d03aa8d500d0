//! The demo in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`),
//! driven through WebDriver by `fantoccini`, shows what a browser's cookie jar does with the
//! session cookie. Each test starts its own chromedriver on a free loopback port and its own
//! browser on an empty profile, and checks what the page shows and what the jar holds (read
//! whole through the DevTools protocol, so cookies of every path and site are seen).
//!
//! - [`counter`]: the counter across page loads; login changes the id and keeps the data;
//!   logout removes the cookie from the jar; a tampered sealed cookie gives a fresh session.
//! - [`remember`]: a persistent cookie survives closing and reopening the browser on its
//!   profile, a browser-session cookie does not.
//! - [`attributes`]: a `__Host-` cookie, `Secure` over `http://127.0.0.1`, and a cookie
//!   restricted to a path.
//! - [`same_site`]: `SameSite=Lax` and `Strict` across sites (`localhost` is another site than
//!   `127.0.0.1`).
//! - [`stream`]: a streamed page's late-stored value, shown by the next page.
//!
//! Each scenario runs on both adapters (`on_axum::…`, `on_actix::…`), on the memory store and,
//! where the scenario applies, on the sealed cookie (`--store cookie`). A failed scenario leaves
//! its screenshot, page and cookie jar under `target/tmp/browser/` ([`harness`]).

mod attributes;
mod counter;
mod harness;
mod remember;
mod same_site;
mod stream;

use session_examples::demo::Args;
use session_tests::{Framework, Setup, TestServer};

/// The demo on `framework` with the command-line options `words`, and its base URL
/// (`http://127.0.0.1:PORT`).
async fn demo(framework: Framework, words: &[&str]) -> (TestServer, String) {
    let args =
        Args::parse(words.iter().map(|word| (*word).to_owned())).expect("valid demo options");
    let server = TestServer::demo(framework, &Setup::new(args)).await;
    let base = format!("http://{}", server.addr());
    (server, base)
}
