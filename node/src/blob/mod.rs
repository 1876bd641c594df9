//! The blob coordinator: cuts a body stream into stripes, erasure-codes each one and appends
//! the blocks to shard files on the placement's drives, this node's directly and other nodes'
//! through shard streams; reads stripes back, verifying each block's checksum and rebuilding
//! missing or corrupt blocks from parity. Memory per request is bounded by a few stripes in
//! flight, whatever the object size.
//!
//! [`stripes`] holds the blocking stripe writer and reader; [`repair`] rebuilds shards and
//! checks this node's own.

use std::collections::HashSet;
use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use coffer_proto::types::{BlobRef, Layout, ShardLoc};
use coffer_proto::{ByteStream, ProtoError};
use futures::StreamExt;
use tokio::sync::mpsc;
use tracing::warn;

use crate::erasure::placement::Candidate;
use crate::erasure::{default_profile, placement, Codec};
use crate::peers::Peers;
use crate::shard::sync::SyncQueue;
use crate::shard::{Drive, Drives, ShardReader, ShardWriter};

mod cut;
pub mod pools;
mod quorum;
mod repair;
mod shrink;
mod stripes;
mod tombstones;

use cut::read_stripe;
use quorum::{await_remote, write_quorum};
pub use repair::{HealHint, HealStats};
use stripes::{PendingShard, StripeReader, StripeWriter};
use tombstones::Tombstones;

/// Stores and reads blobs: coordinates writes and reads of whole blobs across the cluster and
/// stores the shards placed on this node's drives.
pub struct BlobStore {
    drives: Arc<Drives>,
    peers: Arc<Peers>,
    /// One group-fsync queue per drive, in `drives.drives` order.
    syncers: Vec<SyncQueue>,
    /// Blobs whose shards are being written now (the orphan sweep leaves them alone).
    writing: Mutex<HashSet<[u8; 16]>>,
    /// Configured erasure profile; chosen from the cluster size when `None`.
    profile: Option<(u8, u8)>,
    /// Shards beyond k a write needs durable (1 by default, 0 to accept k).
    quorum_margin: u8,
    stripe_size: u32,
    /// Shards a read found missing or corrupt, for the heal worker.
    hints: mpsc::Sender<HealHint>,
    hint_rx: Mutex<Option<mpsc::Receiver<HealHint>>>,
    /// What healing has done.
    pub stats: HealStats,
    /// Blobs whose shards were deleted here a moment ago.
    deleted: Tombstones,
}

fn internal(e: impl std::fmt::Display) -> ProtoError {
    ProtoError::Internal(e.to_string())
}

/// Blobs of this size or more pass through the page cache instead of staying in it: a read
/// of one reads its records once ([`ShardReader::read_once`]). Smaller ones, a website's
/// pages and pictures, stay cached for the next read. Scrubs and rebuilds follow the same
/// rule: a small blob they read may be hot, and pages read once wait on the kernel's
/// inactive list, which is reclaimed first.
pub const READ_ONCE_FROM: u64 = 8 << 20;

/// A blob's first bytes up to this size are written through the page cache, the rest
/// around it ([`crate::shard::direct`]): a website's pages and pictures stay cached from
/// their upload on, and a large upload does not pay for pages it will not read from.
/// Multipart parts are blobs of their own, often of 5 to 16 MiB, hence far below
/// [`READ_ONCE_FROM`].
pub const WRITE_CACHED_UPTO: u64 = 1 << 20;

/// Where a shard file's writes start to bypass the page cache: past the bytes the blob's
/// first [`WRITE_CACHED_UPTO`] put in each shard.
fn direct_from(layout: &Layout) -> u64 {
    crate::shard::HEADER_LEN + WRITE_CACHED_UPTO / u64::from(layout.k.max(1))
}

/// Open this node's shard `i` of `blob` for reading, reading its records once when the blob
/// is large enough ([`READ_ONCE_FROM`]).
fn open_shard(drive: &Drive, blob: &BlobRef, i: usize) -> std::io::Result<ShardReader> {
    let r = ShardReader::open(
        &drive.shard_path(&blob.id_hex(), i),
        &blob.layout,
        i,
        &blob.id,
    )?;
    Ok(if blob.size >= READ_ONCE_FROM {
        r.read_once()
    } else {
        r
    })
}

/// A remote shard being written: its records go down `tx`; `task` ends once it is durable.
struct RemoteShard {
    tx: mpsc::Sender<Result<Bytes, ProtoError>>,
    task: tokio::task::JoinHandle<Result<(), ProtoError>>,
}

impl BlobStore {
    /// A store over `drives` with stripes of `stripe_size` bytes, placing shards over the
    /// cluster map that `peers` reads. `profile` fixes (k, m); by default it follows the
    /// cluster size (or, on one node, its number of drives). Writes need
    /// `min(k + quorum_margin, k + m)` durable shards.
    pub fn new(
        drives: Arc<Drives>,
        peers: Arc<Peers>,
        profile: Option<(u8, u8)>,
        quorum_margin: u8,
        stripe_size: u32,
    ) -> Result<Self, ProtoError> {
        if let Some((k, m)) = profile {
            Codec::new(k, m).map_err(internal)?;
            if peers.nodes().len() <= 1 && drives.drives.len() < usize::from(k) + usize::from(m) {
                return Err(ProtoError::InvalidErasureProfile(format!(
                    "{k}+{m} needs {} drives, have {}",
                    k + m,
                    drives.drives.len()
                )));
            }
        }
        let syncers = drives
            .drives
            .iter()
            .map(|d| SyncQueue::start(&d.root))
            .collect::<Result<_, _>>()
            .map_err(internal)?;
        let (hints, hint_rx) = mpsc::channel(1024);
        Ok(BlobStore {
            drives,
            peers,
            syncers,
            writing: Mutex::default(),
            profile,
            quorum_margin,
            stripe_size,
            hints,
            hint_rx: Mutex::new(Some(hint_rx)),
            stats: HealStats::default(),
            deleted: Tombstones::default(),
        })
    }

    /// Every drive new shards may go to: those of the cluster map's nodes that are not being
    /// drained (this node's drives alone before it is registered), and the number of nodes.
    pub fn candidates(&self) -> (Vec<Candidate>, usize) {
        let draining = self.peers.draining();
        let nodes: Vec<_> = self
            .peers
            .nodes()
            .into_iter()
            .filter(|n| !draining.contains(&n.id))
            .collect();
        if nodes.is_empty() {
            let own = self
                .drives
                .locations()
                .into_iter()
                .map(|loc| Candidate { loc, zone: None })
                .collect();
            return (own, 0);
        }
        let candidates = nodes
            .iter()
            .flat_map(|n| {
                (0..n.drives).map(|drive| Candidate {
                    loc: ShardLoc { node: n.id, drive },
                    zone: n.zone.clone(),
                })
            })
            .collect();
        (candidates, nodes.len())
    }

    /// The default erasure profile for a cluster of `nodes` active nodes.
    pub fn default_profile(&self, nodes: usize) -> (u8, u8) {
        self.profile.unwrap_or_else(|| default_profile(nodes))
    }

    /// The most shards a blob may have: one per active node, or one per drive on a single
    /// node.
    pub fn max_width(&self) -> usize {
        let (candidates, nodes) = self.candidates();
        if nodes > 1 {
            nodes
        } else {
            candidates.len()
        }
    }

    /// The erasure profile and placement for a new blob of `storage_class`: on its tier's
    /// pool with the tier's profile when the class maps to a local tier, else on the default
    /// pool with the class's profile if one is set, else the configured or default one; never
    /// on the nodes `avoid`.
    fn choose(
        &self,
        id: &[u8; 16],
        storage_class: &str,
        avoid: &[u64],
    ) -> Result<(Layout, Vec<ShardLoc>), ProtoError> {
        let (mut all, nodes) = self.candidates();
        all.retain(|c| !avoid.contains(&c.loc.node));
        let pools = self.pools();
        let (pool, tier_profile) = pools.for_class(storage_class);
        // Before this node is in the cluster map there are no pools: its own drives.
        let (candidates, nodes) = if nodes == 0 {
            (all, 0)
        } else {
            let c = pools.restrict(&all, pool);
            let n = pools::nodes_of(&c);
            (c, n)
        };
        let class = self.peers.storage_class(storage_class);
        let (k, m) = tier_profile.or(class).or(self.profile).unwrap_or_else(|| {
            if nodes > 1 {
                default_profile(nodes)
            } else {
                default_profile(candidates.len())
            }
        });
        let n = usize::from(k) + usize::from(m);
        if candidates.len() < n {
            let pool = match pool.and_then(|p| pools.tiers.by_id(p)) {
                Some(t) => format!("tier {:?}'s pool", t.name),
                None => "the cluster".to_owned(),
            };
            return Err(ProtoError::QuorumNotReached(format!(
                "{k}+{m} needs {n} drives, {pool} has {}",
                candidates.len()
            )));
        }
        let layout = Layout {
            k,
            m,
            stripe_size: self.stripe_size,
        };
        Ok((layout, placement::place(id, &candidates, n)))
    }

    /// Start streaming each shard placed on another node to that node. Nodes that just
    /// failed to answer are left out, unless the write needs them for its quorum.
    fn start_remote(&self, blob: &BlobRef, quorum: usize) -> Vec<Option<RemoteShard>> {
        let me = self.drives.node;
        let healthy = blob
            .placement
            .iter()
            .filter(|l| l.node == me || !self.peers.is_suspect(l.node))
            .count();
        let skip_suspects = healthy >= quorum;
        blob.placement
            .iter()
            .enumerate()
            .map(|(i, loc)| {
                if loc.node == me || (skip_suspects && self.peers.is_suspect(loc.node)) {
                    return None;
                }
                let client = self.peers.node(loc.node)?;
                let shard = u8::try_from(i).ok()?;
                let (tx, rx) = mpsc::channel(2);
                let (b, peers, node) = (blob.clone(), self.peers.clone(), loc.node);
                let task = tokio::spawn(async move {
                    let out = client.put_shard(b, shard, receiver_stream(rx)).await;
                    peers.observe(node, &out);
                    if let Err(e) = &out {
                        warn!(
                            node = client.addr(),
                            shard, "failed to store a remote shard: {e}"
                        );
                    }
                    out
                });
                Some(RemoteShard { tx, task })
            })
            .collect()
    }

    /// Write a body; returns once at least the write quorum of shards is durable.
    pub async fn put(&self, storage_class: &str, body: ByteStream) -> Result<BlobRef, ProtoError> {
        self.put_as(storage_class, rand::random(), body).await
    }

    /// [`BlobStore::put`] under id `id`, a random id the caller chose (an encrypted blob's key
    /// is derived from it).
    pub async fn put_as(
        &self,
        storage_class: &str,
        id: [u8; 16],
        body: ByteStream,
    ) -> Result<BlobRef, ProtoError> {
        self.put_avoiding(storage_class, id, &[], body).await
    }

    /// [`BlobStore::put_as`] on none of the nodes `avoid` (a transition's copy of a blob,
    /// under the same id, stays off the nodes of the placement it moves from).
    pub async fn put_avoiding(
        &self,
        storage_class: &str,
        id: [u8; 16],
        avoid: &[u64],
        body: ByteStream,
    ) -> Result<BlobRef, ProtoError> {
        // Fused: the last stripe's read sees the end, and the end must not be polled again.
        let mut body = body.fuse();
        let _writing = Writing::register(&self.writing, id);
        let (layout, placement) = self.choose(&id, storage_class, avoid)?;
        let quorum = write_quorum(&layout, self.quorum_margin);
        let blob = BlobRef {
            id,
            size: 0,
            layout,
            placement,
        };
        let remote = self.start_remote(&blob, quorum);
        let aborts: Vec<_> = remote.iter().flatten().map(|r| r.tx.clone()).collect();
        let (senders, tasks): (Vec<_>, Vec<_>) = remote
            .into_iter()
            .map(|r| match r {
                Some(r) => (Some(r.tx), Some(r.task)),
                None => (None, None),
            })
            .unzip();
        let mut writer = Some({
            let (drives, blob) = (self.drives.clone(), blob.clone());
            tokio::task::spawn_blocking(move || {
                StripeWriter::create(&drives, &blob, senders, quorum)
            })
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
                size += stripe.iter().map(|p| p.len() as u64).sum::<u64>();
                let mut w = match inflight.take() {
                    Some(h) => h.await.map_err(internal)??,
                    None => writer.take().ok_or_else(|| internal("writer lost"))?,
                };
                inflight = Some(tokio::task::spawn_blocking(move || {
                    w.write_pieces(&stripe)?;
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
            (Ok(()), Ok(w)) => {
                // Closing every sender ends the remote shards' streams.
                drop(aborts);
                let pending = tokio::task::spawn_blocking(move || w.into_pending())
                    .await
                    .unwrap_or_default();
                let local = self.sync_shards(pending).await;
                let remote = await_remote(tasks.into_iter().flatten(), local, quorum).await;
                if local + remote >= quorum {
                    Ok(())
                } else {
                    Err(ProtoError::QuorumNotReached(format!(
                        "{} of {quorum} shards durable",
                        local + remote
                    )))
                }
            }
            (Err(e), _) | (Ok(()), Err(e)) => {
                for tx in aborts {
                    let _ = tx.send(Err(ProtoError::Cancelled)).await;
                }
                futures::future::join_all(tasks.into_iter().flatten()).await;
                Err(e)
            }
        };
        match durable {
            Ok(()) => Ok(BlobRef { size, ..blob }),
            Err(e) => {
                self.delete(blob).await;
                Err(e)
            }
        }
    }

    /// Store shard `shard` of `blob`, placed on this node, from a stream of its records (from
    /// a coordinator on another node, or a rebuild); returns once the file is durable. The
    /// file is written aside and renamed into place, so it replaces a corrupt one atomically.
    pub async fn put_shard(
        &self,
        blob: BlobRef,
        shard: u8,
        records: ByteStream,
    ) -> Result<(), ProtoError> {
        let i = usize::from(shard);
        if self.deleted.contains(&blob.id, i) {
            return Err(ProtoError::ShardDeleted(shard));
        }
        let _writing = Writing::register(&self.writing, blob.id);
        let pos = blob
            .placement
            .get(i)
            .and_then(|loc| self.drives.position(loc))
            .ok_or(ProtoError::ShardNotHere(shard))?;
        let path = self
            .drives
            .drives
            .get(pos)
            .ok_or_else(|| internal("drive lost"))?
            .shard_path(&blob.id_hex(), i);
        let tmp = path.with_extension(format!("{i}.tmp"));
        let stored = async {
            let mut w = {
                let (tmp, layout, id) = (tmp.clone(), blob.layout, blob.id);
                let target = path.clone();
                tokio::task::spawn_blocking(move || {
                    crate::shard::replaceable(&target)?;
                    let _ = std::fs::remove_file(&tmp);
                    ShardWriter::create(tmp, &layout, i, &id, Some(direct_from(&layout)))
                })
                .await
                .map_err(internal)??
            };
            let mut records = records;
            while let Some(rec) = records.next().await {
                let rec = rec?;
                w = tokio::task::spawn_blocking(move || w.append(&rec).map(|()| w))
                    .await
                    .map_err(internal)??;
            }
            let done = {
                let path = path.clone();
                tokio::task::spawn_blocking(move || {
                    let (written, file) = w.finish()?;
                    file.sync_data()?;
                    crate::shard::replaceable(&path)?;
                    std::fs::rename(written, &path)?;
                    std::fs::File::open(&path)
                })
                .await
                .map_err(internal)??
            };
            // The rename is durable with its directory: the group fsync does both.
            let pending = vec![PendingShard {
                drive: pos,
                path: path.clone(),
                file: done,
            }];
            match self.sync_shards(pending).await {
                1 => Ok(()),
                _ => Err(ProtoError::Io("shard not durable".into())),
            }
        }
        .await;
        if stored.is_err() {
            let _ = tokio::task::spawn_blocking(move || std::fs::remove_file(tmp)).await;
        }
        stored
    }

    /// Make written shards durable through their drives' group-fsync queues; returns how many
    /// are.
    async fn sync_shards(&self, pending: Vec<PendingShard>) -> usize {
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
        futures::future::join_all(rounds).await.into_iter().sum()
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
        let (tx, rx) = mpsc::channel::<Result<Bytes, ProtoError>>(2);
        let (drives, peers) = (self.drives.clone(), self.peers.clone());
        let hints = self.hints.clone();
        tokio::spawn(async move {
            let mut reader = {
                let blob = blob.clone();
                let rt = tokio::runtime::Handle::current();
                let open = move || StripeReader::open(&drives, &peers, &blob, rt);
                match tokio::task::spawn_blocking(open).await {
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
                    break;
                }
            }
            if !reader.bad.is_empty() {
                let hint = HealHint {
                    blob: reader.blob.clone(),
                    shards: reader.bad.clone(),
                };
                // A full queue drops the hint: the scrubber finds the shard later.
                let _ = hints.try_send(hint);
            }
        });
        Ok(receiver_stream(rx))
    }

    /// Delete a blob's shards, here and on the other nodes of its placement. A node that
    /// cannot be reached keeps its shards until its orphan sweep finds them.
    pub async fn delete(&self, blob: BlobRef) {
        let mut nodes: Vec<u64> = blob.placement.iter().map(|l| l.node).collect();
        nodes.sort_unstable();
        nodes.dedup();
        // Nodes that just failed to answer are skipped: the orphan sweep catches their shards.
        let each = nodes
            .into_iter()
            .filter(|n| *n == self.drives.node || !self.peers.is_suspect(*n))
            .map(|n| self.delete_at(&blob, n));
        futures::future::join_all(each).await;
    }

    /// Delete the shards of a blob that its placement puts on node `on` (this one or another).
    pub async fn delete_at(&self, blob: &BlobRef, on: u64) {
        if on == self.drives.node {
            self.delete_local(blob.clone()).await;
            return;
        }
        let Some(client) = self.peers.node(on) else {
            return;
        };
        let r = client.delete_shards(blob.clone()).await;
        self.peers.observe(on, &r);
        if let Err(e) = r {
            warn!(node = client.addr(), "failed to delete remote shards: {e}");
        }
    }

    /// Delete shard `shard` of a blob alone, wherever its placement puts it: not the blob's
    /// other shards on the same node (a rebalancing move takes one shard off a node that may
    /// hold two).
    pub async fn delete_shard(&self, blob: &BlobRef, shard: usize) {
        let Some(loc) = blob.placement.get(shard) else {
            return;
        };
        let only = only_shard(blob, shard);
        self.delete_at(&only, loc.node).await;
    }

    /// Delete this node's shards of a blob.
    pub async fn delete_local(&self, blob: BlobRef) {
        for (i, loc) in blob.placement.iter().enumerate() {
            if loc.node == self.drives.node {
                self.deleted.insert(blob.id, i);
            }
        }
        let drives = self.drives.clone();
        let _ = tokio::task::spawn_blocking(move || remove_shards(&drives, &blob)).await;
    }

    /// Read one record of a shard stored here, unverified (for a reader on another node).
    pub async fn read_shard(
        &self,
        blob: BlobRef,
        shard: u8,
        stripe: u64,
        block_len: u32,
    ) -> Result<Bytes, ProtoError> {
        let i = usize::from(shard);
        let drive = blob
            .placement
            .get(i)
            .and_then(|loc| self.drives.local(loc))
            .ok_or(ProtoError::ShardNotHere(shard))?
            .clone();
        tokio::task::spawn_blocking(move || {
            open_shard(&drive, &blob, i)?.read_record(stripe, block_len as usize)
        })
        .await
        .map_err(internal)?
        .map_err(ProtoError::from)
    }
}

/// A stream of what a channel receives.
fn receiver_stream(rx: mpsc::Receiver<Result<Bytes, ProtoError>>) -> ByteStream {
    Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
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

/// No node has this id: a placement entry naming it is on no node.
const NO_NODE: u64 = u64::MAX;

/// `blob` with every shard but `shard` placed on no node, for the deletion of that one shard
/// by a node (this one, or another through `delete_shards`, which deletes the shards a
/// placement puts on it).
fn only_shard(blob: &BlobRef, shard: usize) -> BlobRef {
    let placement = blob
        .placement
        .iter()
        .enumerate()
        .map(|(i, loc)| {
            if i == shard {
                *loc
            } else {
                ShardLoc {
                    node: NO_NODE,
                    drive: 0,
                }
            }
        })
        .collect();
    BlobRef {
        placement,
        ..blob.clone()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deleting_one_shard_names_no_other_on_its_node() {
        let at = |node, drive| ShardLoc { node, drive };
        let blob = BlobRef {
            id: [1; 16],
            size: 10,
            layout: Layout {
                k: 3,
                m: 2,
                stripe_size: 1 << 20,
            },
            placement: vec![at(3, 0), at(1, 0), at(4, 0), at(2, 0), at(3, 0)],
        };
        // Shard 4 moves off node 3, which keeps shard 0.
        let only = only_shard(&blob, 4);
        let on_3: Vec<usize> = only
            .placement
            .iter()
            .enumerate()
            .filter(|(_, l)| l.node == 3)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(on_3, vec![4]);
        assert_eq!(only.placement.len(), 5);
        assert_eq!(
            (only.id, only.size, only.layout),
            (blob.id, blob.size, blob.layout)
        );
    }
}
