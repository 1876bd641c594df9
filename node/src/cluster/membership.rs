//! Membership: a node entering the cluster (joining through a member, or waiting to be
//! admitted), admitting and removing members (voters and learners), catching up, and finding
//! the leader.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use coffer_proto::meta::MetaCommand;
use coffer_proto::types::NodeInfo;
use coffer_proto::{ClusterApi as _, ProtoError};
use openraft::BasicNode;
use tracing::{debug, info, warn};

use crate::raft::write_err;

use super::{raft_err, Node, StartError, LEADER_WAIT};

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

/// How many voters a cluster of `nodes` members has; the others are learners.
fn target_voters(nodes: usize) -> usize {
    match nodes {
        0..=2 => 1,
        3 | 4 => 3,
        _ => 5,
    }
}

impl Node {
    /// Become a working member: join through `config.join` on a first start, otherwise wait
    /// for a leader; then make sure the cluster map has this node's current address and
    /// drives. A node that cannot reach a leader within `wait` keeps trying in the background.
    pub async fn enter_cluster(self: &Arc<Self>, wait: Duration) -> Result<(), StartError> {
        if !self.raft.is_initialized().await.map_err(raft_err)? {
            if self.config.join.is_empty() {
                self.await_admission().await?;
            } else {
                self.join(wait).await?;
            }
        }
        let me = self.clone();
        let announce = async move {
            loop {
                let known = me.peers.nodes().into_iter().find(|n| n.id == me.config.id);
                if known.as_ref() == Some(&me.info()) {
                    return;
                }
                match me.meta_write(MetaCommand::RegisterNode(me.info())).await {
                    Ok(_) => {
                        info!(node = me.config.id, "registered in the cluster map");
                        return;
                    }
                    Err(e) => debug!("cluster map registration postponed: {e}"),
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        };
        let task = tokio::spawn(announce);
        match tokio::time::timeout(wait, task).await {
            Ok(_) => info!(node = self.config.id, "node ready"),
            Err(_) => warn!(
                node = self.config.id,
                "no leader yet; registering in the background"
            ),
        }
        Ok(())
    }

    /// Wait, without limit, until a member takes this node in (`coffer admin node add`): the
    /// leader's first log entries initialize its Raft state.
    async fn await_admission(&self) -> Result<(), StartError> {
        warn!(
            node = self.config.id,
            rpc = %self.config.advertise_rpc,
            "waiting to be admitted: run `coffer admin node add {}` against a member",
            self.config.advertise_rpc
        );
        let mut metrics = self.raft.metrics();
        loop {
            if self.raft.is_initialized().await.map_err(raft_err)? {
                info!(node = self.config.id, "admitted to the cluster");
                return Ok(());
            }
            if metrics.changed().await.is_err() {
                return Err(StartError::Raft("raft stopped".into()));
            }
        }
    }

    async fn join(&self, wait: Duration) -> Result<(), StartError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            for seed in &self.config.join {
                match self.peers.client(seed).join(self.info()).await {
                    Ok(()) => {
                        info!(node = self.config.id, through = %seed, "joined the cluster");
                        return Ok(());
                    }
                    Err(e) => debug!(%seed, "join failed: {e}"),
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(StartError::Raft(format!(
                    "could not join through {}",
                    self.config.join.join(", ")
                )));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

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
        if known.as_deref() != Some(node.rpc_addr.as_str()) {
            self.raft
                .add_learner(node.id, BasicNode::new(node.rpc_addr.clone()), true)
                .await
                .map_err(write_err)?;
        }
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
