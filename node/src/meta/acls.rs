//! Access control lists of object versions and multipart uploads, in the `acls` column family.
//! An object or upload without a record has the default ACL (its owner has full control). The
//! gateway validates documents; the state machine stores them as sent, and keeps each record
//! in step with the version or upload it belongs to: a new version replaces the record, a
//! deleted key drops it, and a completed upload hands its record to the object it becomes.

use coffer_proto::meta::{MetaCommand, MetaOk};
use coffer_proto::types::ObjectVersion;
use coffer_proto::ProtoError;
use rocksdb::WriteBatch;

use super::codec::encode;
use super::keys;
use super::store::{MetaStore, StoreError, CF_ACLS, CF_BUCKET_IDS, CF_OBJECTS};

/// The record key of a key's current version.
pub fn object_key(bucket_id: u64, key: &str) -> Vec<u8> {
    let mut k = vec![b'o'];
    k.extend_from_slice(&keys::object(bucket_id, key));
    k
}

/// The record key of an upload.
pub fn upload_key(bucket_id: u64, key: &str, upload_id: &str) -> Vec<u8> {
    let mut k = vec![b'u'];
    k.extend_from_slice(&keys::upload(bucket_id, key, upload_id));
    k
}

/// Where the ACL of what `cmd` writes is kept (None: a command that writes no object or
/// upload).
pub fn target_of(cmd: &MetaCommand) -> Option<Vec<u8>> {
    match cmd {
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

/// Stage `acl` as the record at `record`.
pub fn put(
    store: &MetaStore,
    batch: &mut WriteBatch,
    record: &[u8],
    acl: &str,
) -> Result<(), StoreError> {
    batch.put_cf(&store.cf(CF_ACLS)?, record, encode(&acl.to_owned()));
    Ok(())
}

/// Stage the removal of the record at `record`.
pub fn forget(store: &MetaStore, batch: &mut WriteBatch, record: &[u8]) -> Result<(), StoreError> {
    batch.delete_cf(&store.cf(CF_ACLS)?, record);
    Ok(())
}

/// The record at `record`.
pub fn get(store: &MetaStore, record: &[u8]) -> Result<Option<String>, StoreError> {
    store.get(CF_ACLS, record)
}

/// Apply SetObjectAcl.
pub fn set_object_acl(
    store: &MetaStore,
    batch: &mut WriteBatch,
    bucket_id: u64,
    key: &str,
    acl: &str,
) -> Result<Result<MetaOk, ProtoError>, StoreError> {
    if store
        .get::<String>(CF_BUCKET_IDS, &bucket_id.to_be_bytes())?
        .is_none()
    {
        return Ok(Err(ProtoError::NoSuchBucket));
    }
    match store.get::<ObjectVersion>(CF_OBJECTS, &keys::object(bucket_id, key))? {
        Some(v) if !v.delete_marker => {
            put(store, batch, &object_key(bucket_id, key), acl)?;
            Ok(Ok(MetaOk::Done))
        }
        _ => Ok(Err(ProtoError::NoSuchKey)),
    }
}

/// The owner and ACL of a key's current version (None: no live version).
pub fn object_acl(
    store: &MetaStore,
    bucket_id: u64,
    key: &str,
) -> Result<Option<(String, Option<String>)>, StoreError> {
    match store.get::<ObjectVersion>(CF_OBJECTS, &keys::object(bucket_id, key))? {
        Some(v) if !v.delete_marker => {
            Ok(Some((v.owner, get(store, &object_key(bucket_id, key))?)))
        }
        _ => Ok(None),
    }
}
