//! Two demo server processes on one session directory (one on axum, one on actix-web): they share
//! sessions, concurrent requests writing different keys through both lose nothing, and a server
//! killed with SIGKILL and started again finds every session.
//!
//! The server processes are this test binary started again, running the demo exactly as its
//! binary does (`Args::parse` on the command line, then `demo::bind`): no extra build step, so it
//! works on a clean clone under `cargo test --workspace`.

use http::StatusCode;
use session_tests::process::{self, DemoProcess, client};

/// The full name of [`demo_server_process`] in this test binary: the child processes run it alone
/// (`--exact`), so this must follow the test wherever it moves. A stale name runs nothing, and the
/// tests here fail at once (the demo process ends before listening).
const ENTRY: &str = "file_store_processes::demo_server_process";

/// A demo server process (run only by the tests below).
#[test]
#[ignore = "a demo server process for the tests in this file, not a test by itself"]
fn demo_server_process() {
    process::serve_demo_if_child();
}

/// A demo process on `framework` over the session directory `dir`.
fn start(framework: &str, dir: &std::path::Path) -> DemoProcess {
    let dir = dir.to_str().expect("utf-8 path");
    DemoProcess::start(
        ENTRY,
        &["--framework", framework, "--store", "file", "--dir", dir],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_share_sessions_and_lose_no_write() {
    if process::is_child() {
        return;
    }
    const PER_SERVER: usize = 40;
    let dir = tempfile::tempdir().expect("tempdir");
    let servers = [start("axum", dir.path()), start("actix", dir.path())];
    let client = client();
    let id = servers[0]
        .get(&client, "/set/origin/axum", None)
        .await
        .expect_new_id();
    let origin = servers[1].get(&client, "/get/origin", Some(&id)).await;
    assert_eq!(
        (origin.status, origin.body.as_str()),
        (StatusCode::OK, "axum")
    );

    // Both processes at once, each request setting its own key of the one session.
    let mut tasks = tokio::task::JoinSet::new();
    let servers = std::sync::Arc::new(servers);
    for n in 0..2 * PER_SERVER {
        let (servers, client, id) = (servers.clone(), client.clone(), id.clone());
        tasks.spawn(async move {
            let path = format!("/set/k{n}/v{n}");
            servers[n % 2].get(&client, &path, Some(&id)).await
        });
    }
    while let Some(reply) = tasks.join_next().await {
        reply.expect("task").assert_ok();
    }
    let mut lost = Vec::new();
    for n in 0..2 * PER_SERVER {
        // Read back through the other process than the one that wrote it.
        let reply = servers[(n + 1) % 2]
            .get(&client, &format!("/get/k{n}"), Some(&id))
            .await;
        if (reply.status, reply.body.as_str()) != (StatusCode::OK, format!("v{n}").as_str()) {
            lost.push(n);
        }
    }
    assert!(lost.is_empty(), "writes lost across processes: {lost:?}");

    // A logout in one process is final in the other.
    servers[1]
        .get(&client, "/logout", Some(&id))
        .await
        .assert_ok();
    let gone = servers[0].get(&client, "/get/origin", Some(&id)).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_restarted_on_the_directory_finds_its_sessions() {
    if process::is_child() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let client = client();
    let server = start("axum", dir.path());
    let ids: Vec<String> = create_sessions(&server, &client).await;
    drop(server); // SIGKILL
    let server = start("actix", dir.path());
    for (n, id) in ids.iter().enumerate() {
        let reply = server.get(&client, "/get/n", Some(id)).await;
        assert_eq!((reply.status, reply.body), (StatusCode::OK, n.to_string()));
    }
}

async fn create_sessions(server: &DemoProcess, client: &reqwest::Client) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 0..10 {
        let reply = server.get(client, &format!("/set/n/{n}"), None).await;
        ids.push(reply.expect_new_id());
    }
    ids
}
