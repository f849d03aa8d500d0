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
/// `v1`, ... `v{COUNT-1}`, each a string of BYTES characters.
///
/// The characters are letters, digits, `-` and `_` drawn by a fixed pseudo-random sequence (the
/// same on every run and for every contender): text that compresses about as little as the ids,
/// tokens and user data sessions hold. With `SESSION_BENCH_FILL=x` they are all `x` instead, as
/// the benches filled them before 3 December 2026: text that compresses some fiftyfold, which
/// a store that compresses (PostgreSQL's TOAST, for a blob over 2 KB) stores in a few hundred
/// bytes.
pub fn filler(count: usize, bytes: usize) -> impl Iterator<Item = (String, String)> {
    let repeated = std::env::var("SESSION_BENCH_FILL").is_ok_and(|fill| fill == "x");
    (0..count).map(move |i| {
        let value = if repeated {
            "x".repeat(bytes)
        } else {
            pseudo_random_text(i as u64, bytes)
        };
        (format!("v{i}"), value)
    })
}

/// `bytes` characters of `[A-Za-z0-9_-]` from a xorshift sequence seeded by `seed`.
fn pseudo_random_text(seed: u64, bytes: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..bytes)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(ALPHABET[(state >> 58) as usize])
        })
        .collect()
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
