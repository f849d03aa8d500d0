//! Fault injection (issue 9, hardening): the demo over a
//! [`FaultStore`](session_tests::FaultStore) whose operations fail, hang or slow down on command,
//! on both adapters, with a short store time limit.
//!
//! Checked request by request: a store failure is a bare 500
//! (empty body, no internal detail in the body or any header, no `Set-Cookie` issuing or changing
//! an id); nothing the failed request did is half-written, and nothing the session held before is
//! lost; a store that hangs costs a request at most about the limit per call; routes that never
//! touch the session keep working, with no store call at all, while the store fails or hangs; a
//! late-store body whose late commit fails or hangs ends with an error, never a clean end. No panic
//! escapes anywhere (a panic hook counts them), every request gets a complete HTTP response, and the
//! server keeps serving afterwards.
//!
//! Timings are asserted with generous upper bounds only (speed is for benchmarks): a cut-off call
//! must take at least the limit and answer well before the client's own time-out.

mod hangs;
mod late_commits;
mod rig;
mod store_failures;
mod untouched_routes;

use std::cell::Cell;
use std::sync::{Mutex, Once, PoisonError};

// ---------------------------------------------------------------------------------------------
// Panics: a hook, installed once for this binary, records every panic outside a test's own thread
// (server tasks, actix-web workers, spawned clients). A test thread's own panics are assertion
// failures, which the test harness reports anyway.
//
// The binary holds every module of the workspace suite, not only these: once installed (by the
// first fault test), the hook also sees the other modules' tests, whose threads it does not know
// as tests' own. A passing run has no panic anywhere; a failing test elsewhere can also fail the
// next fault test's `assert_no_panics`.

static HOOK: Once = Once::new();
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

thread_local! {
    static TEST_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Installs the panic hook (once) and marks the calling thread as a test's own.
fn watch_panics() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !TEST_THREAD.with(Cell::get) {
                let thread = std::thread::current();
                let name = thread.name().unwrap_or("unnamed").to_owned();
                PANICS
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(format!("{name}: {info}"));
            }
            previous(info);
        }));
    });
    TEST_THREAD.with(|flag| flag.set(true));
}

/// No panic so far outside the tests' own threads (in any test of this binary: they share a process).
#[track_caller]
fn assert_no_panics() {
    let panics = PANICS.lock().unwrap_or_else(PoisonError::into_inner);
    assert!(panics.is_empty(), "panics escaped: {panics:#?}");
}
