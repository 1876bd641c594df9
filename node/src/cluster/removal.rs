//! A node learning that it was removed from the cluster (`coffer admin node remove` drained
//! it and the leader took it out of the Raft membership): it stops Raft, refuses every
//! request but status ones, and reports itself not ready, instead of campaigning for
//! elections it can no longer take part in. It may not have received the membership change
//! that removed it, so it asks: the leader's membership and cluster map are the word on it.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use coffer_proto::meta::{MetaAnswer, MetaQuery};
use coffer_proto::ClusterApi as _;
use tracing::{debug, warn};

use super::Node;

/// How often a member checks that it still is one.
const CHECK_EVERY: Duration = Duration::from_secs(2);

impl Node {
    /// Whether this node learned that it was removed from the cluster.
    pub fn removed(&self) -> bool {
        self.removed.load(Ordering::Acquire)
    }

    /// Whether this node may vote in elections: not while it joins without Raft state, since
    /// it may have forgotten entries it acknowledged before (see `Node::admit`).
    pub fn may_vote(&self) -> bool {
        self.voting.load(Ordering::Acquire) && !self.removed()
    }

    /// Whether this node started without state and still lacks some of the shards placed on
    /// it: it is not ready until a scrub pass rebuilt them all, so that Kubernetes (a rolling
    /// update, a disruption budget) does not take another node down meanwhile.
    pub fn healing(&self) -> bool {
        self.healing.load(Ordering::Acquire)
    }

    /// A whole scrub pass ended with nothing left to rebuild.
    pub fn healed(&self) {
        self.healing.store(false, Ordering::Release);
    }

    /// Check, every few seconds until it happens, whether this node was removed.
    pub(super) fn watch_removal(self: Arc<Self>) {
        tokio::spawn(async move {
            while !self.check_removed().await {
                tokio::time::sleep(CHECK_EVERY).await;
            }
        });
    }

    /// Whether this member was removed from the cluster: a node that leads now has neither
    /// it in its Raft membership nor in its cluster map (a leader that stepped down is out of
    /// the membership for a moment, but stays in the map). Stops Raft the first time.
    pub(super) async fn check_removed(&self) -> bool {
        if self.removed() {
            return true;
        }
        let me = self.config.id;
        if !self.leader_left_me_out().await {
            return false;
        }
        if !self.removed.swap(true, Ordering::AcqRel) {
            warn!(
                node = me,
                "this node was removed from the cluster: it serves nothing more. To bring it \
                 back, delete its data (metadata and drives) and start it again: it joins as \
                 a new member"
            );
            let _ = self.raft.shutdown().await;
        }
        true
    }

    /// Whether a node of the cluster map that leads now has this node neither in its Raft
    /// membership nor in its cluster map.
    async fn leader_left_me_out(&self) -> bool {
        let me = self.config.id;
        let followed = self.raft.metrics().borrow().current_leader;
        let mut others: Vec<_> = self
            .peers
            .nodes()
            .into_iter()
            .filter(|n| n.id != me)
            .collect();
        // The leader it follows first: most often the only one asked.
        others.sort_by_key(|n| Some(n.id) != followed);
        for n in others {
            let client = self.peers.client(&n.rpc_addr);
            match client.node_status().await {
                Ok(s) if s.raft.leader == Some(s.id) => {
                    if s.raft.voters.contains(&me) || s.raft.learners.contains(&me) {
                        return false;
                    }
                    return match client.meta_read(MetaQuery::ClusterMap).await {
                        Ok(MetaAnswer::Nodes(nodes)) => !nodes.iter().any(|n| n.id == me),
                        Ok(_) | Err(_) => false,
                    };
                }
                Ok(_) => {}
                Err(e) => debug!(node = n.id, "no status: {e}"),
            }
        }
        false
    }
}
