//! [`Peers`]: this node's view of the other nodes: the cluster map as applied locally (for
//! placement) and one pooled, authenticated client per node address (for shard transfers and
//! forwarding metadata requests to the Raft leader).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use coffer_proto::client::RemoteCluster;
use coffer_proto::types::NodeInfo;
use tracing::warn;

use crate::meta::{query, MetaStore};

/// The other nodes.
pub struct Peers {
    store: MetaStore,
    secret: Vec<u8>,
    clients: Mutex<HashMap<String, Arc<RemoteCluster>>>,
}

impl Peers {
    /// Peers known from the cluster map in `store`, reached with the cluster `secret`.
    pub fn new(store: MetaStore, secret: Vec<u8>) -> Self {
        Peers {
            store,
            secret,
            clients: Mutex::default(),
        }
    }

    /// The cluster map as applied on this node (empty before the node registered).
    pub fn nodes(&self) -> Vec<NodeInfo> {
        query::nodes(&self.store).unwrap_or_else(|e| {
            warn!("failed to read the cluster map: {e}");
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
}
