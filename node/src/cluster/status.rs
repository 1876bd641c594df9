//! What a node reports: its own status (drives, Raft, heal counters) and the cluster's, as
//! `coffer admin cluster status` prints them.

use coffer_proto::admin::{
    ClusterStatus, DriveStatus, HealCounters, MemberStatus, NodeStatus, RaftStatus,
};

use std::time::Duration;

use coffer_proto::ProtoError;

use super::Node;

impl Node {
    /// Linearizable reads this node served as leader, and the read-index rounds they took.
    pub fn read_index_counts(&self) -> (u64, u64) {
        self.read_index.counts()
    }

    /// This node's own status: drives with their capacity, Raft, heal counters.
    pub fn status(&self) -> NodeStatus {
        let metrics = self.raft.metrics().borrow().clone();
        let membership = metrics.membership_config.membership();
        let drives = self
            .blobs
            .drives()
            .drives
            .iter()
            .map(|d| {
                let fs = rustix::fs::statvfs(&d.root).ok();
                DriveStatus {
                    index: d.index,
                    path: d.root.display().to_string(),
                    ok: std::fs::read_dir(d.root.join("shards")).is_ok(),
                    total_bytes: fs.as_ref().map_or(0, |f| f.f_blocks * f.f_frsize),
                    free_bytes: fs.as_ref().map_or(0, |f| f.f_bavail * f.f_frsize),
                }
            })
            .collect();
        let st = &self.blobs.stats;
        let get = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        NodeStatus {
            id: self.config.id,
            drives,
            raft: RaftStatus {
                term: metrics.current_term,
                leader: metrics.current_leader,
                last_applied: metrics.last_applied.map(|l| l.index),
                voters: membership.voter_ids().collect(),
                learners: membership.learner_ids().collect(),
            },
            heal: HealCounters {
                blobs_checked: get(&st.blobs_checked),
                bytes_scrubbed: get(&st.bytes_scrubbed),
                shards_repaired: get(&st.shards_repaired),
                bytes_repaired: get(&st.bytes_repaired),
                repair_failures: get(&st.repair_failures),
                passes: get(&st.passes),
                uptime_secs: self.started.elapsed().as_secs(),
                shards_moved: get(&st.shards_moved),
                bytes_moved: get(&st.bytes_moved),
                move_failures: get(&st.move_failures),
                misplaced: get(&st.misplaced),
                rebalance_passes: get(&st.rebalance_passes),
                balanced_over: get(&st.balanced_over),
            },
        }
    }

    /// Every node of the cluster map with its status (asked of each, 2 s at most).
    pub async fn cluster_status(&self) -> ClusterStatus {
        let me = self.status();
        let nodes = self.peers.nodes();
        let draining = self.peers.draining();
        let (tiers, labels) = (self.peers.tiers(), self.peers.labels());
        let asks = nodes.into_iter().map(|n| {
            let labels = labels.of(n.id);
            let pool = tiers.pool_of(&labels).map(|t| t.name.clone());
            let drained = draining.contains(&n.id);
            let role = if me.raft.voters.contains(&n.id) {
                "voter"
            } else if me.raft.learners.contains(&n.id) {
                "learner"
            } else {
                "none"
            };
            let local = (n.id == self.config.id).then(|| me.clone());
            let client = self.peers.client(&n.rpc_addr);
            async move {
                let answer = match local {
                    Some(s) => Ok(s),
                    None => tokio::time::timeout(Duration::from_secs(2), client.node_status())
                        .await
                        .unwrap_or(Err(ProtoError::Timeout)),
                };
                MemberStatus {
                    id: n.id,
                    rpc_addr: n.rpc_addr,
                    zone: n.zone,
                    role: role.to_owned(),
                    draining: drained,
                    labels,
                    pool,
                    error: answer.as_ref().err().map(ToString::to_string),
                    status: answer.ok(),
                }
            }
        });
        ClusterStatus {
            answered_by: self.config.id,
            leader: me.raft.leader,
            term: me.raft.term,
            nodes: futures::future::join_all(asks).await,
            classes: tiers.classes.clone(),
        }
    }
}
