//! Object versions: PutObject (preconditions checked against the current version, the
//! replaced version's blobs queued for deletion), DeleteObjects and DeleteObjectIf.

use coffer_proto::meta::{MetaOk, WritePrecondition};
use coffer_proto::types::ObjectVersion;
use coffer_proto::ProtoError;

use super::{queue_gc, CmdResult, Tx};
use crate::meta::format::encode;
use crate::meta::keys;
use crate::meta::store::{StoreError, CF_OBJECTS};

impl Tx<'_> {
    pub(super) fn check(
        &self,
        current: Option<&ObjectVersion>,
        pre: &WritePrecondition,
    ) -> Option<ProtoError> {
        let live = current.filter(|v| !v.delete_marker);
        let failed = |differs: bool| differs.then_some(ProtoError::PreconditionFailed);
        match (pre, live) {
            (WritePrecondition::None, _) => None,
            (WritePrecondition::MustNotExist, None) => None,
            (WritePrecondition::MustNotExist, Some(_)) => Some(ProtoError::PreconditionFailed),
            (
                WritePrecondition::EtagMatches(_)
                | WritePrecondition::ModifiedAt(_)
                | WritePrecondition::SizeIs(_),
                None,
            ) => Some(ProtoError::NoSuchKey),
            (WritePrecondition::EtagMatches(e), Some(v)) => {
                failed(e.trim_matches('"') != v.etag && e != "*")
            }
            (WritePrecondition::EtagDiffers(_), None) => None,
            (WritePrecondition::EtagDiffers(e), Some(v)) => {
                failed(e.trim_matches('"') == v.etag || e == "*")
            }
            (WritePrecondition::ModifiedAt(secs), Some(v)) => {
                failed(v.last_modified_ms.div_euclid(1000) != *secs)
            }
            (WritePrecondition::SizeIs(size), Some(v)) => failed(v.size != *size),
            (WritePrecondition::All(all), _) => all.iter().find_map(|p| self.check(current, p)),
        }
    }

    /// Install `version` as current with `tags` tags (the count a write brings is ignored: it
    /// is the store's to keep), queueing the replaced version's blobs for deletion.
    pub(super) fn install(
        &mut self,
        bucket_id: u64,
        mut version: ObjectVersion,
        tags: u16,
    ) -> Result<(), StoreError> {
        version.tag_count = Some(tags);
        let k = keys::object(bucket_id, &version.key);
        if let Some(old) = self.store.get::<ObjectVersion>(CF_OBJECTS, &k)? {
            // The same blobs again (a command applied twice) are not garbage.
            let kept: Vec<[u8; 16]> = version.data.blobs().iter().map(|b| b.id).collect();
            for blob in old.data.blobs() {
                if !kept.contains(&blob.id) {
                    queue_gc(self.batch, blob);
                }
            }
        }
        self.batch.put(CF_OBJECTS, k, encode(&version));
        // A new version starts with the default ACL (a WithAcl write stages its own after).
        crate::meta::acls::forget(
            self.batch,
            &crate::meta::acls::object_key(bucket_id, &version.key),
        );
        Ok(())
    }

    pub(super) fn put_object(
        &mut self,
        bucket_id: u64,
        version: ObjectVersion,
        pre: &WritePrecondition,
    ) -> CmdResult {
        if !self.bucket_exists(bucket_id)? {
            return Ok(Err(ProtoError::NoSuchBucket));
        }
        let k = keys::object(bucket_id, &version.key);
        let current = self.store.get::<ObjectVersion>(CF_OBJECTS, &k)?;
        if let Some(e) = self.check(current.as_ref(), pre) {
            return Ok(Err(e));
        }
        self.install(bucket_id, version, self.new_tags)?;
        Ok(Ok(MetaOk::Done))
    }

    pub(super) fn delete_objects(&mut self, bucket_id: u64, object_keys: &[String]) -> CmdResult {
        if !self.bucket_exists(bucket_id)? {
            return Ok(Err(ProtoError::NoSuchBucket));
        }
        for key in object_keys {
            let k = keys::object(bucket_id, key);
            if let Some(old) = self.store.get::<ObjectVersion>(CF_OBJECTS, &k)? {
                self.remove(bucket_id, key, &old)?;
            }
        }
        Ok(Ok(MetaOk::Done))
    }

    pub(super) fn delete_object_if(
        &mut self,
        bucket_id: u64,
        key: &str,
        precondition: &WritePrecondition,
    ) -> CmdResult {
        if !self.bucket_exists(bucket_id)? {
            return Ok(Err(ProtoError::NoSuchBucket));
        }
        let current = self
            .store
            .get::<ObjectVersion>(CF_OBJECTS, &keys::object(bucket_id, key))?;
        if let Some(e) = self.check(current.as_ref(), precondition) {
            return Ok(Err(e));
        }
        if let Some(old) = current {
            self.remove(bucket_id, key, &old)?;
        }
        Ok(Ok(MetaOk::Done))
    }

    /// Remove `key`'s current version `old`: its record and ACL, and its data queued for
    /// deletion.
    pub(super) fn remove(
        &mut self,
        bucket_id: u64,
        key: &str,
        old: &ObjectVersion,
    ) -> Result<(), StoreError> {
        for blob in old.data.blobs() {
            queue_gc(self.batch, blob);
        }
        self.batch.delete(CF_OBJECTS, keys::object(bucket_id, key));
        crate::meta::acls::forget(self.batch, &crate::meta::acls::object_key(bucket_id, key));
        Ok(())
    }
}
