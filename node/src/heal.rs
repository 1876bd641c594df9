//! Healing: missing or corrupt shards are rebuilt from the others and stored where the
//! placement puts them. Two sources find them:
//! - reads: a read that met a missing or corrupt shard on a node that answered hands the blob
//!   to the heal worker ([`crate::blob::HealHint`]);
//! - the scrubber: every node walks the metadata now and then (and once right after it
//!   starts, which is how a node that was down fills in the writes it missed) and reads back
//!   every record of its own shards, at a limited rate, rebuilding any that is missing or
//!   fails its checksum. A node that started without state (its volume lost) is not ready
//!   until a pass found nothing it could not rebuild.
//!
//! Rebuilding reads k other shards of each stripe, re-encodes it and writes the one shard
//! aside before renaming it into place, so a heal that dies leaves the old state.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use coffer_proto::types::BlobRef;
use tracing::{info, warn};

use crate::cluster::Node;
use crate::meta::query;
use crate::pace::Pacer;

/// Blobs per metadata page of a scrub pass.
const PAGE: usize = 256;

/// How soon a node that started without state scrubs again after a pass that could not
/// rebuild everything.
const HEAL_RETRY: Duration = Duration::from_secs(10);

/// How long a scrub pass waits for this node's metadata to catch up with the leader's.
const CATCH_UP: Duration = Duration::from_secs(60);

/// What one scrub pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScrubReport {
    /// Blobs with a shard on this node that were checked.
    pub blobs_checked: u64,
    /// Bytes of shard records read and verified.
    pub bytes_checked: u64,
    /// Shards rebuilt.
    pub shards_repaired: u64,
    /// Shards that could not be rebuilt (too few healthy shards, nodes down).
    pub failures: u64,
}

/// Rebuild the listed shards of a blob; returns (repaired, failed).
async fn repair(node: &Node, blob: &BlobRef, shards: &[usize]) -> (u64, u64) {
    let (mut ok, mut failed) = (0, 0);
    for &i in shards {
        match node.blobs().rebuild(blob.clone(), i).await {
            Ok(bytes) => {
                info!(blob = %blob.id_hex(), shard = i, bytes, "shard rebuilt");
                ok += 1;
            }
            Err(e) => {
                warn!(blob = %blob.id_hex(), shard = i, "failed to rebuild shard: {e}");
                node.blobs()
                    .stats
                    .repair_failures
                    .fetch_add(1, Ordering::Relaxed);
                failed += 1;
            }
        }
    }
    (ok, failed)
}

/// One scrub pass over every blob with a shard on this node, reading at most `rate` bytes
/// per second (0: unlimited).
pub async fn scrub_once(node: &Node, rate: u64) -> ScrubReport {
    let mut report = ScrubReport::default();
    let me = node.config.id;
    let mut pacer = Pacer::new(rate);
    let mut cursor = None;
    loop {
        let store = node.meta_store().clone();
        let after = cursor.clone();
        let page =
            tokio::task::spawn_blocking(move || query::blobs_page(&store, after.as_ref(), PAGE))
                .await;
        let (blobs, next) = match page {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                warn!("scrub: metadata scan failed: {e}");
                break;
            }
            Err(e) => {
                warn!("scrub: metadata scan failed: {e}");
                break;
            }
        };
        for blob in blobs {
            if !blob.placement.iter().any(|l| l.node == me) {
                continue;
            }
            // A blob being written has its shards in flight, not missing.
            if node.blobs().is_writing(&blob.id) {
                continue;
            }
            let (bad, bytes) = node.blobs().check_local(&blob).await;
            report.blobs_checked += 1;
            report.bytes_checked += bytes;
            let stats = &node.blobs().stats;
            stats.blobs_checked.fetch_add(1, Ordering::Relaxed);
            stats.bytes_scrubbed.fetch_add(bytes, Ordering::Relaxed);
            if !bad.is_empty() {
                let (ok, failed) = repair(node, &blob, &bad).await;
                report.shards_repaired += ok;
                report.failures += failed;
            }
            pacer.spend(bytes).await;
        }
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    node.blobs().stats.passes.fetch_add(1, Ordering::Relaxed);
    report
}

/// Run the heal worker and the scrubber (a pass at start, then every `interval`) until the
/// task is dropped.
pub async fn run(node: Arc<Node>, interval: Duration, rate: u64) {
    if let Some(mut hints) = node.blobs().take_hints() {
        let n = node.clone();
        tokio::spawn(async move {
            while let Some(h) = hints.recv().await {
                repair(&n, &h.blob, &h.shards).await;
            }
        });
    }
    loop {
        // A node that was down scans metadata that lacks the writes it missed until it has
        // caught up with the leader.
        if let Err(e) = node.catch_up(CATCH_UP).await {
            warn!("scrub: metadata may be behind the leader: {e}");
        }
        let started = Instant::now();
        let r = scrub_once(&node, rate).await;
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        info!(
            blobs = r.blobs_checked,
            mib = r.bytes_checked >> 20,
            mib_per_s = format!("{:.1}", r.bytes_checked as f64 / secs / 1048576.0),
            repaired = r.shards_repaired,
            failed = r.failures,
            "scrub pass done"
        );
        if node.healing() {
            if r.failures == 0 {
                info!("every shard placed on this node is here: ready");
                node.healed();
            } else {
                // A node that started without state stays not ready until a pass rebuilds
                // everything (another node may have been down): try again soon.
                tokio::time::sleep(interval.min(HEAL_RETRY)).await;
                continue;
            }
        }
        tokio::time::sleep(interval).await;
    }
}
