//! Multipart uploads: CreateUpload, PutPart, CompleteUpload (the parts' blobs become the
//! object's) and AbortUpload.

use coffer_proto::meta::{CompletePart, MetaOk, WritePrecondition};
use coffer_proto::types::{ObjectData, ObjectVersion, PartInfo, UploadInfo};
use coffer_proto::ProtoError;

use super::{queue_gc, CmdResult, Tx};
use crate::meta::format::encode;
use crate::meta::keys;
use crate::meta::store::{StoreError, CF_OBJECTS, CF_PARTS, CF_UPLOADS};

impl Tx<'_> {
    fn upload_exists(
        &self,
        bucket_id: u64,
        key: &str,
        upload_id: &str,
    ) -> Result<bool, StoreError> {
        let k = keys::upload(bucket_id, key, upload_id);
        Ok(self.store.get::<UploadInfo>(CF_UPLOADS, &k)?.is_some())
    }

    pub(super) fn create_upload(&mut self, bucket_id: u64, upload: &UploadInfo) -> CmdResult {
        if !self.bucket_exists(bucket_id)? {
            return Ok(Err(ProtoError::NoSuchBucket));
        }
        let k = keys::upload(bucket_id, &upload.key, &upload.upload_id);
        self.batch.put(CF_UPLOADS, k, encode(upload));
        Ok(Ok(MetaOk::Done))
    }

    pub(super) fn put_part(
        &mut self,
        bucket_id: u64,
        key: &str,
        upload_id: &str,
        part: &PartInfo,
    ) -> CmdResult {
        if !self.upload_exists(bucket_id, key, upload_id)? {
            return Ok(Err(ProtoError::NoSuchUpload));
        }
        let k = keys::part(bucket_id, key, upload_id, part.number);
        if let Some(old) = self.store.get::<PartInfo>(CF_PARTS, &k)? {
            if old.blob.id != part.blob.id {
                queue_gc(self.batch, &old.blob);
            }
        }
        self.batch.put(CF_PARTS, k, encode(part));
        Ok(Ok(MetaOk::Done))
    }

    /// Remove an upload and its parts; parts not in `keep` are queued for deletion.
    pub(super) fn drop_upload(
        &mut self,
        bucket_id: u64,
        key: &str,
        upload_id: &str,
        keep: &[[u8; 16]],
    ) -> Result<(), StoreError> {
        let prefix = keys::parts_prefix(bucket_id, key, upload_id);
        let parts = self
            .store
            .scan_prefix::<PartInfo>(CF_PARTS, &prefix, usize::MAX)?;
        for (k, p) in parts {
            if !keep.contains(&p.blob.id) {
                queue_gc(self.batch, &p.blob);
            }
            self.batch.delete(CF_PARTS, k);
        }
        self.batch
            .delete(CF_UPLOADS, keys::upload(bucket_id, key, upload_id));
        crate::meta::acls::forget(
            self.batch,
            &crate::meta::acls::upload_key(bucket_id, key, upload_id),
        );
        Ok(())
    }

    pub(super) fn complete_upload(
        &mut self,
        bucket_id: u64,
        upload_id: &str,
        wanted: &[CompletePart],
        mut version: ObjectVersion,
        pre: &WritePrecondition,
    ) -> CmdResult {
        let key = version.key.clone();
        if self
            .store
            .get::<coffer_proto::types::UploadInfo>(
                CF_UPLOADS,
                &keys::upload(bucket_id, &key, upload_id),
            )?
            .is_none()
        {
            return Ok(Err(ProtoError::NoSuchUpload));
        }
        let mut blobs = Vec::with_capacity(wanted.len());
        for w in wanted {
            let p = self
                .store
                .get::<PartInfo>(CF_PARTS, &keys::part(bucket_id, &key, upload_id, w.number))?;
            match p {
                Some(p) if p.blob.id == w.blob_id => blobs.push(p.blob),
                _ => return Ok(Err(ProtoError::InvalidPart(w.number))),
            }
        }
        let current = self
            .store
            .get::<ObjectVersion>(CF_OBJECTS, &keys::object(bucket_id, &key))?;
        if let Some(e) = self.check(current.as_ref(), pre) {
            return Ok(Err(e));
        }
        let keep: Vec<[u8; 16]> = blobs.iter().map(|b| b.id).collect();
        version.data = ObjectData::Blobs(blobs);
        self.drop_upload(bucket_id, &key, upload_id, &keep)?;
        self.install(bucket_id, &version)?;
        // The ACL and tags given at CreateMultipartUpload become the object's (staged after
        // the removals above, so they win).
        crate::meta::acls::copy(
            self.store,
            self.batch,
            &crate::meta::acls::upload_key(bucket_id, &key, upload_id),
            &crate::meta::acls::object_key(bucket_id, &key),
        )?;
        Ok(Ok(MetaOk::Done))
    }

    pub(super) fn abort_upload(&mut self, bucket_id: u64, key: &str, upload_id: &str) -> CmdResult {
        if !self.upload_exists(bucket_id, key, upload_id)? {
            return Ok(Err(ProtoError::NoSuchUpload));
        }
        self.drop_upload(bucket_id, key, upload_id, &[])?;
        Ok(Ok(MetaOk::Done))
    }
}
