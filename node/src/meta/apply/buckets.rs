//! Buckets: CreateBucket (its id is the entry's index) and DeleteBucket (only without
//! objects; its incomplete multipart uploads go with it, as on S3).

use coffer_proto::meta::MetaOk;
use coffer_proto::types::{BucketInfo, Versioning};
use coffer_proto::ProtoError;

use super::{CmdResult, Tx};
use crate::meta::format::encode;
use crate::meta::keys;
use crate::meta::store::{
    StoreError, CF_BUCKETS, CF_BUCKET_IDS, CF_OBJECTS, CF_UPLOADS, CF_VERSIONS,
};
use coffer_proto::types::UploadInfo;

impl Tx<'_> {
    pub(super) fn bucket_exists(&self, id: u64) -> Result<bool, StoreError> {
        Ok(self
            .store
            .get::<String>(CF_BUCKET_IDS, &id.to_be_bytes())?
            .is_some())
    }

    pub(super) fn create_bucket(
        &mut self,
        index: u64,
        name: &str,
        owner: &str,
        location: &str,
        now_ms: i64,
    ) -> CmdResult {
        if let Some(b) = self.store.get::<BucketInfo>(CF_BUCKETS, name.as_bytes())? {
            return Ok(Err(if b.owner == owner {
                ProtoError::BucketAlreadyOwnedByYou
            } else {
                ProtoError::BucketAlreadyExists
            }));
        }
        let info = BucketInfo {
            id: index,
            name: name.to_owned(),
            created_ms: now_ms,
            owner: owner.to_owned(),
            location: location.to_owned(),
            versioning: Versioning::Unversioned,
        };
        self.batch.put(CF_BUCKETS, name.as_bytes(), encode(&info));
        self.batch
            .put(CF_BUCKET_IDS, index.to_be_bytes(), encode(&name.to_owned()));
        Ok(Ok(MetaOk::Bucket(info)))
    }

    /// DeleteBucket (`with_uploads: false`: refused while it holds an upload, the meaning of
    /// [`coffer_proto::meta::MetaCommand::DeleteBucket`]) or DeleteBucketAndUploads.
    pub(super) fn delete_bucket(&mut self, name: &str, with_uploads: bool) -> CmdResult {
        let Some(b) = self.store.get::<BucketInfo>(CF_BUCKETS, name.as_bytes())? else {
            return Ok(Err(ProtoError::NoSuchBucket));
        };
        let prefix = keys::bucket_prefix(b.id);
        if self.store.any_with_prefix(CF_OBJECTS, &prefix)?
            || self.store.any_with_prefix(CF_VERSIONS, &prefix)?
            || (!with_uploads && self.store.any_with_prefix(CF_UPLOADS, &prefix)?)
        {
            return Ok(Err(ProtoError::BucketNotEmpty));
        }
        // Incomplete uploads do not keep a bucket: they are aborted with it (their parts'
        // blobs queued for deletion).
        let uploads = self
            .store
            .scan_prefix::<UploadInfo>(CF_UPLOADS, &prefix, usize::MAX)?;
        for (_, u) in uploads {
            self.drop_upload(b.id, &u.key, &u.upload_id, &[])?;
        }
        self.forget_completions(b.id)?;
        self.batch.delete(CF_BUCKETS, name.as_bytes());
        self.batch.delete(CF_BUCKET_IDS, b.id.to_be_bytes());
        crate::meta::policies::forget_bucket(self.store, self.batch, b.id)?;
        Ok(Ok(MetaOk::Done))
    }
}
