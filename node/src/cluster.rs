//! [`Node`]: a running node (metadata store, Raft, drives) and its in-process
//! [`ClusterApi`] implementation, used directly by the all-in-one server and behind the RPC
//! listener by remote gateways.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use coffer_proto::admin::{
    ClusterStatus, DriveStatus, HealCounters, MemberStatus, NodeStatus, RaftStatus,
};
use coffer_proto::meta::{MetaAnswer, MetaCommand, MetaOk, MetaQuery};
use coffer_proto::types::{BlobRef, NodeInfo};
use coffer_proto::{ByteStream, ClusterApi, ProtoError};
use openraft::{BasicNode, SnapshotPolicy};
use tracing::{debug, info, warn};

use crate::blob::BlobStore;
use crate::config::NodeConfig;
use crate::meta::{query, MetaStore};
use crate::peers::Peers;
use crate::raft::batch::Proposer;
use crate::raft::log_store::LogStore;
use crate::raft::network::Network;
use crate::raft::read_index::ReadIndex;
use crate::raft::state_machine::StateMachine;
use crate::raft::{schedule, write_err, Raft};
use crate::shard::Drives;

/// Errors starting a node.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The metadata store did not open.
    #[error("open metadata store: {0}")]
    Store(#[from] crate::meta::store::StoreError),
    /// Drive directories could not be prepared.
    #[error("prepare drives: {0}")]
    Drives(#[from] std::io::Error),
    /// Raft did not start or elect a leader.
    #[error("raft: {0}")]
    Raft(String),
    /// The blob store configuration is invalid.
    #[error("blob store: {0}")]
    Blobs(ProtoError),
}

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

/// A running node.
pub struct Node {
    /// Raft handle.
    pub raft: Raft,
    store: MetaStore,
    blobs: BlobStore,
    peers: Arc<Peers>,
    /// Joins are handled one at a time (membership changes must not overlap).
    joining: tokio::sync::Mutex<()>,
    /// Linearizable reads on the leader share read-index rounds.
    read_index: Arc<ReadIndex>,
    /// Metadata writes this node leads, batched into Raft entries.
    proposer: Proposer,
    started: std::time::Instant,
    /// Settings it was started with.
    pub config: NodeConfig,
}

fn raft_err(e: impl std::fmt::Display) -> StartError {
    StartError::Raft(e.to_string())
}

/// How long a request waits for a leader to be elected before it fails.
const LEADER_WAIT: Duration = Duration::from_secs(5);

/// How many voters a cluster of `nodes` members has; the others are learners.
fn target_voters(nodes: usize) -> usize {
    match nodes {
        0..=2 => 1,
        3 | 4 => 3,
        _ => 5,
    }
}

impl Node {
    /// Open the stores and start Raft. On the first start without anything to join, bootstrap
    /// a one-voter cluster. Call [`Node::enter_cluster`] once the RPC listener runs.
    pub async fn start(config: NodeConfig) -> Result<Arc<Node>, StartError> {
        std::fs::create_dir_all(&config.meta_dir)?;
        let store = MetaStore::open(&config.meta_dir)?;
        // A database written by a newer Coffer is refused before anything reads it.
        crate::meta::format::check_and_record(&store)?;
        let drives = Arc::new(Drives::open(config.id, &config.drives)?);
        let peers = Arc::new(Peers::new(store.clone(), config.secret.clone()));
        let blobs = BlobStore::new(
            drives,
            peers.clone(),
            config.erasure,
            config.quorum_margin,
            config.stripe_size,
        )
        .map_err(StartError::Blobs)?;
        let raft_config = openraft::Config {
            cluster_name: "coffer".into(),
            heartbeat_interval: 150,
            election_timeout_min: 500,
            election_timeout_max: 1000,
            // raft::schedule decides when, from the log's growth and the state's size.
            snapshot_policy: SnapshotPolicy::Never,
            max_in_snapshot_log_to_keep: 1_000,
            // Entries per AppendEntries message: batched entries reach about 256 KiB
            // (raft::batch), and a message must stay well under the 64 MiB frame limit.
            max_payload_entries: 64,
            ..Default::default()
        }
        .validate()
        .map_err(raft_err)?;
        let log_bytes = schedule::LogBytes::default();
        let state_machine = StateMachine::new(store.clone(), config.meta_dir.join("snapshots"))?;
        let snapshot_file = state_machine.current_file();
        let raft = Raft::new(
            config.id,
            Arc::new(raft_config),
            Network::new(Arc::new(config.secret.clone())),
            LogStore::new(store.clone(), log_bytes.clone())?,
            state_machine,
        )
        .await
        .map_err(raft_err)?;
        tokio::spawn(schedule::run(raft.clone(), log_bytes, snapshot_file));
        if !raft.is_initialized().await.map_err(raft_err)?
            && config.join.is_empty()
            && !config.await_admission
        {
            info!(node = config.id, "bootstrapping a new cluster");
            let members =
                BTreeMap::from([(config.id, BasicNode::new(config.advertise_rpc.clone()))]);
            raft.initialize(members).await.map_err(raft_err)?;
        }
        Ok(Arc::new(Node {
            proposer: Proposer::start(raft.clone()),
            raft,
            store,
            blobs,
            peers,
            joining: tokio::sync::Mutex::new(()),
            read_index: Arc::default(),
            started: std::time::Instant::now(),
            config,
        }))
    }

    /// This node as the cluster map records it.
    pub fn info(&self) -> NodeInfo {
        NodeInfo {
            id: self.config.id,
            rpc_addr: self.config.advertise_rpc.clone(),
            drives: u32::try_from(self.config.drives.len()).unwrap_or(u32::MAX),
            zone: self.config.zone.clone(),
        }
    }

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

    fn membership(&self) -> openraft::Membership<u64, BasicNode> {
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
    async fn leader(&self) -> Result<Option<String>, ProtoError> {
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
        let asks = nodes.into_iter().map(|n| {
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
        }
    }

    /// Whether this node leads now.
    pub async fn is_leader(&self) -> bool {
        self.raft.metrics().borrow().current_leader == Some(self.config.id)
    }

    /// The blob store over this node's drives.
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// The other nodes.
    pub fn peers(&self) -> &Peers {
        &self.peers
    }

    /// The local metadata database (the state machine as applied here).
    pub fn meta_store(&self) -> &MetaStore {
        &self.store
    }

    /// Build a snapshot of this node's state machine now (the log up to it is purged as usual,
    /// keeping the last entries) and wait until it is in place, `limit` at most. Returns the
    /// log index it covers.
    pub async fn snapshot_now(&self, limit: Duration) -> Result<Option<u64>, ProtoError> {
        let applied = self.raft.metrics().borrow().last_applied.map(|l| l.index);
        self.raft
            .trigger()
            .snapshot()
            .await
            .map_err(|e| ProtoError::Internal(format!("snapshot: {e}")))?;
        let metrics = self
            .raft
            .wait(Some(limit))
            .metrics(|m| m.snapshot.map(|s| s.index) >= applied, "snapshot built")
            .await
            .map_err(|e| ProtoError::Internal(format!("snapshot: {e}")))?;
        Ok(metrics.snapshot.map(|s| s.index))
    }

    /// Stop Raft.
    pub async fn shutdown(&self) {
        let _ = self.raft.shutdown().await;
    }
}

/// The leader a request was forwarded to could not be reached: it most likely died, and the
/// others will elect a new one. Wait a little (until `deadline`) before asking again.
async fn leader_gone(
    addr: &str,
    e: &str,
    deadline: tokio::time::Instant,
) -> Result<(), ProtoError> {
    debug!(leader = addr, "leader unreachable: {e}");
    if tokio::time::Instant::now() >= deadline {
        return Err(ProtoError::NotLeader(None));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}

#[async_trait]
impl ClusterApi for Node {
    async fn meta_write(&self, cmd: MetaCommand) -> Result<MetaOk, ProtoError> {
        // Forwarded again after a lost answer, it still applies once.
        let cmd = cmd.once();
        let deadline = tokio::time::Instant::now() + LEADER_WAIT;
        loop {
            let Some(addr) = self.leader().await? else {
                return self.proposer.write(cmd).await;
            };
            match self.peers.client(&addr).meta_write(cmd.clone()).await {
                Err(ProtoError::Unreachable(e)) => leader_gone(&addr, &e, deadline).await?,
                other => return other,
            }
        }
    }

    async fn meta_read(&self, q: MetaQuery) -> Result<MetaAnswer, ProtoError> {
        let deadline = tokio::time::Instant::now() + LEADER_WAIT;
        while let Some(addr) = self.leader().await? {
            match self.peers.client(&addr).meta_read(q.clone()).await {
                Err(ProtoError::Unreachable(e)) => leader_gone(&addr, &e, deadline).await?,
                other => return other,
            }
        }
        self.read_index.wait(&self.raft).await?;
        let scan = matches!(
            q,
            MetaQuery::ListObjects { .. }
                | MetaQuery::ListUploads { .. }
                | MetaQuery::ListParts { .. }
        );
        if scan {
            let store = self.store.clone();
            tokio::task::spawn_blocking(move || query::answer(&store, &q))
                .await
                .map_err(|e| ProtoError::Internal(e.to_string()))?
                .map_err(ProtoError::from)
        } else {
            query::answer(&self.store, &q).map_err(ProtoError::from)
        }
    }

    async fn put_blob(&self, storage_class: &str, body: ByteStream) -> Result<BlobRef, ProtoError> {
        self.blobs.put(storage_class, body).await
    }

    async fn get_blob(
        &self,
        blob: BlobRef,
        start: u64,
        end: u64,
    ) -> Result<ByteStream, ProtoError> {
        self.blobs.get(blob, start, end)
    }

    async fn delete_blob(&self, blob: BlobRef) -> Result<(), ProtoError> {
        self.blobs.delete(blob).await;
        Ok(())
    }
}
