//! Rendezvous (highest-random-weight) placement: each candidate drive gets a score from a hash
//! of (blob id, node, drive), and the k + m shards go to the highest-scoring drives while
//! spreading them as evenly as possible over zones first, then nodes. Adding a drive moves only
//! the shards that now score it highest.

use coffer_proto::types::ShardLoc;
use sha2::{Digest, Sha256};

fn score(id: &[u8; 16], loc: &ShardLoc) -> u64 {
    let mut h = Sha256::new();
    h.update(id);
    h.update(loc.node.to_be_bytes());
    h.update(loc.drive.to_be_bytes());
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b)
}

/// A drive that may hold a shard, with its node's failure zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The drive.
    pub loc: ShardLoc,
    /// Its node's zone (`None`: the node is its own zone).
    pub zone: Option<String>,
}

/// Choose `n` drives for blob `id` out of `candidates`: distinct drives when there are at
/// least `n` of them. Each pick is the best-scoring drive among those whose zone, then node,
/// holds the fewest shards so far: distinct nodes (and zones) whenever there are enough of
/// them. With fewer drives than shards (a cluster shrunk below the width of blobs written
/// when it was larger) every drive takes one shard, then each takes one more in turn, so no
/// drive holds more than `ceil(n / drives)` shards of the blob; none when there are no
/// candidates.
pub fn place(id: &[u8; 16], candidates: &[Candidate], n: usize) -> Vec<ShardLoc> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n && !candidates.is_empty() {
        let more = place_distinct(id, candidates, n - out.len(), &out);
        out.extend(more);
    }
    out
}

/// Up to `n` distinct drives out of `candidates`, spreading over zones and nodes counting the
/// shards `placed` already.
fn place_distinct(
    id: &[u8; 16],
    candidates: &[Candidate],
    n: usize,
    placed: &[ShardLoc],
) -> Vec<ShardLoc> {
    let mut scored: Vec<(u64, &Candidate)> =
        candidates.iter().map(|c| (score(id, &c.loc), c)).collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    let zone_of = |c: &Candidate| match &c.zone {
        Some(z) => z.clone(),
        None => format!("node {}", c.loc.node),
    };
    let mut zones: std::collections::HashMap<String, usize> = Default::default();
    let mut nodes: std::collections::HashMap<u64, usize> = Default::default();
    for loc in placed {
        if let Some(c) = candidates.iter().find(|c| c.loc == *loc) {
            *zones.entry(zone_of(c)).or_default() += 1;
        }
        *nodes.entry(loc.node).or_default() += 1;
    }
    let mut out = Vec::with_capacity(n);
    while out.len() < n && !scored.is_empty() {
        let best = scored
            .iter()
            .enumerate()
            .min_by_key(|(i, (_, c))| {
                let z = zones.get(&zone_of(c)).copied().unwrap_or(0);
                let nd = nodes.get(&c.loc.node).copied().unwrap_or(0);
                (z, nd, *i)
            })
            .map(|(i, _)| i);
        let Some(i) = best else { break };
        let (_, c) = scored.remove(i);
        *zones.entry(zone_of(c)).or_default() += 1;
        *nodes.entry(c.loc.node).or_default() += 1;
        out.push(c.loc);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drive(node: u64, drive: u32) -> Candidate {
        Candidate {
            loc: ShardLoc { node, drive },
            zone: None,
        }
    }

    #[test]
    fn placement_is_stable_and_distinct() {
        let drives: Vec<Candidate> = (0..6).map(|d| drive(1, d)).collect();
        let id = [7u8; 16];
        let a = place(&id, &drives, 4);
        assert_eq!(a, place(&id, &drives, 4));
        let mut uniq = a.clone();
        uniq.dedup();
        assert_eq!(uniq.len(), 4);
        // Adding a drive keeps every old choice unless the new drive displaced it.
        let mut more = drives.clone();
        more.push(drive(1, 6));
        let b = place(&id, &more, 4);
        let moved = a.iter().filter(|l| !b.contains(l)).count();
        assert!(moved <= 1);
    }

    #[test]
    fn shards_go_to_distinct_nodes_then_zones() {
        // Three nodes of two drives: 3 shards land on 3 distinct nodes, for every blob.
        let drives: Vec<Candidate> = (1..=3).flat_map(|n| [drive(n, 0), drive(n, 1)]).collect();
        for b in 0..50u8 {
            let p = place(&[b; 16], &drives, 3);
            let mut nodes: Vec<u64> = p.iter().map(|l| l.node).collect();
            nodes.sort_unstable();
            assert_eq!(nodes, vec![1, 2, 3], "blob {b}: {p:?}");
        }
        // Two zones of two nodes: 2 shards always land in both zones.
        let zoned: Vec<Candidate> = (1..=4)
            .map(|n| Candidate {
                zone: Some(if n <= 2 { "a" } else { "b" }.into()),
                ..drive(n, 0)
            })
            .collect();
        for b in 0..50u8 {
            let p = place(&[b; 16], &zoned, 2);
            assert!(p.iter().any(|l| l.node <= 2) && p.iter().any(|l| l.node > 2));
        }
        // More shards than nodes: every drive is still distinct and nodes are evenly used.
        let p = place(&[9; 16], &drives, 6);
        let mut uniq = p.clone();
        uniq.sort_by_key(|l| (l.node, l.drive));
        uniq.dedup();
        assert_eq!(uniq.len(), 6);
    }

    #[test]
    fn fewer_drives_than_shards_double_up_evenly() {
        // Five shards over four single-drive nodes: every node holds one, one holds two, for
        // every blob; the first four picks are those of the distinct placement.
        let drives: Vec<Candidate> = (1..=4).map(|n| drive(n, 0)).collect();
        for b in 0..50u8 {
            let p = place(&[b; 16], &drives, 5);
            assert_eq!(p.len(), 5);
            assert_eq!(p[..4], place(&[b; 16], &drives, 4)[..], "blob {b}");
            let mut per: std::collections::BTreeMap<u64, usize> = Default::default();
            for l in &p {
                *per.entry(l.node).or_default() += 1;
            }
            assert_eq!(per.len(), 4, "blob {b}: {p:?}");
            assert!(per.values().all(|&c| c <= 2), "blob {b}: {p:?}");
        }
        // Six over three: two each. Nothing to place on: nothing.
        let three = &drives[..3];
        let p = place(&[3; 16], three, 6);
        for n in 1..=3 {
            assert_eq!(p.iter().filter(|l| l.node == n).count(), 2, "{p:?}");
        }
        assert!(place(&[3; 16], &[], 6).is_empty());
    }
}
