//! Versioning: where a key's versions live and how writes and deletes move them.
//!
//! A key's current version (its newest, unless that is a delete marker) is its `objects`
//! record, so listing current keys is one scan that never meets an old version. Every other
//! version and every delete marker is a `versions` record keyed by bucket ‖ key ‖ 0x00 ‖ the
//! stamp's newest-first bytes, so a key's versions are one scan, newest first. A record written
//! before versioning has no stamp and sorts as the oldest ([`keys::UNSTAMPED`]): it can only
//! be a key's current version, since nothing older than it was ever kept.
//!
//! Invariant, kept by every command here: if a key's newest version is not a delete marker,
//! it is the `objects` record; otherwise the key has no `objects` record.

use coffer_proto::meta::{MetaOk, WritePrecondition};
use coffer_proto::types::{BucketInfo, ObjectData, ObjectVersion, Versioning, NULL_VERSION};
use coffer_proto::version_id::VersionId;
use coffer_proto::ProtoError;

use super::{queue_gc, CmdResult, Tx};
use crate::meta::acls;
use crate::meta::format::encode;
use crate::meta::keys;
use crate::meta::store::{StoreError, CF_BUCKETS, CF_BUCKET_IDS, CF_OBJECTS, CF_VERSIONS};

impl Tx<'_> {
    /// Bucket `id`, if it exists.
    pub(super) fn bucket_by_id(&self, id: u64) -> Result<Option<BucketInfo>, StoreError> {
        match self.store.get::<String>(CF_BUCKET_IDS, &id.to_be_bytes())? {
            Some(name) => self.store.get(CF_BUCKETS, name.as_bytes()),
            None => Ok(None),
        }
    }

    /// Queue the blobs of `old` for deletion, except those in `kept` (the same blobs written
    /// again by a command applied twice are not garbage).
    pub(super) fn free(&mut self, old: &ObjectVersion, kept: &[[u8; 16]]) {
        for blob in old.data.blobs() {
            if !kept.contains(&blob.id) {
                queue_gc(self.batch, blob);
            }
        }
    }

    /// Move `old`, the key's current version, among its older versions with its ACL and tags
    /// (the caller replaces or deletes the `objects` record).
    pub(super) fn retire(&mut self, bucket_id: u64, old: &ObjectVersion) -> Result<(), StoreError> {
        let to = acls::version_key(bucket_id, &old.key, old.stamp);
        let from = acls::object_key(bucket_id, &old.key);
        acls::copy(self.store, self.batch, &from, &to)?;
        acls::forget(self.batch, &from);
        self.batch.put(
            CF_VERSIONS,
            keys::version(bucket_id, &old.key, old.stamp),
            encode(old),
        );
        Ok(())
    }

    /// The key's older versions and delete markers, newest first, with their record keys.
    fn older(
        &self,
        bucket_id: u64,
        key: &str,
    ) -> Result<Vec<(Vec<u8>, ObjectVersion)>, StoreError> {
        self.store.scan_prefix::<ObjectVersion>(
            CF_VERSIONS,
            &keys::versions_prefix(bucket_id, key),
            usize::MAX,
        )
    }

    /// Remove the older version at `record` for good: its data queued for deletion, its ACL
    /// and tags dropped.
    fn destroy_older(&mut self, bucket_id: u64, record: &[u8], v: &ObjectVersion) {
        self.free(v, &[]);
        self.batch.delete(CF_VERSIONS, record);
        acls::forget(self.batch, &acls::version_key(bucket_id, &v.key, v.stamp));
    }

    /// Remove the key's `null` version if it is among the older ones (a suspended bucket's
    /// write or delete replaces it).
    fn drop_older_null(&mut self, bucket_id: u64, key: &str) -> Result<(), StoreError> {
        for (record, v) in self.older(bucket_id, key)? {
            if v.version_id == NULL_VERSION {
                self.destroy_older(bucket_id, &record, &v);
            }
        }
        Ok(())
    }

    /// Make room for a new newest version of `key` in `bucket`: the current version retires,
    /// or (suspended) the null version goes wherever it is. Returns the id the new version
    /// gets. `kept`: the blobs the new version brings.
    fn make_room(
        &mut self,
        bucket: &BucketInfo,
        key: &str,
        current: Option<&ObjectVersion>,
        kept: &[[u8; 16]],
    ) -> Result<String, StoreError> {
        let suspended = bucket.versioning != Versioning::Enabled;
        match current {
            Some(old) if suspended && old.version_id == NULL_VERSION => {
                self.free(old, kept);
                acls::forget(self.batch, &acls::object_key(bucket.id, key));
            }
            Some(old) => self.retire(bucket.id, old)?,
            None => {}
        }
        Ok(if suspended {
            self.drop_older_null(bucket.id, key)?;
            NULL_VERSION.to_owned()
        } else {
            self.stamp.version_id()
        })
    }

    /// Install `version` as current with `tags` tags (the count a write brings is ignored: it
    /// is the store's to keep) in `bucket` as its versioning state says: unversioned, it
    /// replaces the current version (queueing its blobs for deletion); enabled, the current
    /// version retires among the older ones and the new one gets its stamp's id; suspended,
    /// the new `null` version replaces the old one wherever it is. Returns the new version's
    /// id (None: unversioned).
    pub(super) fn install(
        &mut self,
        bucket: &BucketInfo,
        mut version: ObjectVersion,
        tags: u16,
    ) -> Result<Option<String>, StoreError> {
        version.tag_count = Some(tags);
        version.stamp = Some(self.stamp);
        let k = keys::object(bucket.id, &version.key);
        let kept: Vec<[u8; 16]> = version.data.blobs().iter().map(|b| b.id).collect();
        let current = self.store.get::<ObjectVersion>(CF_OBJECTS, &k)?;
        let id = if bucket.versioning == Versioning::Unversioned {
            if let Some(old) = &current {
                self.free(old, &kept);
            }
            version.version_id = NULL_VERSION.to_owned();
            None
        } else {
            if let Some(old) = &current {
                let same: Vec<[u8; 16]> = old.data.blobs().iter().map(|b| b.id).collect();
                if !kept.is_empty() && same == kept {
                    // The same write applied twice: it is the current version already.
                    self.written = Some(old.version_id.clone());
                    return Ok(Some(old.version_id.clone()));
                }
            }
            let id = self.make_room(bucket, &version.key, current.as_ref(), &kept)?;
            version.version_id = id.clone();
            Some(id)
        };
        self.written = Some(version.version_id.clone());
        self.batch.put(CF_OBJECTS, k, encode(&version));
        // A new version starts with the default ACL (a WithAcl write stages its own after).
        acls::forget(self.batch, &acls::object_key(bucket.id, &version.key));
        Ok(id)
    }

    /// Delete `key` in a bucket with versioning on: a delete marker becomes its newest
    /// version (enabled: a new one, even on top of another; suspended: the `null` one, which
    /// replaces the null version). Returns the marker's id.
    pub(super) fn add_marker(
        &mut self,
        bucket: &BucketInfo,
        key: &str,
    ) -> Result<String, StoreError> {
        let k = keys::object(bucket.id, key);
        let current = self.store.get::<ObjectVersion>(CF_OBJECTS, &k)?;
        let id = self.make_room(bucket, key, current.as_ref(), &[])?;
        if current.is_some() {
            self.batch.delete(CF_OBJECTS, k);
        }
        let marker = ObjectVersion {
            key: key.to_owned(),
            version_id: id.clone(),
            last_modified_ms: self.now_ms,
            size: 0,
            etag: String::new(),
            content: Default::default(),
            user_meta: Vec::new(),
            checksum: None,
            parts: Vec::new(),
            storage_class: "STANDARD".to_owned(),
            delete_marker: true,
            owner: bucket.owner.clone(),
            data: ObjectData::Inline(Default::default()),
            tag_count: Some(0),
            stamp: Some(self.stamp),
            encryption: None,
            website_redirect: None,
        };
        self.batch.put(
            CF_VERSIONS,
            keys::version(bucket.id, key, marker.stamp),
            encode(&marker),
        );
        Ok(id)
    }

    /// DeleteVersionIf: [`Self::delete_version`] if `precondition` holds of the current
    /// version.
    pub(super) fn delete_version_if(
        &mut self,
        bucket_id: u64,
        key: &str,
        version_id: &str,
        bypass: bool,
        precondition: &WritePrecondition,
    ) -> CmdResult {
        if !self.bucket_exists(bucket_id)? {
            return Ok(Err(ProtoError::NoSuchBucket));
        }
        if let Some(e) = self.current_fails(bucket_id, key, precondition)? {
            return Ok(Err(e));
        }
        self.delete_version(bucket_id, key, version_id, bypass)
    }

    /// DeleteVersion: remove one version of `key` for good; if it was the newest, the next
    /// becomes current (unless it is a delete marker, which stays the newest).
    ///
    /// A version an Object Lock protects is refused (ObjectLocked), whoever asks; a
    /// governance retention gives way to `bypass`.
    pub(super) fn delete_version(
        &mut self,
        bucket_id: u64,
        key: &str,
        version_id: &str,
        bypass: bool,
    ) -> CmdResult {
        if !self.bucket_exists(bucket_id)? {
            return Ok(Err(ProtoError::NoSuchBucket));
        }
        if VersionId::parse(version_id).is_err() {
            return Ok(Err(ProtoError::MisplacedCommand(format!(
                "malformed version id {version_id:?} (the sender validates ids)"
            ))));
        }
        if let Some(f) = crate::meta::versions::find(self.store, bucket_id, key, Some(version_id))?
        {
            let lock = crate::meta::locks::lock_at(self.store, &f.docs)?;
            if lock.forbids_removal(self.now_ms, bypass) {
                return Ok(Err(ProtoError::ObjectLocked));
            }
        }
        let k = keys::object(bucket_id, key);
        let current = self.store.get::<ObjectVersion>(CF_OBJECTS, &k)?;
        let older = self.older(bucket_id, key)?;
        let mut deleted = MetaOk::Deleted {
            version_id: version_id.to_owned(),
            delete_marker: false,
        };
        let removed_current = match &current {
            Some(cur) if cur.version_id == version_id => {
                self.free(cur, &[]);
                self.batch.delete(CF_OBJECTS, &k);
                acls::forget(self.batch, &acls::object_key(bucket_id, key));
                true
            }
            _ => false,
        };
        let mut left = Vec::with_capacity(older.len());
        for (record, v) in older {
            if !removed_current && v.version_id == version_id {
                deleted = MetaOk::Deleted {
                    version_id: version_id.to_owned(),
                    delete_marker: v.delete_marker,
                };
                self.destroy_older(bucket_id, &record, &v);
            } else {
                left.push((record, v));
            }
        }
        // The newest left becomes current if the key has none now and it is a version.
        if removed_current || current.is_none() {
            if let Some((record, v)) = left.into_iter().next().filter(|(_, v)| !v.delete_marker) {
                let from = acls::version_key(bucket_id, key, v.stamp);
                let to = acls::object_key(bucket_id, key);
                acls::copy(self.store, self.batch, &from, &to)?;
                acls::forget(self.batch, &from);
                self.batch.delete(CF_VERSIONS, record);
                self.batch.put(CF_OBJECTS, k, encode(&v));
            }
        }
        Ok(Ok(deleted))
    }

    /// SetVersioning: Enabled or Suspended; never back to Unversioned.
    pub(super) fn set_versioning(&mut self, name: &str, state: Versioning) -> CmdResult {
        let Some(mut b) = self.store.get::<BucketInfo>(CF_BUCKETS, name.as_bytes())? else {
            return Ok(Err(ProtoError::NoSuchBucket));
        };
        if state == Versioning::Suspended
            && crate::meta::policies::object_lock(self.store, b.id)?.is_some()
        {
            return Ok(Err(ProtoError::InvalidBucketState(
                "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."
                    .into(),
            )));
        }
        if state == Versioning::Unversioned {
            return Ok(Err(ProtoError::MisplacedCommand(
                "a bucket's versioning can be Enabled or Suspended, never turned off".into(),
            )));
        }
        b.versioning = state;
        self.batch.put(CF_BUCKETS, name.as_bytes(), encode(&b));
        Ok(Ok(MetaOk::Done))
    }
}
