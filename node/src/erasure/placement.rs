//! Rendezvous (highest-random-weight) placement: each candidate drive gets a score from a hash
//! of (blob id, node, drive) and the k + m highest win. Adding a drive moves only the shards
//! that now score it highest.

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

/// Choose `n` distinct drives for blob `id` out of `candidates` (fewer if there are fewer).
pub fn place(id: &[u8; 16], candidates: &[ShardLoc], n: usize) -> Vec<ShardLoc> {
    let mut scored: Vec<(u64, ShardLoc)> = candidates.iter().map(|c| (score(id, c), *c)).collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    scored.into_iter().take(n).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_is_stable_and_distinct() {
        let drives: Vec<ShardLoc> = (0..6).map(|d| ShardLoc { node: 1, drive: d }).collect();
        let id = [7u8; 16];
        let a = place(&id, &drives, 4);
        assert_eq!(a, place(&id, &drives, 4));
        let mut uniq = a.clone();
        uniq.dedup();
        assert_eq!(uniq.len(), 4);
        // Adding a drive keeps every old choice unless the new drive displaced it.
        let mut more = drives.clone();
        more.push(ShardLoc { node: 1, drive: 6 });
        let b = place(&id, &more, 4);
        let moved = a.iter().filter(|l| !b.contains(l)).count();
        assert!(moved <= 1);
    }
}
