//! The internal RPC listener: authenticates each connection with the cluster secret, then
//! serves [`Request`]s one at a time per connection: metadata, blob streams and Raft messages.

use std::sync::Arc;

use coffer_proto::codec::{
    accept_handshake, expect_frame, write_frame, Frame, RaftOp, Request, Response,
};
use coffer_proto::{ClusterApi, ProtoError};
use futures::StreamExt;
use tokio::io::{AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, warn};

use crate::cluster::Node;

/// How long a new connection may take to authenticate.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Accept connections until the task is dropped.
pub async fn serve(node: Arc<Node>, listener: TcpListener) {
    loop {
        let (sock, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                warn!("failed to accept an rpc connection: {e}");
                continue;
            }
        };
        let node = node.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(node, sock).await {
                debug!(%peer, "rpc connection ended: {e}");
            }
        });
    }
}

async fn connection(node: Arc<Node>, mut sock: TcpStream) -> Result<(), ProtoError> {
    sock.set_nodelay(true)?;
    // The handshake runs on the bare socket (every frame goes out at once) and must finish
    // quickly: a peer that cannot prove the secret gets nothing else.
    tokio::time::timeout(
        HANDSHAKE_TIMEOUT,
        accept_handshake(&mut sock, &node.config.secret),
    )
    .await
    .map_err(|_| ProtoError::Timeout)??;
    let (r, w) = sock.into_split();
    let mut r = BufReader::new(r);
    let mut w = BufWriter::new(w);
    loop {
        let req = match coffer_proto::codec::read_frame(&mut r).await? {
            None => return Ok(()),
            Some(Frame::Req(req)) => req,
            Some(_) => return Err(ProtoError::Protocol("expected Req".into())),
        };
        if node.removed() && !matches!(req, Request::NodeStatus | Request::Identify) {
            // A removed node answers (so that the request does not hang) but serves nothing.
            skip_body(&mut r, &req).await?;
            let resp = Response::Err(ProtoError::NoSuchNode(node.config.id));
            write_frame(&mut w, &Frame::Resp(resp)).await?;
            w.flush().await?;
            continue;
        }
        match req {
            Request::MetaWrite(cmd) => {
                let resp = match node.meta_write(*cmd).await {
                    Ok(ok) => Response::MetaOk(ok),
                    Err(e) => Response::Err(e),
                };
                write_frame(&mut w, &Frame::Resp(resp)).await?;
            }
            Request::MetaRead(q) => {
                let resp = match node.meta_read(q).await {
                    Ok(a) => Response::Answer(a.sealed()),
                    Err(e) => Response::Err(e),
                };
                write_frame(&mut w, &Frame::Resp(resp)).await?;
            }
            Request::PutBlob { storage_class } => {
                let stored = with_body(&mut r, |body| node.put_blob(&storage_class, body)).await?;
                write_frame(&mut w, &Frame::Resp(blob_answer(stored))).await?;
            }
            Request::PutBlobAs { storage_class, id } => {
                let stored =
                    with_body(&mut r, |body| node.put_blob_as(&storage_class, id, body)).await?;
                write_frame(&mut w, &Frame::Resp(blob_answer(stored))).await?;
            }
            Request::PutShard { blob, shard } => {
                let stored =
                    with_body(&mut r, |body| node.blobs().put_shard(blob, shard, body)).await?;
                let resp = match stored {
                    Ok(()) => Response::Done,
                    Err(e) => Response::Err(e),
                };
                write_frame(&mut w, &Frame::Resp(resp)).await?;
            }
            Request::ReadShard {
                blob,
                shard,
                stripe,
                block_len,
            } => {
                match node
                    .blobs()
                    .read_shard(blob, shard, stripe, block_len)
                    .await
                {
                    Ok(rec) => {
                        write_frame(&mut w, &Frame::Resp(Response::Stream)).await?;
                        write_frame(&mut w, &Frame::Data(rec)).await?;
                        write_frame(&mut w, &Frame::End).await?;
                    }
                    Err(e) => write_frame(&mut w, &Frame::Resp(Response::Err(e))).await?,
                }
            }
            Request::DeleteShards(blob) => {
                node.blobs().delete_local(blob).await;
                write_frame(&mut w, &Frame::Resp(Response::Done)).await?;
            }
            Request::NodeStatus => {
                let resp = Response::NodeStatus(Box::new(node.status()));
                write_frame(&mut w, &Frame::Resp(resp)).await?;
            }
            Request::Identify => {
                let resp = Response::Identity(node.info());
                write_frame(&mut w, &Frame::Resp(resp)).await?;
            }
            Request::Join(info) => {
                let resp = match node.admit(info).await {
                    Ok(()) => Response::Done,
                    Err(e) => Response::Err(e),
                };
                write_frame(&mut w, &Frame::Resp(resp)).await?;
            }
            Request::GetBlob { blob, start, end } => match node.get_blob(blob, start, end).await {
                Ok(mut s) => {
                    write_frame(&mut w, &Frame::Resp(Response::Stream)).await?;
                    let mut failed = None;
                    while let Some(chunk) = s.next().await {
                        match chunk {
                            Ok(b) => write_frame(&mut w, &Frame::Data(b)).await?,
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        }
                    }
                    let last = failed.map_or(Frame::End, Frame::Abort);
                    write_frame(&mut w, &last).await?;
                }
                Err(e) => write_frame(&mut w, &Frame::Resp(Response::Err(e))).await?,
            },
            Request::TransitionBlob {
                blob,
                storage_class,
            } => {
                let moved = node.transition_blob(blob, &storage_class).await;
                write_frame(&mut w, &Frame::Resp(blob_answer(moved))).await?;
            }
            Request::DeleteBlob(b) => {
                let resp = match node.delete_blob(b).await {
                    Ok(()) => Response::Done,
                    Err(e) => Response::Err(e),
                };
                write_frame(&mut w, &Frame::Resp(resp)).await?;
            }
            Request::Raft { op, payload } => {
                let out = raft(&node, op, &payload).await;
                let resp = match out {
                    Ok(bytes) => Response::Raft(bytes),
                    Err(e) => Response::Err(e),
                };
                write_frame(&mut w, &Frame::Resp(resp)).await?;
            }
        }
        w.flush().await?;
    }
}

/// Receive a body (Data frames until End or Abort) while `consume` reads it as a stream;
/// returns what `consume` returned.
async fn with_body<R, F, Fut, T>(r: &mut R, consume: F) -> Result<T, ProtoError>
where
    R: tokio::io::AsyncRead + Unpin,
    F: FnOnce(coffer_proto::ByteStream) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let body = Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    let pump = async move {
        // Keep reading to the end of the body even if the consumer gave up early, so the
        // connection stays in step.
        loop {
            match expect_frame(r).await? {
                Frame::Data(b) => {
                    let _ = tx.send(Ok(b)).await;
                }
                Frame::End => return Ok::<(), ProtoError>(()),
                Frame::Abort(e) => {
                    let _ = tx.send(Err(e)).await;
                    return Ok(());
                }
                _ => return Err(ProtoError::UnexpectedMessage("Data".into())),
            }
        }
    };
    let (out, pumped) = tokio::join!(consume(body), pump);
    pumped?;
    Ok(out)
}

async fn raft(node: &Node, op: RaftOp, payload: &[u8]) -> Result<Vec<u8>, ProtoError> {
    let bad = |e: bincode::Error| ProtoError::Malformed(e.to_string());
    let out = match op {
        RaftOp::AppendEntries => bincode::serialize(
            &node
                .raft
                .append_entries(bincode::deserialize(payload).map_err(bad)?)
                .await,
        ),
        RaftOp::Vote if !node.may_vote() => {
            return Err(ProtoError::Unreachable(
                "not voting: joining without Raft state".into(),
            ))
        }
        RaftOp::Vote => bincode::serialize(
            &node
                .raft
                .vote(bincode::deserialize(payload).map_err(bad)?)
                .await,
        ),
        RaftOp::InstallSnapshot => bincode::serialize(
            &node
                .raft
                .install_snapshot(bincode::deserialize(payload).map_err(bad)?)
                .await,
        ),
    };
    out.map_err(bad)
}

/// Read and drop the body that follows a request that carries one.
async fn skip_body<R>(r: &mut R, req: &Request) -> Result<(), ProtoError>
where
    R: tokio::io::AsyncRead + Unpin,
{
    if matches!(
        req,
        Request::PutBlob { .. } | Request::PutBlobAs { .. } | Request::PutShard { .. }
    ) {
        with_body(
            r,
            |mut body| async move { while body.next().await.is_some() {} },
        )
        .await?;
    }
    Ok(())
}

/// The answer to a blob write.
fn blob_answer(stored: Result<coffer_proto::types::BlobRef, ProtoError>) -> Response {
    match stored {
        Ok(b) => Response::Blob(b),
        Err(e) => Response::Err(e),
    }
}
