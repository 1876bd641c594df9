//! The lifecycle worker: it applies buckets' lifecycle rules ([`crate::model::lifecycle`]) in
//! passes over every bucket that has some, in bucket and key order ([`pass`]).
//!
//! Every gateway runs it, and one at a time works: the one holding the lease, the cluster-wide
//! `LifecycleWorker` document ([`doc::WorkerDoc`]). A gateway takes it when there is none or
//! when its holder let it run out, and renews it every second while it works (every few
//! seconds between passes), each time by replacing the document it last read or wrote
//! (`MetaCommand::ReplaceClusterConfig`): of two gateways changing the same document, one
//! fails. The document also holds the pass's progress (bucket and key) and counts, so that the
//! next holder resumes where a stopped one was.
//!
//! Lease times are compared on each gateway's own clock. A clock ahead by more than a lease
//! can let a second gateway work while the first still does, until the first's next renewal
//! fails: harmless, since every action is conditional or idempotent ([`pass`]). A holder that
//! cannot renew stops working at once.
//!
//! Passes start every `day / 24` (an hour; less under the tests' day knob), and read at most
//! `scan_rate` versions per second.

pub mod doc;
mod pass;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use coffer_proto::api::ClusterApiExt as _;
use coffer_proto::meta::{BucketConfigKind, MetaCommand};
use coffer_proto::{ClusterApi, ProtoError};
use tracing::{info, warn};

use self::doc::{Cursor, Totals, WorkerDoc};

/// How long a lease lasts unless renewed.
const LEASE: Duration = Duration::from_secs(15);

/// How often a holder with nothing to do renews, and a gateway without the lease looks.
const LOOK_EVERY: Duration = Duration::from_secs(3);

/// How often a working holder saves its progress (and renews): a step is a page of 1,000
/// versions, far more often than a Raft write per step is worth.
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// After an error, the worker waits this long, doubling up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Who this gateway is, in the lease (host name and a random suffix).
    pub holder: String,
    /// Seconds in a day of the lifecycle clock (86,400, but under the tests' knob).
    pub day: i64,
    /// Versions read per second at most (0: unlimited).
    pub scan_rate: u64,
}

/// What this gateway's worker did (the gateway's metrics).
pub struct Metrics {
    /// 1 while this gateway holds the lease.
    pub holding: AtomicU64,
    /// Passes completed here.
    pub passes: AtomicU64,
    /// The counts of [`Totals`], done here.
    pub scanned: AtomicU64,
    /// Current versions expired.
    pub expired: AtomicU64,
    /// Noncurrent versions removed.
    pub noncurrent_removed: AtomicU64,
    /// Delete markers removed.
    pub markers_removed: AtomicU64,
    /// Uploads aborted.
    pub uploads_aborted: AtomicU64,
    /// Actions refused by Object Lock.
    pub locked: AtomicU64,
    /// Actions failed.
    pub failed: AtomicU64,
    /// Versions transitioned.
    pub transitioned: AtomicU64,
    /// Bytes transitions copied.
    pub bytes_transitioned: AtomicU64,
}

/// This process's worker's counts.
pub static METRICS: Metrics = Metrics {
    holding: AtomicU64::new(0),
    passes: AtomicU64::new(0),
    scanned: AtomicU64::new(0),
    expired: AtomicU64::new(0),
    noncurrent_removed: AtomicU64::new(0),
    markers_removed: AtomicU64::new(0),
    uploads_aborted: AtomicU64::new(0),
    locked: AtomicU64::new(0),
    failed: AtomicU64::new(0),
    transitioned: AtomicU64::new(0),
    bytes_transitioned: AtomicU64::new(0),
};

impl Metrics {
    fn count(&self, t: &Totals) {
        self.scanned.fetch_add(t.scanned, Relaxed);
        self.expired.fetch_add(t.expired, Relaxed);
        self.noncurrent_removed
            .fetch_add(t.noncurrent_removed, Relaxed);
        self.markers_removed.fetch_add(t.markers_removed, Relaxed);
        self.uploads_aborted.fetch_add(t.uploads_aborted, Relaxed);
        self.locked.fetch_add(t.locked, Relaxed);
        self.failed.fetch_add(t.failed, Relaxed);
        self.transitioned.fetch_add(t.transitioned, Relaxed);
        self.bytes_transitioned
            .fetch_add(t.bytes_transitioned, Relaxed);
    }

    /// The counts in Prometheus' text format.
    pub fn render(&self, out: &mut String) {
        for (name, kind, help, v) in [
            (
                "coffer_lifecycle_holding",
                "gauge",
                "1 while this gateway runs the lifecycle worker.",
                &self.holding,
            ),
            (
                "coffer_lifecycle_passes_total",
                "counter",
                "Lifecycle passes completed by this gateway.",
                &self.passes,
            ),
            (
                "coffer_lifecycle_scanned_total",
                "counter",
                "Object versions the lifecycle worker read.",
                &self.scanned,
            ),
            (
                "coffer_lifecycle_expired_total",
                "counter",
                "Current versions the lifecycle worker expired.",
                &self.expired,
            ),
            (
                "coffer_lifecycle_noncurrent_removed_total",
                "counter",
                "Noncurrent versions the lifecycle worker removed.",
                &self.noncurrent_removed,
            ),
            (
                "coffer_lifecycle_markers_removed_total",
                "counter",
                "Expired delete markers the lifecycle worker removed.",
                &self.markers_removed,
            ),
            (
                "coffer_lifecycle_uploads_aborted_total",
                "counter",
                "Incomplete uploads the lifecycle worker aborted.",
                &self.uploads_aborted,
            ),
            (
                "coffer_lifecycle_locked_total",
                "counter",
                "Due lifecycle actions refused by Object Lock.",
                &self.locked,
            ),
            (
                "coffer_lifecycle_transitioned_total",
                "counter",
                "Object versions the lifecycle worker moved to another storage class.",
                &self.transitioned,
            ),
            (
                "coffer_lifecycle_transitioned_bytes_total",
                "counter",
                "Bytes the lifecycle worker's transitions copied to another pool.",
                &self.bytes_transitioned,
            ),
            (
                "coffer_lifecycle_failed_total",
                "counter",
                "Due lifecycle actions that failed (tried again next pass).",
                &self.failed,
            ),
        ] {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}\n",
                v.load(Relaxed)
            ));
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The lease as this gateway knows it.
struct Lease {
    cluster: Arc<dyn ClusterApi>,
    holder: String,
    /// The document as this gateway last wrote it (None: it does not hold the lease).
    written: Option<String>,
}

impl Lease {
    /// Take the lease if no one holds it: the document to work from, or None.
    async fn take(&mut self) -> Result<Option<WorkerDoc>, ProtoError> {
        let stored = self
            .cluster
            .cluster_config(BucketConfigKind::LifecycleWorker)
            .await?;
        let doc = stored
            .as_deref()
            .and_then(WorkerDoc::decode)
            .unwrap_or_default();
        if doc.holder != self.holder && doc.until_ms > now_ms() {
            return Ok(None);
        }
        let mut doc = doc;
        if self.save_from(stored, &mut doc).await? {
            Ok(Some(doc))
        } else {
            Ok(None)
        }
    }

    /// Renew the lease with `doc`'s progress: false when it was lost (another gateway took
    /// it after this one let it run out).
    async fn renew(&mut self, doc: &mut WorkerDoc) -> Result<bool, ProtoError> {
        let from = self.written.clone();
        self.save_from(from, doc).await
    }

    async fn save_from(
        &mut self,
        previous: Option<String>,
        doc: &mut WorkerDoc,
    ) -> Result<bool, ProtoError> {
        doc.holder = self.holder.clone();
        doc.until_ms = now_ms().saturating_add(LEASE.as_millis() as i64);
        let value = doc.encode();
        let cmd = MetaCommand::ReplaceClusterConfig {
            kind: BucketConfigKind::LifecycleWorker,
            previous,
            value: Some(value.clone()),
        };
        match self.cluster.meta_write(cmd).await {
            Ok(_) => {
                self.written = Some(value);
                Ok(true)
            }
            Err(ProtoError::PreconditionFailed) => {
                self.written = None;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}

/// Run the worker until the task is dropped.
pub async fn run(cluster: Arc<dyn ClusterApi>, settings: Settings) {
    let mut lease = Lease {
        cluster: cluster.clone(),
        holder: settings.holder.clone(),
        written: None,
    };
    let mut backoff = FIRST_BACKOFF;
    loop {
        let held = match lease.take().await {
            Ok(Some(doc)) => doc,
            Ok(None) => {
                tokio::time::sleep(LOOK_EVERY).await;
                continue;
            }
            Err(e) => {
                tracing::debug!("lifecycle lease unread: {e}");
                tokio::time::sleep(LOOK_EVERY).await;
                continue;
            }
        };
        info!(holder = %settings.holder, "lifecycle worker: took the lease");
        METRICS.holding.store(1, Relaxed);
        let outcome = work(&cluster, &settings, &mut lease, held, &mut backoff).await;
        METRICS.holding.store(0, Relaxed);
        lease.written = None;
        match outcome {
            Ok(()) => info!("lifecycle worker: lost the lease to another gateway"),
            Err(e) => {
                warn!("lifecycle worker: stopped ({e}); retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Work while the lease is held: passes, steps, renewals (each saving the progress). Returns when it was lost, or on an
/// error (the lease then runs out unless this gateway takes it back first).
async fn work(
    cluster: &Arc<dyn ClusterApi>,
    settings: &Settings,
    lease: &mut Lease,
    mut doc: WorkerDoc,
    backoff: &mut Duration,
) -> Result<(), ProtoError> {
    let day = settings.day.max(1);
    let pass_every_ms = (day * 1000 / 24).clamp(1000, 3_600_000);
    let mut pacer = Pacer::new(settings.scan_rate);
    let mut saved = tokio::time::Instant::now();
    loop {
        let now = now_ms();
        let cursor = match doc.cursor.clone() {
            Some(c) => c,
            None => {
                let next = doc.last_pass_ended_ms.map_or(now, |t| t + pass_every_ms);
                if now < next {
                    let wait = Duration::from_millis((next - now) as u64).min(LOOK_EVERY);
                    tokio::time::sleep(wait).await;
                    if !lease.renew(&mut doc).await? {
                        return Ok(());
                    }
                    continue;
                }
                doc.pass_started_ms = Some(now);
                doc.pass = Totals::default();
                pacer = Pacer::new(settings.scan_rate);
                Cursor::default()
            }
        };
        let clock = pass::Clock {
            now: now.div_euclid(1000),
            day,
        };
        let mut done = Totals::default();
        let step = pass::step(cluster, &cursor, clock, &mut done).await;
        doc.pass.add(&done);
        doc.total.add(&done);
        METRICS.count(&done);
        match step {
            Ok(s) => {
                *backoff = FIRST_BACKOFF;
                doc.cursor = s.next.clone();
                if s.next.is_none() {
                    let ended = now_ms();
                    doc.passes += 1;
                    doc.last_pass_ended_ms = Some(ended);
                    doc.last_pass_ms = doc.pass_started_ms.map(|s| ended - s);
                    doc.last_pass = Some(doc.pass);
                    METRICS.passes.fetch_add(1, Relaxed);
                    info!(pass = ?doc.pass, "lifecycle pass done");
                }
                if s.next.is_none() || saved.elapsed() >= SAVE_EVERY {
                    if !lease.renew(&mut doc).await? {
                        return Ok(());
                    }
                    saved = tokio::time::Instant::now();
                }
                pacer.spend(s.scanned).await;
            }
            Err(e) => {
                doc.last_error = Some(e.to_string());
                // Saved where it was, to be tried again.
                let _ = lease.renew(&mut doc).await;
                return Err(e);
            }
        }
    }
}

/// At most `rate` versions per second on average since the pass began (0: unlimited).
struct Pacer {
    rate: u64,
    started: tokio::time::Instant,
    spent: u64,
}

impl Pacer {
    fn new(rate: u64) -> Pacer {
        Pacer {
            rate,
            started: tokio::time::Instant::now(),
            spent: 0,
        }
    }

    async fn spend(&mut self, n: u64) {
        if self.rate == 0 {
            return;
        }
        self.spent = self.spent.saturating_add(n);
        let due = self.started + Duration::from_secs_f64(self.spent as f64 / self.rate as f64);
        tokio::time::sleep_until(due).await;
    }
}
