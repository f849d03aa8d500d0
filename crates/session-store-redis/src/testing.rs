//! For tests only (feature `testing`): [`RedisServer`], a throwaway `redis-server`,
//! [`RedisCluster`], a throwaway Redis Cluster of six, and [`commandstats`], what a server's
//! commands cost it.
//!
//! Not for production: the servers listen on free ports of 127.0.0.1 only, keep their files in
//! temporary directories, and are killed when the value is dropped.
//!
//! ```no_run
//! use session_store_redis::testing::RedisServer;
//!
//! let server = RedisServer::start(); // panics with install advice if redis-server is missing
//! println!("connect to {}", server.url());
//! ```

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod cluster;

pub use cluster::{MASTERS, NODE_TIMEOUT_MS, REDIS_CLI_ENV, RedisCluster};

/// The environment variable naming the `redis-server` binary (default: `redis-server` on `PATH`).
pub const REDIS_SERVER_ENV: &str = "SESSION_REDIS_SERVER";

/// How long a server may take to answer its first PING.
const START_WITHIN: Duration = Duration::from_secs(20);
/// How many free ports are tried when one is taken between picking it and binding it.
const PORT_ATTEMPTS: usize = 5;

/// A `redis-server` process of its own, on a free port of 127.0.0.1, killed on drop.
///
/// Started with no snapshots and no append-only file (`--save "" --appendonly no`), a private
/// working directory, logs in that directory (quiet on the terminal), and `DEBUG` allowed from
/// loopback (for tests of a slow server: `DEBUG SLEEP`). Extra arguments
/// ([`start_with`](Self::start_with)) come last and override these, e.g.
/// `["--appendonly", "yes", "--appendfsync", "always"]` for data that survives
/// [`restart`](Self::restart).
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    dir: tempfile::TempDir,
    extra: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server and waits until it answers PING.
    ///
    /// # Panics
    ///
    /// If `redis-server` is not installed (the message says how to install it), or the server
    /// does not come up.
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[])
    }

    /// Starts a server with extra `redis-server` arguments, which override the defaults.
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start).
    pub fn start_with(extra: &[&str]) -> RedisServer {
        let dir = tempfile::Builder::new()
            .prefix("session-redis-")
            .tempdir()
            .unwrap_or_else(|error| panic!("RedisServer: cannot create a temp dir: {error}"));
        let mut server = RedisServer {
            port: 0,
            dir,
            extra: extra.iter().map(|arg| (*arg).to_owned()).collect(),
            child: None,
        };
        let mut last = String::new();
        for _ in 0..PORT_ATTEMPTS {
            server.port = free_port();
            match server.spawn() {
                Ok(()) => return server,
                Err(why) => last = why,
            }
        }
        panic!("RedisServer: redis-server did not start: {last}");
    }

    /// The URL to connect to, `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port the server listens on (the same across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's working directory (its log, and its data files if persistence was asked for).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Kills the server at once (SIGKILL: a crash, no shutdown save) and waits for it to exit.
    ///
    /// Does nothing if it is not running.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // An error means the process has already exited: nothing left to kill.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the server process is running.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the server if it runs, then starts it again on the same port and directory.
    ///
    /// Waits until it answers PING (after loading any data it persisted).
    ///
    /// # Panics
    ///
    /// If the server does not come back (for instance, another process took the port).
    pub fn restart(&mut self) {
        self.stop();
        if let Err(why) = self.spawn() {
            panic!("RedisServer: redis-server did not restart: {why}");
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    /// Spawns the process on `self.port` and waits for its first PONG.
    fn spawn(&mut self) -> Result<(), String> {
        let log = self.log_path();
        let args = ["--loglevel", "warning"].map(std::ffi::OsString::from);
        let child = spawn_redis_server(
            "RedisServer",
            self.port,
            self.dir.path(),
            &log,
            &args,
            &self.extra,
        )
        .unwrap_or_else(|error| panic!("{error}"));
        self.child = Some(child);
        let deadline = Instant::now() + START_WITHIN;
        loop {
            if ping(self.port) {
                return Ok(());
            }
            if !self.is_running() {
                self.stop();
                return Err(format!("it exited; its log:\n{}", self.log()));
            }
            if Instant::now() > deadline {
                self.stop();
                return Err(format!(
                    "no PONG within {START_WITHIN:?}; its log:\n{}",
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port of 127.0.0.1 that was free a moment ago.
/// Starts `redis-server` (or the binary named in [`REDIS_SERVER_ENV`]) on loopback `port`, with
/// no persistence, its files in `dir`, its log in `log`, then `args` and `extra`; `who` names the
/// caller in the message when the binary is missing (a panic: no Redis test can run).
pub(crate) fn spawn_redis_server(
    who: &str,
    port: u16,
    dir: &Path,
    log: &Path,
    args: &[std::ffi::OsString],
    extra: &[String],
) -> Result<Child, String> {
    let binary = std::env::var_os(REDIS_SERVER_ENV).unwrap_or_else(|| "redis-server".into());
    let port = port.to_string();
    let mut command = Command::new(&binary);
    command
        .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
        .args(["--appendonly", "no", "--daemonize", "no"])
        .args(["--enable-debug-command", "local"])
        .args(args)
        .arg("--dir")
        .arg(dir)
        .arg("--logfile")
        .arg(log)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match command.spawn() {
        Ok(child) => Ok(child),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
            "{who}: `{}` was not found. The Redis tests start their own redis-server: install it \
             (Debian/Ubuntu: `apt-get install redis-server`; macOS: `brew install redis`; in this \
             workspace `tests/run` does it for you) or name the binary in {REDIS_SERVER_ENV}.",
            binary.to_string_lossy()
        ),
        Err(error) => Err(format!("{who}: cannot run redis-server: {error}")),
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|error| panic!("RedisServer: no free loopback port: {error}"))
}

/// Whether a server on `port` answers PING with PONG (not with an error such as LOADING).
fn ping(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let timeout = Some(Duration::from_millis(500));
    if stream.set_read_timeout(timeout).is_err() || stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

/// One command's line of `INFO commandstats`: how often Redis ran it and the time it took.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CommandStats {
    /// Calls since the last `CONFIG RESETSTAT`.
    pub calls: u64,
    /// Microseconds they took in all.
    pub usec: u64,
    /// Microseconds a call, as Redis rounds them.
    pub usec_per_call: f64,
}

/// The commands of an `INFO commandstats` reply, by name as Redis writes it (`hset`,
/// `config|resetstat`). A script's line (`evalsha`) includes the commands it called, which have
/// lines of their own too.
///
/// # Panics
///
/// On a command's line without its `calls`, `usec` and `usec_per_call` numbers.
pub fn commandstats(info: &str) -> BTreeMap<String, CommandStats> {
    let mut commands = BTreeMap::new();
    for line in info.lines() {
        let Some((name, fields)) = line
            .strip_prefix("cmdstat_")
            .and_then(|rest| rest.split_once(':'))
        else {
            continue;
        };
        let field = |key: &str| {
            fields
                .split(',')
                .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
                .unwrap_or_else(|| panic!("commandstats: no {key} in {line:?}"))
        };
        let number = |key: &str| {
            field(key)
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("commandstats: {key} is not a count in {line:?}"))
        };
        let stats = CommandStats {
            calls: number("calls"),
            usec: number("usec"),
            usec_per_call: field("usec_per_call")
                .parse()
                .unwrap_or_else(|_| panic!("commandstats: usec_per_call in {line:?}")),
        };
        commands.insert(name.to_owned(), stats);
    }
    commands
}
