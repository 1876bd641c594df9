//! The documents that belong to one object version or multipart upload: its access control
//! list (`acls`) and its tag set (`tags`), both keyed alike. An object or upload without an
//! ACL record has the default ACL (its owner has full control); without a tag record, no
//! tags. The gateway validates documents; the state machine stores them as sent, and keeps
//! each record in step with the version or upload it belongs to: a new version replaces the
//! records, a deleted key drops them, and a completed upload hands its records to the object
//! it becomes.

use crate::meta::store::Batch;
use coffer_proto::meta::{MetaCommand, MetaOk, ObjectFacts};
use coffer_proto::types::ObjectVersion;
use coffer_proto::ProtoError;

use super::format::encode;
use super::keys;
use super::store::{MetaStore, StoreError, CF_ACLS, CF_BUCKET_IDS, CF_LOCKS, CF_OBJECTS, CF_TAGS};

/// The column families of per-object documents.
const DOC_CFS: [&str; 3] = [CF_ACLS, CF_TAGS, CF_LOCKS];

/// The record key of a key's current version.
pub fn object_key(bucket_id: u64, key: &str) -> Vec<u8> {
    let mut k = vec![b'o'];
    k.extend_from_slice(&keys::object(bucket_id, key));
    k
}

/// The record key of an older version (or delete marker) committed at `stamp`.
pub fn version_key(
    bucket_id: u64,
    key: &str,
    stamp: Option<coffer_proto::version_id::Stamp>,
) -> Vec<u8> {
    let mut k = vec![b'v'];
    k.extend_from_slice(&keys::version(bucket_id, key, stamp));
    k
}

/// The record key of an upload.
pub fn upload_key(bucket_id: u64, key: &str, upload_id: &str) -> Vec<u8> {
    let mut k = vec![b'u'];
    k.extend_from_slice(&keys::upload(bucket_id, key, upload_id));
    k
}

/// The write inside ACL, tag and completion-record wrappers.
pub fn unwrapped(cmd: &MetaCommand) -> &MetaCommand {
    match cmd {
        MetaCommand::WithAcl { cmd, .. }
        | MetaCommand::WithTags { cmd, .. }
        | MetaCommand::WithLock { cmd, .. }
        | MetaCommand::WithEncryption { cmd, .. }
        | MetaCommand::WithWebsiteRedirect { cmd, .. }
        | MetaCommand::RememberCompletion { cmd } => unwrapped(cmd),
        cmd => cmd,
    }
}

/// Where the documents of what `cmd` writes are kept (None: a command that writes no
/// object or upload).
pub fn target_of(cmd: &MetaCommand) -> Option<Vec<u8>> {
    match unwrapped(cmd) {
        MetaCommand::PutObject {
            bucket_id, version, ..
        }
        | MetaCommand::CompleteUpload {
            bucket_id, version, ..
        } => Some(object_key(*bucket_id, &version.key)),
        MetaCommand::CreateUpload { bucket_id, upload } => {
            Some(upload_key(*bucket_id, &upload.key, &upload.upload_id))
        }
        _ => None,
    }
}

/// Stage `doc` as the record at `record` in `cf` ([`CF_ACLS`] or [`CF_TAGS`]).
pub fn put(batch: &mut Batch, cf: &'static str, record: &[u8], doc: &str) {
    batch.put(cf, record, encode(&doc.to_owned()));
}

/// Stage the removal of every document at `record`.
pub fn forget(batch: &mut Batch, record: &[u8]) {
    for cf in DOC_CFS {
        batch.delete(cf, record);
    }
}

/// Stage copying every document at `from` to `to` (reads `from` as committed).
pub fn copy(
    store: &MetaStore,
    batch: &mut Batch,
    from: &[u8],
    to: &[u8],
) -> Result<(), StoreError> {
    for cf in DOC_CFS {
        if let Some(doc) = store.get::<String>(cf, from)? {
            put(batch, cf, to, &doc);
        }
    }
    Ok(())
}

/// The record at `record` in `cf`.
pub fn get(
    store: &MetaStore,
    cf: &'static str,
    record: &[u8],
) -> Result<Option<String>, StoreError> {
    store.get(cf, record)
}

/// How many tags the tag set at `record` holds (0 without one).
pub fn tag_count(store: &MetaStore, record: &[u8]) -> Result<u16, StoreError> {
    Ok(get(store, CF_TAGS, record)?.map_or(0, |d| coffer_proto::types::count_tags(&d)))
}

/// The tag count of `v`, a current version in bucket `bucket_id`: as stored, or counted from
/// its tag set when its record predates the count (format version 1).
pub fn tag_count_of(
    store: &MetaStore,
    bucket_id: u64,
    v: &ObjectVersion,
) -> Result<u16, StoreError> {
    match v.tag_count {
        Some(n) => Ok(n),
        None => tag_count(store, &object_key(bucket_id, &v.key)),
    }
}

/// Apply SetObjectAcl and SetVersionAcl (`cf` [`CF_ACLS`]) or SetObjectTags and
/// SetVersionTags ([`CF_TAGS`]; `None` removes; the version's tag count follows), on the
/// version `version_id` names (`None`: the current one).
pub fn set_object_doc(
    store: &MetaStore,
    batch: &mut Batch,
    cf: &'static str,
    (bucket_id, key, version_id): (u64, &str, Option<&str>),
    doc: Option<&str>,
) -> Result<Result<MetaOk, ProtoError>, StoreError> {
    if store
        .get::<String>(CF_BUCKET_IDS, &bucket_id.to_be_bytes())?
        .is_none()
    {
        return Ok(Err(ProtoError::NoSuchBucket));
    }
    let Some(mut f) = super::versions::find(store, bucket_id, key, version_id)?
        .filter(|f| !f.version.delete_marker)
    else {
        return Ok(Err(match version_id {
            Some(_) => ProtoError::NoSuchVersion,
            None => ProtoError::NoSuchKey,
        }));
    };
    match doc {
        Some(d) => put(batch, cf, &f.docs, d),
        None => batch.delete(cf, &f.docs),
    }
    if cf == CF_TAGS {
        f.version.tag_count = Some(doc.map_or(0, coffer_proto::types::count_tags));
        batch.put(f.cf, &f.record, encode(&f.version));
    }
    Ok(Ok(MetaOk::Done))
}

/// The owner, ACL and tags of a key's current version (None: no live version).
pub fn object_facts(
    store: &MetaStore,
    bucket_id: u64,
    key: &str,
) -> Result<Option<ObjectFacts>, StoreError> {
    match store.get::<ObjectVersion>(CF_OBJECTS, &keys::object(bucket_id, key))? {
        Some(v) if !v.delete_marker => {
            let record = object_key(bucket_id, key);
            Ok(Some(ObjectFacts {
                version_id: v.version_id,
                owner: v.owner,
                acl: get(store, CF_ACLS, &record)?,
                tags: get(store, CF_TAGS, &record)?,
            }))
        }
        _ => Ok(None),
    }
}

/// The owner, ACL and tags of version `version_id` of `key` (None: no such version, or a
/// delete marker).
pub fn version_facts(
    store: &MetaStore,
    bucket_id: u64,
    key: &str,
    version_id: &str,
) -> Result<Option<ObjectFacts>, StoreError> {
    match super::versions::find(store, bucket_id, key, Some(version_id))? {
        Some(f) if !f.version.delete_marker => Ok(Some(ObjectFacts {
            acl: get(store, CF_ACLS, &f.docs)?,
            tags: get(store, CF_TAGS, &f.docs)?,
            version_id: f.version.version_id,
            owner: f.version.owner,
        })),
        _ => Ok(None),
    }
}
