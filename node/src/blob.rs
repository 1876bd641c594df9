//! The blob coordinator: cuts a body stream into stripes, erasure-codes each one and appends
//! the blocks to shard files on the placement's drives; reads stripes back, verifying each
//! block's checksum and rebuilding missing or corrupt blocks from parity. Memory per request is
//! bounded by two stripes in flight, whatever the object size.

use std::collections::HashSet;
use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use coffer_proto::types::{BlobRef, Layout};
use coffer_proto::{ByteStream, ProtoError};
use futures::StreamExt;
use tracing::warn;

use crate::erasure::{self, placement, Codec};
use crate::shard::sync::SyncQueue;
use crate::shard::{Drives, ShardReader, ShardWriter};

/// Stores and reads blobs on this node's drives.
pub struct BlobStore {
    drives: Arc<Drives>,
    /// One group-fsync queue per drive, in `drives.drives` order.
    syncers: Vec<SyncQueue>,
    /// Blobs whose shards are being written now (the orphan sweep leaves them alone).
    writing: Mutex<HashSet<[u8; 16]>>,
    k: u8,
    m: u8,
    stripe_size: u32,
    write_quorum: usize,
}

fn internal(e: impl std::fmt::Display) -> ProtoError {
    ProtoError::Internal(e.to_string())
}

impl BlobStore {
    /// A store over `drives` using a (k, m) profile and stripes of `stripe_size` bytes.
    /// Writes need `min(k + 1, k + m)` durable shards.
    pub fn new(drives: Arc<Drives>, k: u8, m: u8, stripe_size: u32) -> Result<Self, ProtoError> {
        Codec::new(k, m).map_err(internal)?;
        if drives.drives.len() < usize::from(k) + usize::from(m) {
            return Err(ProtoError::Internal(format!(
                "{k}+{m} needs {} drives, have {}",
                k + m,
                drives.drives.len()
            )));
        }
        let write_quorum = (usize::from(k) + 1).min(usize::from(k) + usize::from(m));
        let syncers = drives
            .drives
            .iter()
            .map(|d| SyncQueue::start(&d.root))
            .collect::<Result<_, _>>()
            .map_err(internal)?;
        Ok(BlobStore {
            drives,
            syncers,
            writing: Mutex::default(),
            k,
            m,
            stripe_size,
            write_quorum,
        })
    }

    /// Write a body; returns once at least the write quorum of shards is durable.
    pub async fn put(&self, body: ByteStream) -> Result<BlobRef, ProtoError> {
        // Fused: the last stripe's read sees the end, and the end must not be polled again.
        let mut body = body.fuse();
        let id: [u8; 16] = rand::random();
        let _writing = Writing::register(&self.writing, id);
        let layout = Layout {
            k: self.k,
            m: self.m,
            stripe_size: self.stripe_size,
        };
        let n = usize::from(self.k) + usize::from(self.m);
        let blob = BlobRef {
            id,
            size: 0,
            layout,
            placement: placement::place(&id, &self.drives.locations(), n),
        };
        let mut writer = Some({
            let (drives, blob, q) = (self.drives.clone(), blob.clone(), self.write_quorum);
            tokio::task::spawn_blocking(move || StripeWriter::create(&drives, &blob, q))
                .await
                .map_err(internal)??
        });
        let mut inflight: Option<tokio::task::JoinHandle<Result<StripeWriter, ProtoError>>> = None;
        let mut carry = Bytes::new();
        let mut size = 0u64;
        let stripe_size = self.stripe_size as usize;
        let outcome: Result<(), ProtoError> = async {
            loop {
                let stripe = read_stripe(&mut body, &mut carry, stripe_size).await?;
                let Some(stripe) = stripe else { break };
                size += stripe.len() as u64;
                let mut w = match inflight.take() {
                    Some(h) => h.await.map_err(internal)??,
                    None => writer.take().ok_or_else(|| internal("writer lost"))?,
                };
                inflight = Some(tokio::task::spawn_blocking(move || {
                    w.write_stripe(&stripe)?;
                    Ok(w)
                }));
            }
            Ok(())
        }
        .await;
        let w = match inflight.take() {
            Some(h) => h.await.map_err(internal).and_then(|r| r),
            None => writer.take().ok_or_else(|| internal("writer lost")),
        };
        let durable = match (outcome, w) {
            (Ok(()), Ok(w)) => self.sync_shards(w.into_pending()).await,
            (Err(e), _) | (Ok(()), Err(e)) => Err(e),
        };
        match durable {
            Ok(()) => Ok(BlobRef { size, ..blob }),
            Err(e) => {
                let (drives, b) = (self.drives.clone(), blob.clone());
                let _ = tokio::task::spawn_blocking(move || remove_shards(&drives, &b)).await;
                Err(e)
            }
        }
    }

    /// Make written shards durable through their drives' group-fsync queues; fails unless at
    /// least the write quorum of them is.
    async fn sync_shards(&self, pending: Vec<PendingShard>) -> Result<(), ProtoError> {
        let mut per_drive: Vec<(Vec<File>, Vec<PathBuf>)> =
            self.syncers.iter().map(|_| Default::default()).collect();
        for p in pending {
            let Some((files, dirs)) = per_drive.get_mut(p.drive) else {
                continue;
            };
            files.push(p.file);
            if let Some(dir) = p.path.parent() {
                if !dirs.iter().any(|d| d == dir) {
                    dirs.push(dir.to_path_buf());
                }
            }
        }
        let rounds = per_drive
            .into_iter()
            .zip(&self.syncers)
            .filter(|((files, _), _)| !files.is_empty())
            .map(|((files, dirs), q)| async move {
                let n = files.len();
                match q.sync(files, dirs).await {
                    Ok(()) => n,
                    Err(e) => {
                        warn!("failed to sync shards: {e}");
                        0
                    }
                }
            });
        let durable: usize = futures::future::join_all(rounds).await.into_iter().sum();
        if durable < self.write_quorum {
            return Err(ProtoError::QuorumNotReached(format!(
                "{durable} of {} shards durable",
                self.write_quorum
            )));
        }
        Ok(())
    }

    /// This node's drives.
    pub fn drives(&self) -> &Drives {
        &self.drives
    }

    /// Whether a blob's shards are being written now.
    pub fn is_writing(&self, id: &[u8; 16]) -> bool {
        // A poisoned set cannot say: count the blob as being written.
        self.writing.lock().map_or(true, |w| w.contains(id))
    }

    /// Read bytes `start..end` of a blob as a stream of at most stripe-sized chunks, reading
    /// ahead by up to two stripes.
    pub fn get(&self, blob: BlobRef, start: u64, end: u64) -> Result<ByteStream, ProtoError> {
        let end = end.min(blob.size);
        if start >= end {
            return Ok(Box::pin(futures::stream::empty()));
        }
        let stripe_size = u64::from(blob.layout.stripe_size);
        let (first, last) = (start / stripe_size, (end - 1) / stripe_size);
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, ProtoError>>(2);
        let drives = self.drives.clone();
        tokio::spawn(async move {
            let mut reader = {
                let (drives, blob) = (drives.clone(), blob.clone());
                match tokio::task::spawn_blocking(move || StripeReader::open(&drives, &blob)).await
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = tx.send(Err(internal(e))).await;
                        return;
                    }
                }
            };
            for s in first..=last {
                let res = tokio::task::spawn_blocking(move || {
                    let data = reader.read_stripe(s);
                    (reader, data)
                })
                .await;
                let (r, data) = match res {
                    Ok(x) => x,
                    Err(e) => {
                        let _ = tx.send(Err(internal(e))).await;
                        return;
                    }
                };
                reader = r;
                let chunk = data.map(|d| {
                    let base = s * stripe_size;
                    let from = start.saturating_sub(base) as usize;
                    let to = ((end - base) as usize).min(d.len());
                    d.slice(from.min(to)..to)
                });
                let failed = chunk.is_err();
                if tx.send(chunk).await.is_err() || failed {
                    return;
                }
            }
        });
        Ok(Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })))
    }

    /// Delete a blob's local shards.
    pub async fn delete(&self, blob: BlobRef) -> Result<(), ProtoError> {
        let drives = self.drives.clone();
        tokio::task::spawn_blocking(move || remove_shards(&drives, &blob))
            .await
            .map_err(internal)
    }
}

/// Marks a blob as being written for as long as it lives.
struct Writing<'a> {
    set: &'a Mutex<HashSet<[u8; 16]>>,
    id: [u8; 16],
}

impl<'a> Writing<'a> {
    fn register(set: &'a Mutex<HashSet<[u8; 16]>>, id: [u8; 16]) -> Self {
        if let Ok(mut s) = set.lock() {
            s.insert(id);
        }
        Writing { set, id }
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.set.lock() {
            s.remove(&self.id);
        }
    }
}

/// Fill one stripe from the body; `None` at the end of the body.
async fn read_stripe<S>(
    body: &mut S,
    carry: &mut Bytes,
    stripe_size: usize,
) -> Result<Option<Bytes>, ProtoError>
where
    S: futures::Stream<Item = Result<Bytes, ProtoError>> + Unpin,
{
    if carry.len() >= stripe_size {
        return Ok(Some(carry.split_to(stripe_size)));
    }
    let mut buf = BytesMut::with_capacity(stripe_size);
    buf.extend_from_slice(carry);
    *carry = Bytes::new();
    while buf.len() < stripe_size {
        match body.next().await {
            Some(Ok(mut chunk)) => {
                let want = stripe_size - buf.len();
                if chunk.len() > want {
                    *carry = chunk.split_off(want);
                }
                buf.extend_from_slice(&chunk);
            }
            Some(Err(e)) => return Err(e),
            None => break,
        }
    }
    Ok((!buf.is_empty()).then(|| buf.freeze()))
}

fn remove_shards(drives: &Drives, blob: &BlobRef) {
    let hex = blob.id_hex();
    for (i, loc) in blob.placement.iter().enumerate() {
        if let Some(d) = drives.local(loc) {
            match std::fs::remove_file(d.shard_path(&hex, i)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => warn!(blob = %hex, shard = i, "failed to remove shard: {e}"),
            }
        }
    }
}

/// A written shard file waiting to be made durable.
struct PendingShard {
    /// Position of its drive in `Drives::drives`.
    drive: usize,
    path: PathBuf,
    file: File,
}

/// Blocking writer of all shards of one blob.
struct StripeWriter {
    codec: Codec,
    /// Per shard: its drive's position and its writer; `None` once it failed.
    shards: Vec<Option<(usize, ShardWriter)>>,
    quorum: usize,
}

impl StripeWriter {
    fn create(drives: &Drives, blob: &BlobRef, quorum: usize) -> Result<Self, ProtoError> {
        let codec = Codec::new(blob.layout.k, blob.layout.m).map_err(internal)?;
        let hex = blob.id_hex();
        let shards: Vec<Option<(usize, ShardWriter)>> = blob
            .placement
            .iter()
            .enumerate()
            .map(|(i, loc)| {
                let pos = drives.position(loc)?;
                let d = drives.drives.get(pos)?;
                ShardWriter::create(d.shard_path(&hex, i), &blob.layout, i, &blob.id)
                    .map_err(|e| warn!(blob = %hex, shard = i, "failed to create shard: {e}"))
                    .ok()
                    .map(|w| (pos, w))
            })
            .collect();
        let w = StripeWriter {
            codec,
            shards,
            quorum,
        };
        w.check_quorum()?;
        Ok(w)
    }

    fn check_quorum(&self) -> Result<(), ProtoError> {
        let live = self.shards.iter().filter(|s| s.is_some()).count();
        if live < self.quorum {
            return Err(ProtoError::QuorumNotReached(format!(
                "{live} of {} shards writable",
                self.quorum
            )));
        }
        Ok(())
    }

    fn write_stripe(&mut self, stripe: &[u8]) -> Result<(), ProtoError> {
        let blocks = self.codec.encode(stripe).map_err(internal)?;
        for (slot, block) in self.shards.iter_mut().zip(blocks) {
            if let Some((_, w)) = slot {
                if let Err(e) = w.append(&block) {
                    warn!(path = %w.path().display(), "failed to write shard: {e}");
                    *slot = None;
                }
            }
        }
        self.check_quorum()
    }

    /// The shards written in full, to be made durable.
    fn into_pending(self) -> Vec<PendingShard> {
        self.shards
            .into_iter()
            .flatten()
            .map(|(drive, w)| {
                let (path, file) = w.into_parts();
                PendingShard { drive, path, file }
            })
            .collect()
    }
}

/// Blocking reader of one blob's stripes.
struct StripeReader {
    codec: Result<Codec, erasure::Error>,
    blob: BlobRef,
    shards: Vec<Option<ShardReader>>,
}

impl StripeReader {
    fn open(drives: &Drives, blob: &BlobRef) -> Self {
        let hex = blob.id_hex();
        let shards = blob
            .placement
            .iter()
            .enumerate()
            .map(|(i, loc)| {
                let d = drives.local(loc)?;
                ShardReader::open(&d.shard_path(&hex, i), &blob.layout, i, &blob.id)
                    .map_err(|e| warn!(blob = %hex, shard = i, "shard unreadable: {e}"))
                    .ok()
            })
            .collect();
        StripeReader {
            codec: Codec::new(blob.layout.k, blob.layout.m),
            blob: blob.clone(),
            shards,
        }
    }

    /// Read and verify one record; the bytes start at [`erasure::CRC_LEN`].
    fn read_record(&self, shard: usize, stripe: u64, block_len: usize) -> Option<Vec<u8>> {
        let r = self.shards.get(shard)?.as_ref()?;
        let rec = r.read_record(stripe, block_len).ok()?;
        if erasure::verify(&rec).is_none() {
            warn!(blob = %self.blob.id_hex(), shard, stripe, "shard block failed its checksum");
            return None;
        }
        Some(rec)
    }

    fn read_stripe(&self, stripe: u64) -> Result<Bytes, ProtoError> {
        let codec = self.codec.as_ref().map_err(internal)?;
        let stripe_size = u64::from(self.blob.layout.stripe_size);
        let len = (self.blob.size - stripe * stripe_size).min(stripe_size) as usize;
        let bl = codec.block_len(len);
        let k = usize::from(self.blob.layout.k);
        let n = self.blob.placement.len();
        let mut records: Vec<Option<Vec<u8>>> =
            (0..k).map(|i| self.read_record(i, stripe, bl)).collect();
        if k == 1 && records.first().is_some_and(Option::is_some) {
            if let Some(Some(rec)) = records.pop() {
                // Fast path: hand out the record itself, past its checksum, with no copy.
                return Ok(Bytes::from(rec).slice(erasure::CRC_LEN..erasure::CRC_LEN + len));
            }
        }
        let mut blocks: Vec<Option<Vec<u8>>> = records
            .into_iter()
            .map(|r| {
                r.map(|mut r| {
                    r.drain(..erasure::CRC_LEN);
                    r
                })
            })
            .collect();
        if blocks.iter().any(Option::is_none) {
            blocks.extend((k..n).map(|i| {
                self.read_record(i, stripe, bl).map(|mut r| {
                    r.drain(..erasure::CRC_LEN);
                    r
                })
            }));
            codec
                .reconstruct(&mut blocks)
                .map_err(|e| ProtoError::Corrupt(format!("blob {}: {e}", self.blob.id_hex())))?;
        }
        let mut out = BytesMut::with_capacity(len);
        for b in blocks.into_iter().take(k).flatten() {
            let take = (len - out.len()).min(b.len());
            out.extend_from_slice(&b[..take]);
        }
        Ok(out.freeze())
    }
}
