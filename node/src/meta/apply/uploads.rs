//! Multipart uploads: CreateUpload, PutPart, CompleteUpload (the parts' blobs become the
//! object's, and with RememberCompletion a record of it is kept a day) and AbortUpload.

use coffer_proto::meta::{CompletePart, MetaOk, WritePrecondition, COMPLETION_KEPT_MS};
use coffer_proto::types::{ObjectData, ObjectVersion, PartInfo, UploadInfo};
use coffer_proto::ProtoError;

use super::{queue_gc, CmdResult, Tx};
use crate::meta::format::encode;
use crate::meta::keys;
use crate::meta::store::{StoreError, CF_COMPLETED, CF_OBJECTS, CF_PARTS, CF_UPLOADS};

/// Expired completion records removed per completion, at most.
const PRUNE_PER_COMPLETION: usize = 16;

/// `completed` key of the record of an upload: `r` upload key.
pub(crate) fn completion_key(bucket_id: u64, key: &str, upload_id: &str) -> Vec<u8> {
    let mut k = vec![b'r'];
    k.extend_from_slice(&keys::upload(bucket_id, key, upload_id));
    k
}

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
        let upload = UploadInfo {
            encryption: self.new_encryption.clone().map(Box::new),
            website_redirect: self.new_redirect.clone(),
            ..upload.clone()
        };
        self.batch.put(CF_UPLOADS, k, encode(&upload));
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
        let Some(upload) = self
            .store
            .get::<UploadInfo>(CF_UPLOADS, &keys::upload(bucket_id, &key, upload_id))?
        else {
            return Ok(Err(ProtoError::NoSuchUpload));
        };
        // The parts were sealed as the upload says: so is the object.
        version.encryption = upload.encryption;
        version.website_redirect = upload.website_redirect;
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
        let upload_docs = crate::meta::acls::upload_key(bucket_id, &key, upload_id);
        let tags = crate::meta::acls::tag_count(self.store, &upload_docs)?;
        let Some(bucket) = self.bucket_by_id(bucket_id)? else {
            return Ok(Err(ProtoError::NoSuchBucket));
        };
        let id = self.install(&bucket, version, tags)?;
        // The ACL and tags given at CreateMultipartUpload become the object's (staged after
        // the removals above, so they win).
        crate::meta::acls::copy(
            self.store,
            self.batch,
            &upload_docs,
            &crate::meta::acls::object_key(bucket_id, &key),
        )?;
        Ok(Ok(super::objects::written(id)))
    }

    /// Keep what completing `upload_id` wrote (`version`, without its data, which stays the
    /// object's alone) until [`COMPLETION_KEPT_MS`] after its time; drop a few records that
    /// expired by then, oldest first. Times are the command's, so every node keeps the same.
    pub(super) fn remember_completion(
        &mut self,
        bucket_id: u64,
        upload_id: &str,
        version: &ObjectVersion,
    ) -> Result<(), StoreError> {
        let record = completion_key(bucket_id, &version.key, upload_id);
        let mut kept = version.clone();
        kept.data = ObjectData::Blobs(Vec::new());
        // The id the version got (the command's is `null`, the store's to choose).
        if let Some(id) = self.written.clone() {
            kept.version_id = id;
        }
        // The answer's, not the object's (which the store counts): the same on every node
        // whatever the write carried.
        kept.tag_count = None;
        let at = u64::try_from(version.last_modified_ms).unwrap_or(0);
        let mut index = vec![b't'];
        index.extend_from_slice(&at.to_be_bytes());
        index.extend_from_slice(&keys::upload(bucket_id, &version.key, upload_id));
        let cutoff = at.saturating_sub(COMPLETION_KEPT_MS as u64);
        let mut it = self.store.raw_iter(CF_COMPLETED)?;
        it.seek(b"t");
        for _ in 0..PRUNE_PER_COMPLETION {
            let Some(k) = it.key() else { break };
            let Some(ts) = k.get(1..9).and_then(|t| <[u8; 8]>::try_from(t).ok()) else {
                break;
            };
            if k.first() != Some(&b't') || u64::from_be_bytes(ts) >= cutoff {
                break;
            }
            let mut old = vec![b'r'];
            old.extend_from_slice(k.get(9..).unwrap_or_default());
            self.batch.delete(CF_COMPLETED, old);
            self.batch.delete(CF_COMPLETED, k);
            it.next();
        }
        it.status()?;
        self.batch.put(CF_COMPLETED, record, encode(&kept));
        self.batch.put(CF_COMPLETED, index, encode(&()));
        Ok(())
    }

    /// Drop the completion records of a bucket being deleted (their expiry index entries go
    /// when they expire).
    pub(super) fn forget_completions(&mut self, bucket_id: u64) -> Result<(), StoreError> {
        let mut prefix = vec![b'r'];
        prefix.extend_from_slice(&keys::bucket_prefix(bucket_id));
        for (k, _) in self
            .store
            .scan_prefix::<ObjectVersion>(CF_COMPLETED, &prefix, usize::MAX)?
        {
            self.batch.delete(CF_COMPLETED, k);
        }
        Ok(())
    }

    pub(super) fn abort_upload(&mut self, bucket_id: u64, key: &str, upload_id: &str) -> CmdResult {
        if !self.upload_exists(bucket_id, key, upload_id)? {
            return Ok(Err(ProtoError::NoSuchUpload));
        }
        self.drop_upload(bucket_id, key, upload_id, &[])?;
        Ok(Ok(MetaOk::Done))
    }
}
