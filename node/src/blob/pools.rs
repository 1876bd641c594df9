//! Pools: the nodes a blob's shards may go to. Each node belongs to one pool: that of the
//! first local tier whose label selector its labels match ([`Tiers::pool_of`]), else the
//! default pool. A blob of a storage class mapped to a local tier is placed on that tier's
//! pool with the tier's erasure profile; every other blob on the default pool. With no local
//! tier, the default pool is every node, as before tiers existed.

use std::collections::{BTreeSet, HashMap};

use coffer_proto::tier::{TierKind, Tiers};
use coffer_proto::types::ShardLoc;

use super::BlobStore;
use crate::erasure::placement::Candidate;

/// Which pool each node of the cluster map is in, as the tiers and labels applied here say.
#[derive(Debug, Clone, Default)]
pub struct PoolMap {
    /// The tiers document.
    pub tiers: Tiers,
    /// Node id to the id of the local tier whose pool it is in (None: the default pool).
    of: HashMap<u64, Option<u32>>,
}

/// A pool: a local tier's id, or None for the default pool.
pub type Pool = Option<u32>;

impl PoolMap {
    /// The pool node `id` is in (a node the map does not know: the default pool).
    pub fn of_node(&self, id: u64) -> Pool {
        self.of.get(&id).copied().flatten()
    }

    /// The pool a blob placed at `placement` is in: the one holding most of its shards (a
    /// tie: shard 0's). Moving a blob between pools is a transition's work, never a
    /// rebalance's: a node whose pool changes keeps the blobs it holds until they move.
    pub fn of_blob(&self, placement: &[ShardLoc]) -> Pool {
        let mut count: Vec<(Pool, usize)> = Vec::new();
        for l in placement {
            let p = self.of_node(l.node);
            match count.iter_mut().find(|(q, _)| *q == p) {
                Some((_, n)) => *n += 1,
                None => count.push((p, 1)),
            }
        }
        // Ties go to the earliest seen, which is shard 0's pool for its own count.
        let mut best: Option<(Pool, usize)> = None;
        for (p, n) in count {
            if best.is_none_or(|(_, b)| n > b) {
                best = Some((p, n));
            }
        }
        best.and_then(|(p, _)| p)
    }

    /// The candidates of `pool` among `candidates`.
    pub fn restrict(&self, candidates: &[Candidate], pool: Pool) -> Vec<Candidate> {
        if self.of.values().all(Option::is_none) && pool.is_none() {
            return candidates.to_vec();
        }
        candidates
            .iter()
            .filter(|c| self.of_node(c.loc.node) == pool)
            .cloned()
            .collect()
    }

    /// The pool and erasure profile (None: the class's or the default) a blob of storage
    /// class `class` is written with.
    pub fn for_class(&self, class: &str) -> (Pool, Option<(u8, u8)>) {
        match self.tiers.of_class(class) {
            Some(t) => match &t.kind {
                TierKind::Local { k, m, .. } => (Some(t.id), Some((*k, *m))),
                // Written to the default pool; a remote tier takes data by transition.
                TierKind::Remote(_) => (None, None),
            },
            None => (None, None),
        }
    }
}

/// Distinct nodes among `candidates`.
pub fn nodes_of(candidates: &[Candidate]) -> usize {
    candidates
        .iter()
        .map(|c| c.loc.node)
        .collect::<BTreeSet<_>>()
        .len()
}

impl BlobStore {
    /// The pools of the cluster map's nodes.
    pub fn pools(&self) -> PoolMap {
        let tiers = self.peers.tiers();
        let labels = self.peers.labels();
        let of = self
            .peers
            .nodes()
            .iter()
            .map(|n| (n.id, tiers.pool_of(&labels.of(n.id)).map(|t| t.id)))
            .collect();
        PoolMap { tiers, of }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use coffer_proto::tier::Labels;

    fn map(pools: &[(u64, Pool)]) -> PoolMap {
        let mut tiers = Tiers::decode(None).unwrap();
        let pool: Labels = [("disk".to_owned(), "large".to_owned())].into();
        tiers
            .add(
                "big",
                TierKind::Local { pool, k: 2, m: 1 },
                &["STANDARD_IA".into()],
            )
            .unwrap();
        PoolMap {
            tiers,
            of: pools.iter().copied().collect(),
        }
    }

    fn at(nodes: &[u64]) -> Vec<ShardLoc> {
        nodes
            .iter()
            .map(|&node| ShardLoc { node, drive: 0 })
            .collect()
    }

    #[test]
    fn a_blob_is_in_the_pool_holding_most_of_its_shards() {
        let m = map(&[
            (1, None),
            (2, None),
            (3, Some(1)),
            (4, Some(1)),
            (5, Some(1)),
        ]);
        assert_eq!(m.of_blob(&at(&[1, 2, 3])), None);
        assert_eq!(m.of_blob(&at(&[3, 4, 1])), Some(1));
        // A tie: shard 0's pool.
        assert_eq!(m.of_blob(&at(&[3, 1])), Some(1));
        assert_eq!(m.of_blob(&at(&[1, 3])), None);
    }

    #[test]
    fn candidates_are_restricted_to_the_pool_and_classes_pick_theirs() {
        let m = map(&[(1, None), (2, None), (3, Some(1))]);
        let c = |node| Candidate {
            loc: ShardLoc { node, drive: 0 },
            zone: None,
        };
        let all = vec![c(1), c(2), c(3)];
        let nodes = |v: Vec<Candidate>| v.iter().map(|c| c.loc.node).collect::<Vec<_>>();
        assert_eq!(nodes(m.restrict(&all, None)), [1, 2]);
        assert_eq!(nodes(m.restrict(&all, Some(1))), [3]);
        assert_eq!(m.for_class("STANDARD_IA"), (Some(1), Some((2, 1))));
        assert_eq!(m.for_class("STANDARD"), (None, None));
        // No local tier: every node is in the default pool.
        let plain = PoolMap::default();
        assert_eq!(nodes(plain.restrict(&all, None)), [1, 2, 3]);
    }
}
