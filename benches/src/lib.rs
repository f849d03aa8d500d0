//! Comparative benchmarks: what several benches share.
//!
//! The benches themselves live in `benches/` (run `cargo bench -p session-benches`).

use std::time::Duration;

use criterion::Criterion;
use http::HeaderValue;

pub mod actix;
pub mod apps;
pub mod load;
pub mod redis;
pub mod servers;
pub mod sql;

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

/// The values a large session is filled with (`/fill/COUNT/BYTES` in the benches' apps): `v0`,
/// `v1`, ... `v{COUNT-1}`, each a string of BYTES `x`s.
pub fn filler(count: usize, bytes: usize) -> impl Iterator<Item = (String, String)> {
    (0..count).map(move |i| (format!("v{i}"), "x".repeat(bytes)))
}

/// A session size written `COUNTxBYTES` (`100x500`): COUNT values of BYTES characters.
pub fn values_size(text: &str) -> Option<(usize, usize)> {
    let (count, bytes) = text.split_once('x')?;
    Some((count.parse().ok()?, bytes.parse().ok()?))
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
