//! [`RemoteCluster`]: a [`ClusterApi`] over TCP to one node's RPC listener, with a small pool of
//! authenticated connections, and the node-to-node calls (join, shard transfer). One request is
//! in flight per connection at a time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use tokio::io::BufReader;
use tokio::net::TcpStream;

use crate::api::{ByteStream, ClusterApi};
use crate::codec::{client_handshake, expect_frame, write_frame, Frame, Request, Response};
use crate::error::ProtoError;
use crate::meta::{MetaAnswer, MetaCommand, MetaOk, MetaQuery};
use crate::types::{BlobRef, NodeInfo};

/// One authenticated connection.
pub struct Conn {
    stream: BufReader<TcpStream>,
}

/// Make closing `tcp` reset the connection and drop what it has not delivered. A caller gives
/// up on a request after its time limit and drops the connection; with an ordinary close the
/// kernel would go on retransmitting the request, and a node cut off from the sender would
/// receive it, and act on it, once the partition heals: a write its client was told had
/// failed. A zero linger closes at once, so the blocking the deprecation warns of (a nonzero
/// linger on drop) cannot happen.
fn abort_on_close(tcp: &TcpStream) -> std::io::Result<()> {
    #[allow(deprecated)]
    tcp.set_linger(Some(Duration::ZERO))
}

impl Conn {
    /// Connect and authenticate. A node that does not accept the connection (or lets the
    /// handshake stall) is [`ProtoError::Unreachable`]; one that refuses the secret is
    /// [`ProtoError::Unauthorized`].
    pub async fn connect(addr: &str, secret: &[u8]) -> Result<Self, ProtoError> {
        let unreachable =
            |e: &dyn std::fmt::Display| ProtoError::Unreachable(format!("{addr}: {e}"));
        let connect = async {
            let mut tcp = TcpStream::connect(addr)
                .await
                .map_err(|e| unreachable(&e))?;
            tcp.set_nodelay(true)?;
            abort_on_close(&tcp)?;
            client_handshake(&mut tcp, secret).await?;
            Ok::<_, ProtoError>(tcp)
        };
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| unreachable(&"connect timed out"))??;
        Ok(Conn {
            stream: BufReader::new(tcp),
        })
    }

    /// Whether an idle pooled connection is still open: the peer has neither closed it (a
    /// node killed or restarted since) nor sent anything unasked. Checked before reuse, so a
    /// body is not streamed into a dead socket.
    fn idle_ok(&self) -> bool {
        let mut b = [0u8; 1];
        self.stream.buffer().is_empty()
            && matches!(
                self.stream.get_ref().try_read(&mut b),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
            )
    }

    /// Send a request followed by a byte stream (`Data` frames, then `End`, or `Abort` at the
    /// stream's first error) and read the response. The connection stays usable either way;
    /// an aborted stream returns its error.
    /// `stall` bounds each frame write: the longest the peer may take no data.
    pub async fn upload(
        &mut self,
        req: Request,
        mut body: ByteStream,
        stall: Duration,
    ) -> Result<Response, ProtoError> {
        let w = self.stream.get_mut();
        timed(stall, write_frame(w, &Frame::Req(req))).await?;
        let mut aborted = None;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(b) => timed(stall, write_frame(w, &Frame::Data(b))).await?,
                Err(e) => {
                    timed(stall, write_frame(w, &Frame::Abort(e.clone()))).await?;
                    aborted = Some(e);
                    break;
                }
            }
        }
        if aborted.is_none() {
            timed(stall, write_frame(w, &Frame::End)).await?;
        }
        let resp = match timed(RESPONSE_TIMEOUT, expect_frame(&mut self.stream)).await? {
            Frame::Resp(r) => r,
            _ => return Err(ProtoError::UnexpectedMessage("Resp".into())),
        };
        match aborted {
            Some(e) => Err(e),
            None => Ok(resp),
        }
    }

    /// Send a request and read its response frame.
    pub async fn call(&mut self, req: Request) -> Result<Response, ProtoError> {
        timed(
            FRAME_TIMEOUT,
            write_frame(self.stream.get_mut(), &Frame::Req(req)),
        )
        .await?;
        match timed(RESPONSE_TIMEOUT, expect_frame(&mut self.stream)).await? {
            Frame::Resp(r) => Ok(r),
            _ => Err(ProtoError::UnexpectedMessage("Resp".into())),
        }
    }
}

/// A pooled client for one node.
pub struct RemoteCluster {
    addr: String,
    secret: Vec<u8>,
    pool: Arc<Mutex<Vec<Conn>>>,
}

const POOL_MAX: usize = 64;

/// How long connecting and authenticating to a node may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long writing one frame may stall: a peer that takes no data for this long (cut off,
/// or hung) is given up on.
const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

/// [`FRAME_TIMEOUT`] for a blob body sent to its coordinator: longer than
/// [`SHARD_STALL`], so that a coordinator stalled by one cut-off node gives up on that node
/// (and goes on with the others) before the sender gives up on the coordinator.
const BODY_STALL: Duration = Duration::from_secs(30);

/// [`FRAME_TIMEOUT`] for a shard streamed from its coordinator to another node.
const SHARD_STALL: Duration = Duration::from_secs(2);

/// How long a response may take once the request is sent (a Raft commit, a shard fsync).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long reading one shard record from a node may take, all told: a degraded read
/// rebuilds the stripe from parity instead of waiting longer.
const SHARD_READ_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a request may take from sending it to its answer. A pooled connection to a node
/// that was cut off takes the request into its socket buffer and never answers: these bound
/// how long a caller waits for that before trying elsewhere.
fn time_limit(req: &Request) -> Duration {
    match req {
        // Admission waits for the new learner to catch up with the log.
        Request::Join(_) => RESPONSE_TIMEOUT,
        Request::NodeStatus | Request::Identify => Duration::from_secs(2),
        Request::ReadShard { .. } => SHARD_READ_TIMEOUT,
        // A metadata request may wait out an election (up to 5 s) and a commit.
        _ => Duration::from_secs(10),
    }
}

/// `f`, or [`ProtoError::Timeout`] after `limit`.
async fn timed<T>(
    limit: Duration,
    f: impl std::future::Future<Output = Result<T, ProtoError>>,
) -> Result<T, ProtoError> {
    tokio::time::timeout(limit, f)
        .await
        .map_err(|_| ProtoError::Timeout)?
}

impl RemoteCluster {
    /// A client for the node at `addr` (host:port).
    pub fn new(addr: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        RemoteCluster {
            addr: addr.into(),
            secret: secret.into(),
            pool: Arc::default(),
        }
    }

    async fn conn(&self) -> Result<Conn, ProtoError> {
        match self.pooled()? {
            Some(c) => Ok(c),
            None => Conn::connect(&self.addr, &self.secret).await,
        }
    }

    fn pooled(&self) -> Result<Option<Conn>, ProtoError> {
        let mut pool = self.pool.lock().map_err(|_| poisoned())?;
        while let Some(c) = pool.pop() {
            if c.idle_ok() {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    fn give_back(pool: &Mutex<Vec<Conn>>, conn: Conn) {
        if let Ok(mut p) = pool.lock() {
            if p.len() < POOL_MAX {
                p.push(conn);
            }
        }
    }

    /// The node's address.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Send one request that has a single response frame; an `Err` response becomes `Err`.
    pub async fn request(&self, req: Request) -> Result<Response, ProtoError> {
        let (c, resp) = self.call(req).await?;
        Self::give_back(&self.pool, c);
        match resp {
            Response::Err(e) => Err(e),
            r => Ok(r),
        }
    }

    /// Send a request answered by a byte stream; returns the connection positioned at the
    /// stream's first frame.
    async fn open_stream(&self, req: Request) -> Result<Conn, ProtoError> {
        let (c, resp) = self.call(req).await?;
        match resp {
            Response::Stream => Ok(c),
            Response::Err(e) => {
                Self::give_back(&self.pool, c);
                Err(e)
            }
            r => Err(unexpected(&r)),
        }
    }

    /// Send a request and read its response frame, returning the connection with it. A pooled
    /// connection that fails before any answer most likely outlived its peer (a restarted
    /// node): the pool is dropped and the request goes once more on a new connection.
    async fn call(&self, req: Request) -> Result<(Conn, Response), ProtoError> {
        let limit = time_limit(&req);
        timed(limit, self.call_untimed(req)).await
    }

    async fn call_untimed(&self, req: Request) -> Result<(Conn, Response), ProtoError> {
        if let Some(mut c) = self.pooled()? {
            match c.call(req.clone()).await {
                Ok(r) => return Ok((c, r)),
                Err(e) if matches!(e, ProtoError::Io(_)) || e.is_wire_failure() => {
                    self.pool.lock().map_err(|_| poisoned())?.clear();
                }
                Err(e) => return Err(e),
            }
        }
        let mut c = Conn::connect(&self.addr, &self.secret).await?;
        let r = c.call(req).await?;
        Ok((c, r))
    }
}

fn poisoned() -> ProtoError {
    ProtoError::Internal("connection pool poisoned".into())
}

fn unexpected(r: &Response) -> ProtoError {
    ProtoError::UnexpectedMessage(format!(
        "the response to this request, not {:?}",
        std::mem::discriminant(r)
    ))
}

/// Node-to-node calls.
impl RemoteCluster {
    /// Ask the cluster (through this member) to take `node` in.
    pub async fn join(&self, node: NodeInfo) -> Result<(), ProtoError> {
        match self.request(Request::Join(node)).await? {
            Response::Done => Ok(()),
            r => Err(unexpected(&r)),
        }
    }

    /// Who this node is, as it would register in the cluster map.
    pub async fn identify(&self) -> Result<NodeInfo, ProtoError> {
        match self.request(Request::Identify).await? {
            Response::Identity(info) => Ok(info),
            r => Err(unexpected(&r)),
        }
    }

    /// Stream shard `shard` of `blob` to this node; returns once it is durable there. An
    /// error item in `records` aborts the shard (the node discards it).
    pub async fn put_shard(
        &self,
        blob: BlobRef,
        shard: u8,
        records: ByteStream,
    ) -> Result<(), ProtoError> {
        let mut c = self.conn().await?;
        let resp = c
            .upload(Request::PutShard { blob, shard }, records, SHARD_STALL)
            .await?;
        Self::give_back(&self.pool, c);
        match resp {
            Response::Done => Ok(()),
            Response::Err(e) => Err(e),
            r => Err(unexpected(&r)),
        }
    }

    /// Read one record (`crc32c | block`) of a shard stored on this node.
    pub async fn read_shard(
        &self,
        blob: BlobRef,
        shard: u8,
        stripe: u64,
        block_len: u32,
    ) -> Result<Bytes, ProtoError> {
        let req = Request::ReadShard {
            blob,
            shard,
            stripe,
            block_len,
        };
        timed(SHARD_READ_TIMEOUT, self.read_record(req)).await
    }

    async fn read_record(&self, req: Request) -> Result<Bytes, ProtoError> {
        let mut c = self.open_stream(req).await?;
        let rec = match expect_frame(&mut c.stream).await? {
            Frame::Data(b) => b,
            Frame::Abort(e) => return Err(e),
            _ => return Err(ProtoError::UnexpectedMessage("Data".into())),
        };
        match expect_frame(&mut c.stream).await? {
            Frame::End => Self::give_back(&self.pool, c),
            _ => return Err(ProtoError::UnexpectedMessage("End".into())),
        }
        Ok(rec)
    }

    /// Connect (or take a pooled connection); fails with [`ProtoError::Unreachable`] when the
    /// node cannot be reached.
    pub async fn connection(&self) -> Result<Conn, ProtoError> {
        self.conn().await
    }

    /// [`ClusterApi::put_blob`] on a connection from [`RemoteCluster::connection`].
    pub async fn put_blob_on(
        &self,
        mut c: Conn,
        storage_class: &str,
        id: Option<[u8; 16]>,
        body: ByteStream,
    ) -> Result<BlobRef, ProtoError> {
        let storage_class = storage_class.to_owned();
        let req = match id {
            Some(id) => Request::PutBlobAs { storage_class, id },
            None => Request::PutBlob { storage_class },
        };
        let resp = c.upload(req, body, BODY_STALL).await?;
        Self::give_back(&self.pool, c);
        match resp {
            Response::Blob(b) => Ok(b),
            Response::Err(e) => Err(e),
            r => Err(unexpected(&r)),
        }
    }

    /// The node's own status.
    pub async fn node_status(&self) -> Result<crate::admin::NodeStatus, ProtoError> {
        match self.request(Request::NodeStatus).await? {
            Response::NodeStatus(s) => Ok(*s),
            r => Err(unexpected(&r)),
        }
    }

    /// Delete this node's shards of a blob.
    pub async fn delete_shards(&self, blob: BlobRef) -> Result<(), ProtoError> {
        match self.request(Request::DeleteShards(blob)).await? {
            Response::Done => Ok(()),
            r => Err(unexpected(&r)),
        }
    }
}

#[async_trait]
impl ClusterApi for RemoteCluster {
    async fn meta_write(&self, cmd: MetaCommand) -> Result<MetaOk, ProtoError> {
        match self.request(Request::MetaWrite(Box::new(cmd))).await? {
            Response::MetaOk(ok) => Ok(ok),
            r => Err(unexpected(&r)),
        }
    }

    async fn meta_read(&self, query: MetaQuery) -> Result<MetaAnswer, ProtoError> {
        match self.request(Request::MetaRead(query)).await? {
            Response::Answer(a) => Ok(a.opened()),
            r => Err(unexpected(&r)),
        }
    }

    async fn put_blob(&self, storage_class: &str, body: ByteStream) -> Result<BlobRef, ProtoError> {
        let c = self.conn().await?;
        self.put_blob_on(c, storage_class, None, body).await
    }

    async fn put_blob_as(
        &self,
        storage_class: &str,
        id: [u8; 16],
        body: ByteStream,
    ) -> Result<BlobRef, ProtoError> {
        let c = self.conn().await?;
        self.put_blob_on(c, storage_class, Some(id), body).await
    }

    async fn get_blob(
        &self,
        blob: BlobRef,
        start: u64,
        end: u64,
    ) -> Result<ByteStream, ProtoError> {
        let c = self
            .open_stream(Request::GetBlob { blob, start, end })
            .await?;
        let pool = self.pool.clone();
        let stream = futures::stream::unfold(Some(c), move |conn| {
            let pool = pool.clone();
            async move {
                let mut c = conn?;
                match expect_frame(&mut c.stream).await {
                    Ok(Frame::Data(b)) => Some((Ok::<Bytes, ProtoError>(b), Some(c))),
                    Ok(Frame::End) => {
                        Self::give_back(&pool, c);
                        None
                    }
                    Ok(Frame::Abort(e)) => Some((Err(e), None)),
                    Ok(_) => Some((Err(ProtoError::Protocol("expected Data".into())), None)),
                    Err(e) => Some((Err(e), None)),
                }
            }
        });
        Ok(Box::pin(stream))
    }

    async fn delete_blob(&self, blob: BlobRef) -> Result<(), ProtoError> {
        match self.request(Request::DeleteBlob(blob)).await? {
            Response::Done => Ok(()),
            r => Err(unexpected(&r)),
        }
    }

    async fn transition_blob(
        &self,
        blob: BlobRef,
        storage_class: &str,
    ) -> Result<BlobRef, ProtoError> {
        let storage_class = storage_class.to_owned();
        match self
            .request(Request::TransitionBlob {
                blob,
                storage_class,
            })
            .await?
        {
            Response::Blob(b) => Ok(b),
            r => Err(unexpected(&r)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A node whose connections are accepted and authenticated; `close` drops each at once.
    async fn node(close: bool) -> (String, tokio::task::JoinHandle<()>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut s, _)) = l.accept().await {
                crate::codec::accept_handshake(&mut s, b"secret")
                    .await
                    .unwrap();
                if !close {
                    held.push(s);
                }
            }
        });
        (addr, task)
    }

    /// What a sender's kernel still holds when the connection is dropped never reaches the
    /// peer: here the peer does not read until the sender has given up, as a node across a
    /// partition cannot, and then finds the connection reset, not the rest of the bytes.
    #[tokio::test]
    async fn a_dropped_connection_delivers_nothing_more() {
        use tokio::io::AsyncReadExt;
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let accept = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            crate::codec::accept_handshake(&mut s, b"secret")
                .await
                .unwrap();
            s
        });
        let conn = Conn::connect(&addr, b"secret").await.unwrap();
        let mut peer = accept.await.unwrap();
        // Fill the peer's receive buffer and then the sender's own.
        let client = conn.stream.get_ref();
        let chunk = vec![7u8; 64 << 10];
        let mut sent = 0;
        loop {
            match client.try_write(&chunk) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        drop(conn);
        let mut got = 0;
        let mut buf = vec![0u8; 64 << 10];
        let end = loop {
            match peer.read(&mut buf).await {
                Ok(0) => break None,
                Ok(n) => got += n,
                Err(e) => break Some(e.kind()),
            }
        };
        assert_eq!(end, Some(std::io::ErrorKind::ConnectionReset));
        assert!(
            got < sent,
            "{got} of {sent} bytes arrived after the sender gave up"
        );
    }

    #[tokio::test]
    async fn a_pooled_connection_the_node_closed_is_not_reused() {
        let (open, _a) = node(false).await;
        let (closed, _b) = node(true).await;
        let live = Conn::connect(&open, b"secret").await.unwrap();
        let dead = Conn::connect(&closed, b"secret").await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(live.idle_ok());
        assert!(!dead.idle_ok());

        let remote = RemoteCluster::new(closed, b"secret".to_vec());
        RemoteCluster::give_back(&remote.pool, dead);
        assert!(
            remote.pooled().unwrap().is_none(),
            "the dead one is dropped"
        );
    }
}
