//! Two demo server processes on one PostgreSQL database, and two on one SQLite file (one on
//! axum, one on actix-web, each with its own pool): each continues the other's sessions,
//! concurrent requests writing different keys of one session through both lose nothing, and a
//! logout in one is final in the other. A demo whose database cannot be used exits with a
//! failure status and says why.
//!
//! The server processes are this test binary started again, running the demo as its binary does
//! (`Args::parse` on the command line, then `demo::bind`, an error printed and a failure status):
//! no extra build step, so it works on a clean clone under `cargo test --workspace`.

use std::net::{Ipv4Addr, TcpListener};
use std::process::Stdio;
use std::sync::Arc;

use http::StatusCode;
use session_store_sqlx::DEFAULT_TABLE;
use session_tests::counter_body;
use session_tests::process::{self, DemoProcess, client, demo_command};
use session_tests::sql::{Database, Sql};

/// The full name of [`demo_server_process`] in this test binary: the child processes run it alone
/// (`--exact`), so this must follow the test wherever it moves. A stale name runs nothing, and the
/// tests here fail at once (the demo process ends before listening).
const ENTRY: &str = "sql_store_processes::demo_server_process";

/// A demo server process (run only by the tests below).
#[test]
#[ignore = "a demo server process for the tests in this file, not a test by itself"]
fn demo_server_process() {
    process::serve_demo_if_child();
}

/// A demo process on `framework` over `db`.
fn start(framework: &str, db: &Database) -> DemoProcess {
    let mut words = vec!["--framework".to_owned(), framework.to_owned()];
    words.extend(db.demo_words());
    DemoProcess::start(ENTRY, &words.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The scenario, on a database of `sql`.
async fn two_server_processes(sql: Sql) {
    const PER_SERVER: usize = 50;
    let db = Database::start(sql);
    let servers = Arc::new([start("axum", &db), start("actix", &db)]);
    let client = client();

    // The counter, each visit on the other process: each continues the other's session.
    let id = servers[0].get(&client, "/", None).await.expect_new_id();
    for n in 1..6 {
        let reply = servers[n % 2].get(&client, "/", Some(&id)).await;
        assert_eq!(reply.body, counter_body(n as u64), "visit {n}");
        assert!(reply.new_id().is_none_or(|sent| sent == id), "visit {n}");
    }

    // Both processes at once, each request setting its own key of the one session.
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..2 * PER_SERVER {
        let (servers, client, id) = (servers.clone(), client.clone(), id.clone());
        tasks.spawn(async move {
            let path = format!("/set/k{n}/v{n}");
            (n, servers[n % 2].get(&client, &path, Some(&id)).await)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (n, reply) = joined.expect("task");
        assert_eq!(reply.status, StatusCode::OK, "/set/k{n}: {}", reply.body);
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
    let counter = servers[1].get(&client, "/get/counter", Some(&id)).await;
    assert_eq!(
        counter.body, "6",
        "the counter written before them was lost"
    );
    // In the tables: the one session, a row per value.
    let rows = db.rows(DEFAULT_TABLE).await;
    rows.assert_sessions(&[&id]);
    assert_eq!(rows.values_of(&id).len(), 2 * PER_SERVER + 1, "{rows:#?}");

    // A logout in one process is final in the other, for every key and for a write.
    servers[1]
        .get(&client, "/logout", Some(&id))
        .await
        .assert_ok();
    for path in ["/get/k0", "/get/counter"] {
        let gone = servers[0].get(&client, path, Some(&id)).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND, "{path}");
    }
    let fresh = servers[0].get(&client, "/set/k0/again", Some(&id)).await;
    let fresh = fresh.expect_new_id();
    assert_ne!(fresh, id, "the logged-out id was adopted");
    assert_eq!(
        servers[1].get(&client, "/get/k1", Some(&id)).await.status,
        StatusCode::NOT_FOUND
    );
    let rows = db.rows(DEFAULT_TABLE).await;
    rows.assert_sessions(&[&fresh]);
    rows.assert_id_absent(&id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_on_one_postgres_database() {
    if process::is_child() {
        return;
    }
    two_server_processes(Sql::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_on_one_sqlite_file() {
    if process::is_child() {
        return;
    }
    two_server_processes(Sql::Sqlite).await;
}

/// Runs a demo with `words` (`--addr 127.0.0.1:0` added) to its end: its exit code, and what it
/// printed on stdout and stderr.
fn run_demo(words: &[&str]) -> (Option<i32>, String, String) {
    let mut words = words.to_vec();
    words.extend(["--addr", "127.0.0.1:0"]);
    let output = demo_command(ENTRY, &words)
        .stdin(Stdio::null())
        .output()
        .expect("run a demo process");
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (
        output.status.code(),
        text(output.stdout),
        text(output.stderr),
    )
}

#[test]
fn a_demo_whose_postgres_is_down_exits_with_a_failure_and_says_why() {
    if process::is_child() {
        return;
    }
    // A port nothing listens on: PostgreSQL is down. The store time-out bounds the pool's wait
    // for a first connection.
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let words = [
        "--store",
        "postgres",
        "--database-url",
        &url,
        "--store-timeout-ms",
        "500",
    ];
    let (code, stdout, stderr) = run_demo(&words);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stdout.contains("listening on"), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "demo: --store postgres: cannot use PostgreSQL at {url}: "
        )),
        "{stderr}"
    );
    // The cause itself, not the pool's time-out.
    assert!(stderr.contains("Connection refused"), "{stderr}");
}

#[test]
fn a_demo_whose_sqlite_file_cannot_be_made_exits_with_a_failure_and_says_why() {
    if process::is_child() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("missing").join("sessions.db");
    let path = path.to_str().expect("a UTF-8 path");
    let (code, stdout, stderr) = run_demo(&["--store", "sqlite", "--database", path]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stdout.contains("listening on"), "{stdout}");
    assert!(
        stderr.contains(&format!("demo: --store sqlite: cannot use {path}: ")),
        "{stderr}"
    );
    assert!(
        !dir.path().join("missing").exists(),
        "the demo made the directory"
    );
}
