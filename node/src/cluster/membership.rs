//! Membership: admitting and removing members (voters and learners), catching up, and
//! finding the leader. How a node enters the cluster is [`super::formation`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use coffer_proto::meta::MetaCommand;
use coffer_proto::types::NodeInfo;
use coffer_proto::{ClusterApi as _, ProtoError};
use openraft::BasicNode;
use tracing::{info, warn};

use crate::raft::write_err;

use super::{Node, LEADER_WAIT};

/// Why `coffer admin node add` failed.
#[derive(Debug, thiserror::Error)]
pub enum AddNodeError {
    /// The new node did not answer (or does not hold the cluster secret).
    #[error("the node did not answer: {0}")]
    Unreachable(ProtoError),
    /// Its id is a member's at another address.
    #[error("node id {} is already taken by the member at {}", .0.id, .0.rpc_addr)]
    IdTaken(NodeInfo),
    /// The membership change failed.
    #[error("admission failed: {0}")]
    Admit(ProtoError),
}

/// Entries a learner may lag behind the leader's log and still count as caught up.
const CAUGHT_UP: u64 = 64;

/// How often the leader checks that the cluster has as many voters as its size calls for.
const KEEP_VOTERS_EVERY: Duration = Duration::from_secs(2);

/// How many voters a cluster of `nodes` members has; the others are learners.
fn target_voters(nodes: usize) -> usize {
    match nodes {
        0..=2 => 1,
        3 | 4 => 3,
        _ => 5,
    }
}

impl Node {
    /// Take a node in (on the leader; forwarded there otherwise): add it as a learner, record
    /// it in the cluster map, and promote learners while there are fewer voters than the
    /// cluster size calls for.
    pub async fn admit(&self, node: NodeInfo) -> Result<(), ProtoError> {
        let Some(leader) = self.leader().await? else {
            let _guard = self.joining.lock().await;
            return self.admit_here(node).await;
        };
        self.peers.client(&leader).join(node).await
    }

    async fn admit_here(&self, node: NodeInfo) -> Result<(), ProtoError> {
        let membership = self.membership();
        let known = membership.get_node(&node.id).map(|n| n.addr.clone());
        if known.is_some() && known.as_deref() != Some(node.rpc_addr.as_str()) {
            let moved = BTreeMap::from([(node.id, BasicNode::new(node.rpc_addr.clone()))]);
            self.raft
                .change_membership(openraft::ChangeMembers::SetNodes(moved), true)
                .await
                .map_err(write_err)?;
        }
        // Also for a member: one that asks to join started without Raft state (its volume was
        // lost, or it missed the answer to an earlier join), and is answered only once its log
        // has caught up again. Until then it refuses to vote (`Node::may_vote`): a vote from a
        // member that forgot entries it acknowledged could elect a leader without them.
        self.raft
            .add_learner(node.id, BasicNode::new(node.rpc_addr.clone()), true)
            .await
            .map_err(write_err)?;
        self.meta_write(MetaCommand::RegisterNode(node.clone()))
            .await?;
        let membership = self.membership();
        let mut voters: BTreeSet<u64> = membership.voter_ids().collect();
        let all: BTreeSet<u64> = membership.nodes().map(|(id, _)| *id).collect();
        let target = target_voters(all.len());
        if voters.len() < target {
            voters.extend(
                all.iter()
                    .filter(|id| !voters.contains(id))
                    .take(target - voters.len())
                    .copied()
                    .collect::<Vec<_>>(),
            );
            info!(voters = ?voters, "changing the voter set");
            self.raft
                .change_membership(voters, true)
                .await
                .map_err(write_err)?;
        }
        Ok(())
    }

    /// `coffer admin node add`: ask the node listening at `rpc_addr` who it is, and take it in
    /// unless its id already belongs to a member at another address.
    pub async fn add_node(&self, rpc_addr: &str) -> Result<NodeInfo, AddNodeError> {
        let info = self
            .peers
            .client(rpc_addr)
            .identify()
            .await
            .map_err(AddNodeError::Unreachable)?;
        if let Some(other) = self
            .peers
            .nodes()
            .into_iter()
            .find(|n| n.id == info.id && n.rpc_addr != info.rpc_addr)
        {
            return Err(AddNodeError::IdTaken(other));
        }
        self.admit(info.clone())
            .await
            .map_err(AddNodeError::Admit)?;
        Ok(info)
    }

    /// Take node `id` out of the Raft membership (promoting a learner when the voters would
    /// fall short of what the cluster's size calls for) and out of the cluster map.
    pub async fn remove_member(&self, id: u64) -> Result<(), ProtoError> {
        let _guard = self.joining.lock().await;
        let membership = self.membership();
        let current: BTreeSet<u64> = membership.voter_ids().collect();
        let rest: Vec<u64> = membership
            .nodes()
            .map(|(n, _)| *n)
            .filter(|n| *n != id)
            .collect();
        let mut voters: BTreeSet<u64> = current.iter().copied().filter(|v| *v != id).collect();
        let target = target_voters(rest.len());
        for n in &rest {
            if voters.len() >= target {
                break;
            }
            voters.insert(*n);
        }
        if voters != current {
            info!(voters = ?voters, removed = id, "changing the voter set");
            self.raft
                .change_membership(voters, false)
                .await
                .map_err(write_err)?;
        }
        if self.membership().get_node(&id).is_some() {
            let gone = BTreeSet::from([id]);
            self.raft
                .change_membership(openraft::ChangeMembers::RemoveNodes(gone), false)
                .await
                .map_err(write_err)?;
        }
        self.meta_write(MetaCommand::RemoveNode { id }).await?;
        Ok(())
    }

    /// Before this node stops (a pod's preStop, SIGTERM): if it leads, hand leadership away
    /// by leaving the Raft membership (openraft's leader steps down only then; a learner may
    /// lead), a caught-up learner taking its voter seat when there is one; the voters elect a
    /// leader among themselves at once rather than after missing its heartbeats. It stays in
    /// the cluster map, and the new leader's voter keeper ([`Node::keep_voters`]) takes it
    /// back as a learner and promotes it as the cluster's size calls for. Returns whether it
    /// handed leadership away.
    pub async fn step_down(&self, limit: Duration) -> Result<bool, ProtoError> {
        if !self.is_leader().await {
            return Ok(false);
        }
        let _guard = self.joining.lock().await;
        let me = self.config.id;
        let membership = self.membership();
        let mut voters: BTreeSet<u64> = membership.voter_ids().filter(|v| *v != me).collect();
        if voters.is_empty() {
            // The only voter: nobody to hand over to.
            return Ok(false);
        }
        if let Some(l) = self.caught_up_learners().first() {
            voters.insert(*l);
        }
        info!(voters = ?voters, "handing leadership away before stopping");
        self.raft
            .change_membership(voters, false)
            .await
            .map_err(write_err)?;
        let _ = self
            .raft
            .wait(Some(limit))
            .metrics(|m| m.current_leader != Some(me), "another leader")
            .await;
        Ok(true)
    }

    /// Learners (not draining) whose log is within a few entries of the leader's, best first.
    fn caught_up_learners(&self) -> Vec<u64> {
        let metrics = self.raft.metrics().borrow().clone();
        let last = metrics.last_log_index.unwrap_or(0);
        let draining = self.peers.draining();
        let membership = metrics.membership_config.membership();
        let mut out: Vec<(u64, u64)> = membership
            .learner_ids()
            .filter(|l| !draining.contains(l))
            .filter_map(|l| {
                let matched = metrics.replication.as_ref()?.get(&l)?.as_ref()?.index;
                (matched + CAUGHT_UP >= last).then_some((l, matched))
            })
            .collect();
        out.sort_by_key(|(l, matched)| (std::cmp::Reverse(*matched), *l));
        out.into_iter().map(|(l, _)| l).collect()
    }

    /// On the leader, every few seconds: take back as learners the nodes of the cluster map
    /// that are not draining but left the Raft membership (a leader that stepped down), and
    /// promote caught-up learners while there are fewer voters than the cluster's size calls
    /// for.
    pub(super) fn keep_voters(self: std::sync::Arc<Self>) {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(KEEP_VOTERS_EVERY).await;
                if self.removed() {
                    return;
                }
                if !self.is_leader().await {
                    continue;
                }
                let _guard = self.joining.lock().await;
                let draining = self.peers.draining();
                for n in self.peers.nodes() {
                    if draining.contains(&n.id) || self.membership().get_node(&n.id).is_some() {
                        continue;
                    }
                    info!(
                        node = n.id,
                        "taking a node of the cluster map back as a learner"
                    );
                    let node = BasicNode::new(n.rpc_addr.clone());
                    if let Err(e) = self.raft.add_learner(n.id, node, false).await {
                        warn!(node = n.id, "taking it back failed: {e}");
                    }
                }
                let membership = self.membership();
                let mut voters: BTreeSet<u64> = membership.voter_ids().collect();
                let target = target_voters(membership.nodes().count());
                let before = voters.len();
                for l in self.caught_up_learners() {
                    if voters.len() >= target {
                        break;
                    }
                    voters.insert(l);
                }
                if voters.len() > before {
                    info!(voters = ?voters, "promoting learners to voters");
                    if let Err(e) = self.raft.change_membership(voters, true).await {
                        warn!("promoting learners failed: {e}");
                    }
                }
            }
        });
    }

    pub(super) fn membership(&self) -> openraft::Membership<u64, BasicNode> {
        self.raft
            .metrics()
            .borrow()
            .membership_config
            .membership()
            .clone()
    }

    /// Wait until this node's state machine has applied everything the leader had applied
    /// when asked: local metadata scans (the scrubber's) then see every acknowledged write,
    /// including those made while this node was down.
    pub async fn catch_up(&self, limit: Duration) -> Result<(), ProtoError> {
        let Some(addr) = self.leader().await? else {
            // Leading: the read index covers every committed entry, and waits for its apply.
            return self.read_index.wait(&self.raft).await;
        };
        let status = self.peers.client(&addr).node_status().await?;
        self.raft
            .wait(Some(limit))
            .applied_index_at_least(status.raft.last_applied, "catch up with the leader")
            .await
            .map(|_| ())
            .map_err(|e| ProtoError::Internal(format!("catching up: {e}")))
    }

    /// `None` when this node leads, else the leader's RPC address; waits up to
    /// [`LEADER_WAIT`] for an election to end.
    pub(super) async fn leader(&self) -> Result<Option<String>, ProtoError> {
        let deadline = tokio::time::Instant::now() + LEADER_WAIT;
        loop {
            // The metrics watch is a plain read; `Raft::current_leader` is a round trip through
            // Raft's core on every metadata request.
            let leader = self.raft.metrics().borrow().current_leader;
            match leader {
                Some(l) if l == self.config.id => return Ok(None),
                Some(l) => {
                    if let Some(n) = self.membership().get_node(&l) {
                        return Ok(Some(n.addr.clone()));
                    }
                }
                None => {}
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ProtoError::NotLeader(None));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
