//! [`RemoteCluster`]: a [`ClusterApi`] over TCP to a node's RPC listener, with a small pool of
//! authenticated connections. One request is in flight per connection at a time.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use tokio::io::BufReader;
use tokio::net::TcpStream;

use crate::api::{ByteStream, ClusterApi};
use crate::codec::{client_handshake, expect_frame, write_frame, Frame, Request, Response};
use crate::error::ProtoError;
use crate::meta::{MetaAnswer, MetaCommand, MetaOk, MetaQuery};
use crate::types::BlobRef;

/// One authenticated connection.
pub struct Conn {
    stream: BufReader<TcpStream>,
}

impl Conn {
    /// Connect and authenticate.
    pub async fn connect(addr: &str, secret: &[u8]) -> Result<Self, ProtoError> {
        let connect = async {
            let mut tcp = TcpStream::connect(addr).await?;
            tcp.set_nodelay(true)?;
            client_handshake(&mut tcp, secret).await?;
            Ok::<_, ProtoError>(tcp)
        };
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| ProtoError::Timeout)??;
        Ok(Conn {
            stream: BufReader::new(tcp),
        })
    }

    /// Send a request and read its response frame.
    pub async fn call(&mut self, req: Request) -> Result<Response, ProtoError> {
        write_frame(self.stream.get_mut(), &Frame::Req(req)).await?;
        match expect_frame(&mut self.stream).await? {
            Frame::Resp(r) => Ok(r),
            _ => Err(ProtoError::Protocol("expected Resp".into())),
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
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

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
        let pooled = self.pool.lock().map_err(|_| poisoned())?.pop();
        match pooled {
            Some(c) => Ok(c),
            None => Conn::connect(&self.addr, &self.secret).await,
        }
    }

    fn give_back(pool: &Mutex<Vec<Conn>>, conn: Conn) {
        if let Ok(mut p) = pool.lock() {
            if p.len() < POOL_MAX {
                p.push(conn);
            }
        }
    }

    async fn simple(&self, req: Request) -> Result<Response, ProtoError> {
        let mut c = self.conn().await?;
        let resp = c.call(req).await?;
        Self::give_back(&self.pool, c);
        match resp {
            Response::Err(e) => Err(e),
            r => Ok(r),
        }
    }
}

fn poisoned() -> ProtoError {
    ProtoError::Internal("connection pool poisoned".into())
}

fn unexpected(r: &Response) -> ProtoError {
    ProtoError::Protocol(format!(
        "unexpected response {:?}",
        std::mem::discriminant(r)
    ))
}

#[async_trait]
impl ClusterApi for RemoteCluster {
    async fn meta_write(&self, cmd: MetaCommand) -> Result<MetaOk, ProtoError> {
        match self.simple(Request::MetaWrite(Box::new(cmd))).await? {
            Response::MetaOk(ok) => Ok(ok),
            r => Err(unexpected(&r)),
        }
    }

    async fn meta_read(&self, query: MetaQuery) -> Result<MetaAnswer, ProtoError> {
        match self.simple(Request::MetaRead(query)).await? {
            Response::Answer(a) => Ok(a),
            r => Err(unexpected(&r)),
        }
    }

    async fn put_blob(&self, mut body: ByteStream) -> Result<BlobRef, ProtoError> {
        let mut c = self.conn().await?;
        let w = c.stream.get_mut();
        write_frame(w, &Frame::Req(Request::PutBlob)).await?;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(b) => write_frame(w, &Frame::Data(b)).await?,
                Err(e) => {
                    // Tell the node to discard what it wrote; the connection stays usable.
                    write_frame(w, &Frame::Abort(e.clone())).await?;
                    let _ = expect_frame(&mut c.stream).await?;
                    Self::give_back(&self.pool, c);
                    return Err(e);
                }
            }
        }
        write_frame(w, &Frame::End).await?;
        let resp = match expect_frame(&mut c.stream).await? {
            Frame::Resp(r) => r,
            _ => return Err(ProtoError::Protocol("expected Resp".into())),
        };
        Self::give_back(&self.pool, c);
        match resp {
            Response::Blob(b) => Ok(b),
            Response::Err(e) => Err(e),
            r => Err(unexpected(&r)),
        }
    }

    async fn get_blob(
        &self,
        blob: BlobRef,
        start: u64,
        end: u64,
    ) -> Result<ByteStream, ProtoError> {
        let mut c = self.conn().await?;
        match c.call(Request::GetBlob { blob, start, end }).await? {
            Response::Stream => {}
            Response::Err(e) => {
                Self::give_back(&self.pool, c);
                return Err(e);
            }
            r => return Err(unexpected(&r)),
        }
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
        match self.simple(Request::DeleteBlob(blob)).await? {
            Response::Done => Ok(()),
            r => Err(unexpected(&r)),
        }
    }
}
