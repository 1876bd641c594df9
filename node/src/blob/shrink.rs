//! Whether the cluster may shrink to fewer drives: shards are never re-encoded, so a blob wider
//! than the drives left keeps several of its shards on one drive, and must still survive the
//! loss of a drive (`coffer admin node remove` answers 409 otherwise).

use super::BlobStore;
use crate::erasure::{default_profile, DEFAULT_PROFILES_UP_TO};

impl BlobStore {
    /// Why the cluster may not shrink to `drives` drives, if it may not (see
    /// [`shrink_refusal`](fn@shrink_refusal)). The profiles counted are every one blobs may have been written
    /// with: the configured one or the default of every cluster size, and the storage
    /// classes'.
    pub fn shrink_refusal(&self, drives: usize) -> Option<String> {
        let mut profiles: Vec<(u8, u8)> = match self.profile {
            Some(p) => vec![p],
            None => (1..=DEFAULT_PROFILES_UP_TO).map(default_profile).collect(),
        };
        profiles.extend(
            self.peers
                .storage_classes()
                .into_iter()
                .map(|(_, k, m)| (k, m)),
        );
        shrink_refusal(&profiles, drives)
    }
}

/// Why blobs of `profiles` may not be left on `drives` drives, if they may not: every blob
/// must still survive the loss of a drive, though a blob wider than the drives puts up to
/// `ceil((k + m) / drives)` of its shards on one.
pub fn shrink_refusal(profiles: &[(u8, u8)], drives: usize) -> Option<String> {
    profiles.iter().find_map(|&(k, m)| {
        let width = usize::from(k) + usize::from(m);
        if width <= drives {
            return None;
        }
        let per_drive = width.div_ceil(drives.max(1));
        (drives == 0 || per_drive > usize::from(m)).then(|| {
            format!(
                "{drives} drives would be left: blobs of {k}+{m} would have {per_drive} shards \
                 on one drive, more than their {m} parity shards"
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shrink_keeps_every_blob_safe_from_one_drive_lost() {
        let defaults: Vec<(u8, u8)> = (1..=DEFAULT_PROFILES_UP_TO).map(default_profile).collect();
        // 4+2 on three drives is two shards a drive: allowed; on two, three: refused.
        assert_eq!(shrink_refusal(&defaults, 6), None);
        assert_eq!(shrink_refusal(&defaults, 4), None);
        assert_eq!(shrink_refusal(&defaults, 3), None);
        assert_eq!(
            shrink_refusal(&defaults, 2).as_deref(),
            Some("2 drives would be left: blobs of 2+1 would have 2 shards on one drive, more than their 1 parity shards")
        );
        assert!(shrink_refusal(&defaults, 0).is_some());
        // A profile without parity needs its width in drives; one with a lot of it, few.
        assert!(shrink_refusal(&[(4, 0)], 3).is_some());
        assert_eq!(shrink_refusal(&[(4, 0)], 4), None);
        assert_eq!(shrink_refusal(&[(2, 4)], 2), None);
        assert_eq!(shrink_refusal(&[(1, 0)], 1), None);
    }
}
