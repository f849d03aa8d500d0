//! What a request's session tells observers: a `tracing` span per request that used its session,
//! a child span per store call, and (feature `metrics`) counters and a latency histogram.
//!
//! Every span is at `debug` level under the `session_core` target, so a subscriber that does not
//! ask for them costs a request one check per span. No span or metric ever carries a session id
//! (nor its digest).

use std::future::Future;
use std::time::{Duration, Instant};

use tracing::Span;
use tracing::field::Empty;

/// The span of one request's session, created when the handler first asks for the session.
///
/// Its fields, recorded as the request goes: `load_us` (the first read's store time),
/// `outcome` (what the commit carried out or tried: `unchanged`, `written`, `touched`,
/// `created`, `id_changed`, `ended`, `sent`, `sealed`; `failed` when its store I/O failed; a
/// write the store refused because the session ended meanwhile still says what was tried) and
/// `commit_us` (the commit's store time). A late commit records its own outcome over the head's.
///
/// `None` (no span built, nothing kept, nothing to drop) when no subscriber wants `debug` spans
/// of this crate: the request then costs one check.
pub(crate) fn request_span() -> Option<Box<Span>> {
    if !tracing::enabled!(target: "session_core", tracing::Level::DEBUG) {
        return None;
    }
    let span = tracing::debug_span!(
        target: "session_core",
        "session",
        outcome = Empty,
        load_us = Empty,
        commit_us = Empty
    );
    (!span.is_disabled()).then(|| Box::new(span))
}

/// The span of a request that has none.
pub(crate) static NO_SPAN: Span = Span::none();

/// What a counter counts; see the crate's `metrics` feature.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Event {
    /// A new session was stored.
    Created,
    /// A request adopted a stored session.
    Loaded,
    /// A write to the store took: a commit's (or `save`'s) create, id change or applied
    /// changes; not a write the store refused because the session had ended meanwhile.
    Committed,
    /// A request ended its session (`expire`), whether or not it was stored.
    Expired,
    /// A store call the engine made failed (the request ends in a 500 or a handler error).
    Failed,
}

/// Counts `event` (a no-op without the `metrics` feature).
pub(crate) fn count(event: Event) {
    #[cfg(feature = "metrics")]
    {
        let name = match event {
            Event::Created => "session_created_total",
            Event::Loaded => "session_loaded_total",
            Event::Committed => "session_committed_total",
            Event::Expired => "session_expired_total",
            Event::Failed => "session_failed_total",
        };
        metrics::counter!(name).increment(1);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = event;
}

/// Whether anything observes store calls: a subscriber that wants their spans, or metrics.
pub(crate) fn observed(request: &Span) -> bool {
    cfg!(feature = "metrics") || !request.is_disabled()
}

/// Awaits one store call, `store_call!(request_span, "op", call)`: through [`observed_call`] when
/// something [observes](observed) it, boxed so that the unobserved path (most servers) keeps its
/// futures small; otherwise the call alone.
macro_rules! store_call {
    ($request:expr, $op:literal, $call:expr) => {{
        let request: &tracing::Span = $request;
        if $crate::observe::observed(request) {
            Box::pin($crate::observe::observed_call(request, $op, $call)).await
        } else {
            $call.await
        }
    }};
}
pub(crate) use store_call;

/// Records `value` in the request span's `field`, if anything listens (a disabled span still
/// costs a call to record into).
pub(crate) fn record(request: &Span, field: &'static str, value: &'static str) {
    if !request.is_disabled() {
        request.record(field, value);
    }
}

/// Runs one store call (`op`: `load`, `create`, `apply`, `touch`, `delete`, `cycle`), in a
/// `session.store` span under `request` that records its latency and whether it succeeded, and
/// into the `session_store_seconds` histogram (feature `metrics`).
pub(crate) async fn observed_call<T, E>(
    request: &Span,
    op: &'static str,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let span = tracing::debug_span!(
        target: "session_core",
        parent: request,
        "session.store",
        op,
        latency_us = Empty,
        ok = Empty
    );
    let started = Instant::now();
    let result = tracing::Instrument::instrument(call, span.clone()).await;
    let elapsed = started.elapsed();
    span.record("latency_us", micros(elapsed));
    span.record("ok", result.is_ok());
    #[cfg(feature = "metrics")]
    metrics::histogram!("session_store_seconds", "op" => op).record(elapsed.as_secs_f64());
    result
}

/// Starts timing a request's store work for its span's `field` (`load_us`, `commit_us`);
/// `None` (no clock read) when nothing observes it.
pub(crate) fn start_timer(request: &Span) -> Option<Instant> {
    (!request.is_disabled()).then(Instant::now)
}

/// Records the time since `started` in the request span's `field`.
pub(crate) fn stop_timer(request: &Span, field: &'static str, started: Option<Instant>) {
    if let Some(started) = started {
        request.record(field, micros(started.elapsed()));
    }
}

fn micros(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
}
