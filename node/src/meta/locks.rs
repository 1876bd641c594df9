//! Object Lock in the state machine: a version's lock is a document (JSON of
//! [`VersionLock`]) in `locks`, kept beside its ACL and tags and moved with them (see
//! [`super::acls`]). What a lock forbids is decided by [`VersionLock`]'s rules, here applied
//! to the commands that remove a version or change its lock, at the time the command carries.

use coffer_proto::lock::{Retention, VersionLock};
use coffer_proto::meta::MetaOk;
use coffer_proto::ProtoError;

use super::acls;
use super::format::encode;
use super::store::{Batch, MetaStore, StoreError, CF_BUCKET_IDS, CF_LOCKS};
use super::versions::find;

/// The lock whose document is at `docs` (none: unlocked).
pub fn lock_at(store: &MetaStore, docs: &[u8]) -> Result<VersionLock, StoreError> {
    Ok(acls::get(store, CF_LOCKS, docs)?
        .and_then(|d| serde_json::from_str(&d).ok())
        .unwrap_or_default())
}

/// The lock document of version `version_id` of `key` (None: the current one): outer None
/// when there is no such version (or it is a delete marker).
pub fn version_lock(
    store: &MetaStore,
    bucket_id: u64,
    key: &str,
    version_id: Option<&str>,
) -> Result<Option<Option<String>>, StoreError> {
    match find(store, bucket_id, key, version_id)? {
        Some(f) if !f.version.delete_marker => Ok(Some(acls::get(store, CF_LOCKS, &f.docs)?)),
        _ => Ok(None),
    }
}

/// What a change of a version's lock applies to.
pub struct Target<'a> {
    /// Bucket id.
    pub bucket_id: u64,
    /// Key.
    pub key: &'a str,
    /// Version id, or the current version.
    pub version_id: Option<&'a str>,
}

impl<'a> Target<'a> {
    /// The version `version_id` (None: the current one) of `key` in bucket `bucket_id`.
    pub fn of(bucket_id: u64, key: &'a str, version_id: &'a Option<String>) -> Self {
        Target {
            bucket_id,
            key,
            version_id: version_id.as_deref(),
        }
    }
}

/// Apply `change` to the lock of `target`'s version; `change` answers whether the lock it
/// was given permits it (else ObjectLocked, and nothing changes).
fn change_lock(
    store: &MetaStore,
    batch: &mut Batch,
    target: &Target<'_>,
    change: impl FnOnce(&mut VersionLock) -> bool,
) -> Result<Result<MetaOk, ProtoError>, StoreError> {
    if store
        .get::<String>(CF_BUCKET_IDS, &target.bucket_id.to_be_bytes())?
        .is_none()
    {
        return Ok(Err(ProtoError::NoSuchBucket));
    }
    let Some(f) = find(store, target.bucket_id, target.key, target.version_id)?
        .filter(|f| !f.version.delete_marker)
    else {
        return Ok(Err(match target.version_id {
            Some(_) => ProtoError::NoSuchVersion,
            None => ProtoError::NoSuchKey,
        }));
    };
    let mut lock = lock_at(store, &f.docs)?;
    if !change(&mut lock) {
        return Ok(Err(ProtoError::ObjectLocked));
    }
    let doc = serde_json::to_string(&lock).unwrap_or_default();
    batch.put(CF_LOCKS, &f.docs, encode(&doc));
    Ok(Ok(MetaOk::Done))
}

/// SetRetention.
pub fn set_retention(
    store: &MetaStore,
    batch: &mut Batch,
    target: &Target<'_>,
    retention: Option<Retention>,
    bypass: bool,
    now_ms: i64,
) -> Result<Result<MetaOk, ProtoError>, StoreError> {
    change_lock(store, batch, target, |lock| {
        let ok = lock.may_become(retention, now_ms, bypass);
        if ok {
            lock.retention = retention;
        }
        ok
    })
}

/// SetLegalHold.
pub fn set_legal_hold(
    store: &MetaStore,
    batch: &mut Batch,
    target: &Target<'_>,
    on: bool,
) -> Result<Result<MetaOk, ProtoError>, StoreError> {
    change_lock(store, batch, target, |lock| {
        lock.legal_hold = on;
        true
    })
}
