//! [`Node`]: a running node (metadata store, Raft, drives) and its in-process
//! [`ClusterApi`] implementation, used directly by the all-in-one server and behind the RPC
//! listener by remote gateways.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use coffer_proto::meta::{MetaAnswer, MetaCommand, MetaOk, MetaQuery};
use coffer_proto::types::BlobRef;
use coffer_proto::{ByteStream, ClusterApi, ProtoError};
use openraft::error::{ClientWriteError, RaftError};
use openraft::{BasicNode, SnapshotPolicy};
use tracing::info;

use crate::blob::BlobStore;
use crate::config::NodeConfig;
use crate::erasure::default_profile;
use crate::meta::{query, MetaStore};
use crate::raft::log_store::LogStore;
use crate::raft::network::Network;
use crate::raft::state_machine::StateMachine;
use crate::raft::Raft;
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
    /// Settings it was started with.
    pub config: NodeConfig,
}

fn raft_err(e: impl std::fmt::Display) -> StartError {
    StartError::Raft(e.to_string())
}

impl Node {
    /// Open the stores, start Raft (bootstrapping a one-voter cluster on first start) and wait
    /// until this node leads.
    pub async fn start(config: NodeConfig) -> Result<Arc<Node>, StartError> {
        std::fs::create_dir_all(&config.meta_dir)?;
        let store = MetaStore::open(&config.meta_dir)?;
        let drives = Arc::new(Drives::open(config.id, &config.drives)?);
        let (k, m) = config
            .erasure
            .unwrap_or_else(|| default_profile(config.drives.len()));
        let blobs = BlobStore::new(drives, k, m, config.stripe_size).map_err(StartError::Blobs)?;
        let raft_config = openraft::Config {
            cluster_name: "coffer".into(),
            heartbeat_interval: 150,
            election_timeout_min: 500,
            election_timeout_max: 1000,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(20_000),
            max_in_snapshot_log_to_keep: 1_000,
            ..Default::default()
        }
        .validate()
        .map_err(raft_err)?;
        let raft = Raft::new(
            config.id,
            Arc::new(raft_config),
            Network::new(Arc::new(config.secret.clone())),
            LogStore::new(store.clone())?,
            StateMachine::new(store.clone(), config.meta_dir.join("snapshots"))?,
        )
        .await
        .map_err(raft_err)?;
        if !raft.is_initialized().await.map_err(raft_err)? {
            info!(node = config.id, "bootstrapping a new cluster");
            let members =
                BTreeMap::from([(config.id, BasicNode::new(config.advertise_rpc.clone()))]);
            raft.initialize(members).await.map_err(raft_err)?;
        }
        raft.wait(Some(Duration::from_secs(30)))
            .current_leader(config.id, "this node leads")
            .await
            .map_err(raft_err)?;
        info!(node = config.id, erasure = %format!("{k}+{m}"), "node ready");
        Ok(Arc::new(Node {
            raft,
            store,
            blobs,
            config,
        }))
    }

    /// The blob store over this node's drives.
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// The local metadata database (the state machine as applied here).
    pub fn meta_store(&self) -> &MetaStore {
        &self.store
    }

    /// Stop Raft.
    pub async fn shutdown(&self) {
        let _ = self.raft.shutdown().await;
    }
}

fn write_err(e: RaftError<u64, ClientWriteError<u64, BasicNode>>) -> ProtoError {
    match e {
        RaftError::APIError(ClientWriteError::ForwardToLeader(f)) => {
            ProtoError::NotLeader(f.leader_node.map(|n| n.addr))
        }
        RaftError::APIError(ClientWriteError::ChangeMembershipError(c)) => {
            ProtoError::Internal(c.to_string())
        }
        RaftError::Fatal(f) => ProtoError::Internal(format!("raft stopped: {f}")),
    }
}

#[async_trait]
impl ClusterApi for Node {
    async fn meta_write(&self, cmd: MetaCommand) -> Result<MetaOk, ProtoError> {
        self.raft.client_write(cmd).await.map_err(write_err)?.data
    }

    async fn meta_read(&self, q: MetaQuery) -> Result<MetaAnswer, ProtoError> {
        self.raft.ensure_linearizable().await.map_err(|e| match e {
            RaftError::APIError(openraft::error::CheckIsLeaderError::ForwardToLeader(f)) => {
                ProtoError::NotLeader(f.leader_node.map(|n| n.addr))
            }
            RaftError::APIError(openraft::error::CheckIsLeaderError::QuorumNotEnough(q)) => {
                ProtoError::QuorumNotReached(q.to_string())
            }
            RaftError::Fatal(f) => ProtoError::Internal(format!("raft stopped: {f}")),
        })?;
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

    async fn put_blob(&self, body: ByteStream) -> Result<BlobRef, ProtoError> {
        self.blobs.put(body).await
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
        self.blobs.delete(blob).await
    }
}
