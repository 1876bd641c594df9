//! [`Node`]: a running node (metadata store, Raft, drives) and its in-process
//! [`ClusterApi`] implementation, used directly by the all-in-one server and behind the RPC
//! listener by remote gateways. How a node enters the cluster and how members are admitted
//! and removed is [`membership`]; what it reports about itself and the cluster, [`status`].

mod formation;
mod membership;
mod removal;
mod status;

pub use formation::{seed_addresses, BOOTSTRAP_PROBE};
pub use membership::AddNodeError;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use coffer_proto::meta::{MetaAnswer, MetaCommand, MetaOk, MetaQuery};
use coffer_proto::types::{BlobRef, NodeInfo};
use coffer_proto::{ByteStream, ClusterApi, ProtoError};
use openraft::{BasicNode, SnapshotPolicy};
use tracing::{debug, info};

use crate::blob::BlobStore;
use crate::config::NodeConfig;
use crate::meta::{query, MetaStore};
use crate::peers::Peers;
use crate::raft::batch::Proposer;
use crate::raft::log_store::LogStore;
use crate::raft::network::Network;
use crate::raft::read_index::ReadIndex;
use crate::raft::state_machine::StateMachine;
use crate::raft::{schedule, Raft};
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
    /// Whether it may vote: not while it joins without Raft state.
    voting: std::sync::atomic::AtomicBool,
    /// Whether it learned that it was removed from the cluster.
    removed: std::sync::atomic::AtomicBool,
    /// Whether it started without state and has not yet finished a scrub pass that rebuilt
    /// every shard placed on it (a node whose volume was lost, or a new one).
    healing: std::sync::atomic::AtomicBool,
    /// Settings it was started with.
    pub config: NodeConfig,
}

fn raft_err(e: impl std::fmt::Display) -> StartError {
    StartError::Raft(e.to_string())
}

/// How long a request waits for a leader to be elected before it fails.
const LEADER_WAIT: Duration = Duration::from_secs(5);

impl Node {
    /// Open the stores and start Raft. On the first start of a node that may bootstrap and has
    /// nothing to join, bootstrap a one-voter cluster. Call [`Node::enter_cluster`] once the
    /// RPC listener runs.
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
            && config.may_bootstrap
        {
            info!(node = config.id, "bootstrapping a new cluster");
            let members =
                BTreeMap::from([(config.id, BasicNode::new(config.advertise_rpc.clone()))]);
            raft.initialize(members).await.map_err(raft_err)?;
        }
        // A node with Raft state votes from the start; one without it once it has entered.
        let voting = raft.is_initialized().await.map_err(raft_err)?;
        let node = Arc::new(Node {
            proposer: Proposer::start(raft.clone()),
            raft,
            store,
            blobs,
            peers,
            joining: tokio::sync::Mutex::new(()),
            read_index: Arc::default(),
            started: std::time::Instant::now(),
            voting: voting.into(),
            removed: false.into(),
            healing: (!voting).into(),
            config,
        });
        node.clone().keep_voters();
        Ok(node)
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
            .map_err(|e| ProtoError::Snapshot(e.to_string()))?;
        let metrics = self
            .raft
            .wait(Some(limit))
            .metrics(|m| m.snapshot.map(|s| s.index) >= applied, "snapshot built")
            .await
            .map_err(|e| ProtoError::Snapshot(e.to_string()))?;
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
        self.put_to_class(storage_class, rand::random(), body).await
    }

    async fn put_blob_as(
        &self,
        storage_class: &str,
        id: [u8; 16],
        body: ByteStream,
    ) -> Result<BlobRef, ProtoError> {
        self.put_to_class(storage_class, id, body).await
    }

    async fn get_blob(
        &self,
        blob: BlobRef,
        start: u64,
        end: u64,
    ) -> Result<ByteStream, ProtoError> {
        if let Some(tier) = crate::remote_tier::tier_of(&blob) {
            let remote = crate::remote_tier::Remote::of(self, &self.peers.tiers(), tier)?;
            return remote.get(&blob, start, end).await;
        }
        self.blobs.get(blob, start, end)
    }

    async fn delete_blob(&self, blob: BlobRef) -> Result<(), ProtoError> {
        if let Some(tier) = crate::remote_tier::tier_of(&blob) {
            // A tier removed meanwhile has nothing left to delete here.
            let tiers = self.peers.tiers();
            if tiers.by_id(tier).is_none() {
                return Ok(());
            }
            let remote = crate::remote_tier::Remote::of(self, &tiers, tier)?;
            return remote.delete(&blob).await;
        }
        self.blobs.delete(blob).await;
        Ok(())
    }

    async fn transition_blob(
        &self,
        blob: BlobRef,
        storage_class: &str,
    ) -> Result<BlobRef, ProtoError> {
        self.copy_to_class(blob, storage_class).await
    }
}
