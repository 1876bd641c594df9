//! Blobs whose shards this node deleted a moment ago. A shard is deleted when its blob is
//! deleted or overwritten, when a write fails, and when rebalancing moved it elsewhere; a
//! repair working from an older view of the metadata (a read's heal hint, a scrub pass that
//! listed the blob just before the move) must not write it back, where nothing would ever
//! reference it again. So writes of those shards (blob id and shard index: another shard of the
//! same blob may well move here) are refused for a while.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a deleted blob's shards are refused.
const KEEP: Duration = Duration::from_secs(600);

/// At most this many ids are remembered (the oldest are forgotten first).
const MAX: usize = 100_000;

/// Recently deleted blob ids.
#[derive(Debug, Default)]
pub struct Tombstones {
    ids: Mutex<HashMap<([u8; 16], usize), Instant>>,
}

impl Tombstones {
    /// Remember that this node deleted shard `shard` of blob `id`.
    pub fn insert(&self, id: [u8; 16], shard: usize) {
        let Ok(mut ids) = self.ids.lock() else { return };
        let now = Instant::now();
        if ids.len() >= MAX {
            ids.retain(|_, t| now.duration_since(*t) < KEEP);
        }
        if ids.len() >= MAX {
            if let Some(oldest) = ids.iter().min_by_key(|(_, t)| **t).map(|(k, _)| *k) {
                ids.remove(&oldest);
            }
        }
        ids.insert((id, shard), now);
    }

    /// Whether shard `shard` of blob `id` was deleted here within the last [`KEEP`].
    pub fn contains(&self, id: &[u8; 16], shard: usize) -> bool {
        self.ids
            .lock()
            .map(|ids| ids.get(&(*id, shard)).is_some_and(|t| t.elapsed() < KEEP))
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_deleted_ids() {
        let t = Tombstones::default();
        assert!(!t.contains(&[1; 16], 0));
        t.insert([1; 16], 0);
        assert!(t.contains(&[1; 16], 0));
        assert!(!t.contains(&[1; 16], 1));
        assert!(!t.contains(&[2; 16], 0));
    }
}
