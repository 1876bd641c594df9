//! The blocking halves of the blob pipeline: [`StripeWriter`] encodes stripes and appends
//! their blocks to local shard files or hands them to remote shard streams; [`StripeReader`]
//! reads, verifies and rebuilds stripes from local and remote shards.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use coffer_proto::client::RemoteCluster;
use coffer_proto::types::BlobRef;
use coffer_proto::ProtoError;
use tokio::sync::mpsc;
use tracing::warn;

use super::internal;
use crate::erasure::{self, Codec};
use crate::peers::Peers;
use crate::shard::{Drives, ShardReader, ShardWriter};

/// A written shard file waiting to be made durable.
pub(super) struct PendingShard {
    /// Position of its drive in `Drives::drives`.
    pub(super) drive: usize,
    pub(super) path: PathBuf,
    pub(super) file: File,
}

/// Where one shard of a blob being written goes.
pub(super) enum Sink {
    /// A local drive (its position in `Drives::drives`) and the file's writer.
    Local(usize, ShardWriter),
    /// Another node, through its shard stream.
    Remote(mpsc::Sender<Result<Bytes, ProtoError>>),
}

/// Blocking writer of all shards of one blob (runs on the blocking pool; remote shards are
/// handed to their streams with a blocking send, which also paces the writer to the slowest
/// node).
pub(super) struct StripeWriter {
    codec: Codec,
    /// Per shard: where it goes; `None` once it failed.
    shards: Vec<Option<Sink>>,
    quorum: usize,
}

impl StripeWriter {
    pub(super) fn create(
        drives: &Drives,
        blob: &BlobRef,
        remote: Vec<Option<mpsc::Sender<Result<Bytes, ProtoError>>>>,
        quorum: usize,
    ) -> Result<Self, ProtoError> {
        let codec = Codec::new(blob.layout.k, blob.layout.m).map_err(internal)?;
        let hex = blob.id_hex();
        let shards: Vec<Option<Sink>> = blob
            .placement
            .iter()
            .zip(remote)
            .enumerate()
            .map(|(i, (loc, tx))| {
                if let Some(tx) = tx {
                    return Some(Sink::Remote(tx));
                }
                let pos = drives.position(loc)?;
                let d = drives.drives.get(pos)?;
                ShardWriter::create(
                    d.shard_path(&hex, i),
                    &blob.layout,
                    i,
                    &blob.id,
                    Some(super::direct_from(&blob.layout)),
                )
                .map_err(|e| warn!(blob = %hex, shard = i, "failed to create shard: {e}"))
                .ok()
                .map(|w| Sink::Local(pos, w))
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

    /// Write one stripe given as the pieces it arrived in. A stripe that is its own one block
    /// (1+0) goes to its shard straight from the pieces; any other is joined first.
    pub(super) fn write_pieces(&mut self, pieces: &[Bytes]) -> Result<(), ProtoError> {
        if let [one] = pieces {
            return self.write_stripe(one);
        }
        if self.codec.is_plain() {
            if let [slot @ Some(Sink::Local(..))] = self.shards.as_mut_slice() {
                let crc = pieces
                    .iter()
                    .fold(0, |c, p| crc32c::crc32c_append(c, p))
                    .to_le_bytes();
                let parts = std::iter::once(&crc[..]).chain(pieces.iter().map(|p| &p[..]));
                append_local(slot, parts);
                return self.check_quorum();
            }
        }
        self.write_stripe(&pieces.concat())
    }

    pub(super) fn write_stripe(&mut self, stripe: &[u8]) -> Result<(), ProtoError> {
        let blocks = self.codec.encode_blocks(stripe).map_err(internal)?;
        for (slot, block) in self.shards.iter_mut().zip(blocks) {
            match slot {
                // Straight from the stripe: the record is its checksum, then its bytes.
                Some(Sink::Local(..)) => append_local(slot, [&block.crc[..], block.bytes()]),
                // A closed stream means the remote shard failed (its task logged why).
                Some(Sink::Remote(tx)) => {
                    let sent = tx.blocking_send(Ok(Bytes::from(block.to_record())));
                    if sent.is_err() {
                        *slot = None;
                    }
                }
                None => {}
            }
        }
        self.check_quorum()
    }

    /// The local shards written in full, to be made durable (blocking: what is staged is
    /// written out). Remote streams close here.
    pub(super) fn into_pending(self) -> Vec<PendingShard> {
        self.shards
            .into_iter()
            .flatten()
            .filter_map(|sink| match sink {
                Sink::Local(drive, w) => match w.finish() {
                    Ok((path, file)) => Some(PendingShard { drive, path, file }),
                    Err(e) => {
                        warn!("failed to write shard: {e}");
                        None
                    }
                },
                Sink::Remote(_) => None,
            })
            .collect()
    }
}

/// Append one record, in parts, to a local shard; a shard that fails is dropped from the
/// stripe writer (`*slot = None`).
fn append_local<'a>(slot: &mut Option<Sink>, parts: impl IntoIterator<Item = &'a [u8]>) {
    let Some(Sink::Local(_, w)) = slot else {
        return;
    };
    if let Err(e) = parts.into_iter().try_for_each(|p| w.append(p)) {
        warn!(path = %w.path().display(), "failed to write shard: {e}");
        *slot = None;
    }
}

/// Where one shard of a blob being read comes from.
pub(super) enum Source {
    /// A local shard file.
    Local(ShardReader),
    /// Another node (its id and client).
    Remote(u64, Arc<RemoteCluster>),
}

/// Blocking reader of one blob's stripes (runs on the blocking pool; remote records are
/// fetched through the runtime handle, the ones a stripe needs all at once).
pub(super) struct StripeReader {
    codec: Result<Codec, erasure::Error>,
    pub(super) blob: BlobRef,
    /// Per shard; `None` when unreadable (a node that failed once is not asked again).
    pub(super) shards: Vec<Option<Source>>,
    /// Shards found missing or corrupt where they should be (not on a node that is down).
    pub(super) bad: Vec<usize>,
    peers: Arc<Peers>,
    rt: tokio::runtime::Handle,
}

impl StripeReader {
    pub(super) fn open(
        drives: &Drives,
        peers: &Arc<Peers>,
        blob: &BlobRef,
        rt: tokio::runtime::Handle,
    ) -> Self {
        let hex = blob.id_hex();
        let mut bad = Vec::new();
        let shards = blob
            .placement
            .iter()
            .enumerate()
            .map(|(i, loc)| {
                if loc.node != drives.node {
                    return peers.node(loc.node).map(|c| Source::Remote(loc.node, c));
                }
                let d = drives.local(loc)?;
                let r = super::open_shard(d, blob, i);
                match &r {
                    // Written by a newer Coffer: read around it, never heal over it.
                    Err(e) if crate::shard::is_newer_format(e) => {
                        tracing::error!(blob = %hex, shard = i, "{e}");
                    }
                    Err(e) => {
                        warn!(blob = %hex, shard = i, "shard unreadable: {e}");
                        bad.push(i);
                    }
                    Ok(_) => {}
                }
                r.ok().map(Source::Local)
            })
            .collect();
        StripeReader {
            codec: Codec::new(blob.layout.k, blob.layout.m),
            blob: blob.clone(),
            shards,
            bad,
            peers: peers.clone(),
            rt,
        }
    }

    /// Read and verify the records of `shards` for one stripe; the bytes of each start at
    /// [`erasure::CRC_LEN`]. Missing, unreadable or corrupt records are `None`.
    ///
    /// Nodes that just failed to answer are skipped unless `suspects` is set.
    fn read_records(
        &mut self,
        shards: std::ops::Range<usize>,
        stripe: u64,
        block_len: usize,
        suspects: bool,
    ) -> Vec<Option<Bytes>> {
        let bl = u32::try_from(block_len).unwrap_or(u32::MAX);
        let remote: Vec<_> = shards
            .clone()
            .filter_map(|i| match self.shards.get(i) {
                Some(Some(Source::Remote(node, _)))
                    if !suspects && self.peers.is_suspect(*node) =>
                {
                    None
                }
                Some(Some(Source::Remote(node, c))) => {
                    let (c, blob, node) = (c.clone(), self.blob.clone(), *node);
                    let shard = u8::try_from(i).ok()?;
                    let peers = self.peers.clone();
                    Some(async move {
                        let r = c.read_shard(blob, shard, stripe, bl).await;
                        peers.observe(node, &r);
                        (i, r)
                    })
                }
                _ => None,
            })
            .collect();
        let mut fetched: Vec<(usize, Result<Bytes, ProtoError>)> = if remote.is_empty() {
            Vec::new()
        } else {
            self.rt.block_on(futures::future::join_all(remote))
        };
        let hex = self.blob.id_hex();
        let mut out = Vec::with_capacity(shards.len());
        for i in shards {
            let rec = match self.shards.get(i) {
                Some(Some(Source::Local(r))) => match r.read_record(stripe, block_len) {
                    Ok(rec) => Some(rec),
                    Err(e) => {
                        warn!(blob = %hex, shard = i, stripe, "shard record unreadable: {e}");
                        self.mark_bad(i);
                        None
                    }
                },
                Some(Some(Source::Remote(..))) => {
                    let got = fetched
                        .iter()
                        .position(|(j, _)| *j == i)
                        .map(|p| fetched.swap_remove(p).1);
                    match got {
                        Some(Ok(b)) => Some(b),
                        Some(Err(e)) => {
                            warn!(blob = %hex, shard = i, "remote shard unreadable: {e}");
                            if let Some(slot) = self.shards.get_mut(i) {
                                *slot = None;
                            }
                            // A node that is down keeps its shard; one that answered lacks it.
                            if !matches!(e, ProtoError::Unreachable(_) | ProtoError::Timeout) {
                                self.mark_bad(i);
                            }
                            None
                        }
                        None => None,
                    }
                }
                _ => None,
            };
            let rec = match rec {
                Some(r) if erasure::verify(&r).is_none() => {
                    warn!(blob = %hex, shard = i, stripe, "shard block failed its checksum");
                    self.mark_bad(i);
                    None
                }
                other => other,
            };
            out.push(rec);
        }
        out
    }

    fn mark_bad(&mut self, shard: usize) {
        if !self.bad.contains(&shard) {
            self.bad.push(shard);
        }
    }

    /// Shard `shard`'s own record of one stripe (its checksum, then its bytes), read from
    /// where the shard is and checked; `None` when it cannot be read there.
    pub(super) fn shard_record(&mut self, stripe: u64, shard: usize) -> Option<Bytes> {
        let stripe_size = u64::from(self.blob.layout.stripe_size);
        let len = (self.blob.size - stripe * stripe_size).min(stripe_size) as usize;
        let bl = self.codec.as_ref().ok()?.block_len(len);
        self.read_records(shard..shard + 1, stripe, bl, false)
            .pop()
            .flatten()
    }

    pub(super) fn read_stripe(&mut self, stripe: u64) -> Result<Bytes, ProtoError> {
        let stripe_size = u64::from(self.blob.layout.stripe_size);
        let len = (self.blob.size - stripe * stripe_size).min(stripe_size) as usize;
        let bl = self.codec.as_ref().map_err(internal)?.block_len(len);
        let k = usize::from(self.blob.layout.k);
        let n = self.blob.placement.len();
        let mut records = self.read_records(0..k, stripe, bl, false);
        if k == 1 && records.first().is_some_and(Option::is_some) {
            if let Some(Some(rec)) = records.pop() {
                // Fast path: hand out the record itself, past its checksum, with no copy.
                return Ok(rec.slice(erasure::CRC_LEN..erasure::CRC_LEN + len));
            }
        }
        let strip =
            |r: Option<Bytes>| r.and_then(|r| r.get(erasure::CRC_LEN..).map(<[u8]>::to_vec));
        let mut blocks: Vec<Option<Vec<u8>>> = records.into_iter().map(strip).collect();
        if blocks.iter().any(Option::is_none) {
            let parity = self.read_records(k..n, stripe, bl, false);
            blocks.extend(parity.into_iter().map(strip));
            if blocks.iter().filter(|b| b.is_some()).count() < k {
                // Too few without the nodes that just failed to answer: ask them after all
                // (one may have come back since).
                for i in 0..n {
                    if blocks.get(i).is_some_and(Option::is_none) {
                        let rec = self
                            .read_records(i..i + 1, stripe, bl, true)
                            .pop()
                            .flatten();
                        if let Some(slot) = blocks.get_mut(i) {
                            *slot = strip(rec);
                        }
                    }
                }
            }
            self.codec
                .as_ref()
                .map_err(internal)?
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use coffer_proto::types::{Layout, ShardLoc};

    /// The shard files of one blob written stripe by stripe, each stripe in `cuts` pieces.
    fn written(k: u8, m: u8, stripes: &[Vec<u8>], cuts: usize) -> Vec<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let n = usize::from(k + m);
        let roots: Vec<PathBuf> = (0..n).map(|i| dir.path().join(format!("d{i}"))).collect();
        let drives = Drives::open(1, &roots).unwrap();
        let blob = BlobRef {
            id: [3; 16],
            size: 0,
            layout: Layout {
                k,
                m,
                stripe_size: 1 << 20,
            },
            placement: drives.locations().into_iter().collect::<Vec<ShardLoc>>(),
        };
        let mut w = StripeWriter::create(&drives, &blob, vec![None; n], n).unwrap();
        for s in stripes {
            let step = s.len().div_ceil(cuts).max(1);
            let pieces: Vec<Bytes> = s.chunks(step).map(Bytes::copy_from_slice).collect();
            w.write_pieces(&pieces).unwrap();
        }
        w.into_pending()
            .iter()
            .map(|p| std::fs::read(&p.path).unwrap())
            .collect()
    }

    #[test]
    fn a_stripe_in_pieces_is_written_as_the_same_stripe_whole() {
        let stripes: Vec<Vec<u8>> = [1 << 20, 70_001, 1 << 20, 5]
            .iter()
            .enumerate()
            .map(|(i, &n)| (0..n).map(|j| (j * 13 + i) as u8).collect())
            .collect();
        for (k, m) in [(1, 0), (2, 1)] {
            let whole = written(k, m, &stripes, 1);
            assert_eq!(whole.len(), usize::from(k + m));
            for cuts in [2, 17, 1000] {
                assert!(
                    written(k, m, &stripes, cuts) == whole,
                    "{k}+{m} in {cuts} pieces"
                );
            }
        }
    }
}
