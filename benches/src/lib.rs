//! Comparative benchmarks: what several benches share.
//!
//! The benches themselves live in `benches/` (run `cargo bench -p session-benches`).

use std::time::Duration;

use criterion::Criterion;

pub mod actix;
pub mod load;
pub mod servers;

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
