//! [`Peers`]: this node's view of the other nodes: the cluster map as applied locally (for
//! placement) and one pooled, authenticated client per node address (for shard transfers and
//! forwarding metadata requests to the Raft leader).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coffer_proto::client::RemoteCluster;
use coffer_proto::meta::BucketConfigKind;
use coffer_proto::tier::{NodeLabels, Tiers};
use coffer_proto::types::NodeInfo;
use coffer_proto::ProtoError;
use tracing::warn;

use crate::meta::{policies, query, MetaStore};

/// The other nodes.
pub struct Peers {
    store: MetaStore,
    secret: Vec<u8>,
    clients: Mutex<HashMap<String, Arc<RemoteCluster>>>,
    /// Nodes that just failed to answer, and until when they are left alone.
    down: Mutex<HashMap<u64, Instant>>,
}

/// How long a node that did not answer is left out of data paths (writes place nothing on
/// it, reads rebuild its shards from parity) before it is tried again.
const DOWN_FOR: Duration = Duration::from_secs(5);

impl Peers {
    /// Peers known from the cluster map in `store`, reached with the cluster `secret`.
    pub fn new(store: MetaStore, secret: Vec<u8>) -> Self {
        Peers {
            store,
            secret,
            clients: Mutex::default(),
            down: Mutex::default(),
        }
    }

    /// The cluster map as applied on this node (empty before the node registered).
    pub fn nodes(&self) -> Vec<NodeInfo> {
        query::nodes(&self.store).unwrap_or_else(|e| {
            warn!("failed to read the cluster map: {e}");
            Vec::new()
        })
    }

    /// Ids of the nodes being drained, as applied on this node.
    pub fn draining(&self) -> Vec<u64> {
        query::draining(&self.store).unwrap_or_else(|e| {
            warn!("failed to read the draining nodes: {e}");
            Vec::new()
        })
    }

    /// The erasure profile given to a storage class, as applied on this node.
    pub fn storage_class(&self, name: &str) -> Option<(u8, u8)> {
        query::storage_class(&self.store, name).unwrap_or_else(|e| {
            warn!("failed to read storage class {name}: {e}");
            None
        })
    }

    /// The tiers as applied on this node (none when the document is missing or unreadable).
    pub fn tiers(&self) -> Tiers {
        let doc = policies::cluster_config(&self.store, BucketConfigKind::Tiers);
        doc.map_err(|e| e.to_string())
            .and_then(|d| Tiers::decode(d.as_deref()).map_err(|e| e.to_string()))
            .unwrap_or_else(|e| {
                warn!("failed to read the tiers: {e}");
                Tiers::default()
            })
    }

    /// Every node's labels as applied on this node.
    pub fn labels(&self) -> NodeLabels {
        let doc = policies::cluster_config(&self.store, BucketConfigKind::NodeLabels);
        doc.map_err(|e| e.to_string())
            .and_then(|d| NodeLabels::decode(d.as_deref()).map_err(|e| e.to_string()))
            .unwrap_or_else(|e| {
                warn!("failed to read the node labels: {e}");
                NodeLabels::default()
            })
    }

    /// Every storage class given its own erasure profile: (name, k, m).
    pub fn storage_classes(&self) -> Vec<(String, u8, u8)> {
        query::storage_classes(&self.store).unwrap_or_else(|e| {
            warn!("failed to read the storage classes: {e}");
            Vec::new()
        })
    }

    /// The client for a node address.
    pub fn client(&self, addr: &str) -> Arc<RemoteCluster> {
        let new = || Arc::new(RemoteCluster::new(addr, self.secret.clone()));
        match self.clients.lock() {
            Ok(mut c) => c.entry(addr.to_owned()).or_insert_with(new).clone(),
            Err(_) => new(),
        }
    }

    /// The client for a node id, if the cluster map knows it.
    pub fn node(&self, id: u64) -> Option<Arc<RemoteCluster>> {
        let addr = self.nodes().into_iter().find(|n| n.id == id)?.rpc_addr;
        Some(self.client(&addr))
    }

    /// Whether node `id` failed to answer in the last few seconds.
    pub fn is_suspect(&self, id: u64) -> bool {
        self.down
            .lock()
            .ok()
            .and_then(|d| d.get(&id).copied())
            .is_some_and(|until| Instant::now() < until)
    }

    /// Note how a call to node `id` ended: a node that could not be reached or timed out is
    /// left out of data paths for a few seconds.
    pub fn observe<T>(&self, id: u64, result: &Result<T, ProtoError>) {
        let failed = matches!(
            result,
            Err(ProtoError::Unreachable(_) | ProtoError::Timeout)
        );
        if let Ok(mut d) = self.down.lock() {
            if failed {
                warn!(
                    node = id,
                    "node not answering; leaving it out for {DOWN_FOR:?}"
                );
                d.insert(id, Instant::now() + DOWN_FOR);
            } else {
                d.remove(&id);
            }
        }
    }
}
