//! For tests only (feature `testing`): [`PostgresServer`], a throwaway PostgreSQL server.
//!
//! Not for production: the server listens on a free port of 127.0.0.1 only, trusts every local
//! connection (no passwords), keeps its files in a temporary directory, and is shut down and
//! deleted when the value is dropped. A test process killed before that (SIGKILL) leaves the
//! server running: `pg_ctl -D /tmp/session-postgres-*/data stop` ends it.
//!
//! ```no_run
//! use session_store_sqlx::testing::PostgresServer;
//!
//! let server = PostgresServer::start(); // panics with install advice if PostgreSQL is missing
//! println!("connect to {}", server.url());
//! let other = server.create_database("other");
//! assert_eq!(other, server.url_for("other"));
//! ```

use std::ffi::OsStr;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The environment variable naming the directory that holds `initdb`, `pg_ctl` and `createdb`
/// (default: the highest version in `/usr/lib/postgresql/<version>/bin`, Debian's layout, else
/// the directory of `initdb` on `PATH`).
pub const POSTGRES_BIN_ENV: &str = "SESSION_POSTGRES_BIN";

/// Where Debian and Ubuntu install each major version's binaries: `<this>/<version>/bin`.
const DEBIAN_VERSIONS: &str = "/usr/lib/postgresql";
/// How long `pg_ctl` waits for the server to start or stop, in seconds.
const PG_CTL_WAIT_SECS: &str = "30";
/// How long a started server may take to accept its first TCP connection.
const CONNECT_WITHIN: Duration = Duration::from_secs(10);
/// How many free ports are tried when one is taken between picking it and binding it.
const PORT_ATTEMPTS: usize = 5;
/// The user the server runs as when the tests run as root (PostgreSQL refuses to run as root).
const SERVER_USER: &str = "postgres";

/// A PostgreSQL server of its own, on a free port of 127.0.0.1, shut down and deleted on drop.
///
/// A fresh cluster (`initdb --locale=C -E UTF8 -A trust`) with one superuser, `postgres`, and
/// no password; started by `pg_ctl` with `max_connections=200` and its Unix socket in
/// [`dir`](Self::dir). `fsync` stays on. When the tests run as root, the server runs as the
/// `postgres` user (which Debian's and Fedora's packages create).
///
/// [`stop`](Self::stop) and [`start_again`](Self::start_again) take `&self`, so that a test can
/// stop the server under a store that shares it.
#[derive(Debug)]
pub struct PostgresServer {
    bin: PathBuf,
    owner: Option<Owner>,
    port: u16,
    running: Mutex<bool>,
    dir: tempfile::TempDir,
}

/// The user and group the server's files and processes belong to, when not the caller's.
#[derive(Debug, Clone, Copy)]
struct Owner {
    uid: u32,
    gid: u32,
}

impl PostgresServer {
    /// Creates a cluster, starts the server and waits until it accepts connections.
    ///
    /// Takes about half a second on a 2-core machine, most of it `initdb`.
    ///
    /// # Panics
    ///
    /// If PostgreSQL is not installed (the message says how to install it), if this runs as root
    /// and there is no `postgres` user, or if the server does not come up.
    pub fn start() -> PostgresServer {
        let bin = bin_dir();
        let owner = server_owner();
        let dir = tempfile::Builder::new()
            .prefix("session-postgres-")
            .tempdir()
            .unwrap_or_else(|error| panic!("PostgresServer: cannot create a temp dir: {error}"));
        if let Some(owner) = owner {
            std::os::unix::fs::chown(dir.path(), Some(owner.uid), Some(owner.gid)).unwrap_or_else(
                |error| {
                    panic!("PostgresServer: cannot give the temp dir to {SERVER_USER}: {error}")
                },
            );
        }
        let mut server = PostgresServer {
            bin,
            owner,
            port: 0,
            running: Mutex::new(false),
            dir,
        };
        server.initdb();
        let mut last = String::new();
        for _ in 0..PORT_ATTEMPTS {
            server.port = free_port();
            let started = server.pg_ctl_start(&mut server.lock());
            match started {
                Ok(()) => return server,
                Err(why) => last = why,
            }
        }
        panic!("PostgresServer: the server did not start: {last}");
    }

    /// The URL of the `postgres` database, `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// The URL of another database of this server, e.g. one made by
    /// [`create_database`](Self::create_database).
    ///
    /// # Panics
    ///
    /// If `database` is not a name `create_database` accepts.
    pub fn url_for(&self, database: &str) -> String {
        check_name(database);
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The port the server listens on (the same after [`start_again`](Self::start_again)).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's directory: its Unix socket, its cluster (`data/`) and its log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Creates a database (`createdb`) and returns its URL.
    ///
    /// # Panics
    ///
    /// If `name` is not lowercase ASCII letters, digits and `_`, starting with a letter or `_`,
    /// at most 63 bytes; if the database exists; if the server is not running.
    pub fn create_database(&self, name: &str) -> String {
        check_name(name);
        let output = self
            .command("createdb")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-w", "--maintenance-db=postgres", name])
            .output();
        if let Err(why) = succeeded(output) {
            panic!("PostgresServer: createdb {name} failed: {why}");
        }
        self.url_for(name)
    }

    /// Shuts the server down at once (`pg_ctl stop -m immediate`: open connections fail, no
    /// checkpoint, like a crash of the server) and waits until it has exited.
    ///
    /// Does nothing if it is not running. Data committed before stays (`fsync` is on); the next
    /// [`start_again`](Self::start_again) recovers it.
    ///
    /// # Panics
    ///
    /// If `pg_ctl` cannot stop a server that still runs.
    pub fn stop(&self) {
        let mut running = self.lock();
        if let Err(why) = self.pg_ctl_stop(&mut running) {
            panic!("PostgresServer: the server did not stop: {why}");
        }
    }

    /// Starts the server again after [`stop`](Self::stop), on the same port with the same data,
    /// and waits until it accepts connections.
    ///
    /// Does nothing if it is running.
    ///
    /// # Panics
    ///
    /// If the server does not come back (for instance, another process took the port).
    pub fn start_again(&self) {
        let mut running = self.lock();
        if *running {
            return;
        }
        if let Err(why) = self.pg_ctl_start(&mut running) {
            panic!("PostgresServer: the server did not start again: {why}");
        }
    }

    fn lock(&self) -> MutexGuard<'_, bool> {
        // A panic while the lock was held leaves the flag as true as it was: keep using it.
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// `initdb`: a cluster in `data/`, quiet unless it fails.
    fn initdb(&self) {
        let output = self
            .command("initdb")
            .arg("-D")
            .arg(self.data_dir())
            .args("--locale=C -E UTF8 -U postgres -A trust -N".split(' '))
            .output();
        if let Err(why) = succeeded(output) {
            panic!("PostgresServer: initdb failed: {why}");
        }
    }

    /// `pg_ctl start` on `self.port`, then a TCP connection; `running` is set once the server
    /// runs, so that a failure after that still stops it (here or on drop).
    fn pg_ctl_start(&self, running: &mut bool) -> Result<(), String> {
        let socket_dir = self.dir.path().to_str().filter(|dir| is_plain(dir)).unwrap_or_else(|| {
            panic!(
                "PostgresServer: the temp dir {} has characters that pg_ctl's command line does \
                 not carry; point TMPDIR at a plain path such as /tmp",
                self.dir.path().display()
            )
        });
        let options = format!(
            "-p {} -h 127.0.0.1 -k {socket_dir} -c max_connections=200",
            self.port
        );
        let output = self
            .pg_ctl()
            .arg("-l")
            .arg(self.log_path())
            .args(["-w", "-t", PG_CTL_WAIT_SECS, "-o", &options, "start"])
            .output();
        if let Err(why) = succeeded(output) {
            // pg_ctl gives up after its wait, but a slow server may come up after that.
            if self.still_runs() {
                *running = true;
                // Best effort: the failure to report is pg_ctl's.
                let _ = self.pg_ctl_stop(running);
            }
            return Err(format!("{why}\nits log:\n{}", self.log()));
        }
        *running = true;
        let deadline = Instant::now() + CONNECT_WITHIN;
        while !accepts(self.port) {
            if Instant::now() > deadline {
                let why = format!(
                    "pg_ctl started it, but port {} accepted no connection within \
                     {CONNECT_WITHIN:?}; its log:\n{}",
                    self.port,
                    self.log()
                );
                // Best effort: the failure to report is the one above.
                let _ = self.pg_ctl_stop(running);
                return Err(why);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// `pg_ctl stop -m immediate`, if `running`; a server that is already gone is not an error.
    fn pg_ctl_stop(&self, running: &mut bool) -> Result<(), String> {
        if !*running {
            return Ok(());
        }
        let output = self
            .pg_ctl()
            .args(["-m", "immediate", "-w", "-t", PG_CTL_WAIT_SECS, "stop"])
            .output();
        match succeeded(output) {
            Err(why) if self.still_runs() => Err(why),
            _ => {
                *running = false;
                Ok(())
            }
        }
    }

    /// Whether `pg_ctl status` finds a server on the cluster (exit code 3 means none).
    fn still_runs(&self) -> bool {
        let status = self
            .pg_ctl()
            .arg("status")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        !matches!(status.map(|status| status.code()), Ok(Some(3)))
    }

    /// `pg_ctl -D <data dir>`, as [`command`](Self::command).
    fn pg_ctl(&self) -> Command {
        let mut command = self.command("pg_ctl");
        command.arg("-D").arg(self.data_dir());
        command
    }

    /// A command running `program` from the bin dir, in the server's directory, as its owner.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        command.current_dir(self.dir.path()).stdin(Stdio::null());
        if let Some(owner) = self.owner {
            command.uid(owner.uid).gid(owner.gid);
        }
        command
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let mut running = self.lock();
        // Nothing to do about a failure here; the temp dir goes in any case.
        let _ = self.pg_ctl_stop(&mut running);
    }
}

/// The directory holding `initdb` and `pg_ctl`: `SESSION_POSTGRES_BIN`, else Debian's
/// highest version, else `PATH`.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(POSTGRES_BIN_ENV) {
        let dir = PathBuf::from(dir);
        if !is_executable(&dir.join("initdb")) || !is_executable(&dir.join("pg_ctl")) {
            panic!(
                "PostgresServer: {POSTGRES_BIN_ENV}={} lacks initdb or pg_ctl; name the \
                 directory of PostgreSQL's server binaries (Debian: \
                 {DEBIAN_VERSIONS}/<version>/bin)",
                dir.display()
            );
        }
        return dir;
    }
    debian_bin_dir()
        .or_else(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path).find(|dir| is_executable(&dir.join("initdb")))
        })
        .unwrap_or_else(|| {
            panic!(
                "PostgresServer: PostgreSQL's initdb was not found (in \
                 {DEBIAN_VERSIONS}/<version>/bin or on PATH). The PostgreSQL tests start their \
                 own server: install it (Debian/Ubuntu: `apt-get install postgresql`; Fedora: \
                 `dnf install postgresql-server`; macOS: `brew install postgresql@17`, then \
                 {POSTGRES_BIN_ENV}=$(brew --prefix postgresql@17)/bin; in this workspace \
                 `tests/run` does it for you) or name the directory holding initdb and pg_ctl in \
                 {POSTGRES_BIN_ENV}."
            )
        })
}

/// `/usr/lib/postgresql/<version>/bin` for the highest version that has an `initdb`.
fn debian_bin_dir() -> Option<PathBuf> {
    std::fs::read_dir(DEBIAN_VERSIONS)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = version_of(&entry.file_name())?;
            let bin = entry.path().join("bin");
            is_executable(&bin.join("initdb")).then_some((version, bin))
        })
        .max()
        .map(|(_, bin)| bin)
}

/// A directory name such as `15` or `9.6` as numbers to compare; `None` if it is not one.
fn version_of(name: &OsStr) -> Option<Vec<u32>> {
    name.to_str()?
        .split('.')
        .map(|part| part.parse().ok())
        .collect()
}

/// Whether `path` is a file that someone may execute.
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// `None` if the server can run as the caller; the `postgres` user if the caller is root.
fn server_owner() -> Option<Owner> {
    if id(&["-u"]) != Some(0) {
        return None;
    }
    match (id(&["-u", SERVER_USER]), id(&["-g", SERVER_USER])) {
        (Some(uid), Some(gid)) => Some(Owner { uid, gid }),
        _ => panic!(
            "PostgresServer: the tests run as root, which PostgreSQL refuses, and there is no \
             `{SERVER_USER}` user to run the server as. Run the tests as another user, or create \
             one (`useradd --system {SERVER_USER}`; PostgreSQL's packages do it)."
        ),
    }
}

/// What `id ARGS` prints, as a number (`None` if it fails, e.g. for an unknown user).
fn id(args: &[&str]) -> Option<u32> {
    let output = Command::new("id")
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok()?.trim().parse().ok()
}

/// `Ok` if the command ran and exited with 0; else what went wrong, with its output.
fn succeeded(output: std::io::Result<Output>) -> Result<(), String> {
    let output = output.map_err(|error| format!("cannot run it: {error}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// Panics unless `name` is a database name written as is in SQL and URLs: `[a-z_][a-z0-9_]*`,
/// at most 63 bytes (PostgreSQL's limit).
fn check_name(name: &str) {
    let mut bytes = name.bytes();
    let first = bytes.next();
    let plain = matches!(first, Some(b'a'..=b'z' | b'_'))
        && bytes.all(|byte| matches!(byte, b'a'..=b'z' | b'0'..=b'9' | b'_'))
        && name.len() <= 63;
    assert!(
        plain,
        "PostgresServer: {name:?} is not a database name of [a-z_][a-z0-9_]*, at most 63 bytes"
    );
}

/// Whether `path` can go into `pg_ctl -o` unquoted (pg_ctl hands that string to a shell).
fn is_plain(path: &str) -> bool {
    path.bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b'.' | b'_' | b'-'))
}

/// A port of 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|error| panic!("PostgresServer: no free loopback port: {error}"))
}

/// Whether something accepts TCP connections on `port` of 127.0.0.1.
fn accepts(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}
