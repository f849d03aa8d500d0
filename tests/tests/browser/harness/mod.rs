//! Headless Chromium driven through chromedriver: one driver and one fresh browser profile per
//! test, the page's text and the whole cookie jar read back, and what a failed test leaves behind.
//!
//! [`scenario`] runs a test's steps against a [`Chromium`]. If a step panics (or the steps take
//! too long), the page's screenshot, its HTML, its address, the cookie jar and chromedriver's log
//! are saved under `target/tmp/browser/TEST_NAME/` (the path is printed) before the test fails.
//!
//! - [`driver`]: the binaries, and a chromedriver process of the test's own.
//! - [`browser`]: [`Chromium`] and `JarCookie`.

mod browser;
mod driver;

use std::any::Any;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::Semaphore;

pub(crate) use browser::Chromium;
use driver::Chromedriver;

/// How many browsers run at once in this test binary (each is several processes; the machine
/// this project is developed on has two cores).
static SLOTS: Semaphore = Semaphore::const_new(2);

/// How long a whole scenario may take (they take seconds): past it, the browser is taken to hang.
const SCENARIO_LIMIT: Duration = Duration::from_secs(120);

/// How long saving the artefacts, or closing the browser, may take.
const CLEAN_UP_LIMIT: Duration = Duration::from_secs(20);

/// Why a scenario failed.
enum Failure {
    /// A step panicked, with this payload.
    Panicked(Box<dyn Any + Send>),
    /// The steps did not finish within [`SCENARIO_LIMIT`].
    TimedOut,
}

/// Where a failed `test` leaves its artefacts: `target/tmp/browser/TEST/`.
fn artefacts_dir(test: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("browser")
        .join(test)
}

/// Runs `steps` against a fresh headless Chromium (its own chromedriver and an empty profile).
///
/// When a step panics, or the steps take longer than two minutes, the browser's screenshot, page,
/// address and cookie jar, and chromedriver's log, are saved under `target/tmp/browser/TEST/`
/// (printed on standard error; a passing run removes what an earlier failure left there) and the
/// test fails with the step's panic. Either way the browser and its driver are stopped.
pub(crate) async fn scenario<F, Fut>(steps: F)
where
    F: FnOnce(Chromium) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    // libtest names the thread after the test; the scenario runs on it until it is spawned.
    let test = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .replace("::", "-");
    let artefacts = artefacts_dir(&test);
    let _ = std::fs::remove_dir_all(&artefacts);

    let _slot = SLOTS
        .acquire()
        .await
        .expect("the semaphore is never closed");
    // The profile and the driver's log, removed at the end (after the driver is killed).
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let log = scratch.path().join("chromedriver.log");
    let profile = scratch.path().join("profile");
    let driver = Chromedriver::start(&log);
    let browser = Chromium::start(driver.url(), &profile).await;

    let mut steps = tokio::spawn(steps(browser.clone()));
    let failure = match tokio::time::timeout(SCENARIO_LIMIT, &mut steps).await {
        Ok(Ok(())) => None,
        Ok(Err(failure)) => Some(Failure::Panicked(failure.into_panic())),
        Err(_) => {
            // Stop the steps before their browser goes away under them.
            steps.abort();
            let _ = steps.await;
            Some(Failure::TimedOut)
        }
    };
    if failure.is_some() {
        let saved = tokio::time::timeout(CLEAN_UP_LIMIT, browser.save_artefacts(&artefacts)).await;
        let _ = std::fs::copy(&log, artefacts.join("chromedriver.log"));
        eprintln!(
            "browser test {test} failed: screenshot, page, cookie jar and chromedriver's log in \
             {}{}",
            artefacts.display(),
            if saved.is_err() {
                " (the browser stopped answering: some are missing)"
            } else {
                ""
            }
        );
    }
    let _ = tokio::time::timeout(CLEAN_UP_LIMIT, browser.close()).await;
    drop(driver);
    drop(scratch);
    match failure {
        None => {}
        // The panic hook has printed the step's message already.
        Some(Failure::Panicked(payload)) => std::panic::resume_unwind(payload),
        Some(Failure::TimedOut) => panic!("the scenario did not finish in {SCENARIO_LIMIT:?}"),
    }
}
