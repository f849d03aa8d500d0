//! [`Sampler`]: the server's resident size, read from `/proc/PID/status` on a thread of its own.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::SAMPLE_EVERY;

/// The server's memory, sampled from `/proc/PID/status` every [`SAMPLE_EVERY`] until stopped.
pub(super) struct Sampler {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Samples>>,
}

/// (seconds since the start, VmRSS MiB, VmHWM MiB).
pub(super) struct Samples(Vec<(f64, f64, f64)>);

impl Sampler {
    pub(super) fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut samples = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                if let Some((rss, hwm)) = status(pid) {
                    samples.push((started.elapsed().as_secs_f64(), rss, hwm));
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
            Samples(samples)
        });
        Sampler {
            stop,
            thread: Some(thread),
        }
    }

    pub(super) fn stop(mut self) -> Samples {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.take().expect("a running sampler");
        thread.join().expect("the sampler")
    }
}

impl Drop for Sampler {
    /// Stops the thread when a run fails before [`Sampler::stop`].
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Samples {
    /// The median resident size of the samples in the second before `at` (seconds).
    pub(super) fn rss_near(&self, at: f64) -> f64 {
        let mut near: Vec<f64> = self
            .0
            .iter()
            .filter(|(t, _, _)| *t <= at && *t >= at - 1.0)
            .map(|(_, rss, _)| *rss)
            .collect();
        assert!(!near.is_empty(), "no memory sample near {at:.1} s");
        near.sort_by(f64::total_cmp);
        near[near.len() / 2]
    }

    /// The peak resident size up to `at` (seconds).
    pub(super) fn hwm_until(&self, at: f64) -> f64 {
        self.0
            .iter()
            .filter(|(t, _, _)| *t <= at)
            .map(|(_, _, hwm)| *hwm)
            .fold(0.0, f64::max)
    }

    /// Every second's sample, for a failure message.
    pub(super) fn show(&self) -> String {
        let mut text = String::new();
        let mut next = 0.0;
        for (t, rss, _) in &self.0 {
            if *t >= next {
                let _ = write!(text, "{t:.0}:{rss:.1} ");
                next = t.floor() + 1.0;
            }
        }
        text
    }
}

/// `VmRSS` and `VmHWM` of `pid` in MiB, if the process is there.
fn status(pid: u32) -> Option<(f64, f64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = text.lines().find(|line| line.starts_with(name))?;
        let kib: f64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
