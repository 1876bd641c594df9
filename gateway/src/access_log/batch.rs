//! The records a gateway holds until they are delivered: a batch per logged bucket
//! ([`AccessLogs`]), and the counters of what became of them.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::model::logging::LoggingStatus;

/// A batch this large is delivered without waiting for the flush period.
const BATCH_BYTES: usize = 4 << 20;

/// Most bytes of records a gateway holds (undelivered batches beyond it are dropped).
pub const MAX_HELD: usize = 64 << 20;

/// The records of one logged bucket waiting for delivery.
#[derive(Debug)]
pub struct Batch {
    /// Where they go (the status when the newest record was added).
    pub status: Arc<LoggingStatus>,
    /// When the first was added.
    pub opened: Instant,
    /// The records: when each request arrived (ms since the epoch) and its line.
    pub lines: Vec<(i64, String)>,
    /// Their bytes.
    pub bytes: usize,
}

/// The batches of this gateway, by logged bucket.
#[derive(Debug)]
pub struct AccessLogs {
    batches: Mutex<HashMap<String, Batch>>,
    flush_after: Duration,
}

/// Counters for `/_coffer/metrics`.
pub struct Metrics {
    /// Records made.
    pub records: AtomicU64,
    /// Log objects written.
    pub objects: AtomicU64,
    /// Records dropped (their target refused them, or too many were held).
    pub dropped: AtomicU64,
}

/// This process's counts.
pub static METRICS: Metrics = Metrics {
    records: AtomicU64::new(0),
    objects: AtomicU64::new(0),
    dropped: AtomicU64::new(0),
};

impl Metrics {
    /// The counts in Prometheus' text format.
    pub fn render(&self, out: &mut String) {
        for (name, help, v) in [
            (
                "coffer_access_log_records_total",
                "Server access log records made by this gateway.",
                &self.records,
            ),
            (
                "coffer_access_log_objects_total",
                "Server access log objects this gateway delivered.",
                &self.objects,
            ),
            (
                "coffer_access_log_records_dropped_total",
                "Server access log records dropped: their target refused them, or too many were held.",
                &self.dropped,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Relaxed)
            );
        }
    }
}

impl AccessLogs {
    /// Batches delivered once `flush_after` old.
    pub fn new(flush_after: Duration) -> Self {
        AccessLogs {
            batches: Mutex::default(),
            flush_after,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Batch>> {
        self.batches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Add a record of `bucket`'s, logged as `status` says.
    pub fn push(&self, bucket: &str, status: Arc<LoggingStatus>, at_ms: i64, line: String) {
        METRICS.records.fetch_add(1, Relaxed);
        let mut batches = self.lock();
        let b = batches.entry(bucket.to_owned()).or_insert_with(|| Batch {
            status: status.clone(),
            opened: Instant::now(),
            lines: Vec::new(),
            bytes: 0,
        });
        b.status = status;
        b.bytes += line.len();
        b.lines.push((at_ms, line));
    }

    /// Take the batches due for delivery (all of them with `all`).
    pub fn due(&self, all: bool) -> Vec<(String, Batch)> {
        let mut batches = self.lock();
        let names: Vec<String> = batches
            .iter()
            .filter(|(_, b)| {
                all || b.bytes >= BATCH_BYTES || b.opened.elapsed() >= self.flush_after
            })
            .map(|(n, _)| n.clone())
            .collect();
        names
            .into_iter()
            .filter_map(|n| batches.remove(&n).map(|b| (n, b)))
            .collect()
    }

    /// Put back a batch that could not be delivered, ahead of what came since, unless the
    /// gateway would then hold more than [`MAX_HELD`] bytes.
    pub fn keep(&self, bucket: String, mut batch: Batch) {
        let mut batches = self.lock();
        let held: usize = batches.values().map(|b| b.bytes).sum();
        if held + batch.bytes > MAX_HELD {
            METRICS.dropped.fetch_add(batch.lines.len() as u64, Relaxed);
            return;
        }
        if let Some(newer) = batches.remove(&bucket) {
            batch.status = newer.status;
            batch.bytes += newer.bytes;
            batch.lines.extend(newer.lines);
        }
        batches.insert(bucket, batch);
    }
}
