//! Repairs: rebuilding one shard of a blob from the others, checking this node's own shards,
//! and the hints and counters the heal worker and the admin API use.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use coffer_proto::types::BlobRef;
use coffer_proto::ProtoError;
use tokio::sync::mpsc;

use super::stripes::StripeReader;
use super::{internal, receiver_stream, BlobStore};
use crate::erasure::{self, Codec};

/// A blob whose shards `shards` were found missing or corrupt (on nodes that answered).
#[derive(Debug, Clone)]
pub struct HealHint {
    /// The blob.
    pub blob: BlobRef,
    /// Shard indices.
    pub shards: Vec<usize>,
}

/// Counters of the scrubber and the heal worker.
#[derive(Debug, Default)]
pub struct HealStats {
    /// Blobs whose local shards a scrub pass checked.
    pub blobs_checked: AtomicU64,
    /// Bytes of shard files a scrub pass read.
    pub bytes_scrubbed: AtomicU64,
    /// Shards rebuilt.
    pub shards_repaired: AtomicU64,
    /// Bytes of rebuilt shards.
    pub bytes_repaired: AtomicU64,
    /// Rebuilds that failed (retried by a later pass).
    pub repair_failures: AtomicU64,
    /// Scrub passes completed.
    pub passes: AtomicU64,
    /// Shards moved by rebalancing.
    pub shards_moved: AtomicU64,
    /// Bytes of moved shards.
    pub bytes_moved: AtomicU64,
    /// Moves that failed (retried by a later pass).
    pub move_failures: AtomicU64,
    /// Blobs this node moves that were misplaced at its last rebalancing pass.
    pub misplaced: AtomicU64,
    /// Rebalancing passes completed.
    pub rebalance_passes: AtomicU64,
    /// Active nodes at the last rebalancing pass that found nothing to move (0: none yet).
    pub balanced_over: AtomicU64,
}

impl BlobStore {
    /// Rebuild shard `shard` of `blob` from its other shards and store it where the placement
    /// puts it (here or on another node); returns its bytes.
    pub async fn rebuild(&self, blob: BlobRef, shard: usize) -> Result<u64, ProtoError> {
        let loc = *blob
            .placement
            .get(shard)
            .ok_or_else(|| ProtoError::Internal(format!("the blob has no shard {shard}")))?;
        let index = u8::try_from(shard).map_err(internal)?;
        let (tx, rx) = mpsc::channel::<Result<Bytes, ProtoError>>(2);
        let (drives, peers, b) = (self.drives.clone(), self.peers.clone(), blob.clone());
        let rt = tokio::runtime::Handle::current();
        let producer = tokio::task::spawn_blocking(move || {
            let mut reader = StripeReader::open(&drives, &peers, &b, rt);
            if let Some(slot) = reader.shards.get_mut(shard) {
                *slot = None;
            }
            let codec = match Codec::new(b.layout.k, b.layout.m) {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.blocking_send(Err(internal(e)));
                    return 0u64;
                }
            };
            let stripes = b.size.div_ceil(u64::from(b.layout.stripe_size.max(1)));
            let mut bytes = 0u64;
            for s in 0..stripes {
                let rec = reader.read_stripe(s).and_then(|data| {
                    let mut blocks = codec.encode(&data).map_err(internal)?;
                    if shard < blocks.len() {
                        Ok(blocks.swap_remove(shard))
                    } else {
                        Err(internal("shard index out of range"))
                    }
                });
                let failed = rec.is_err();
                bytes += rec.as_ref().map_or(0, |r| r.len() as u64);
                if tx.blocking_send(rec.map(Bytes::from)).is_err() || failed {
                    break;
                }
            }
            bytes
        });
        let stored = if loc.node == self.drives.node {
            self.put_shard(blob, index, receiver_stream(rx)).await
        } else {
            match self.peers.node(loc.node) {
                Some(c) => c.put_shard(blob, index, receiver_stream(rx)).await,
                None => Err(ProtoError::Unreachable(format!(
                    "node {} unknown",
                    loc.node
                ))),
            }
        };
        let bytes = producer.await.map_err(internal)?;
        stored?;
        self.stats.shards_repaired.fetch_add(1, Ordering::Relaxed);
        self.stats
            .bytes_repaired
            .fetch_add(bytes, Ordering::Relaxed);
        Ok(bytes)
    }

    /// Check this node's shards of a blob: every record read and verified. Returns the shard
    /// indices that are missing or corrupt, and the bytes read.
    pub async fn check_local(&self, blob: &BlobRef) -> (Vec<usize>, u64) {
        let (drives, blob) = (self.drives.clone(), blob.clone());
        tokio::task::spawn_blocking(move || {
            let stripe_size = u64::from(blob.layout.stripe_size.max(1));
            let stripes = blob.size.div_ceil(stripe_size);
            let mut bad = Vec::new();
            let mut read = 0u64;
            for (i, loc) in blob.placement.iter().enumerate() {
                let Some(d) = drives.local(loc) else { continue };
                let r = match super::open_shard(d, &blob, i) {
                    Ok(r) => r,
                    // Written by a newer Coffer: not this build's to judge, nor to heal.
                    Err(e) if crate::shard::is_newer_format(&e) => {
                        tracing::error!(blob = %blob.id_hex(), shard = i, "{e}");
                        continue;
                    }
                    Err(_) => {
                        bad.push(i);
                        continue;
                    }
                };
                let k = usize::from(blob.layout.k.max(1));
                let ok = (0..stripes).all(|s| {
                    let len = (blob.size - s * stripe_size).min(stripe_size) as usize;
                    match r.read_record(s, len.div_ceil(k)) {
                        Ok(rec) => {
                            read += rec.len() as u64;
                            erasure::verify(&rec).is_some()
                        }
                        Err(_) => false,
                    }
                });
                if !ok {
                    bad.push(i);
                }
            }
            (bad, read)
        })
        .await
        .unwrap_or_default()
    }

    /// The receiving end of read-time heal hints (the heal worker takes it once).
    pub fn take_hints(&self) -> Option<mpsc::Receiver<HealHint>> {
        self.hint_rx.lock().ok()?.take()
    }
}
