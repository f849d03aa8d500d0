//! [`Summary`]: what a run measured, and the one line it prints.

use std::sync::atomic::Ordering;

use super::MIB;
use super::client::Stats;
use super::run::Target;
use super::sampler::Samples;

/// What a run measured.
#[derive(Clone, Debug)]
pub struct Summary {
    /// The seconds of load.
    pub secs: f64,
    /// Requests sent during the load and the final check.
    pub requests: u64,
    /// Writes answered 200.
    pub writes: u64,
    /// Logins answered 200.
    pub logins: u64,
    /// Logouts answered 200 (abandoned sessions with `SOAK_ABANDON`).
    pub logouts: u64,
    /// Acknowledged values not read back as the last acknowledged value.
    pub missing: u64,
    /// Values found where none was expected (e.g. after a logout).
    pub phantom: u64,
    /// Unexpected statuses and protocol anomalies (5xx included).
    pub errors: u64,
    /// 5xx answers.
    pub server_errors: u64,
    /// The most requests in flight at once on one shared session.
    pub max_concurrent: usize,
    /// Resident size at half time, MiB.
    pub rss_warm: f64,
    /// Resident size at the end of the load, MiB.
    pub rss_end: f64,
    /// Peak resident size (`VmHWM`) at the end of the load, MiB.
    pub hwm: f64,
    /// Sessions the model holds at the end, and what the probe counted.
    pub live: (usize, Option<usize>),
}

impl Summary {
    /// What `stats` counted and `samples` measured over `secs` seconds of load, with the live
    /// sessions of the model and of the store.
    pub(super) fn new(
        stats: &Stats,
        secs: f64,
        samples: &Samples,
        live: (usize, Option<usize>),
    ) -> Self {
        let rss_warm = samples.rss_near(secs / 2.0);
        let rss_end = samples.rss_near(secs);
        let hwm = samples.hwm_until(secs);
        Summary {
            secs,
            requests: stats.requests.load(Ordering::Relaxed),
            writes: stats.writes.load(Ordering::Relaxed),
            logins: stats.logins.load(Ordering::Relaxed),
            logouts: stats.logouts.load(Ordering::Relaxed),
            missing: stats.missing.load(Ordering::Relaxed),
            phantom: stats.phantom.load(Ordering::Relaxed),
            errors: stats.errors.load(Ordering::Relaxed),
            server_errors: stats.server_errors.load(Ordering::Relaxed),
            max_concurrent: stats.max_concurrent.load(Ordering::Relaxed),
            rss_warm,
            rss_end,
            hwm,
            live,
        }
    }

    /// The summary line of a run of `target` that took `elapsed` seconds in all (the rate is
    /// over those); `dropped` is the bytes of values in the sessions logged out.
    pub(super) fn line(
        &self,
        target: &Target,
        elapsed: f64,
        abandon: bool,
        dropped: u64,
    ) -> String {
        let (live, counted) = self.live;
        format!(
            "soak store={} framework={} secs={:.0} requests={} req/s={:.0} writes_acked={} \
             logins={} logouts={}{} logged_out_data={:.1}MiB missing={} phantom={} errors={} \
             (5xx={}) max_writers_on_one_session={} live_sessions={}{}{} rss_warm={:.1}MiB \
             rss_end={:.1}MiB vm_hwm={:.1}MiB",
            target.store,
            target.framework,
            self.secs,
            self.requests,
            self.requests as f64 / elapsed,
            self.writes,
            self.logins,
            self.logouts,
            if abandon { " (abandoned)" } else { "" },
            dropped as f64 / MIB,
            self.missing,
            self.phantom,
            self.errors,
            self.server_errors,
            self.max_concurrent,
            live,
            target.probe.label(),
            counted.map_or_else(String::new, |n| n.to_string()),
            self.rss_warm,
            self.rss_end,
            self.hwm,
        )
    }
}
