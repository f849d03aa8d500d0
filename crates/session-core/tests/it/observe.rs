//! (Feature `metrics`) the counters and the store latency histogram of a request's session.
//! Its spans are checked in `tests/spans.rs`, a test binary of their own.

#[cfg(feature = "metrics")]
mod metrics_feature {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use metrics::{
        Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
        SharedString, Unit,
    };

    use crate::requests::{block_on, create_write_read_logout};

    /// Keeps what it is given: counter totals and histogram sample counts, by name and labels.
    #[derive(Clone, Default)]
    struct Kept(Arc<Mutex<BTreeMap<String, f64>>>);

    struct Entry(Kept, String);

    impl CounterFn for Entry {
        fn increment(&self, value: u64) {
            *self
                .0
                .0
                .lock()
                .expect("lock")
                .entry(self.1.clone())
                .or_default() += value as f64;
        }
        fn absolute(&self, value: u64) {
            self.0
                .0
                .lock()
                .expect("lock")
                .insert(self.1.clone(), value as f64);
        }
    }

    impl HistogramFn for Entry {
        fn record(&self, value: f64) {
            assert!((0.0..10.0).contains(&value), "{value} s");
            *self
                .0
                .0
                .lock()
                .expect("lock")
                .entry(self.1.clone())
                .or_default() += 1.0;
        }
    }

    fn name(key: &Key) -> String {
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        format!("{}{{{}}}", key.name(), labels.join(","))
    }

    impl Recorder for Kept {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            Counter::from_arc(Arc::new(Entry(self.clone(), name(key))))
        }
        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::noop()
        }
        fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::from_arc(Arc::new(Entry(self.clone(), name(key))))
        }
    }

    /// The same requests, counted: one created, two loaded (the write and the read; the logout
    /// deletes without reading), one written, one expired, and a store latency per call.
    #[test]
    fn counters_and_latencies() {
        let kept = Kept::default();
        metrics::with_local_recorder(&kept, || {
            block_on(create_write_read_logout());
        });
        let kept = kept.0.lock().expect("lock").clone();
        let expected: BTreeMap<String, f64> = [
            ("session_committed_total{}", 2.0),
            ("session_created_total{}", 1.0),
            ("session_expired_total{}", 1.0),
            ("session_loaded_total{}", 2.0),
            ("session_store_seconds{op=apply}", 1.0),
            ("session_store_seconds{op=create}", 1.0),
            ("session_store_seconds{op=delete}", 1.0),
            ("session_store_seconds{op=load}", 2.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(kept, expected);
    }
}
