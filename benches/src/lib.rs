//! Comparative benchmarks; the code lives in `benches/` (run `cargo bench -p session-benches`).
