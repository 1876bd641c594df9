//! The cluster: the node map (RegisterNode, DrainNode, RemoveNode), storage classes'
//! erasure profiles, the delete queue (GcDone) and moved shards (MovePlacement).

use coffer_proto::meta::{BlobRecord, MetaOk};
use coffer_proto::types::{BlobRef, NodeInfo, ObjectData, ObjectVersion, PartInfo, ShardLoc};
use coffer_proto::ProtoError;

use super::{CmdResult, Tx};
use crate::meta::format::encode;
use crate::meta::keys;
use crate::meta::store::{
    CF_CLASSES, CF_DRAINING, CF_GC, CF_NODES, CF_OBJECTS, CF_PARTS, CF_VERSIONS,
};

impl Tx<'_> {
    pub(super) fn gc_done(&mut self, blob_ids: &[[u8; 16]]) -> CmdResult {
        for id in blob_ids {
            self.batch.delete(CF_GC, id);
        }
        Ok(Ok(MetaOk::Done))
    }

    pub(super) fn register_node(&mut self, info: &NodeInfo) -> CmdResult {
        self.batch.put(CF_NODES, keys::node(info.id), encode(info));
        Ok(Ok(MetaOk::Done))
    }

    pub(super) fn set_storage_class(
        &mut self,
        name: &str,
        profile: Option<&(u8, u8)>,
    ) -> CmdResult {
        if !coffer_proto::types::STORAGE_CLASSES.contains(&name) {
            return Ok(Err(ProtoError::NoSuchStorageClass(name.to_owned())));
        }
        match profile {
            Some((k, m)) if *k == 0 || usize::from(*k) + usize::from(*m) > 255 => {
                return Ok(Err(ProtoError::InvalidErasureProfile(format!(
                    "{k}+{m}: k must be 1 or more, k+m at most 255"
                ))));
            }
            Some(p) => self.batch.put(CF_CLASSES, name.as_bytes(), encode(p)),
            None => self.batch.delete(CF_CLASSES, name.as_bytes()),
        }
        Ok(Ok(MetaOk::Done))
    }

    pub(super) fn drain_node(&mut self, id: u64) -> CmdResult {
        if self
            .store
            .get::<NodeInfo>(CF_NODES, &keys::node(id))?
            .is_none()
        {
            return Ok(Err(ProtoError::NoSuchNode(id)));
        }
        self.batch.put(CF_DRAINING, keys::node(id), encode(&()));
        Ok(Ok(MetaOk::Done))
    }

    pub(super) fn remove_node(&mut self, id: u64) -> CmdResult {
        self.batch.delete(CF_NODES, keys::node(id));
        self.batch.delete(CF_DRAINING, keys::node(id));
        Ok(Ok(MetaOk::Done))
    }

    /// Swap a blob's placement in the record that references it, if it is still `from`.
    pub(super) fn move_placement(
        &mut self,
        record: &BlobRecord,
        id: &[u8; 16],
        from: &[ShardLoc],
        to: &[ShardLoc],
    ) -> CmdResult {
        fn swap(b: &mut BlobRef, id: &[u8; 16], from: &[ShardLoc], to: &[ShardLoc]) -> bool {
            if &b.id == id && b.placement == from && to.len() == from.len() {
                b.placement = to.to_vec();
                true
            } else {
                false
            }
        }
        let moved = match record {
            BlobRecord::Object(key) | BlobRecord::Version(key) => {
                let cf = match record {
                    BlobRecord::Object(_) => CF_OBJECTS,
                    _ => CF_VERSIONS,
                };
                let Some(mut o) = self.store.get::<ObjectVersion>(cf, key)? else {
                    return Ok(Err(ProtoError::PreconditionFailed));
                };
                let hit = match &mut o.data {
                    ObjectData::Blobs(blobs) => blobs.iter_mut().any(|b| swap(b, id, from, to)),
                    ObjectData::Inline(_) => false,
                };
                if hit {
                    self.batch.put(cf, key, encode(&o));
                }
                hit
            }
            BlobRecord::Part(key) => {
                let Some(mut p) = self.store.get::<PartInfo>(CF_PARTS, key)? else {
                    return Ok(Err(ProtoError::PreconditionFailed));
                };
                let hit = swap(&mut p.blob, id, from, to);
                if hit {
                    self.batch.put(CF_PARTS, key, encode(&p));
                }
                hit
            }
        };
        Ok(if moved {
            Ok(MetaOk::Done)
        } else {
            Err(ProtoError::PreconditionFailed)
        })
    }
}
