//! Framing for the internal RPC: every message is a `u32` big-endian length followed by a
//! bincode-encoded [`Frame`]. A connection starts with a challenge-response handshake proving
//! both sides hold the cluster secret, so nothing outside the cluster can read or write data.
//!
//! # Format
//! ```text
//! server -> client   Hello { version, nonce[32] }
//! client -> server   Auth  { version, mac = HMAC-SHA256(secret, "coffer-rpc-v1" || nonce) }
//! server -> client   Welcome            (or the connection is closed)
//! then request/response exchanges: Req(..) [Data.. End] -> Resp(..) [Data.. End]
//! ```

use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::ProtoError;
use crate::meta::{MetaAnswer, MetaCommand, MetaOk, MetaQuery};
use crate::types::{BlobRef, NodeInfo};
use crate::PROTOCOL_VERSION;

/// Largest frame accepted (data frames carry at most one stripe).
pub const MAX_FRAME: usize = 64 << 20;

/// A Raft message kind (payloads are opaque openraft-encoded bytes owned by the node crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RaftOp {
    /// AppendEntries.
    AppendEntries,
    /// Vote.
    Vote,
    /// InstallSnapshot.
    InstallSnapshot,
}

/// A request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// [`crate::ClusterApi::meta_write`].
    MetaWrite(Box<MetaCommand>),
    /// [`crate::ClusterApi::meta_read`].
    MetaRead(MetaQuery),
    /// [`crate::ClusterApi::put_blob`]; the body follows as `Data` frames and `End`.
    PutBlob {
        /// Storage class: picks the erasure profile.
        storage_class: String,
    },
    /// [`crate::ClusterApi::get_blob`].
    GetBlob {
        /// The blob.
        blob: BlobRef,
        /// First byte.
        start: u64,
        /// One past the last byte.
        end: u64,
    },
    /// [`crate::ClusterApi::delete_blob`].
    DeleteBlob(BlobRef),
    /// Ask the cluster to take this node in (a learner first, then a voter while there are
    /// fewer than the target number of voters). Any member forwards it to the leader.
    Join(NodeInfo),
    /// Ask a node who it is (`coffer admin node add` asks a node waiting to be admitted):
    /// answered `Identity`.
    Identify,
    /// Store shard `shard` of `blob` on this node; its records (`crc32c | block`, one per
    /// stripe) follow as `Data` frames then `End`. Answered `Done` once the file is durable.
    PutShard {
        /// The blob (placement says which local drive).
        blob: BlobRef,
        /// Shard index.
        shard: u8,
    },
    /// Read the record of stripe `stripe` of shard `shard` (`crc32c | block`, unverified):
    /// answered `Stream`, then the record as one `Data` frame, then `End`.
    ReadShard {
        /// The blob.
        blob: BlobRef,
        /// Shard index.
        shard: u8,
        /// Stripe number.
        stripe: u64,
        /// Bytes of the block (without its checksum).
        block_len: u32,
    },
    /// Delete this node's shards of a blob.
    DeleteShards(BlobRef),
    /// This node's own status (drives, Raft, heal counters): answered `NodeStatus`.
    NodeStatus,
    /// A Raft message between nodes.
    Raft {
        /// Kind.
        op: RaftOp,
        /// Encoded openraft request.
        payload: Vec<u8>,
    },
    /// [`crate::ClusterApi::put_blob_as`]; the body follows as `Data` frames and `End`.
    PutBlobAs {
        /// Storage class: picks the erasure profile.
        storage_class: String,
        /// The blob id the caller chose.
        id: [u8; 16],
    },
    /// [`crate::ClusterApi::transition_blob`]: answered `Blob`.
    TransitionBlob {
        /// The blob as the version holds it.
        blob: BlobRef,
        /// The storage class it moves to.
        storage_class: String,
    },
}

/// A response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// Result of a meta write.
    MetaOk(MetaOk),
    /// Result of a meta read.
    Answer(MetaAnswer),
    /// Result of a blob write.
    Blob(BlobRef),
    /// A byte stream follows (`Data` frames then `End`, or `Abort`).
    Stream,
    /// Done, nothing to return.
    Done,
    /// Encoded openraft response.
    Raft(Vec<u8>),
    /// A node's status.
    NodeStatus(Box<crate::admin::NodeStatus>),
    /// The request failed.
    Err(ProtoError),
    /// A node's id, address, drives and zone.
    Identity(NodeInfo),
}

/// One frame on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// Handshake challenge.
    Hello {
        /// Server protocol version.
        version: u32,
        /// Random challenge.
        nonce: [u8; 32],
    },
    /// Handshake answer.
    Auth {
        /// Client protocol version.
        version: u32,
        /// HMAC of the nonce under the cluster secret.
        mac: Vec<u8>,
    },
    /// Handshake accepted.
    Welcome,
    /// A request.
    Req(Request),
    /// A response.
    Resp(Response),
    /// A chunk of a byte stream.
    Data(Bytes),
    /// End of a byte stream.
    End,
    /// A byte stream failed.
    Abort(ProtoError),
}

/// bincode's tag of [`Frame::Data`] (its variant index). `Data` frames are written and read
/// without going through bincode (see [`write_frame`]), in exactly the layout bincode gives
/// them, so the payload is never copied into or out of an intermediate buffer.
const DATA_TAG: u32 = 5;

/// Bytes of a `Data` frame's body before its payload: tag u32 LE, payload length u64 LE.
const DATA_HEAD: usize = 12;

/// Write one frame. A `Data` frame's payload goes out as it is, after a 16-byte head, in
/// one vectored write.
pub async fn write_frame<W: AsyncWrite + Unpin>(
    w: &mut W,
    frame: &Frame,
) -> Result<(), ProtoError> {
    if let Frame::Data(payload) = frame {
        let len = u32::try_from(DATA_HEAD + payload.len())
            .map_err(|_| ProtoError::FrameTooLarge(payload.len() as u64))?;
        let mut head = [0u8; 4 + DATA_HEAD];
        head[0..4].copy_from_slice(&len.to_be_bytes());
        head[4..8].copy_from_slice(&DATA_TAG.to_le_bytes());
        head[8..16].copy_from_slice(&(payload.len() as u64).to_le_bytes());
        return write_two(w, &head, payload).await;
    }
    let body = bincode::serialize(frame).map_err(|e| ProtoError::Malformed(e.to_string()))?;
    let len =
        u32::try_from(body.len()).map_err(|_| ProtoError::FrameTooLarge(body.len() as u64))?;
    let mut buf = Vec::with_capacity(4 + body.len());
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(&body);
    w.write_all(&buf).await?;
    Ok(())
}

/// Write `a` then `b` with as few (vectored) writes as the writer takes.
async fn write_two<W: AsyncWrite + Unpin>(w: &mut W, a: &[u8], b: &[u8]) -> Result<(), ProtoError> {
    let (mut a, mut b) = (a, b);
    while !a.is_empty() {
        let n = w
            .write_vectored(&[std::io::IoSlice::new(a), std::io::IoSlice::new(b)])
            .await?;
        if n == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into());
        }
        let from_a = n.min(a.len());
        a = &a[from_a..];
        b = &b[(n - from_a).min(b.len())..];
    }
    w.write_all(b).await?;
    Ok(())
}

/// Read one frame; `Ok(None)` at a clean end of stream. A `Data` frame's payload is read
/// straight into its own buffer.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<Frame>, ProtoError> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(ProtoError::FrameTooLarge(len as u64));
    }
    let mut head = [0u8; DATA_HEAD];
    let got = len.min(DATA_HEAD);
    r.read_exact(&mut head[..got]).await?;
    let tag = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    if got == DATA_HEAD && tag == DATA_TAG {
        let mut n = [0u8; 8];
        n.copy_from_slice(&head[4..12]);
        let n = u64::from_le_bytes(n);
        if n != (len - DATA_HEAD) as u64 {
            return Err(ProtoError::Malformed("bad data frame length".into()));
        }
        let mut payload = bytes::BytesMut::with_capacity(len - DATA_HEAD);
        while payload.len() < len - DATA_HEAD {
            if r.read_buf(&mut payload).await? == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
            }
        }
        return Ok(Some(Frame::Data(payload.freeze())));
    }
    let mut body = vec![0u8; len];
    body[..got].copy_from_slice(&head[..got]);
    r.read_exact(&mut body[got..]).await?;
    bincode::deserialize(&body)
        .map(Some)
        .map_err(|e| ProtoError::Malformed(e.to_string()))
}

/// Read a frame that must be present.
pub async fn expect_frame<R: AsyncRead + Unpin>(r: &mut R) -> Result<Frame, ProtoError> {
    read_frame(r).await?.ok_or(ProtoError::ConnectionClosed)
}

fn mac(secret: &[u8], nonce: &[u8; 32]) -> Result<Hmac<Sha256>, ProtoError> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .map_err(|_| ProtoError::Internal("bad secret length".into()))?;
    m.update(b"coffer-rpc-v1");
    m.update(nonce);
    Ok(m)
}

/// Server side of the handshake: succeeds only if the client proved the secret.
pub async fn accept_handshake<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    secret: &[u8],
) -> Result<(), ProtoError> {
    let nonce: [u8; 32] = rand::random();
    write_frame(
        s,
        &Frame::Hello {
            version: PROTOCOL_VERSION,
            nonce,
        },
    )
    .await?;
    match expect_frame(s).await? {
        Frame::Auth { version, mac: got } => {
            if version != PROTOCOL_VERSION {
                return Err(ProtoError::Protocol(format!(
                    "peer protocol version {version}"
                )));
            }
            // verify_slice compares in constant time.
            mac(secret, &nonce)?
                .verify_slice(&got)
                .map_err(|_| ProtoError::Unauthorized)?;
            write_frame(s, &Frame::Welcome).await
        }
        _ => Err(ProtoError::UnexpectedMessage("Auth".into())),
    }
}

/// Client side of the handshake.
pub async fn client_handshake<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    secret: &[u8],
) -> Result<(), ProtoError> {
    let nonce = match expect_frame(s).await? {
        Frame::Hello { version, nonce } if version == PROTOCOL_VERSION => nonce,
        Frame::Hello { version, .. } => {
            return Err(ProtoError::Protocol(format!(
                "peer protocol version {version}"
            )))
        }
        _ => return Err(ProtoError::UnexpectedMessage("Hello".into())),
    };
    let tag = mac(secret, &nonce)?.finalize().into_bytes().to_vec();
    write_frame(
        s,
        &Frame::Auth {
            version: PROTOCOL_VERSION,
            mac: tag,
        },
    )
    .await?;
    match read_frame(s).await? {
        Some(Frame::Welcome) => Ok(()),
        _ => Err(ProtoError::Unauthorized),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn data_frames_keep_bincode_layout() {
        // The hand-written Data encoding must be exactly what bincode makes of it.
        let payload = Bytes::from_static(b"payload bytes");
        let body = bincode::serialize(&Frame::Data(payload.clone())).unwrap();
        assert_eq!(&body[0..4], &DATA_TAG.to_le_bytes());
        assert_eq!(&body[4..12], &(payload.len() as u64).to_le_bytes());
        assert_eq!(&body[12..], &payload[..]);
    }

    #[tokio::test]
    async fn data_frames_round_trip_through_small_writes() {
        // A writer that takes 7 bytes at a time exercises the partial vectored writes.
        let (mut a, mut b) = tokio::io::duplex(7);
        let big = Bytes::from((0..100_000u32).map(|i| i as u8).collect::<Vec<u8>>());
        let f = Frame::Data(big);
        let sent = f.clone();
        let w = tokio::spawn(async move {
            write_frame(&mut a, &sent).await.unwrap();
            write_frame(&mut a, &Frame::Data(Bytes::new()))
                .await
                .unwrap();
            write_frame(&mut a, &Frame::End).await.unwrap();
        });
        assert_eq!(read_frame(&mut b).await.unwrap(), Some(f));
        assert_eq!(
            read_frame(&mut b).await.unwrap(),
            Some(Frame::Data(Bytes::new()))
        );
        assert_eq!(read_frame(&mut b).await.unwrap(), Some(Frame::End));
        w.await.unwrap();
    }

    #[tokio::test]
    async fn frames_round_trip() {
        let (mut a, mut b) = tokio::io::duplex(1 << 16);
        let f = Frame::Data(Bytes::from_static(b"hello"));
        write_frame(&mut a, &f).await.unwrap();
        write_frame(&mut a, &Frame::End).await.unwrap();
        assert_eq!(read_frame(&mut b).await.unwrap(), Some(f));
        assert_eq!(read_frame(&mut b).await.unwrap(), Some(Frame::End));
        drop(a);
        assert_eq!(read_frame(&mut b).await.unwrap(), None);
    }

    #[tokio::test]
    async fn handshake_accepts_the_secret_and_refuses_others() {
        for (client_secret, ok) in [(&b"s3cret"[..], true), (&b"wrong"[..], false)] {
            let (mut a, mut b) = tokio::io::duplex(1 << 16);
            let server = tokio::spawn(async move { accept_handshake(&mut a, b"s3cret").await });
            let client = client_handshake(&mut b, client_secret).await;
            let server = server.await.unwrap();
            assert_eq!(server.is_ok(), ok);
            assert_eq!(client.is_ok(), ok);
        }
    }

    #[tokio::test]
    async fn oversized_frame_is_refused() {
        let (mut a, mut b) = tokio::io::duplex(64);
        tokio::spawn(async move { a.write_all(&u32::MAX.to_be_bytes()).await });
        assert!(matches!(
            read_frame(&mut b).await,
            Err(ProtoError::FrameTooLarge(_))
        ));
    }
}
