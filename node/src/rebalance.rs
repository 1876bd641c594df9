//! Rebalancing: after a node joins or is being drained, blobs whose recorded placement is not
//! where rendezvous hashing over today's active nodes would put them move, one shard per blob
//! per pass, while reads and writes go on:
//!
//! 1. the shard is rebuilt onto its new drive from the blob's other shards (written aside,
//!    fsynced and renamed, like a heal);
//! 2. the new placement is committed through Raft, on the condition that the record still
//!    holds the old one (a blob overwritten or completed meanwhile is left alone; the copy is
//!    then an orphan for the sweep);
//! 3. only then is the old shard deleted. A read that fetched the old placement just before
//!    finds it gone and rebuilds the stripe from the others, as for any missing shard.
//!
//! A blob moves within its pool (`blob::pools`): the desired placement is over the drives of
//! the pool holding most of its shards.
//!
//! Each blob is moved by the node holding its shard 0, so two nodes never move the same blob.
//! A pass runs whenever the active nodes differ from those of the last pass that found
//! nothing to move (a node joined, left or began draining), while any node drains, and at
//! least hourly; a pass reads only metadata, and moves only what is misplaced.
//! The Raft leader also finishes drains: once no blob has a shard on a draining node, it
//! leaves the Raft membership (a learner is promoted if the voters fall short) and the
//! cluster map.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use coffer_proto::meta::{BlobRecord, MetaCommand};
use coffer_proto::types::{BlobRef, ShardLoc};
use coffer_proto::{ClusterApi, ProtoError};
use tracing::{info, warn};

use crate::blob::pools::Pool;
use crate::cluster::Node;
use crate::erasure::placement::{self, Candidate};
use crate::meta::query;
use crate::pace::Pacer;

/// Blobs per metadata page of a pass.
const PAGE: usize = 256;

/// What a move counts against the rate at least, whatever its size: a small blob's move
/// costs k shard reads, a write with its fsync, a Raft commit and a delete.
const MOVE_FLOOR: u64 = 256 << 10;

/// What one rebalancing pass saw and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RebalanceReport {
    /// Blobs this node is responsible for that are not where they belong.
    pub misplaced: u64,
    /// Shards moved.
    pub shards_moved: u64,
    /// Moves that failed (tried again next pass).
    pub failures: u64,
    /// Blobs with a shard on each node (all blobs, whoever moves them).
    pub per_node: HashMap<u64, u64>,
}

/// The move that brings `current` closer to `desired`, counting shards per node: a shard on
/// a node that holds more of the blob's shards than the desired placement gives it (none, for
/// a node being drained; two where one is wanted, after a cluster that had shrunk below the
/// blob's width grew again) goes to a desired drive on a node that holds fewer than it should.
/// A node's shards on drives the desired placement does not name go first; then the highest
/// index, so that shard 0, whose node moves the blob, stays where it is when it can. One move
/// at a time keeps k + m - 1 shards in place, so the move can always be rebuilt while up to
/// m - 1 other nodes are down. Shards of a node that holds as many as it should stay on their
/// drives.
pub fn next_move(current: &[ShardLoc], desired: &[ShardLoc]) -> Option<(usize, ShardLoc)> {
    fn count<T: Eq + std::hash::Hash>(items: impl Iterator<Item = T>) -> HashMap<T, usize> {
        let mut out = HashMap::new();
        for i in items {
            *out.entry(i).or_default() += 1;
        }
        out
    }
    let (cur_n, des_n) = (
        count(current.iter().map(|l| l.node)),
        count(desired.iter().map(|l| l.node)),
    );
    let at = |l: &ShardLoc| (l.node, l.drive);
    let (cur_l, des_l) = (count(current.iter().map(at)), count(desired.iter().map(at)));
    let n = |m: &HashMap<u64, usize>, node| m.get(&node).copied().unwrap_or(0);
    let l = |m: &HashMap<(u64, u32), usize>, loc: &ShardLoc| m.get(&at(loc)).copied().unwrap_or(0);
    let over: Vec<(usize, &ShardLoc)> = current
        .iter()
        .enumerate()
        .filter(|(_, c)| n(&cur_n, c.node) > n(&des_n, c.node))
        .collect();
    let (from, _) = over
        .iter()
        .rev()
        .find(|(_, c)| l(&cur_l, c) > l(&des_l, c))
        .or(over.last())
        .copied()?;
    let to = desired
        .iter()
        .find(|d| n(&cur_n, d.node) < n(&des_n, d.node) && l(&cur_l, d) < l(&des_l, d))?;
    Some((from, *to))
}

/// Move shard `shard` of `blob` (referenced by `record`) to `to`.
async fn move_shard(
    node: &Node,
    record: BlobRecord,
    blob: &BlobRef,
    shard: usize,
    to: ShardLoc,
) -> Result<u64, ProtoError> {
    let mut placement = blob.placement.clone();
    let slot = placement
        .get_mut(shard)
        .ok_or_else(|| ProtoError::Internal(format!("the blob has no shard {shard}")))?;
    *slot = to;
    let moved = BlobRef {
        placement,
        ..blob.clone()
    };
    let bytes = node.blobs().copy_shard(blob, &moved, shard).await?;
    let commit = node
        .meta_write(MetaCommand::MovePlacement {
            record,
            blob_id: blob.id,
            from: blob.placement.clone(),
            to: moved.placement.clone(),
        })
        .await;
    // On an error the copy is left where it is: the record may have changed meanwhile, but
    // the commit may also have been applied with its answer lost. The orphan sweep removes it
    // if no placement refers to it.
    commit?;
    node.blobs().delete_shard(blob, shard).await;
    Ok(bytes)
}

/// One pass over every blob: count what is misplaced with respect to `candidates` (the
/// active nodes' drives) and move what this node is responsible for, at most
/// `--rebalance-rate` bytes per second and `--rebalance-duty` percent of the time.
pub async fn rebalance_once(node: &Node, candidates: &[Candidate]) -> RebalanceReport {
    let mut report = RebalanceReport::default();
    let me = node.config.id;
    let mut pacer = Pacer::new(node.config.rebalance_rate).with_duty(node.config.rebalance_duty);
    // Nodes of the cluster map this pass works from (draining ones too). A blob with a shard
    // on a node it does not name was placed by a node that knows of a newer member: this
    // node's map is behind, and moving that shard "home" would move it off a node it belongs
    // on (and the node would refuse it back for a while, as a shard it deleted). Such blobs
    // wait for the next pass, which the changed map starts.
    let known: HashSet<u64> = node.peers().nodes().iter().map(|n| n.id).collect();
    // A blob stays in its pool (see `blob::pools`): its desired placement is over that
    // pool's drives.
    let pools = node.blobs().pools();
    let mut in_pool: HashMap<Pool, Vec<Candidate>> = HashMap::new();
    let mut cursor = None;
    loop {
        let store = node.meta_store().clone();
        let after = cursor.clone();
        let page = tokio::task::spawn_blocking(move || {
            query::blob_records_page(&store, after.as_ref(), PAGE)
        })
        .await;
        let (blobs, next) = match page {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                warn!("rebalance: metadata scan failed: {e}");
                return report;
            }
            Err(e) => {
                warn!("rebalance: metadata scan failed: {e}");
                return report;
            }
        };
        for (record, blob) in blobs {
            let nodes: BTreeSet<u64> = blob.placement.iter().map(|l| l.node).collect();
            for n in nodes {
                *report.per_node.entry(n).or_default() += 1;
            }
            if blob.placement.first().map(|l| l.node) != Some(me)
                || node.blobs().is_writing(&blob.id)
                || blob.placement.iter().any(|l| !known.contains(&l.node))
            {
                continue;
            }
            let pool = pools.of_blob(&blob.placement);
            let candidates = in_pool
                .entry(pool)
                .or_insert_with(|| pools.restrict(candidates, pool));
            let desired = placement::place(&blob.id, candidates, blob.placement.len());
            let Some((shard, to)) = next_move(&blob.placement, &desired) else {
                continue;
            };
            report.misplaced += 1;
            let stats = &node.blobs().stats;
            let began = Instant::now();
            let moved = move_shard(node, record, &blob, shard, to).await;
            let spent = moved.as_ref().map_or(0, |b| *b).max(MOVE_FLOOR);
            match moved {
                Ok(bytes) => {
                    info!(blob = %blob.id_hex(), shard, to = to.node, bytes, "shard moved");
                    report.shards_moved += 1;
                    stats.shards_moved.fetch_add(1, Ordering::Relaxed);
                    stats.bytes_moved.fetch_add(bytes, Ordering::Relaxed);
                }
                Err(e) => {
                    warn!(blob = %blob.id_hex(), shard, to = to.node, "move failed: {e}");
                    report.failures += 1;
                    stats.move_failures.fetch_add(1, Ordering::Relaxed);
                }
            }
            pacer.spend_work(spent, began.elapsed()).await;
        }
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let stats = &node.blobs().stats;
    stats.misplaced.store(report.misplaced, Ordering::Relaxed);
    stats.rebalance_passes.fetch_add(1, Ordering::Relaxed);
    report
}

/// How often the loop looks at the cluster map.
const LOOK_EVERY: Duration = Duration::from_secs(2);

/// A pass runs at least this often even when nothing changed.
const AT_LEAST_EVERY: Duration = Duration::from_secs(3600);

/// Rebalance until the task is dropped.
pub async fn run(node: Arc<Node>) {
    let mut settled: Option<Vec<ShardLoc>> = None;
    let mut last = Instant::now();
    let mut before = HashMap::new();
    loop {
        tokio::time::sleep(LOOK_EVERY).await;
        let (candidates, _) = node.blobs().candidates();
        let active: Vec<ShardLoc> = candidates.iter().map(|c| c.loc).collect();
        let draining = !node.peers().draining().is_empty();
        if !draining && settled.as_ref() == Some(&active) && last.elapsed() < AT_LEAST_EVERY {
            continue;
        }
        last = Instant::now();
        let r = rebalance_once(&node, &candidates).await;
        if r.misplaced > 0 || r.failures > 0 {
            info!(
                misplaced = r.misplaced,
                moved = r.shards_moved,
                failed = r.failures,
                "rebalance pass done"
            );
        } else {
            settled = Some(active.clone());
            let nodes: HashSet<u64> = active.iter().map(|l| l.node).collect();
            node.blobs()
                .stats
                .balanced_over
                .store(nodes.len() as u64, Ordering::Relaxed);
        }
        finish_drains(&node, &r.per_node, &before).await;
        before = r.per_node;
    }
}

/// On the leader: take every draining node that no blob referenced in this pass nor in the
/// one before out of Raft and the cluster map (two passes, so that a write which chose its
/// placement just before the drain began is seen). `per_node` and `before` come from full
/// passes over the leader's state, which holds every acknowledged write.
pub async fn finish_drains(node: &Node, per_node: &HashMap<u64, u64>, before: &HashMap<u64, u64>) {
    if !node.is_leader().await {
        return;
    }
    for id in node.peers().draining() {
        let held = |m: &HashMap<u64, u64>| m.get(&id).copied().unwrap_or(0);
        if held(per_node) > 0 || held(before) > 0 {
            continue;
        }
        match node.remove_member(id).await {
            Ok(()) => info!(node = id, "drained and removed from the cluster"),
            Err(e) => warn!(node = id, "failed to remove a drained node: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn loc(node: u64) -> ShardLoc {
        ShardLoc { node, drive: 0 }
    }

    fn locs(nodes: &[u64]) -> Vec<ShardLoc> {
        nodes
            .iter()
            .map(|&node| ShardLoc { node, drive: 0 })
            .collect()
    }

    #[test]
    fn moves_one_shard_off_a_node_that_is_not_wanted() {
        // Node 3 is drained: its shard (index 1) goes to node 4, the others stay.
        let m = next_move(&locs(&[1, 3, 2]), &locs(&[2, 4, 1]));
        assert_eq!(m, Some((1, ShardLoc { node: 4, drive: 0 })));
        // Already where it belongs (order does not matter): nothing to do.
        assert_eq!(next_move(&locs(&[1, 3, 2]), &locs(&[3, 2, 1])), None);
        // Nowhere to go: nothing to do.
        assert_eq!(next_move(&locs(&[1, 3, 2]), &locs(&[1, 2])), None);
    }

    #[test]
    fn a_blob_wider_than_the_nodes_left_doubles_up_on_a_node_with_two_drives() {
        // Five shards on nodes 0-4; node 4 drains and four nodes of two drives are left:
        // placement wants node 0's second drive, and node 4's shard goes there.
        let at = |node, drive| ShardLoc { node, drive };
        let current = locs(&[0, 1, 2, 3, 4]);
        let desired = [at(2, 0), at(0, 1), at(1, 0), at(0, 0), at(3, 0)];
        assert_eq!(next_move(&current, &desired), Some((4, at(0, 1))));
        // Moved: nothing more to do.
        let moved = [at(0, 0), at(1, 0), at(2, 0), at(3, 0), at(0, 1)];
        assert_eq!(next_move(&moved, &desired), None);
    }

    #[test]
    fn a_blob_wider_than_the_drives_left_doubles_up_and_spreads_out_again() {
        // Five shards on single-drive nodes 1-5; node 5 drains and four are left: its shard
        // goes to the node the desired placement doubles up on, even though that node already
        // holds one.
        let current = locs(&[1, 2, 3, 4, 5]);
        let desired = locs(&[3, 1, 4, 2, 3]);
        assert_eq!(next_move(&current, &desired), Some((4, loc(3))));
        let shrunk = locs(&[1, 2, 3, 4, 3]);
        assert_eq!(next_move(&shrunk, &desired), None);
        // A fifth node joins again: one of node 3's two shards goes to it, the later one
        // (shard 0 stays, and with it the node that moves the blob).
        let grown = locs(&[3, 1, 4, 2, 6]);
        assert_eq!(next_move(&shrunk, &grown), Some((4, loc(6))));
        let shrunk0 = locs(&[3, 2, 1, 4, 3]);
        assert_eq!(next_move(&shrunk0, &grown), Some((4, loc(6))));
        // A node holding as many shards as it should keeps them, whatever their order.
        assert_eq!(next_move(&locs(&[3, 2, 1, 4, 6]), &grown), None);
    }

    #[test]
    fn a_node_with_too_many_shards_gives_up_one_on_an_unwanted_drive_first() {
        // Node 1 holds shards on drives 0 and 1 and should hold one on drive 0: the shard on
        // drive 1 moves, to node 2.
        let at = |node, drive| ShardLoc { node, drive };
        let current = [at(1, 0), at(1, 1), at(3, 0)];
        let desired = [at(1, 0), at(2, 0), at(3, 0)];
        assert_eq!(next_move(&current, &desired), Some((1, at(2, 0))));
        let current = [at(1, 1), at(1, 0), at(3, 0)];
        assert_eq!(next_move(&current, &desired), Some((0, at(2, 0))));
    }
}
