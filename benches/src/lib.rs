//! Comparative benchmarks: what several benches share.
//!
//! The benches themselves live in `benches/` (run `cargo bench -p session-benches`).

use std::time::Duration;

use criterion::Criterion;
use http::HeaderValue;

pub mod actix;
pub mod load;
pub mod servers;

/// The `name=value` pair of a `Set-Cookie` header, as a `Cookie` header (http 1's type; the
/// actix-web benches' is `actix::cookie_pair`).
pub fn cookie_pair(set_cookie: &HeaderValue) -> HeaderValue {
    let pair = pair_of(set_cookie.to_str().expect("ASCII"));
    HeaderValue::from_str(pair).expect("a valid header value")
}

/// The `name=value` pair of a `Set-Cookie` header's text.
pub fn pair_of(set_cookie: &str) -> &str {
    set_cookie.split(';').next().expect("a name=value pair")
}

/// The criterion settings every bench starts from.
///
/// 50 samples, a 1 s warm-up, and `measure` of measurement per bench.
pub fn criterion(measure: Duration) -> Criterion {
    Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(measure)
}
pub mod placement;
