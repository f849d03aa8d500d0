//! Two demo server processes on one session directory (one on axum, one on actix-web): they share
//! sessions, concurrent requests writing different keys through both lose nothing, and a server
//! killed with SIGKILL and started again finds every session.
//!
//! The server processes are this test binary started again, running the demo exactly as its
//! binary does (`Args::parse` on the command line, then `demo::bind`): no extra build step, so it
//! works on a clean clone under `cargo test --workspace`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use http::StatusCode;
use session_examples::demo::{self, Args};
use session_state_cookie::DEFAULT_COOKIE_NAME;
use session_tests::Reply;

/// The demo's command line for a child process, words separated by `\u{1f}`.
const DEMO_ARGS: &str = "SESSION_TESTS_DEMO_ARGS";

/// A demo server process (run only by the tests below): the demo binary's `main`, minus logging.
#[test]
#[ignore = "a demo server process for the tests in this file, not a test by itself"]
fn demo_server_process() {
    let Ok(words) = std::env::var(DEMO_ARGS) else {
        return;
    };
    let args = Args::parse(words.split('\u{1f}').map(str::to_owned)).expect("valid options");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let (addr, serving) = demo::bind(&args).await.expect("bind");
        println!("listening on http://{addr}");
        serving.await.expect("serve");
    });
}

/// A running demo process, killed when dropped.
struct DemoProcess {
    child: Child,
    addr: SocketAddr,
}

impl DemoProcess {
    fn start(framework: &str, dir: &std::path::Path) -> Self {
        let words = [
            "--framework",
            framework,
            "--store",
            "file",
            "--dir",
            dir.to_str().expect("utf-8 path"),
            "--addr",
            "127.0.0.1:0",
        ];
        let mut child = Command::new(std::env::current_exe().expect("the test binary"))
            .args(["demo_server_process", "--exact", "--ignored", "--nocapture"])
            .env(DEMO_ARGS, words.join("\u{1f}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start a demo process");
        let mut output = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        let addr = loop {
            line.clear();
            if output.read_line(&mut line).expect("read") == 0 {
                panic!("the demo process ended before listening");
            }
            if let Some(at) = line.find("listening on http://") {
                break line[at + 20..].trim().parse().expect("an address");
            }
        };
        // Keep draining its output so that it never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut output, &mut std::io::sink()));
        DemoProcess { child, addr }
    }

    async fn get(&self, client: &reqwest::Client, path: &str, id: Option<&str>) -> Reply {
        let mut request = client.get(format!("http://{}{path}", self.addr));
        if let Some(id) = id {
            request = request.header("cookie", format!("{DEFAULT_COOKIE_NAME}={id}"));
        }
        let response = request.send().await.expect("the demo answers");
        Reply::read(response, Some(DEFAULT_COOKIE_NAME)).await
    }
}

impl Drop for DemoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_share_sessions_and_lose_no_write() {
    if std::env::var_os(DEMO_ARGS).is_some() {
        return;
    }
    const PER_SERVER: usize = 40;
    let dir = tempfile::tempdir().expect("tempdir");
    let servers = [
        DemoProcess::start("axum", dir.path()),
        DemoProcess::start("actix", dir.path()),
    ];
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
    if std::env::var_os(DEMO_ARGS).is_some() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let client = client();
    let server = DemoProcess::start("axum", dir.path());
    let ids: Vec<String> = create_sessions(&server, &client).await;
    drop(server); // SIGKILL
    let server = DemoProcess::start("actix", dir.path());
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
