//! Deterministic application of [`MetaCommand`]s. Each command reads the current state, checks
//! its preconditions and stages its writes in one `store::Batch`, which the state machine commits
//! together with the new last-applied index. A command that fails queues the blobs it brought
//! for deletion, so a refused write leaves no data behind.

use crate::meta::store::Batch;
use coffer_proto::meta::{BucketConfigKind, MetaCommand, MetaOk};
use coffer_proto::types::{BlobRef, ObjectVersion, PartInfo};
use coffer_proto::version_id::Stamp;
use coffer_proto::ProtoError;

mod buckets;
mod cluster;
mod objects;
mod transition;
mod uploads;
mod versions;

pub(crate) use uploads::completion_key;

use super::format::encode;
use super::keys;
use super::store::{MetaStore, StoreError, CF_GC, CF_OBJECTS, CF_PARTS};
use super::store::{CF_ACLS, CF_LOCKS, CF_TAGS};

/// Outcome of applying one command: the client result, and what to write.
pub struct Applied {
    /// Returned to the client.
    pub result: Result<MetaOk, ProtoError>,
    /// Staged writes (committed even when `result` is an error: it may queue garbage).
    pub batch: Batch,
}

/// Apply `cmd`, committed at `stamp` (its Raft log index and place in the entry).
pub fn apply(store: &MetaStore, stamp: Stamp, cmd: &MetaCommand) -> Result<Applied, StoreError> {
    apply_at(store, stamp, 0, cmd)
}

/// [`apply`], for a command proposed at `at_ms` by the proposer's clock (0: not known), the
/// time a delete marker gets.
pub(crate) fn apply_at(
    store: &MetaStore,
    stamp: Stamp,
    at_ms: u64,
    cmd: &MetaCommand,
) -> Result<Applied, StoreError> {
    if let MetaCommand::Once { id, at_ms, cmd } = cmd {
        return super::once::apply_once(store, stamp, id, *at_ms, cmd);
    }
    let mut batch = Batch::default();
    let result = Tx {
        store,
        batch: &mut batch,
        new_tags: 0,
        new_encryption: None,
        new_redirect: None,
        stamp,
        now_ms: i64::try_from(at_ms).unwrap_or(i64::MAX),
        written: None,
    }
    .run(stamp.index, cmd)?;
    if result.is_err() {
        // A command applied twice (a forwarded write whose answer was lost, then sent again)
        // is refused the second time; the blobs it brings are then the current ones.
        let current = current_blobs(store, cmd)?;
        for blob in brought_blobs(cmd) {
            if !current.contains(&blob.id) {
                queue_gc(&mut batch, blob);
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
            | MetaCommand::DeleteVersion { .. }
            | MetaCommand::DeleteVersionIf { .. }
            | MetaCommand::CreateUpload { .. }
            | MetaCommand::PutPart { .. }
            | MetaCommand::CompleteUpload { .. }
            | MetaCommand::AbortUpload { .. }
            | MetaCommand::SetObjectAcl { .. }
            | MetaCommand::SetObjectTags { .. }
            | MetaCommand::SetVersionAcl { .. }
            | MetaCommand::SetVersionTags { .. }
            | MetaCommand::SetRetention { .. }
            | MetaCommand::SetLegalHold { .. }
            | MetaCommand::GcDone { .. }
            | MetaCommand::TransitionVersion { .. }
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

/// Stage `blob` for deletion (the delete queue).
fn queue_gc(batch: &mut Batch, blob: &BlobRef) {
    batch.put(CF_GC, blob.id, encode(blob));
}

/// One command being applied: what it reads, and the writes it stages. Its methods are split
/// by family: [`buckets`], [`objects`], [`uploads`], [`cluster`]; IAM users and keys are
/// [`super::iam`], groups, policies and configuration documents [`super::policies`], ACLs and
/// tags [`super::acls`].
struct Tx<'a> {
    store: &'a MetaStore,
    batch: &'a mut Batch,
    /// How many tags the version a PutObject installs gets (set by a WithTags around it).
    new_tags: u16,
    /// How the bytes of the version or upload the command writes are encrypted (set by a
    /// WithEncryption around it).
    new_encryption: Option<coffer_proto::sse::Encryption>,
    /// Where the website endpoint redirects the version or upload the command writes (set by
    /// a WithWebsiteRedirect around it).
    new_redirect: Option<String>,
    /// When the command was committed: the stamp of the versions it writes.
    stamp: Stamp,
    /// The proposer's clock, ms: when the delete markers it adds were made.
    now_ms: i64,
    /// The id of the version the command installed, once it has.
    written: Option<String>,
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
            MetaCommand::DeleteBucket { name } => self.delete_bucket(name, false),
            MetaCommand::DeleteBucketAndUploads { name } => self.delete_bucket(name, true),
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
            MetaCommand::CreateUpload { bucket_id, upload } => self.create_upload(*bucket_id, upload),
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
            MetaCommand::GcDone { blob_ids } => self.gc_done(blob_ids),
            MetaCommand::RegisterNode(info) => self.register_node(info),
            MetaCommand::CreateUser(_)
            | MetaCommand::DeleteUser { .. }
            | MetaCommand::CreateAccessKey(_)
            | MetaCommand::UpdateAccessKey { .. }
            | MetaCommand::DeleteAccessKey { .. } => {
                Ok(super::iam::apply(self.store, self.batch, cmd)?
                    .unwrap_or_else(|| Err(ProtoError::MisplacedCommand("not an IAM command".into()))))
            }
            MetaCommand::SetBucketConfig { .. }
            | MetaCommand::SetClusterConfig { .. }
            | MetaCommand::ReplaceClusterConfig { .. }
            | MetaCommand::CreateGroup(_)
            | MetaCommand::DeleteGroup { .. }
            | MetaCommand::SetGroupMember { .. }
            | MetaCommand::SetIdentityPolicy { .. } => {
                Ok(super::policies::apply(self.store, self.batch, cmd)?
                    .unwrap_or_else(|| Err(ProtoError::MisplacedCommand("not a policy command".into()))))
            }
            MetaCommand::SetStorageClass { name, profile } => {
                self.set_storage_class(name, profile.as_ref())
            }
            MetaCommand::DrainNode { id } => self.drain_node(*id),
            MetaCommand::RemoveNode { id } => self.remove_node(*id),
            MetaCommand::MovePlacement {
                record,
                blob_id,
                from,
                to,
            } => self.move_placement(record, blob_id, from, to),
            MetaCommand::TransitionVersion {
                bucket_id,
                key,
                version_id,
                from,
                to,
                storage_class,
            } => self.transition_version(*bucket_id, key, version_id, from, to, storage_class),
            // Unwrapped by `apply` before it gets here.
            MetaCommand::Once { cmd, .. } => self.run(index, cmd),
            MetaCommand::WithAcl { acl: doc, cmd }
            | MetaCommand::WithTags { tags: doc, cmd }
            | MetaCommand::WithLock { lock: doc, cmd } => {
                let cf = match outer {
                    MetaCommand::WithAcl { .. } => CF_ACLS,
                    MetaCommand::WithTags { .. } => CF_TAGS,
                    _ => CF_LOCKS,
                };
                let Some(record) = super::acls::target_of(cmd) else {
                    return Ok(Err(ProtoError::MisplacedCommand(
                        "ACLs, tags and locks go only with PutObject, CompleteUpload or CreateUpload"
                            .into(),
                    )));
                };
                if cf == CF_TAGS {
                    self.new_tags = coffer_proto::types::count_tags(doc);
                }
                let result = self.run(index, cmd)?;
                if result.is_ok() {
                    // Staged after the write, which dropped the records it replaced.
                    super::acls::put(self.batch, cf, &record, doc);
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
                (*bucket_id, key, None),
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
                (*bucket_id, key, None),
                tags.as_deref(),
            ),
            MetaCommand::Batch(_) => Ok(Err(ProtoError::MisplacedCommand(
                "a batch is applied by the state machine, one command at a time; batches do not nest"
                    .into(),
            ))),
            MetaCommand::RememberCompletion { cmd } => {
                let MetaCommand::CompleteUpload {
                    bucket_id,
                    upload_id,
                    version,
                    ..
                } = super::acls::unwrapped(cmd)
                else {
                    return Ok(Err(ProtoError::MisplacedCommand(
                        "only a CompleteUpload is remembered".into(),
                    )));
                };
                let result = self.run(index, cmd)?;
                if result.is_ok() {
                    self.remember_completion(*bucket_id, upload_id, version)?;
                }
                Ok(result)
            }
            MetaCommand::DeleteVersion {
                bucket_id,
                key,
                version_id,
                bypass_governance,
            } => self.delete_version(*bucket_id, key, version_id, *bypass_governance),
            MetaCommand::DeleteVersionIf {
                bucket_id,
                key,
                version_id,
                bypass_governance,
                precondition,
            } => self.delete_version_if(
                *bucket_id,
                key,
                version_id,
                *bypass_governance,
                precondition,
            ),
            MetaCommand::SetRetention {
                bucket_id,
                key,
                version_id,
                retention,
                bypass_governance,
                now_ms,
            } => super::locks::set_retention(
                self.store,
                self.batch,
                &super::locks::Target::of(*bucket_id, key, version_id),
                *retention,
                *bypass_governance,
                *now_ms,
            ),
            MetaCommand::SetLegalHold {
                bucket_id,
                key,
                version_id,
                on,
            } => super::locks::set_legal_hold(
                self.store,
                self.batch,
                &super::locks::Target::of(*bucket_id, key, version_id),
                *on,
            ),
            MetaCommand::SetVersioning { bucket, state } => self.set_versioning(bucket, *state),
            MetaCommand::SetVersionAcl {
                bucket_id,
                key,
                version_id,
                acl,
            } => super::acls::set_object_doc(
                self.store,
                self.batch,
                CF_ACLS,
                (*bucket_id, key, Some(version_id)),
                Some(acl),
            ),
            MetaCommand::SetVersionTags {
                bucket_id,
                key,
                version_id,
                tags,
            } => super::acls::set_object_doc(
                self.store,
                self.batch,
                CF_TAGS,
                (*bucket_id, key, Some(version_id)),
                tags.as_deref(),
            ),
            MetaCommand::WithBucketConfig { configs, cmd } => {
                if !matches!(**cmd, MetaCommand::CreateBucket { .. }) {
                    return Ok(Err(ProtoError::MisplacedCommand(
                        "configuration documents go only with CreateBucket".into(),
                    )));
                }
                let mut result = self.run(index, cmd)?;
                if let Ok(MetaOk::Bucket(b)) = &mut result {
                    super::policies::put_bucket_configs(self.batch, b.id, configs);
                    // A bucket created with Object Lock is versioned from the start.
                    if configs.iter().any(|(k, _)| *k == BucketConfigKind::ObjectLock) {
                        b.versioning = coffer_proto::types::Versioning::Enabled;
                        self.batch
                            .put(super::store::CF_BUCKETS, b.name.as_bytes(), encode(&*b));
                    }
                }
                Ok(result)
            }
            MetaCommand::WithEncryption { encryption, cmd } => {
                if !matches!(
                    super::acls::unwrapped(cmd),
                    MetaCommand::PutObject { .. } | MetaCommand::CreateUpload { .. }
                ) {
                    return Ok(Err(ProtoError::MisplacedCommand(
                        "an encryption goes only with PutObject or CreateUpload".into(),
                    )));
                }
                self.new_encryption = Some(encryption.clone());
                self.run(index, cmd)
            }
            MetaCommand::WithWebsiteRedirect { location, cmd } => {
                if !matches!(
                    super::acls::unwrapped(cmd),
                    MetaCommand::PutObject { .. } | MetaCommand::CreateUpload { .. }
                ) {
                    return Ok(Err(ProtoError::MisplacedCommand(
                        "a website redirect goes only with PutObject or CreateUpload".into(),
                    )));
                }
                self.new_redirect = Some(location.clone());
                self.run(index, cmd)
            }
            MetaCommand::CreateKmsKey { key } => super::kms::create(self.store, self.batch, key),
            MetaCommand::ReplaceKmsKey { previous, key } => {
                super::kms::replace(self.store, self.batch, previous, key)
            }
        }
    }
}
