//! The chromedriver and Chromium binaries, and a chromedriver process of a test's own.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process_group};

/// How long chromedriver may take to say which port it listens on.
const START_LIMIT: Duration = Duration::from_secs(20);

/// The chromedriver binary: `SESSION_CHROMEDRIVER` (a path, or a name looked up on `PATH`),
/// else `chromedriver` on `PATH`.
fn chromedriver_binary() -> PathBuf {
    binary("SESSION_CHROMEDRIVER", &["chromedriver"])
}

/// The Chromium binary: `SESSION_CHROMIUM` (a path, or a name looked up on `PATH`), else
/// `chromium` (Debian) or `chromium-browser` on `PATH`.
pub(super) fn chromium_binary() -> PathBuf {
    binary("SESSION_CHROMIUM", &["chromium", "chromium-browser"])
}

/// The executable `variable` names, else the first of `names` found on `PATH`; a panic that
/// says what to install when there is none.
fn binary(variable: &str, names: &[&str]) -> PathBuf {
    if let Some(value) = std::env::var_os(variable) {
        let value = PathBuf::from(value);
        let found = if value.components().count() > 1 {
            Some(value.clone()).filter(|path| is_executable(path))
        } else {
            on_path(&value)
        };
        return found
            .unwrap_or_else(|| panic!("{variable}={} is not an executable", value.display()));
    }
    names
        .iter()
        .find_map(|name| on_path(Path::new(name)))
        .unwrap_or_else(|| {
            panic!(
                "the browser tests need {} (not found on PATH). Install Debian's `chromium` and \
                 `chromium-driver` packages (tests/run does, as root), or name the binary in \
                 {variable}",
                names[0]
            )
        })
}

/// `name` in the first directory of `PATH` that holds it as an executable.
fn on_path(name: &Path) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// A chromedriver process on a loopback port it picked itself (`--port=0`), logging to a file,
/// in a process group of its own with the browsers it starts: the whole group is killed when
/// this is dropped.
#[derive(Debug)]
pub(super) struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    /// Starts chromedriver, logging to `log`, and waits until it says which port it listens on.
    pub(super) fn start(log: &Path) -> Self {
        let binary = chromedriver_binary();
        let mut child = Command::new(&binary)
            .arg("--port=0")
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let stdout = child.stdout.take().expect("piped");
        // Its first lines, read on a thread so that a driver that never says it started fails
        // the test after START_LIMIT instead of hanging it.
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = started_on(&line) {
                    let _ = sender.send(port);
                }
            }
        });
        let mut driver = Chromedriver {
            child,
            url: String::new(),
        };
        match receiver.recv_timeout(START_LIMIT) {
            Ok(port) => driver.url = format!("http://127.0.0.1:{port}"),
            Err(_) => panic!(
                "{} did not say it was listening within {START_LIMIT:?} (its log: {})",
                binary.display(),
                log.display()
            ),
        }
        driver
    }

    /// The driver's address, `http://127.0.0.1:PORT`.
    pub(super) fn url(&self) -> &str {
        &self.url
    }
}

/// The port of chromedriver's `ChromeDriver was started successfully on port N.` line.
fn started_on(line: &str) -> Option<u16> {
    let rest = line.split("started successfully on port ").nth(1)?;
    rest.trim_end_matches(['.', ' ']).parse().ok()
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The whole group: the driver, and any browser a failed test left running.
        let pid = Pid::from_child(&self.child);
        if let Err(error) = kill_process_group(pid, Signal::KILL) {
            eprintln!("could not kill chromedriver's process group {pid:?}: {error}");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
