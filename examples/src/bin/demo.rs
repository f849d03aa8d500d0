//! The demo server binary (see `session_examples::demo`).
//!
//! ```text
//! cargo run -p session-examples --bin demo -- --framework axum --store memory --state cookie \
//!     --addr 127.0.0.1:8080
//! ```
//!
//! With sessions in Redis (connected at start: if Redis cannot be reached, the demo prints why on
//! standard error and exits with status 1):
//!
//! ```text
//! cargo run -p session-examples --bin demo -- --store redis --redis-url redis://127.0.0.1:6379/0
//! ```
//!
//! The first line on standard output is `listening on http://ADDR`.

use std::process::ExitCode;

use session_examples::demo::{self, Args};

#[tokio::main]
async fn main() -> ExitCode {
    // `RUST_LOG=session_core=debug` shows each request's session span, and its store calls,
    // when they close.
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(std::io::stderr)
        .init();
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        println!("{}", demo::USAGE);
        return ExitCode::SUCCESS;
    }
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("demo: {message}\n\n{}", demo::USAGE);
            return ExitCode::from(2);
        }
    };
    let result = match demo::bind(&args).await {
        Ok((addr, serve)) => {
            println!("listening on http://{addr}");
            serve.await
        }
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("demo: {error}");
            ExitCode::FAILURE
        }
    }
}
