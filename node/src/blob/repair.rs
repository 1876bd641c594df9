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
        let bytes = self.store_shard(blob.clone(), blob, shard, false).await?;
        self.stats.shards_repaired.fetch_add(1, Ordering::Relaxed);
        self.stats
            .bytes_repaired
            .fetch_add(bytes, Ordering::Relaxed);
        Ok(bytes)
    }

    /// Copy shard `shard` from where `source` places it to where `target` does: each
    /// stripe's record is read from the shard's old place and checked, and only a record that
    /// cannot be read there is rebuilt from the other shards. Moving a shard so reads one
    /// shard's bytes, not k, and encodes nothing.
    pub async fn copy_shard(
        &self,
        source: &BlobRef,
        target: &BlobRef,
        shard: usize,
    ) -> Result<u64, ProtoError> {
        self.store_shard(source.clone(), target.clone(), shard, true)
            .await
    }

    /// Write shard `shard` where `target` places it, from the shards `source` places:
    /// copied from its own record where `copy` is set and that record reads and checks,
    /// otherwise rebuilt from the others.
    async fn store_shard(
        &self,
        source: BlobRef,
        target: BlobRef,
        shard: usize,
        copy: bool,
    ) -> Result<u64, ProtoError> {
        let loc = *target
            .placement
            .get(shard)
            .ok_or_else(|| ProtoError::Internal(format!("the blob has no shard {shard}")))?;
        let index = u8::try_from(shard).map_err(internal)?;
        let (tx, rx) = mpsc::channel::<Result<Bytes, ProtoError>>(2);
        let (drives, peers) = (self.drives.clone(), self.peers.clone());
        let rt = tokio::runtime::Handle::current();
        let producer = tokio::task::spawn_blocking(move || {
            let mut reader = StripeReader::open(&drives, &peers, &source, rt);
            if !copy {
                if let Some(slot) = reader.shards.get_mut(shard) {
                    *slot = None;
                }
            }
            let codec = match Codec::new(source.layout.k, source.layout.m) {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.blocking_send(Err(internal(e)));
                    return 0u64;
                }
            };
            let stripes = source
                .size
                .div_ceil(u64::from(source.layout.stripe_size.max(1)));
            let mut bytes = 0u64;
            for s in 0..stripes {
                let own = if copy {
                    reader.shard_record(s, shard)
                } else {
                    None
                };
                let rec = match own {
                    Some(r) => Ok(r),
                    None => reader.read_stripe(s).and_then(|data| {
                        let mut blocks = codec.encode(&data).map_err(internal)?;
                        if shard < blocks.len() {
                            Ok(Bytes::from(blocks.swap_remove(shard)))
                        } else {
                            Err(internal("shard index out of range"))
                        }
                    }),
                };
                let failed = rec.is_err();
                bytes += rec.as_ref().map_or(0, |r| r.len() as u64);
                if tx.blocking_send(rec).is_err() || failed {
                    break;
                }
            }
            bytes
        });
        let stored = if loc.node == self.drives.node {
            self.put_shard(target, index, receiver_stream(rx)).await
        } else {
            match self.peers.node(loc.node) {
                Some(c) => c.put_shard(target, index, receiver_stream(rx)).await,
                None => Err(ProtoError::Unreachable(format!(
                    "node {} unknown",
                    loc.node
                ))),
            }
        };
        let bytes = producer.await.map_err(internal)?;
        stored?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use std::path::PathBuf;
    use std::sync::Arc;

    use coffer_proto::types::{Layout, ShardLoc};

    use super::*;
    use crate::blob::stripes::StripeWriter;
    use crate::meta::MetaStore;
    use crate::peers::Peers;
    use crate::shard::Drives;

    /// One node with four drives and a 2+1 blob of two stripes on the first three.
    fn setup(dir: &std::path::Path) -> (BlobStore, BlobRef, Vec<PathBuf>) {
        let roots: Vec<PathBuf> = (0..4).map(|i| dir.join(format!("d{i}"))).collect();
        let drives = Arc::new(Drives::open(1, &roots).unwrap());
        let peers = Arc::new(Peers::new(
            MetaStore::open(&dir.join("meta")).unwrap(),
            vec![7; 32],
        ));
        let store = BlobStore::new(drives.clone(), peers, Some((2, 1)), 0, 1 << 16).unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let blob = BlobRef {
            id: [9; 16],
            size: data.len() as u64,
            layout: Layout {
                k: 2,
                m: 1,
                stripe_size: 1 << 16,
            },
            placement: drives.locations()[..3].to_vec(),
        };
        let mut w = StripeWriter::create(&drives, &blob, vec![None; 3], 3).unwrap();
        for stripe in data.chunks(1 << 16) {
            w.write_stripe(stripe).unwrap();
        }
        let paths = w.into_pending().into_iter().map(|p| p.path).collect();
        (store, blob, paths)
    }

    /// `blob` with shard 1 on the fourth drive.
    fn moved(blob: &BlobRef) -> (BlobRef, PathBuf) {
        let mut to = blob.clone();
        to.placement[1] = ShardLoc { node: 1, drive: 3 };
        let path = crate::shard::Drive {
            index: 3,
            root: PathBuf::new(),
        }
        .shard_path(&blob.id_hex(), 1);
        (to, path)
    }

    #[tokio::test]
    async fn a_moved_shard_is_copied_from_its_old_place_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (store, blob, paths) = setup(dir.path());
        let original = std::fs::read(&paths[1]).unwrap();
        // With the two other shards gone the blob cannot be rebuilt, but shard 1 can move.
        std::fs::remove_file(&paths[0]).unwrap();
        std::fs::remove_file(&paths[2]).unwrap();
        let (to, rel) = moved(&blob);
        assert!(store.rebuild(to.clone(), 1).await.is_err());
        let bytes = store.copy_shard(&blob, &to, 1).await.unwrap();
        assert!(bytes > 50_000, "{bytes}");
        let copy = std::fs::read(dir.path().join("d3").join(rel)).unwrap();
        assert!(copy == original, "the copy differs from the shard");
    }

    #[tokio::test]
    async fn a_record_that_fails_its_checksum_is_rebuilt_from_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let (store, blob, paths) = setup(dir.path());
        let original = std::fs::read(&paths[1]).unwrap();
        // Flip a byte near the end: inside the last stripe's record.
        let mut bad = original.clone();
        let at = bad.len() - 10;
        bad[at] ^= 0xff;
        std::fs::write(&paths[1], &bad).unwrap();
        let (to, rel) = moved(&blob);
        store.copy_shard(&blob, &to, 1).await.unwrap();
        let copy = std::fs::read(dir.path().join("d3").join(rel)).unwrap();
        assert!(copy == original, "the copy is not the shard as written");
    }
}
