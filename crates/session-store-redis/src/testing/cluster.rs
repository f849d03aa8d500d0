//! [`RedisCluster`]: a throwaway Redis Cluster of six `redis-server` processes on loopback.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, ping, spawn_redis_server};

/// The environment variable naming the `redis-cli` binary (default: `redis-cli` on `PATH`).
pub const REDIS_CLI_ENV: &str = "SESSION_REDIS_CLI";

/// Masters in a [`RedisCluster`]; each has one replica.
pub const MASTERS: usize = 3;
/// The nodes' `cluster-node-timeout`, in milliseconds: how long a master may be unreachable
/// before the others mark it failed and its replica takes over.
pub const NODE_TIMEOUT_MS: u64 = 1_000;

/// How long the whole cluster may take to form (nodes up, slots assigned, replicas in sync).
const FORM_WITHIN: Duration = Duration::from_secs(60);
/// How long one node may take to answer its first PING.
const NODE_START_WITHIN: Duration = Duration::from_secs(20);
/// How many times a cluster start is tried again when a port was taken meanwhile.
const START_ATTEMPTS: usize = 3;

/// One node: its port (the cluster bus listens on port + 10000), its directory and process.
#[derive(Debug)]
struct Node {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// A Redis Cluster of its own on 127.0.0.1: three masters with one replica each, six
/// `redis-server --cluster-enabled yes` processes, killed on drop.
///
/// Each node has a directory of its own (its `nodes.conf` and log) in one temporary directory,
/// a free port whose cluster bus port (port + 10000) is free too, no persistence, and a
/// `cluster-node-timeout` of [`NODE_TIMEOUT_MS`], so that a killed master's replica takes over
/// within a few seconds. The cluster is created with `redis-cli --cluster create ...
/// --cluster-replicas 1`; [`start`](Self::start) returns once every node reports
/// `cluster_state:ok` and every replica is in sync with its master.
///
/// ```no_run
/// use session_store_redis::testing::RedisCluster;
///
/// let cluster = RedisCluster::start(); // panics with install advice without redis-server
/// println!("seed nodes: {:?}", cluster.urls());
/// ```
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<Node>,
    extra: Vec<String>,
    dir: tempfile::TempDir,
}

impl RedisCluster {
    /// Starts six nodes, creates the cluster and waits until it serves every slot.
    ///
    /// # Panics
    ///
    /// If `redis-server` or `redis-cli` is not installed (the message says how to install
    /// them), or the cluster does not form within a minute.
    pub fn start() -> RedisCluster {
        RedisCluster::start_with(&[])
    }

    /// Starts a cluster whose nodes get extra `redis-server` arguments (last, so they override
    /// the defaults), e.g. `["--cluster-require-full-coverage", "no"]`.
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start).
    pub fn start_with(extra: &[&str]) -> RedisCluster {
        let mut last = String::new();
        for _ in 0..START_ATTEMPTS {
            match RedisCluster::try_start(extra) {
                Ok(cluster) => return cluster,
                Err(why) => last = why,
            }
        }
        panic!("RedisCluster: the cluster did not form: {last}");
    }

    fn try_start(extra: &[&str]) -> Result<RedisCluster, String> {
        let dir = tempfile::Builder::new()
            .prefix("session-redis-cluster-")
            .tempdir()
            .map_err(|error| format!("cannot create a temp dir: {error}"))?;
        let ports = cluster_ports(MASTERS * 2)?;
        let mut cluster = RedisCluster {
            nodes: Vec::new(),
            extra: extra.iter().map(|arg| (*arg).to_owned()).collect(),
            dir,
        };
        for port in ports {
            let node_dir = cluster.dir.path().join(port.to_string());
            std::fs::create_dir(&node_dir)
                .map_err(|error| format!("cannot create {}: {error}", node_dir.display()))?;
            cluster.nodes.push(Node {
                port,
                dir: node_dir,
                child: None,
            });
        }
        for index in 0..cluster.nodes.len() {
            cluster.spawn(index)?;
        }
        let deadline = Instant::now() + FORM_WITHIN;
        cluster.create()?;
        cluster.wait_until(
            deadline,
            "every node to report cluster_state:ok and replicas in sync",
            |cluster| cluster.is_formed(),
        )?;
        Ok(cluster)
    }

    /// The nodes' URLs, `redis://127.0.0.1:PORT/`, the running ones first: the seed nodes a
    /// cluster client is given.
    pub fn urls(&self) -> Vec<String> {
        self.ports()
            .into_iter()
            .map(|port| format!("redis://127.0.0.1:{port}/"))
            .collect()
    }

    /// Every node's port, in the order they were started.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|node| node.port).collect()
    }

    /// The ports of the nodes that are masters now, by the first running node's view, each with
    /// the slot ranges it serves (`[start, end]`, inclusive).
    pub fn masters(&self) -> BTreeMap<u16, Vec<[u16; 2]>> {
        let mut masters = BTreeMap::new();
        let Some(port) = self.running_ports().first().copied() else {
            return masters;
        };
        let Ok(text) = query(port, &["CLUSTER", "NODES"]) else {
            return masters;
        };
        for line in text.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            if fields.len() < 8 || !fields[2].contains("master") || fields[2].contains("fail") {
                continue;
            }
            let Some(node_port) = fields[1]
                .split('@')
                .next()
                .and_then(|addr| addr.rsplit(':').next())
                .and_then(|port| port.parse().ok())
            else {
                continue;
            };
            let ranges: Vec<[u16; 2]> = fields[8..]
                .iter()
                .filter_map(|range| {
                    let (start, end) = range.split_once('-').unwrap_or((range, range));
                    Some([start.parse().ok()?, end.parse().ok()?])
                })
                .collect();
            if !ranges.is_empty() {
                masters.insert(node_port, ranges);
            }
        }
        masters
    }

    /// The port of the master serving `slot` now (see [`masters`](Self::masters)).
    pub fn master_of(&self, slot: u16) -> Option<u16> {
        self.masters().into_iter().find_map(|(port, ranges)| {
            ranges
                .iter()
                .any(|[start, end]| (*start..=*end).contains(&slot))
                .then_some(port)
        })
    }

    /// Kills the node on `port` at once (SIGKILL: a crash) and waits for it to exit.
    ///
    /// Does nothing if no running node has that port.
    pub fn kill(&mut self, port: u16) {
        let node = self.nodes.iter_mut().find(|node| node.port == port);
        if let Some(mut child) = node.and_then(|node| node.child.take()) {
            // An error means the process has already exited: nothing left to kill.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the node on `port` again (after [`kill`](Self::kill)), with its `nodes.conf`, so
    /// that it rejoins the cluster (a former master comes back as a replica).
    ///
    /// # Panics
    ///
    /// If there is no such node or it does not answer PING in time.
    pub fn restart(&mut self, port: u16) {
        let index = self
            .nodes
            .iter()
            .position(|node| node.port == port)
            .unwrap_or_else(|| panic!("RedisCluster: no node on port {port}"));
        self.kill(port);
        if let Err(why) = self.spawn(index) {
            panic!("RedisCluster: the node on {port} did not restart: {why}");
        }
    }

    /// Waits until every running node reports `cluster_state:ok` and every slot is served by a
    /// running master; the time it took.
    ///
    /// # Panics
    ///
    /// If that does not happen `within`.
    pub fn wait_until_ok(&self, within: Duration) -> Duration {
        let started = Instant::now();
        let deadline = started + within;
        if let Err(why) = self.wait_until(deadline, "cluster_state:ok", RedisCluster::is_ok) {
            panic!("RedisCluster: {why}");
        }
        started.elapsed()
    }

    /// A node's log so far.
    pub fn log(&self, port: u16) -> String {
        self.nodes
            .iter()
            .find(|node| node.port == port)
            .and_then(|node| std::fs::read_to_string(node.dir.join("redis.log")).ok())
            .unwrap_or_default()
    }

    /// Runs one command on the node at `port` (a blocking connection of its own) and answers
    /// its reply as text (an array's elements one per line).
    ///
    /// # Errors
    ///
    /// The connection's or the server's error, as text.
    pub fn query(&self, port: u16, args: &[&str]) -> Result<String, String> {
        query(port, args)
    }

    fn running_ports(&self) -> Vec<u16> {
        self.nodes
            .iter()
            .filter(|node| node.child.is_some())
            .map(|node| node.port)
            .collect()
    }

    /// Every running node says `cluster_state:ok`, and the masters serve all 16384 slots.
    fn is_ok(&self) -> bool {
        let running = self.running_ports();
        let states_ok = running.iter().all(|port| {
            query(*port, &["CLUSTER", "INFO"]).is_ok_and(|info| {
                info.contains("cluster_state:ok") && info.contains("cluster_slots_ok:16384")
            })
        });
        let served: u32 = self
            .masters()
            .iter()
            .filter(|(port, _)| running.contains(port))
            .flat_map(|(_, ranges)| ranges.iter())
            .map(|[start, end]| u32::from(end - start) + 1)
            .sum();
        states_ok && served == 16_384
    }

    /// [`is_ok`](Self::is_ok), and every replica's link to its master is up.
    fn is_formed(&self) -> bool {
        self.is_ok()
            && self.running_ports().iter().all(|port| {
                query(*port, &["INFO", "replication"]).is_ok_and(|info| {
                    info.contains("role:master") || info.contains("master_link_status:up")
                })
            })
    }

    fn wait_until(
        &self,
        deadline: Instant,
        what: &str,
        done: impl Fn(&RedisCluster) -> bool,
    ) -> Result<(), String> {
        loop {
            if done(self) {
                return Ok(());
            }
            if Instant::now() > deadline {
                let logs: Vec<String> = self
                    .ports()
                    .iter()
                    .map(|port| format!("--- node {port}:\n{}", self.log(*port)))
                    .collect();
                return Err(format!(
                    "timed out waiting for {what}; logs:\n{}",
                    logs.join("\n")
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `redis-cli --cluster create` over the six nodes, three masters with a replica each.
    fn create(&self) -> Result<(), String> {
        let binary = std::env::var_os(REDIS_CLI_ENV).unwrap_or_else(|| "redis-cli".into());
        let mut command = Command::new(&binary);
        command.args(["--cluster", "create"]);
        for port in self.ports() {
            command.arg(format!("127.0.0.1:{port}"));
        }
        command
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdin(Stdio::null());
        let output = match command.output() {
            Ok(output) => output,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
                "RedisCluster: `{}` was not found. The Redis Cluster tests create their cluster \
                 with redis-cli: install it (Debian/Ubuntu: `apt-get install redis-tools`, which \
                 `redis-server` pulls in; macOS: `brew install redis`; in this workspace \
                 `tests/run` does it for you) or name the binary in {REDIS_CLI_ENV}.",
                binary.to_string_lossy()
            ),
            Err(error) => return Err(format!("cannot run redis-cli: {error}")),
        };
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "redis-cli --cluster create failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    /// Spawns node `index` and waits for its first PONG.
    fn spawn(&mut self, index: usize) -> Result<(), String> {
        let node = &self.nodes[index];
        let timeout = NODE_TIMEOUT_MS.to_string();
        let args = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            &timeout,
            // Replicas sync at once, without the 5 s wait for more replicas to share a transfer.
            "--repl-diskless-sync-delay",
            "0",
            "--loglevel",
            "notice",
        ]
        .map(std::ffi::OsString::from);
        let log = node.dir.join("redis.log");
        let child = spawn_redis_server(
            "RedisCluster",
            node.port,
            &node.dir,
            &log,
            &args,
            &self.extra,
        )?;
        let port = node.port;
        self.nodes[index].child = Some(child);
        let deadline = Instant::now() + NODE_START_WITHIN;
        loop {
            if ping(port) {
                return Ok(());
            }
            let exited = match &mut self.nodes[index].child {
                Some(child) => !matches!(child.try_wait(), Ok(None)),
                None => true,
            };
            if exited || Instant::now() > deadline {
                self.kill(port);
                return Err(format!(
                    "the node on {port} did not come up; its log:\n{}",
                    self.log(port)
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for port in self.ports() {
            self.kill(port);
        }
    }
}

/// `count` distinct ports of 127.0.0.1, each free a moment ago along with its cluster bus port
/// (port + 10000).
fn cluster_ports(count: usize) -> Result<Vec<u16>, String> {
    let mut ports = Vec::with_capacity(count);
    for _ in 0..1_000 {
        if ports.len() == count {
            return Ok(ports);
        }
        let port = free_port();
        let Some(bus) = port.checked_add(10_000) else {
            continue;
        };
        if ports.contains(&port) || ports.contains(&bus) || ports.iter().any(|p| p + 10_000 == port)
        {
            continue;
        }
        if TcpListener::bind((Ipv4Addr::LOCALHOST, bus)).is_ok() {
            ports.push(port);
        }
    }
    Err(format!(
        "no {count} free loopback ports with free bus ports"
    ))
}

/// One command on a blocking connection of its own to the node at `port`, its reply as text.
fn query(port: u16, args: &[&str]) -> Result<String, String> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .map_err(|error| error.to_string())?;
    let mut connection = client
        .get_connection_with_timeout(Duration::from_millis(500))
        .map_err(|error| error.to_string())?;
    connection
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|error| error.to_string())?;
    let mut command = redis::cmd(args[0]);
    for arg in &args[1..] {
        command.arg(*arg);
    }
    let reply: redis::Value = command
        .query(&mut connection)
        .map_err(|error| error.to_string())?;
    Ok(text_of(reply))
}

/// A reply as text: strings as they are, numbers in decimal, arrays one element per line.
fn text_of(reply: redis::Value) -> String {
    match reply {
        redis::Value::BulkString(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        redis::Value::SimpleString(text) | redis::Value::VerbatimString { text, .. } => text,
        redis::Value::Okay => "OK".to_owned(),
        redis::Value::Int(n) => n.to_string(),
        redis::Value::Double(n) => n.to_string(),
        redis::Value::Array(items) | redis::Value::Set(items) => items
            .into_iter()
            .map(text_of)
            .collect::<Vec<_>>()
            .join("\n"),
        redis::Value::Map(pairs) => pairs
            .into_iter()
            .map(|(key, value)| format!("{}\n{}", text_of(key), text_of(value)))
            .collect::<Vec<_>>()
            .join("\n"),
        redis::Value::Nil => String::new(),
        other => format!("{other:?}"),
    }
}
