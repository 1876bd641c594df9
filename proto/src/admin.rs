//! The admin API between `coffer admin` and a node's HTTP listener: the status types it
//! returns (as JSON) and the request signature that authenticates it.
//!
//! # Authentication
//! Every admin request carries `x-coffer-date: <unix seconds>` and
//! `authorization: Coffer-Admin <hex HMAC-SHA256(cluster secret,
//! "coffer-admin-v1\n" METHOD "\n" PATH "\n" DATE)>`. The node accepts it within
//! [`MAX_SKEW_SECS`] of its own clock; the secret itself never crosses the wire.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// How far a request's date may be from the node's clock.
pub const MAX_SKEW_SECS: u64 = 300;

/// The signature of an admin request.
pub fn sign(secret: &[u8], method: &str, path: &str, date: u64) -> String {
    // HMAC takes keys of any length; an empty signature is never accepted.
    let Ok(mut m) = <Hmac<Sha256> as Mac>::new_from_slice(secret) else {
        return String::new();
    };
    m.update(format!("coffer-admin-v1\n{method}\n{path}\n{date}").as_bytes());
    hex_lower(&m.finalize().into_bytes())
}

/// Whether `signature` signs the request, in constant time, and `date` is within
/// [`MAX_SKEW_SECS`] of `now`.
pub fn verify(
    secret: &[u8],
    method: &str,
    path: &str,
    date: u64,
    now: u64,
    signature: &str,
) -> bool {
    use subtle::ConstantTimeEq;
    if date.abs_diff(now) > MAX_SKEW_SECS {
        return false;
    }
    let want = sign(secret, method, path, date);
    !want.is_empty() && want.as_bytes().ct_eq(signature.as_bytes()).into()
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One node's own view of itself (asked of every node for a cluster status).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    /// Node id.
    pub id: u64,
    /// Its drives.
    pub drives: Vec<DriveStatus>,
    /// Raft as this node sees it.
    pub raft: RaftStatus,
    /// What its scrubber and heal worker did since it started.
    pub heal: HealCounters,
}

/// One drive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveStatus {
    /// Drive index.
    pub index: u32,
    /// Folder.
    pub path: String,
    /// Whether its folder can be read.
    pub ok: bool,
    /// Bytes of its filesystem.
    pub total_bytes: u64,
    /// Bytes free for Coffer.
    pub free_bytes: u64,
}

/// Raft state of one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftStatus {
    /// Current term.
    pub term: u64,
    /// Leader it follows (itself when it leads).
    pub leader: Option<u64>,
    /// Last applied log index.
    pub last_applied: Option<u64>,
    /// Voter ids of the current membership.
    pub voters: Vec<u64>,
    /// Learner ids of the current membership.
    pub learners: Vec<u64>,
}

/// Heal counters of one node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealCounters {
    /// Blobs whose local shards were checked.
    pub blobs_checked: u64,
    /// Bytes read and verified by the scrubber.
    pub bytes_scrubbed: u64,
    /// Shards rebuilt.
    pub shards_repaired: u64,
    /// Bytes rebuilt.
    pub bytes_repaired: u64,
    /// Rebuilds that failed (retried later).
    pub repair_failures: u64,
    /// Scrub passes completed.
    pub passes: u64,
    /// Seconds the node has been up (for rates).
    pub uptime_secs: u64,
    /// Shards moved by rebalancing.
    pub shards_moved: u64,
    /// Bytes moved.
    pub bytes_moved: u64,
    /// Moves that failed (retried later).
    pub move_failures: u64,
    /// Blobs this node moves that were misplaced at its last rebalancing pass.
    pub misplaced: u64,
    /// Rebalancing passes completed.
    pub rebalance_passes: u64,
    /// Active nodes at its last rebalancing pass that found nothing to move (0: none yet).
    pub balanced_over: u64,
}

/// A node of the cluster map and what it answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberStatus {
    /// Node id.
    pub id: u64,
    /// RPC address.
    pub rpc_addr: String,
    /// Zone.
    pub zone: Option<String>,
    /// `voter`, `learner` or `none` (in the map, not in the Raft membership).
    pub role: String,
    /// Being drained (`coffer admin node remove`): its shards are moving elsewhere.
    #[serde(default)]
    pub draining: bool,
    /// Its labels (`--label`), as it published them.
    #[serde(default)]
    pub labels: crate::tier::Labels,
    /// The local tier whose pool it is in (None: the default pool).
    #[serde(default)]
    pub pool: Option<String>,
    /// Its answer; `None` when it could not be reached.
    pub status: Option<NodeStatus>,
    /// Why it did not answer.
    pub error: Option<String>,
}

/// `GET /admin/v1/cluster`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// Node that answered.
    pub answered_by: u64,
    /// Raft leader.
    pub leader: Option<u64>,
    /// Raft term.
    pub term: u64,
    /// Every node of the cluster map.
    pub nodes: Vec<MemberStatus>,
    /// Which tier each storage class mapped to one writes to.
    #[serde(default)]
    pub classes: std::collections::BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_secret_request_and_time() {
        let s = sign(b"secret", "GET", "/admin/v1/cluster", 1000);
        assert!(verify(
            b"secret",
            "GET",
            "/admin/v1/cluster",
            1000,
            1100,
            &s
        ));
        assert!(!verify(
            b"other",
            "GET",
            "/admin/v1/cluster",
            1000,
            1100,
            &s
        ));
        assert!(!verify(b"secret", "GET", "/admin/v1/heal", 1000, 1100, &s));
        assert!(!verify(
            b"secret",
            "POST",
            "/admin/v1/cluster",
            1000,
            1100,
            &s
        ));
        assert!(!verify(
            b"secret",
            "GET",
            "/admin/v1/cluster",
            1000,
            1000 + MAX_SKEW_SECS + 1,
            &s
        ));
    }
}
