//! Raft messages between nodes, carried as opaque payloads in the internal RPC
//! ([`coffer_proto::codec::Request::Raft`]), one pooled authenticated connection per peer.

use std::sync::Arc;

use coffer_proto::client::Conn;
use coffer_proto::codec::{RaftOp, Request, Response};
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::BasicNode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{io_err, NodeId, TypeConfig};

/// Creates a [`Peer`] per target node.
#[derive(Clone)]
pub struct Network {
    secret: Arc<Vec<u8>>,
}

impl Network {
    /// A network whose connections authenticate with the cluster `secret`.
    pub fn new(secret: Arc<Vec<u8>>) -> Self {
        Network { secret }
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Peer;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> Peer {
        Peer {
            target,
            addr: node.addr.clone(),
            secret: self.secret.clone(),
            conn: None,
        }
    }
}

/// A connection to one peer, re-established on failure.
pub struct Peer {
    target: NodeId,
    addr: String,
    secret: Arc<Vec<u8>>,
    conn: Option<Conn>,
}

type RpcErr<E> = RPCError<NodeId, BasicNode, RaftError<NodeId, E>>;

impl Peer {
    async fn call<Q, A, E>(
        &mut self,
        op: RaftOp,
        req: &Q,
        option: &RPCOption,
    ) -> Result<A, RpcErr<E>>
    where
        Q: Serialize,
        A: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let payload = bincode::serialize(req)
            .map_err(|e| RPCError::Network(NetworkError::new(&io_err(e))))?;
        let conn = match self.conn.take() {
            Some(c) => c,
            None => Conn::connect(&self.addr, &self.secret)
                .await
                .map_err(|e| RPCError::Unreachable(Unreachable::new(&io_err(e))))?,
        };
        let mut conn = conn;
        let resp =
            tokio::time::timeout(option.hard_ttl(), conn.call(Request::Raft { op, payload }))
                .await
                .map_err(|e| RPCError::Unreachable(Unreachable::new(&io_err(e))))?
                .map_err(|e| RPCError::Unreachable(Unreachable::new(&io_err(e))))?;
        self.conn = Some(conn);
        match resp {
            Response::Raft(bytes) => {
                let r: Result<A, RaftError<NodeId, E>> = bincode::deserialize(&bytes)
                    .map_err(|e| RPCError::Network(NetworkError::new(&io_err(e))))?;
                r.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
            }
            other => Err(RPCError::Network(NetworkError::new(&io_err(format!(
                "unexpected raft response {other:?}"
            ))))),
        }
    }
}

impl RaftNetwork<TypeConfig> for Peer {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RpcErr<openraft::error::Infallible>> {
        self.call(RaftOp::AppendEntries, &rpc, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RpcErr<InstallSnapshotError>> {
        self.call(RaftOp::InstallSnapshot, &rpc, &option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RpcErr<openraft::error::Infallible>> {
        self.call(RaftOp::Vote, &rpc, &option).await
    }
}
