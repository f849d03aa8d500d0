//! Where the end-to-end benches run their parts: the servers, Redis, the load driver.
//!
//! `SESSION_BENCH_PIN` chooses (Linux, with util-linux's `taskset`; unset, nothing is pinned):
//!
//! - `shared`: the servers and Redis on CPU 0, the load driver on CPU 1: Redis competes with the
//!   server for its core, as on a small machine running both.
//! - `apart`: the servers on CPU 0, Redis and the load driver on CPU 1: Redis has a core the
//!   server does not use, closer to a deployment with Redis on its own machine.
//!
//! A thread's CPU set is inherited by the threads it starts, so pinning the thread that builds a
//! runtime pins its workers.

use std::sync::OnceLock;

/// The placement asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Nothing pinned.
    Free,
    /// Servers and Redis on CPU 0, the driver on CPU 1.
    Shared,
    /// Servers on CPU 0, Redis and the driver on CPU 1.
    Apart,
}

impl Placement {
    /// From `SESSION_BENCH_PIN` (read once).
    pub fn get() -> Placement {
        static PLACEMENT: OnceLock<Placement> = OnceLock::new();
        *PLACEMENT.get_or_init(|| match std::env::var("SESSION_BENCH_PIN").as_deref() {
            Ok("shared") => Placement::Shared,
            Ok("apart") => Placement::Apart,
            Ok("") | Err(_) => Placement::Free,
            Ok(other) => panic!("SESSION_BENCH_PIN={other}: expected shared or apart"),
        })
    }

    /// The servers' CPU.
    pub fn server_cpu(self) -> Option<usize> {
        (self != Placement::Free).then_some(0)
    }

    /// Redis's CPU.
    pub fn redis_cpu(self) -> Option<usize> {
        match self {
            Placement::Free => None,
            Placement::Shared => Some(0),
            Placement::Apart => Some(1),
        }
    }

    /// The load driver's CPU.
    pub fn driver_cpu(self) -> Option<usize> {
        (self != Placement::Free).then_some(1)
    }

    /// A name for the bench's output.
    pub fn describe(self) -> &'static str {
        match self {
            Placement::Free => "nothing pinned",
            Placement::Shared => "server and Redis on CPU 0, load driver on CPU 1",
            Placement::Apart => "server on CPU 0, Redis and load driver on CPU 1",
        }
    }
}

/// Pins the calling thread (and the threads it starts from now on) to `cpu`, if given.
pub fn pin_thread(cpu: Option<usize>) {
    let Some(cpu) = cpu else { return };
    // `/proc/thread-self` links to `<pid>/task/<tid>`.
    let link = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self (Linux)");
    let tid = link
        .file_name()
        .expect("a thread id")
        .to_string_lossy()
        .into_owned();
    taskset(&["-pc", &cpu.to_string(), &tid]);
}

/// Pins every thread of the process `pid` to `cpu`, if given.
pub fn pin_process(pid: u32, cpu: Option<usize>) {
    if let Some(cpu) = cpu {
        taskset(&["-apc", &cpu.to_string(), &pid.to_string()]);
    }
}

/// Runs util-linux's `taskset` (the workspace forbids the `unsafe` a direct
/// `sched_setaffinity` would take).
fn taskset(args: &[&str]) {
    let output = std::process::Command::new("taskset")
        .args(args)
        .output()
        .expect("taskset (util-linux) runs");
    assert!(
        output.status.success(),
        "taskset {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
