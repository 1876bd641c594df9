//! [`ClusterClient`]: a [`ClusterApi`] over every node of a cluster, for gateways. It starts from
//! the seed addresses it is given, learns the rest from the cluster map, sends each request to
//! a node that answers (skipping one that just failed to connect for a moment), spreads blob
//! writes across nodes, and reads a blob through a node that holds one of its data shards.
//! Metadata requests go to the Raft leader it last heard of (any node would forward them
//! there, at the cost of a hop).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt;
use tracing::{debug, warn};

use crate::api::{unexpected, ByteStream, ClusterApi};
use crate::client::RemoteCluster;
use crate::error::ProtoError;
use crate::meta::{MetaAnswer, MetaCommand, MetaOk, MetaQuery};
use crate::types::BlobRef;

/// How long a node that could not be reached is tried last.
const BACKOFF: Duration = Duration::from_secs(2);

/// How often the cluster map is fetched again.
const REFRESH: Duration = Duration::from_secs(2);

/// One known node.
struct Member {
    /// Node id, once the cluster map has named it.
    id: Option<u64>,
    client: Arc<RemoteCluster>,
}

/// A client of a whole cluster.
pub struct ClusterClient {
    secret: Vec<u8>,
    seeds: Vec<String>,
    members: RwLock<Arc<Vec<Member>>>,
    /// Address → when it last failed to connect.
    failed: Mutex<HashMap<String, Instant>>,
    next: AtomicUsize,
    /// The Raft leader's node id as last heard (0: unknown).
    leader: AtomicU64,
    /// This client, for blob streams that resume on another node.
    me: Weak<ClusterClient>,
}

/// How many times a blob stream that broke off is resumed on another node.
const RESUMES: u32 = 3;

impl ClusterClient {
    /// A client starting from `seeds` (host:port of any nodes). Call
    /// [`ClusterClient::keep_fresh`] to follow membership changes.
    pub fn new(seeds: Vec<String>, secret: Vec<u8>) -> Arc<Self> {
        let members = seeds
            .iter()
            .map(|a| Member {
                id: None,
                client: Arc::new(RemoteCluster::new(a.clone(), secret.clone())),
            })
            .collect();
        Arc::new_cyclic(|me| ClusterClient {
            secret,
            seeds,
            members: RwLock::new(Arc::new(members)),
            failed: Mutex::default(),
            next: AtomicUsize::new(0),
            leader: AtomicU64::new(0),
            me: me.clone(),
        })
    }

    /// Fetch the cluster map now and then, for as long as the client lives.
    pub fn keep_fresh(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(me) = weak.upgrade() else { return };
                if let Err(e) = me.refresh().await {
                    debug!("cluster map refresh failed: {e}");
                }
                drop(me);
                tokio::time::sleep(REFRESH).await;
            }
        });
    }

    /// Replace the member list with the cluster map's nodes (the seeds when it is empty).
    pub async fn refresh(&self) -> Result<(), ProtoError> {
        let nodes = match self.meta_read(MetaQuery::ClusterMap).await? {
            MetaAnswer::Nodes(n) => n,
            other => return Err(unexpected(&other)),
        };
        if nodes.is_empty() {
            return Ok(());
        }
        let old = self.members();
        let members: Vec<Member> = nodes
            .into_iter()
            .map(|n| {
                let client = old
                    .iter()
                    .find(|m| m.client.addr() == n.rpc_addr)
                    .map(|m| m.client.clone())
                    .unwrap_or_else(|| {
                        Arc::new(RemoteCluster::new(n.rpc_addr.clone(), self.secret.clone()))
                    });
                Member {
                    id: Some(n.id),
                    client,
                }
            })
            .collect();
        if let Ok(mut m) = self.members.write() {
            *m = Arc::new(members);
        }
        let status = self
            .first(&[], true, |n| async move { n.node_status().await })
            .await?;
        self.leader
            .store(status.raft.leader.unwrap_or(0), Ordering::Relaxed);
        Ok(())
    }

    /// The leader to send metadata requests to first (none when unknown).
    /// Store a blob through the first node that takes a connection (the body can be sent only
    /// once: the node is picked by connecting first), under `id` when the caller chose one.
    async fn put_blob_with(
        &self,
        storage_class: &str,
        id: Option<[u8; 16]>,
        body: ByteStream,
    ) -> Result<BlobRef, ProtoError> {
        let conn = self
            .first(&[], true, |n| async move {
                Ok((n.clone(), n.connection().await?))
            })
            .await;
        let (node, conn) = conn?;
        node.put_blob_on(conn, storage_class, id, body).await
    }

    fn leader(&self) -> Vec<u64> {
        match self.leader.load(Ordering::Relaxed) {
            0 => Vec::new(),
            id => vec![id],
        }
    }

    fn members(&self) -> Arc<Vec<Member>> {
        match self.members.read() {
            Ok(m) => m.clone(),
            Err(_) => Arc::new(Vec::new()),
        }
    }

    /// The nodes to try, in order: those in `prefer` first, then the rest starting at a
    /// rotating position; nodes that recently failed to connect go last.
    fn order(&self, prefer: &[u64]) -> Vec<Arc<RemoteCluster>> {
        let members = self.members();
        let n = members.len().max(1);
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let mut list: Vec<(u8, usize, Arc<RemoteCluster>)> = members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let preferred = m.id.is_some_and(|id| prefer.contains(&id));
                let rank = if self.recently_failed(m.client.addr()) {
                    2
                } else if preferred {
                    0
                } else {
                    1
                };
                (rank, (i + n - start) % n, m.client.clone())
            })
            .collect();
        list.sort_by_key(|(rank, pos, _)| (*rank, *pos));
        let mut out: Vec<Arc<RemoteCluster>> = list.into_iter().map(|(_, _, c)| c).collect();
        if out.is_empty() {
            out = self
                .seeds
                .iter()
                .map(|a| Arc::new(RemoteCluster::new(a.clone(), self.secret.clone())))
                .collect();
        }
        out
    }

    fn recently_failed(&self, addr: &str) -> bool {
        self.failed
            .lock()
            .ok()
            .and_then(|f| f.get(addr).copied())
            .is_some_and(|t| t.elapsed() < BACKOFF)
    }

    fn mark(&self, addr: &str, ok: bool) {
        if let Ok(mut f) = self.failed.lock() {
            if ok {
                f.remove(addr);
            } else {
                f.insert(addr.to_owned(), Instant::now());
            }
        }
    }

    /// Run `op` on the first node that can be reached. A node that times out or drops the
    /// connection is tried last for a while too; `idempotent` operations then go on to the
    /// next node, others return the error (the request may have been carried out).
    async fn first<T, F, Fut>(
        &self,
        prefer: &[u64],
        idempotent: bool,
        op: F,
    ) -> Result<T, ProtoError>
    where
        F: Fn(Arc<RemoteCluster>) -> Fut,
        Fut: std::future::Future<Output = Result<T, ProtoError>>,
    {
        let mut last = ProtoError::Unreachable("no cluster node known".into());
        for node in self.order(prefer) {
            match op(node.clone()).await {
                Err(ProtoError::Unreachable(e)) => {
                    warn!(node = node.addr(), "node unreachable: {e}");
                    self.mark(node.addr(), false);
                    last = ProtoError::Unreachable(e);
                }
                // A timeout, or a connection reset or closed under the request (a node
                // killed just then): the request may have been carried out.
                Err(e)
                    if matches!(e, ProtoError::Timeout | ProtoError::Io(_))
                        || e.is_wire_failure() =>
                {
                    warn!(node = node.addr(), "node failed: {e}");
                    self.mark(node.addr(), false);
                    if !idempotent {
                        return Err(e);
                    }
                    last = e;
                }
                other => {
                    self.mark(node.addr(), true);
                    return other;
                }
            }
        }
        Err(last)
    }

    /// Open a stream of bytes `start..end` of a blob on a node holding one of its data shards
    /// (any node when none answers); returns the node's address with it.
    async fn open_blob(
        &self,
        blob: &BlobRef,
        start: u64,
        end: u64,
    ) -> Result<(String, ByteStream), ProtoError> {
        let k = usize::from(blob.layout.k);
        let holders: Vec<u64> = blob.placement.iter().take(k).map(|l| l.node).collect();
        self.first(&holders, true, |n| {
            let blob = blob.clone();
            async move {
                let s = n.get_blob(blob, start, end).await?;
                Ok((n.addr().to_owned(), s))
            }
        })
        .await
    }
}

/// A blob stream that, when its node goes away mid-way, carries on from the next byte on
/// another node: a GET already answering keeps going when a node dies.
struct Resume {
    client: Arc<ClusterClient>,
    blob: BlobRef,
    /// The next byte to deliver.
    pos: u64,
    end: u64,
    /// The node serving `stream`.
    addr: String,
    stream: ByteStream,
    resumes: u32,
    done: bool,
}

impl Resume {
    async fn next(mut self) -> Option<(Result<bytes::Bytes, ProtoError>, Self)> {
        loop {
            if self.done {
                return None;
            }
            let err = match self.stream.next().await {
                Some(Ok(b)) => {
                    self.pos += b.len() as u64;
                    return Some((Ok(b), self));
                }
                None if self.pos >= self.end => return None,
                None => ProtoError::Io("blob stream ended early".into()),
                Some(Err(e)) => e,
            };
            // A node that dies mid-stream closes its connection (a protocol error here); one
            // that lost too many shards at once may do better elsewhere.
            let resumable = err.is_retryable()
                || err.is_wire_failure()
                || matches!(err, ProtoError::Corrupt(_) | ProtoError::Internal(_));
            if !resumable || self.resumes >= RESUMES {
                self.done = true;
                return Some((Err(err), self));
            }
            self.resumes += 1;
            warn!(node = %self.addr, offset = self.pos, "blob stream broke off ({err}); resuming elsewhere");
            self.client.mark(&self.addr, false);
            match self.client.open_blob(&self.blob, self.pos, self.end).await {
                Ok((addr, stream)) => {
                    self.addr = addr;
                    self.stream = stream;
                }
                Err(e) => {
                    self.done = true;
                    return Some((Err(e), self));
                }
            }
        }
    }
}

#[async_trait]
impl ClusterApi for ClusterClient {
    async fn meta_write(&self, cmd: MetaCommand) -> Result<MetaOk, ProtoError> {
        // One id for every attempt: the state machine applies the command once however often
        // it arrives, so a write whose answer was lost may be sent again, to any node.
        let cmd = cmd.once();
        self.first(&self.leader(), true, |n| {
            let cmd = cmd.clone();
            async move { n.meta_write(cmd).await }
        })
        .await
    }

    async fn meta_read(&self, query: MetaQuery) -> Result<MetaAnswer, ProtoError> {
        self.first(&self.leader(), true, |n| {
            let q = query.clone();
            async move { n.meta_read(q).await }
        })
        .await
    }

    async fn put_blob(&self, storage_class: &str, body: ByteStream) -> Result<BlobRef, ProtoError> {
        self.put_blob_with(storage_class, None, body).await
    }

    async fn put_blob_as(
        &self,
        storage_class: &str,
        id: [u8; 16],
        body: ByteStream,
    ) -> Result<BlobRef, ProtoError> {
        self.put_blob_with(storage_class, Some(id), body).await
    }

    async fn get_blob(
        &self,
        blob: BlobRef,
        start: u64,
        end: u64,
    ) -> Result<ByteStream, ProtoError> {
        let (addr, stream) = self.open_blob(&blob, start, end).await?;
        let Some(me) = self.me.upgrade() else {
            return Ok(stream);
        };
        let state = Resume {
            client: me,
            blob,
            pos: start,
            end,
            addr,
            stream,
            resumes: 0,
            done: false,
        };
        Ok(Box::pin(futures::stream::unfold(state, Resume::next)))
    }

    async fn delete_blob(&self, blob: BlobRef) -> Result<(), ProtoError> {
        self.first(&[], true, |n| {
            let blob = blob.clone();
            async move { n.delete_blob(blob).await }
        })
        .await
    }

    async fn transition_blob(
        &self,
        blob: BlobRef,
        storage_class: &str,
    ) -> Result<BlobRef, ProtoError> {
        // Any node copies (a copy that died halfway is an orphan the sweep removes).
        self.first(&[], true, |n| {
            let blob = blob.clone();
            async move { n.transition_blob(blob, storage_class).await }
        })
        .await
    }
}
