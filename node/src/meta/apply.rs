//! Deterministic application of [`MetaCommand`]s. Each command reads the current state, checks
//! its preconditions and stages its writes in one `WriteBatch`, which the state machine commits
//! together with the new last-applied index. A command that fails queues the blobs it brought
//! for deletion, so a refused write leaves no data behind.

use coffer_proto::meta::{BlobRecord, CompletePart, MetaCommand, MetaOk, WritePrecondition};
use coffer_proto::types::{
    BlobRef, BucketInfo, NodeInfo, ObjectData, ObjectVersion, PartInfo, ShardLoc, Versioning,
};
use coffer_proto::ProtoError;
use rocksdb::WriteBatch;

use super::format::encode;
use super::keys;
use super::store::{
    MetaStore, StoreError, CF_BUCKETS, CF_BUCKET_IDS, CF_CLASSES, CF_DRAINING, CF_GC, CF_NODES,
    CF_OBJECTS, CF_PARTS, CF_UPLOADS,
};
use super::store::{CF_ACLS, CF_TAGS};

/// Outcome of applying one command: the client result, and what to write.
pub struct Applied {
    /// Returned to the client.
    pub result: Result<MetaOk, ProtoError>,
    /// Staged writes (committed even when `result` is an error: it may queue garbage).
    pub batch: WriteBatch,
}

/// Apply `cmd`, committed at Raft log `index`.
pub fn apply(store: &MetaStore, index: u64, cmd: &MetaCommand) -> Result<Applied, StoreError> {
    if let MetaCommand::Once { id, at_ms, cmd } = cmd {
        return super::once::apply_once(store, index, id, *at_ms, cmd);
    }
    let mut batch = WriteBatch::default();
    let result = Tx {
        store,
        batch: &mut batch,
    }
    .run(index, cmd)?;
    if result.is_err() {
        // A command applied twice (a forwarded write whose answer was lost, then sent again)
        // is refused the second time; the blobs it brings are then the current ones.
        let current = current_blobs(store, cmd)?;
        for blob in brought_blobs(cmd) {
            if !current.contains(&blob.id) {
                queue_gc(store, &mut batch, blob)?;
            }
        }
    }
    Ok(Applied { result, batch })
}

/// Whether `cmd` may share a Raft entry with others ([`MetaCommand::Batch`]): the object
/// and upload writes, which do not depend on the entry's index (CreateBucket takes it as the
/// bucket id) and are the ones that come many at a time. The rest are proposed alone.
pub fn batchable(cmd: &MetaCommand) -> bool {
    matches!(
        super::acls::unwrapped(cmd.inner()),
        MetaCommand::PutObject { .. }
            | MetaCommand::DeleteObjects { .. }
            | MetaCommand::DeleteObjectIf { .. }
            | MetaCommand::CreateUpload { .. }
            | MetaCommand::PutPart { .. }
            | MetaCommand::CompleteUpload { .. }
            | MetaCommand::AbortUpload { .. }
            | MetaCommand::SetObjectAcl { .. }
            | MetaCommand::SetObjectTags { .. }
            | MetaCommand::GcDone { .. }
    )
}

/// Ids of the blobs the record a command writes references now.
fn current_blobs(store: &MetaStore, cmd: &MetaCommand) -> Result<Vec<[u8; 16]>, StoreError> {
    Ok(match super::acls::unwrapped(cmd) {
        MetaCommand::PutObject {
            bucket_id, version, ..
        } => store
            .get::<ObjectVersion>(CF_OBJECTS, &keys::object(*bucket_id, &version.key))?
            .map(|v| v.data.blobs().iter().map(|b| b.id).collect())
            .unwrap_or_default(),
        MetaCommand::PutPart {
            bucket_id,
            key,
            upload_id,
            part,
        } => store
            .get::<PartInfo>(
                CF_PARTS,
                &keys::part(*bucket_id, key, upload_id, part.number),
            )?
            .map(|p| vec![p.blob.id])
            .unwrap_or_default(),
        _ => Vec::new(),
    })
}

/// The blobs a command brings with it (to delete if it is refused).
fn brought_blobs(cmd: &MetaCommand) -> Vec<&BlobRef> {
    match super::acls::unwrapped(cmd) {
        MetaCommand::PutObject { version, .. } => version.data.blobs().iter().collect(),
        MetaCommand::PutPart { part, .. } => vec![&part.blob],
        _ => Vec::new(),
    }
}

fn queue_gc(store: &MetaStore, batch: &mut WriteBatch, blob: &BlobRef) -> Result<(), StoreError> {
    batch.put_cf(&store.cf(CF_GC)?, blob.id, encode(blob));
    Ok(())
}

struct Tx<'a> {
    store: &'a MetaStore,
    batch: &'a mut WriteBatch,
}

type CmdResult = Result<Result<MetaOk, ProtoError>, StoreError>;

impl Tx<'_> {
    fn run(&mut self, index: u64, cmd: &MetaCommand) -> CmdResult {
        let outer = cmd;
        match cmd {
            MetaCommand::CreateBucket {
                name,
                owner,
                location,
                now_ms,
            } => self.create_bucket(index, name, owner, location, *now_ms),
            MetaCommand::DeleteBucket { name } => self.delete_bucket(name),
            MetaCommand::PutObject {
                bucket_id,
                version,
                precondition,
            } => self.put_object(*bucket_id, version.clone(), precondition),
            MetaCommand::DeleteObjects { bucket_id, keys } => self.delete_objects(*bucket_id, keys),
            MetaCommand::DeleteObjectIf {
                bucket_id,
                key,
                precondition,
            } => self.delete_object_if(*bucket_id, key, precondition),
            MetaCommand::CreateUpload { bucket_id, upload } => {
                if !self.bucket_exists(*bucket_id)? {
                    return Ok(Err(ProtoError::NoSuchBucket));
                }
                let k = keys::upload(*bucket_id, &upload.key, &upload.upload_id);
                self.batch
                    .put_cf(&self.store.cf(CF_UPLOADS)?, k, encode(upload));
                Ok(Ok(MetaOk::Done))
            }
            MetaCommand::PutPart {
                bucket_id,
                key,
                upload_id,
                part,
            } => self.put_part(*bucket_id, key, upload_id, part),
            MetaCommand::CompleteUpload {
                bucket_id,
                upload_id,
                parts,
                version,
                precondition,
            } => self.complete_upload(*bucket_id, upload_id, parts, version.clone(), precondition),
            MetaCommand::AbortUpload {
                bucket_id,
                key,
                upload_id,
            } => self.abort_upload(*bucket_id, key, upload_id),
            MetaCommand::GcDone { blob_ids } => {
                let cf = self.store.cf(CF_GC)?;
                for id in blob_ids {
                    self.batch.delete_cf(&cf, id);
                }
                Ok(Ok(MetaOk::Done))
            }
            MetaCommand::RegisterNode(info) => {
                self.batch
                    .put_cf(&self.store.cf(CF_NODES)?, keys::node(info.id), encode(info));
                Ok(Ok(MetaOk::Done))
            }
            MetaCommand::CreateUser(_)
            | MetaCommand::DeleteUser { .. }
            | MetaCommand::CreateAccessKey(_)
            | MetaCommand::UpdateAccessKey { .. }
            | MetaCommand::DeleteAccessKey { .. } => {
                Ok(super::iam::apply(self.store, self.batch, cmd)?
                    .unwrap_or_else(|| Err(ProtoError::Internal("not an IAM command".into()))))
            }
            MetaCommand::SetBucketConfig { .. }
            | MetaCommand::SetClusterConfig { .. }
            | MetaCommand::CreateGroup(_)
            | MetaCommand::DeleteGroup { .. }
            | MetaCommand::SetGroupMember { .. }
            | MetaCommand::SetIdentityPolicy { .. } => {
                Ok(super::policies::apply(self.store, self.batch, cmd)?
                    .unwrap_or_else(|| Err(ProtoError::Internal("not a policy command".into()))))
            }
            MetaCommand::SetStorageClass { name, profile } => {
                if !coffer_proto::types::STORAGE_CLASSES.contains(&name.as_str()) {
                    return Ok(Err(ProtoError::Protocol(format!(
                        "no storage class {name:?}"
                    ))));
                }
                let cf = self.store.cf(CF_CLASSES)?;
                match profile {
                    Some((k, m)) if *k == 0 || usize::from(*k) + usize::from(*m) > 255 => {
                        return Ok(Err(ProtoError::Protocol(format!(
                            "erasure profile {k}+{m}: k must be 1 or more, k+m at most 255"
                        ))));
                    }
                    Some(p) => self.batch.put_cf(&cf, name.as_bytes(), encode(p)),
                    None => self.batch.delete_cf(&cf, name.as_bytes()),
                }
                Ok(Ok(MetaOk::Done))
            }
            MetaCommand::DrainNode { id } => {
                if self
                    .store
                    .get::<NodeInfo>(CF_NODES, &keys::node(*id))?
                    .is_none()
                {
                    return Ok(Err(ProtoError::Protocol(format!("no node {id}"))));
                }
                self.batch
                    .put_cf(&self.store.cf(CF_DRAINING)?, keys::node(*id), encode(&()));
                Ok(Ok(MetaOk::Done))
            }
            MetaCommand::RemoveNode { id } => {
                self.batch
                    .delete_cf(&self.store.cf(CF_NODES)?, keys::node(*id));
                self.batch
                    .delete_cf(&self.store.cf(CF_DRAINING)?, keys::node(*id));
                Ok(Ok(MetaOk::Done))
            }
            MetaCommand::MovePlacement {
                record,
                blob_id,
                from,
                to,
            } => self.move_placement(record, blob_id, from, to),
            // Unwrapped by `apply` before it gets here.
            MetaCommand::Once { cmd, .. } => self.run(index, cmd),
            MetaCommand::WithAcl { acl: doc, cmd } | MetaCommand::WithTags { tags: doc, cmd } => {
                let cf = match outer {
                    MetaCommand::WithAcl { .. } => CF_ACLS,
                    _ => CF_TAGS,
                };
                let Some(record) = super::acls::target_of(cmd) else {
                    return Ok(Err(ProtoError::Protocol(
                        "ACLs and tags go only with PutObject, CompleteUpload or CreateUpload"
                            .into(),
                    )));
                };
                let result = self.run(index, cmd)?;
                if result.is_ok() {
                    // Staged after the write, which dropped the records it replaced.
                    super::acls::put(self.store, self.batch, cf, &record, doc)?;
                }
                Ok(result)
            }
            MetaCommand::SetObjectAcl {
                bucket_id,
                key,
                acl,
            } => super::acls::set_object_doc(
                self.store,
                self.batch,
                CF_ACLS,
                *bucket_id,
                key,
                Some(acl),
            ),
            MetaCommand::SetObjectTags {
                bucket_id,
                key,
                tags,
            } => super::acls::set_object_doc(
                self.store,
                self.batch,
                CF_TAGS,
                *bucket_id,
                key,
                tags.as_deref(),
            ),
            MetaCommand::Batch(_) => Ok(Err(ProtoError::Protocol(
                "a batch is applied by the state machine, one command at a time; batches do not nest"
                    .into(),
            ))),
            MetaCommand::WithBucketConfig { configs, cmd } => {
                if !matches!(**cmd, MetaCommand::CreateBucket { .. }) {
                    return Ok(Err(ProtoError::Protocol(
                        "configuration documents go only with CreateBucket".into(),
                    )));
                }
                let result = self.run(index, cmd)?;
                if let Ok(MetaOk::Bucket(b)) = &result {
                    super::policies::put_bucket_configs(self.store, self.batch, b.id, configs)?;
                }
                Ok(result)
            }
        }
    }

    /// Swap a blob's placement in the record that references it, if it is still `from`.
    fn move_placement(
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
            BlobRecord::Object(key) => {
                let Some(mut o) = self.store.get::<ObjectVersion>(CF_OBJECTS, key)? else {
                    return Ok(Err(ProtoError::PreconditionFailed));
                };
                let hit = match &mut o.data {
                    ObjectData::Blobs(blobs) => blobs.iter_mut().any(|b| swap(b, id, from, to)),
                    ObjectData::Inline(_) => false,
                };
                if hit {
                    self.batch
                        .put_cf(&self.store.cf(CF_OBJECTS)?, key, encode(&o));
                }
                hit
            }
            BlobRecord::Part(key) => {
                let Some(mut p) = self.store.get::<PartInfo>(CF_PARTS, key)? else {
                    return Ok(Err(ProtoError::PreconditionFailed));
                };
                let hit = swap(&mut p.blob, id, from, to);
                if hit {
                    self.batch
                        .put_cf(&self.store.cf(CF_PARTS)?, key, encode(&p));
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

    fn bucket_exists(&self, id: u64) -> Result<bool, StoreError> {
        Ok(self
            .store
            .get::<String>(CF_BUCKET_IDS, &id.to_be_bytes())?
            .is_some())
    }

    fn create_bucket(
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
        self.batch
            .put_cf(&self.store.cf(CF_BUCKETS)?, name.as_bytes(), encode(&info));
        self.batch.put_cf(
            &self.store.cf(CF_BUCKET_IDS)?,
            index.to_be_bytes(),
            encode(&name.to_owned()),
        );
        Ok(Ok(MetaOk::Bucket(info)))
    }

    fn delete_bucket(&mut self, name: &str) -> CmdResult {
        let Some(b) = self.store.get::<BucketInfo>(CF_BUCKETS, name.as_bytes())? else {
            return Ok(Err(ProtoError::NoSuchBucket));
        };
        let prefix = keys::bucket_prefix(b.id);
        if self.store.any_with_prefix(CF_OBJECTS, &prefix)?
            || self.store.any_with_prefix(CF_UPLOADS, &prefix)?
        {
            return Ok(Err(ProtoError::BucketNotEmpty));
        }
        self.batch
            .delete_cf(&self.store.cf(CF_BUCKETS)?, name.as_bytes());
        self.batch
            .delete_cf(&self.store.cf(CF_BUCKET_IDS)?, b.id.to_be_bytes());
        super::policies::forget_bucket(self.store, self.batch, b.id)?;
        Ok(Ok(MetaOk::Done))
    }

    fn check(
        &self,
        current: Option<&ObjectVersion>,
        pre: &WritePrecondition,
    ) -> Option<ProtoError> {
        let live = current.filter(|v| !v.delete_marker);
        match (pre, live) {
            (WritePrecondition::None, _) => None,
            (WritePrecondition::MustNotExist, None) => None,
            (WritePrecondition::MustNotExist, Some(_)) => Some(ProtoError::PreconditionFailed),
            (WritePrecondition::EtagMatches(_), None) => Some(ProtoError::NoSuchKey),
            (WritePrecondition::EtagMatches(e), Some(v)) => (e.trim_matches('"') != v.etag
                && e != "*")
                .then_some(ProtoError::PreconditionFailed),
        }
    }

    /// Install `version` as current, queueing the replaced version's blobs for deletion.
    fn install(&mut self, bucket_id: u64, version: &ObjectVersion) -> Result<(), StoreError> {
        let k = keys::object(bucket_id, &version.key);
        if let Some(old) = self.store.get::<ObjectVersion>(CF_OBJECTS, &k)? {
            // The same blobs again (a command applied twice) are not garbage.
            let kept: Vec<[u8; 16]> = version.data.blobs().iter().map(|b| b.id).collect();
            for blob in old.data.blobs() {
                if !kept.contains(&blob.id) {
                    queue_gc(self.store, self.batch, blob)?;
                }
            }
        }
        self.batch
            .put_cf(&self.store.cf(CF_OBJECTS)?, k, encode(version));
        // A new version starts with the default ACL (a WithAcl write stages its own after).
        super::acls::forget(
            self.store,
            self.batch,
            &super::acls::object_key(bucket_id, &version.key),
        )?;
        Ok(())
    }

    fn put_object(
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
        self.install(bucket_id, &version)?;
        Ok(Ok(MetaOk::Done))
    }

    fn delete_objects(&mut self, bucket_id: u64, object_keys: &[String]) -> CmdResult {
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

    fn delete_object_if(
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
    fn remove(&mut self, bucket_id: u64, key: &str, old: &ObjectVersion) -> Result<(), StoreError> {
        for blob in old.data.blobs() {
            queue_gc(self.store, self.batch, blob)?;
        }
        self.batch
            .delete_cf(&self.store.cf(CF_OBJECTS)?, keys::object(bucket_id, key));
        super::acls::forget(
            self.store,
            self.batch,
            &super::acls::object_key(bucket_id, key),
        )
    }

    fn put_part(
        &mut self,
        bucket_id: u64,
        key: &str,
        upload_id: &str,
        part: &PartInfo,
    ) -> CmdResult {
        if self
            .store
            .get::<coffer_proto::types::UploadInfo>(
                CF_UPLOADS,
                &keys::upload(bucket_id, key, upload_id),
            )?
            .is_none()
        {
            return Ok(Err(ProtoError::NoSuchUpload));
        }
        let k = keys::part(bucket_id, key, upload_id, part.number);
        if let Some(old) = self.store.get::<PartInfo>(CF_PARTS, &k)? {
            if old.blob.id != part.blob.id {
                queue_gc(self.store, self.batch, &old.blob)?;
            }
        }
        self.batch
            .put_cf(&self.store.cf(CF_PARTS)?, k, encode(part));
        Ok(Ok(MetaOk::Done))
    }

    /// Remove an upload and its parts; parts not in `keep` are queued for deletion.
    fn drop_upload(
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
        let cf_parts = self.store.cf(CF_PARTS)?;
        for (k, p) in parts {
            if !keep.contains(&p.blob.id) {
                queue_gc(self.store, self.batch, &p.blob)?;
            }
            self.batch.delete_cf(&cf_parts, k);
        }
        self.batch.delete_cf(
            &self.store.cf(CF_UPLOADS)?,
            keys::upload(bucket_id, key, upload_id),
        );
        super::acls::forget(
            self.store,
            self.batch,
            &super::acls::upload_key(bucket_id, key, upload_id),
        )?;
        Ok(())
    }

    fn complete_upload(
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
        super::acls::copy(
            self.store,
            self.batch,
            &super::acls::upload_key(bucket_id, &key, upload_id),
            &super::acls::object_key(bucket_id, &key),
        )?;
        Ok(Ok(MetaOk::Done))
    }

    fn abort_upload(&mut self, bucket_id: u64, key: &str, upload_id: &str) -> CmdResult {
        if self
            .store
            .get::<coffer_proto::types::UploadInfo>(
                CF_UPLOADS,
                &keys::upload(bucket_id, key, upload_id),
            )?
            .is_none()
        {
            return Ok(Err(ProtoError::NoSuchUpload));
        }
        self.drop_upload(bucket_id, key, upload_id, &[])?;
        Ok(Ok(MetaOk::Done))
    }
}
