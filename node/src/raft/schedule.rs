//! When to build a snapshot. A snapshot is a full copy of the state machine, so taking one
//! every fixed number of entries makes its cost grow with the state: with 4 KiB objects stored
//! inline, 20,000 writes into a bucket of 100,000 objects would rewrite 400 MiB each time.
//! Instead a snapshot is due once the log has grown by at least half the last snapshot's size
//! *and* either [`MIN_ENTRIES`] entries have been applied since the last one or the log has
//! grown by [`MIN_LOG_BYTES`]. Snapshot writes then stay within twice the log's own bytes,
//! however large the state, while a small state is still snapshotted (and its log purged)
//! every [`MIN_ENTRIES`] entries, or sooner when batched entries
//! (`MetaCommand::Batch`) make the log grow faster than its entry count.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tracing::{debug, warn};

use super::Raft;

/// Fewest entries between two snapshots...
pub const MIN_ENTRIES: u64 = 20_000;
/// ...unless the log grew by this many bytes (the RocksDB WAL cap): a log of batched entries
/// would otherwise grow for hundreds of thousands of writes before its first purge.
pub const MIN_LOG_BYTES: u64 = 64 << 20;

/// How often the schedule looks at the log.
const TICK: Duration = Duration::from_secs(1);

/// Bytes of log entries appended since the process started (the log store adds to it).
#[derive(Clone, Default)]
pub struct LogBytes(Arc<AtomicU64>);

impl LogBytes {
    /// Count `n` more bytes appended.
    pub fn add(&self, n: usize) {
        self.0.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Bytes appended so far.
    pub fn total(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Whether a snapshot is due, given the entries applied and the log bytes appended since the
/// last one, and that snapshot's size in bytes (0 when there is none).
pub fn due(entries_since: u64, log_bytes_since: u64, last_snapshot_bytes: u64) -> bool {
    (entries_since >= MIN_ENTRIES || log_bytes_since >= MIN_LOG_BYTES)
        && log_bytes_since >= last_snapshot_bytes / 2
}

/// Watch the log and trigger snapshots when [`due`] says so, until Raft shuts down (its
/// metrics channel closes).
/// `snapshot_file` is where the state machine keeps the current snapshot.
pub async fn run(raft: Raft, log_bytes: LogBytes, snapshot_file: PathBuf) {
    let mut metrics = raft.metrics();
    // Baselines of the last snapshot this loop asked for (openraft reports the built one in
    // its metrics a little later).
    let mut asked_at_index = 0u64;
    let mut bytes_at_ask = log_bytes.total();
    loop {
        tokio::time::sleep(TICK).await;
        if metrics.has_changed().is_err() {
            return;
        }
        let (applied, snapshot) = {
            let m = metrics.borrow_and_update();
            (
                m.last_applied.map_or(0, |l| l.index),
                m.snapshot.map_or(0, |l| l.index),
            )
        };
        let entries_since = applied.saturating_sub(snapshot.max(asked_at_index));
        let bytes_since = log_bytes.total().saturating_sub(bytes_at_ask);
        let last_size = std::fs::metadata(&snapshot_file).map_or(0, |m| m.len());
        if !due(entries_since, bytes_since, last_size) {
            continue;
        }
        debug!(
            entries_since,
            bytes_since, last_size, "log grew enough: building a snapshot"
        );
        if let Err(e) = raft.trigger().snapshot().await {
            warn!("snapshot schedule stops: {e}");
            return;
        }
        asked_at_index = applied;
        bytes_at_ask = log_bytes.total();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_state_snapshots_every_min_entries() {
        assert!(!due(MIN_ENTRIES - 1, MIN_LOG_BYTES - 1, 0));
        assert!(due(MIN_ENTRIES, 0, 0));
        assert!(due(MIN_ENTRIES, 10 << 20, 4 << 20));
    }

    #[test]
    fn large_state_waits_for_half_its_size_in_log() {
        let state = 400 << 20;
        assert!(!due(MIN_ENTRIES * 10, 100 << 20, state));
        assert!(!due(MIN_ENTRIES * 10, (200 << 20) - 1, state));
        assert!(due(MIN_ENTRIES, 200 << 20, state));
    }

    #[test]
    fn a_log_of_batches_is_snapshotted_by_its_bytes() {
        // A few large entries: due by bytes alone, as long as the state is not larger.
        assert!(!due(100, MIN_LOG_BYTES - 1, 0));
        assert!(due(100, MIN_LOG_BYTES, 0));
        assert!(due(100, MIN_LOG_BYTES, 2 * MIN_LOG_BYTES));
        assert!(!due(100, MIN_LOG_BYTES, 2 * MIN_LOG_BYTES + 2));
    }

    #[test]
    fn log_bytes_add_up() {
        let b = LogBytes::default();
        let c = b.clone();
        b.add(10);
        c.add(5);
        assert_eq!(b.total(), 15);
    }
}
