//! TransitionVersion: a lifecycle transition's commit. The data was copied to its new place
//! first (same blob ids, new layout and placement); here, in one command, the version's blobs
//! and storage class change, if it still holds what the copy read, and the old shards are
//! queued for deletion. A crash before this command leaves the old copy as the only one
//! referenced (the new shards are orphans for the sweep); after it, the new one (the old
//! shards are in the delete queue).

use coffer_proto::meta::{BucketConfigKind, MetaOk};
use coffer_proto::tier::Tiers;
use coffer_proto::types::{BlobRef, ObjectData};
use coffer_proto::ProtoError;

use super::{queue_gc, CmdResult, Tx};
use crate::meta::format::encode;

impl Tx<'_> {
    /// TransitionVersion.
    pub(super) fn transition_version(
        &mut self,
        bucket_id: u64,
        key: &str,
        version_id: &str,
        from: &[BlobRef],
        to: &[BlobRef],
        storage_class: &str,
    ) -> CmdResult {
        let same_ids = from.len() == to.len() && from.iter().zip(to).all(|(a, b)| a.id == b.id);
        if !same_ids {
            return Ok(Err(ProtoError::MisplacedCommand(
                "a transition keeps its blobs' ids, in order".into(),
            )));
        }
        let Some(found) =
            crate::meta::versions::find(self.store, bucket_id, key, Some(version_id))?
        else {
            return Ok(Err(ProtoError::NoSuchKey));
        };
        let mut v = found.version;
        if v.delete_marker || v.data.blobs() != from {
            return Ok(Err(ProtoError::PreconditionFailed));
        }
        // A copy on a remote tier removed meanwhile would be unreadable: refused, in the same
        // order as the removal.
        if to.iter().any(|b| crate::remote_tier::tier_of(b).is_some()) {
            let doc = crate::meta::policies::cluster_config(self.store, BucketConfigKind::Tiers)?;
            let tiers = Tiers::decode(doc.as_deref()).unwrap_or_default();
            let gone = to
                .iter()
                .filter_map(crate::remote_tier::tier_of)
                .any(|id| tiers.by_id(id).is_none());
            if gone {
                return Ok(Err(ProtoError::PreconditionFailed));
            }
        }
        if let ObjectData::Blobs(blobs) = &mut v.data {
            for (old, new) in from.iter().zip(to) {
                if old.placement != new.placement {
                    queue_gc(self.batch, old);
                }
            }
            *blobs = to.to_vec();
        }
        v.storage_class = storage_class.to_owned();
        self.batch.put(found.cf, &found.record, encode(&v));
        Ok(Ok(MetaOk::Done))
    }
}
