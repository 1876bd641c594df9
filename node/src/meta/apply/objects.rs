//! Object writes: PutObject (preconditions checked against the current version; what happens
//! to the version it replaces is the bucket's versioning state's, see [`super::versions`]),
//! DeleteObjects and DeleteObjectIf.

use coffer_proto::meta::{MetaOk, WritePrecondition};
use coffer_proto::types::{BucketInfo, ObjectVersion, Versioning};
use coffer_proto::ProtoError;

use super::{queue_gc, CmdResult, Tx};
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

    pub(super) fn put_object(
        &mut self,
        bucket_id: u64,
        mut version: ObjectVersion,
        pre: &WritePrecondition,
    ) -> CmdResult {
        version.encryption = self.new_encryption.clone().map(Box::new);
        version.website_redirect = self.new_redirect.clone();
        let Some(bucket) = self.bucket_by_id(bucket_id)? else {
            return Ok(Err(ProtoError::NoSuchBucket));
        };
        let k = keys::object(bucket_id, &version.key);
        let current = self.store.get::<ObjectVersion>(CF_OBJECTS, &k)?;
        if let Some(e) = self.check(current.as_ref(), pre) {
            return Ok(Err(e));
        }
        Ok(Ok(written(self.install(
            &bucket,
            version,
            self.new_tags,
        )?)))
    }

    /// DeleteObjects: unversioned, the keys' current versions go; with versioning on, each
    /// key gets a delete marker (all of them the same id: this command's stamp, or `null`).
    pub(super) fn delete_objects(&mut self, bucket_id: u64, object_keys: &[String]) -> CmdResult {
        let Some(bucket) = self.bucket_by_id(bucket_id)? else {
            return Ok(Err(ProtoError::NoSuchBucket));
        };
        let mut answer = MetaOk::Done;
        for key in object_keys {
            answer = self.delete_current(&bucket, key)?;
        }
        Ok(Ok(answer))
    }

    /// Delete `key` as a DELETE without a version id does: unversioned, its current version
    /// goes; with versioning on, a delete marker is added.
    fn delete_current(&mut self, bucket: &BucketInfo, key: &str) -> Result<MetaOk, StoreError> {
        if bucket.versioning != Versioning::Unversioned {
            return Ok(MetaOk::Deleted {
                version_id: self.add_marker(bucket, key)?,
                delete_marker: true,
            });
        }
        let k = keys::object(bucket.id, key);
        if let Some(old) = self.store.get::<ObjectVersion>(CF_OBJECTS, &k)? {
            self.remove(bucket.id, key, &old)?;
        }
        Ok(MetaOk::Done)
    }

    pub(super) fn delete_object_if(
        &mut self,
        bucket_id: u64,
        key: &str,
        precondition: &WritePrecondition,
    ) -> CmdResult {
        let Some(bucket) = self.bucket_by_id(bucket_id)? else {
            return Ok(Err(ProtoError::NoSuchBucket));
        };
        if let Some(e) = self.current_fails(bucket_id, key, precondition)? {
            return Ok(Err(e));
        }
        Ok(Ok(self.delete_current(&bucket, key)?))
    }

    /// Why `precondition` does not hold of `key`'s current version (None: it holds).
    pub(super) fn current_fails(
        &self,
        bucket_id: u64,
        key: &str,
        precondition: &WritePrecondition,
    ) -> Result<Option<ProtoError>, StoreError> {
        let current = self
            .store
            .get::<ObjectVersion>(CF_OBJECTS, &keys::object(bucket_id, key))?;
        Ok(self.check(current.as_ref(), precondition))
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

/// What a write that installed a version answers: unversioned buckets as before (`Done`), the
/// new version's id otherwise.
pub(super) fn written(id: Option<String>) -> MetaOk {
    match id {
        Some(version_id) => MetaOk::Written { version_id },
        None => MetaOk::Done,
    }
}
