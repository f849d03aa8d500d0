//! Demo servers in processes of their own: the test binary started again, running the demo
//! exactly as its binary does (`Args::parse` on the command line, then `demo::bind`; an error is
//! printed and the process exits with a failure status). No extra build step, so it works on a
//! clean clone under `cargo test --workspace`.
//!
//! A test module that uses it declares the child's entry point, an ignored test (named
//! `demo_server_process` by convention) that calls [`serve_demo_if_child`], and passes that test's
//! full name in the test binary, module path included (`soak::demo_server_process`), as the
//! `entry` of [`DemoProcess::start`] and [`demo_command`]: the child runs exactly that test
//! (`--exact`). A name that selects no test runs nothing, and the child exits at once (for
//! [`DemoProcess::start`], a panic: the process ended before listening).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use session_examples::demo::{self, Args};
use session_state_cookie::DEFAULT_COOKIE_NAME;

use crate::Reply;

/// The demo's command line for a child process, words separated by `\u{1f}`.
const DEMO_ARGS: &str = "SESSION_TESTS_DEMO_ARGS";

/// Whether this process is a demo child (the tests of the file then do nothing).
pub fn is_child() -> bool {
    std::env::var_os(DEMO_ARGS).is_some()
}

/// The body of a test module's `demo_server_process` entry point: in a child, runs the demo from
/// its command line until killed (printing `listening on http://ADDR` first); elsewhere returns.
pub fn serve_demo_if_child() {
    let Ok(words) = std::env::var(DEMO_ARGS) else {
        return;
    };
    let args = Args::parse(words.split('\u{1f}').map(str::to_owned)).expect("valid options");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        match demo::bind(&args).await {
            Ok((addr, serving)) => {
                println!("listening on http://{addr}");
                serving.await.expect("serve");
            }
            Err(error) => {
                eprintln!("demo: {error}");
                std::process::exit(1);
            }
        }
    });
}

/// The command that runs this test binary as a demo process with the demo options `words`: only
/// the ignored test `entry` (its full name, module path included), which calls
/// [`serve_demo_if_child`].
pub fn demo_command(entry: &str, words: &[&str]) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args([entry, "--exact", "--ignored", "--nocapture"])
        .env(DEMO_ARGS, words.join("\u{1f}"));
    command
}

/// A running demo process, killed when dropped.
#[derive(Debug)]
pub struct DemoProcess {
    child: Child,
    addr: SocketAddr,
}

impl DemoProcess {
    /// Starts a demo process with the options `words` (`--addr 127.0.0.1:0` added), run by the
    /// ignored test `entry` (see [`demo_command`]), and waits until it listens.
    pub fn start(entry: &str, words: &[&str]) -> Self {
        let mut words = words.to_vec();
        words.extend(["--addr", "127.0.0.1:0"]);
        let mut child = demo_command(entry, &words)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start a demo process");
        let mut output = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        let addr = loop {
            line.clear();
            if output.read_line(&mut line).expect("read") == 0 {
                let _ = child.kill();
                let _ = child.wait();
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

    /// The process id of the demo process (to read its `/proc/PID/status`, for instance).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `GET path`, carrying the session cookie `id` if any.
    pub async fn get(&self, client: &reqwest::Client, path: &str, id: Option<&str>) -> Reply {
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

/// An HTTP client that ignores proxy settings (the servers are on loopback).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client")
}
