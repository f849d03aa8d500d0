//! The Redis counter route in process, run N times: for counting with callgrind the instructions
//! a request costs the server (the HTTP stack is left out, Redis runs in its own process).
//!
//! ```sh
//! cargo build --release -p session-benches --example redis_requests
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/redis_requests ours rmw 2000
//! ```
//!
//! Contenders: `ours` (this project's `SessionLayer` over `RedisStore`), `ours-cached` (the
//! same with the store's client-side cache), `tower-sessions`
//! (tower-sessions over tower-sessions-redis-store, a fred client). Workloads: `read` (reads the
//! counter), `rmw` (the counter route); a fourth argument `COUNTxBYTES` (`100x500`) first fills
//! the session with COUNT more values of BYTES characters. Every request carries the cookie of an
//! existing session; a `redis-server` of its own is started for the run. Subtract a run with a small N from one
//! with a large N and divide by the difference: the instructions of one request.
//!
//! With `SESSION_BENCH_COMMANDSTATS=1`, the run ends by printing what Redis itself spent on the N
//! requests, per command (`INFO commandstats`, reset once the session is filled): Redis's own
//! share of a request, which callgrind on the server process does not see. A script's line
//! (`evalsha`) includes the commands it calls, which have lines of their own too.

#[path = "common/apps.rs"]
mod apps;

use apps::send;
use std::process::ExitCode;

use axum::Router;

use session_state_cookie::CookieState;
use session_store_redis::testing::{RedisServer, commandstats};

/// Our routes over `RedisStore`, with its client-side cache if `cached`.
async fn ours(url: &str, cached: bool) -> Router {
    let store = session_benches::redis::ours_store(url, cached).await;
    apps::ours().layer(session_tower::SessionLayer::new(
        CookieState::default(),
        store,
    ))
}

/// tower-sessions' routes over its Redis store.
async fn tower_sessions(url: &str) -> Router {
    let store = session_benches::redis::tower_sessions_store(url).await;
    apps::theirs().layer(tower_sessions::SessionManagerLayer::new(store))
}

/// Prints each command's calls and microseconds per request, from `INFO commandstats` after `n`
/// requests (the `CONFIG RESETSTAT` and `INFO` of the count left out).
fn report_commandstats(info: &str, n: usize) {
    let requests = n.max(1) as f64;
    for (name, stats) in commandstats(info) {
        if name == "info" || name.starts_with("config") {
            continue;
        }
        println!(
            "{name}: {:.2} calls, {:.2} µs per request ({:.2} µs per call)",
            stats.calls as f64 / requests,
            stats.usec as f64 / requests,
            stats.usec_per_call,
        );
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(contender), Some(workload), Some(n)) = (args.first(), args.get(1), args.get(2))
    else {
        eprintln!("usage: redis_requests ours|ours-cached|tower-sessions read|rmw N [COUNTxBYTES]");
        return ExitCode::from(2);
    };
    let Ok(n) = n.parse::<usize>() else {
        eprintln!("N must be a number");
        return ExitCode::from(2);
    };
    let path = format!("/{workload}");
    let server = RedisServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let app = match contender.as_str() {
            "ours" => ours(&server.url(), false).await,
            "ours-cached" => ours(&server.url(), true).await,
            "tower-sessions" => tower_sessions(&server.url()).await,
            other => panic!("unknown contender {other}"),
        };
        let mut cookie = send(&app, "/rmw", None).await.expect("a session cookie");
        if let Some(size) = args.get(3) {
            let Some((count, bytes)) = session_benches::values_size(size) else {
                panic!("the size {size:?} is not COUNTxBYTES");
            };
            let fill = format!("/fill/{count}/{bytes}");
            if let Some(renewed) = send(&app, &fill, Some(&cookie)).await {
                cookie = renewed;
            }
        }
        let stats = std::env::var_os("SESSION_BENCH_COMMANDSTATS").is_some_and(|v| v == "1");
        let mut admin = if stats {
            let client = redis::Client::open(server.url()).expect("a Redis URL");
            let mut admin = client
                .get_multiplexed_async_connection()
                .await
                .expect("a connection to Redis");
            let () = redis::cmd("CONFIG")
                .arg("RESETSTAT")
                .query_async(&mut admin)
                .await
                .expect("CONFIG RESETSTAT");
            Some(admin)
        } else {
            None
        };
        for _ in 0..n {
            if let Some(renewed) = send(&app, &path, Some(&cookie)).await {
                cookie = renewed;
            }
        }
        if let Some(admin) = admin.as_mut() {
            let info: String = redis::cmd("INFO")
                .arg("commandstats")
                .query_async(admin)
                .await
                .expect("INFO commandstats");
            report_commandstats(&info, n);
        }
    });
    ExitCode::SUCCESS
}
