//! The lifecycle worker's document: the cluster-wide `LifecycleWorker` configuration document,
//! JSON, which is at once the lease (who works, until when) and the progress (where the pass
//! is, what it did). `coffer admin lifecycle status` prints it as it is.

use serde::{Deserialize, Serialize};

/// What the worker did: in a pass, or in all passes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Object versions (and delete markers) read.
    pub scanned: u64,
    /// Current versions expired (removed, or hidden under a delete marker).
    pub expired: u64,
    /// Noncurrent versions removed.
    pub noncurrent_removed: u64,
    /// Expired object delete markers removed.
    pub markers_removed: u64,
    /// Incomplete multipart uploads aborted.
    pub uploads_aborted: u64,
    /// Due actions Object Lock refused (a retention or a legal hold wins).
    pub locked: u64,
    /// Due actions that failed (tried again next pass): the backlog.
    pub failed: u64,
    /// Versions moved to another storage class.
    #[serde(default)]
    pub transitioned: u64,
    /// Bytes those transitions copied to another pool.
    #[serde(default)]
    pub bytes_transitioned: u64,
}

impl Totals {
    /// `self` plus `other`.
    pub fn add(&mut self, other: &Totals) {
        self.scanned += other.scanned;
        self.expired += other.expired;
        self.noncurrent_removed += other.noncurrent_removed;
        self.markers_removed += other.markers_removed;
        self.uploads_aborted += other.uploads_aborted;
        self.locked += other.locked;
        self.failed += other.failed;
        self.transitioned += other.transitioned;
        self.bytes_transitioned += other.bytes_transitioned;
    }
}

/// Where a pass is: buckets in name order, each one's keys in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The bucket being worked on (or the first to look at, from its start).
    pub bucket: String,
    /// The last key of `bucket` whose versions are all done (None: the bucket's start).
    #[serde(default)]
    pub key: Option<String>,
}

/// The document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerDoc {
    /// The gateway holding the lease.
    pub holder: String,
    /// Until when, ms since the epoch, by the holder's clock.
    pub until_ms: i64,
    /// Passes completed.
    #[serde(default)]
    pub passes: u64,
    /// Where the pass under way is (None: between passes).
    #[serde(default)]
    pub cursor: Option<Cursor>,
    /// When the pass under way began, ms.
    #[serde(default)]
    pub pass_started_ms: Option<i64>,
    /// What the pass under way did so far.
    #[serde(default)]
    pub pass: Totals,
    /// When the last complete pass ended, ms.
    #[serde(default)]
    pub last_pass_ended_ms: Option<i64>,
    /// How long it took, ms.
    #[serde(default)]
    pub last_pass_ms: Option<i64>,
    /// What it did.
    #[serde(default)]
    pub last_pass: Option<Totals>,
    /// Everything done since the document was first written.
    #[serde(default)]
    pub total: Totals,
    /// The last error the worker met (an unreachable metadata service, a failed action).
    #[serde(default)]
    pub last_error: Option<String>,
}

impl WorkerDoc {
    /// The stored form.
    pub fn encode(&self) -> String {
        // Plain strings and numbers always serialize.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A stored document (None: unreadable, as if there were none).
    pub fn decode(doc: &str) -> Option<WorkerDoc> {
        serde_json::from_str(doc).ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_document_reads_back_and_tolerates_missing_progress() {
        let mut d = WorkerDoc {
            holder: "gw-1".into(),
            until_ms: 5,
            cursor: Some(Cursor {
                bucket: "b".into(),
                key: Some("k".into()),
            }),
            ..Default::default()
        };
        d.pass.expired = 3;
        assert_eq!(WorkerDoc::decode(&d.encode()), Some(d));
        let bare = WorkerDoc::decode(r#"{"holder":"x","until_ms":1}"#).unwrap();
        assert_eq!((bare.passes, bare.cursor), (0, None));
        assert_eq!(WorkerDoc::decode("not json"), None);
    }
}
