//! Answers to [`MetaQuery`]s, read from the state machine's column families.

use coffer_proto::meta::{BlobRecord, LockedVersion, MetaAnswer, MetaQuery};
use coffer_proto::types::{
    BlobRef, BucketInfo, NodeInfo, ObjectVersion, PartInfo, PartListResult, UploadInfo,
    UploadListQuery, UploadListResult,
};

use super::format;
use super::iam;
use super::keys;
use super::list::{self, Item};
use super::policies;
use super::store::{
    MetaStore, StoreError, CF_BUCKETS, CF_CLASSES, CF_COMPLETED, CF_DRAINING, CF_GC, CF_LOCKS,
    CF_NODES, CF_OBJECTS, CF_PARTS, CF_UPLOADS, CF_VERSIONS,
};
use super::versions::Found;

/// The tag count of a found version: in its record, or counted from its tag set (records of
/// format 1 hold none).
fn tag_count(store: &MetaStore, f: &Found) -> Result<u16, StoreError> {
    match f.version.tag_count {
        Some(n) => Ok(n),
        None => super::acls::tag_count(store, &f.docs),
    }
}

/// Answer a query from the local state.
pub fn answer(store: &MetaStore, q: &MetaQuery) -> Result<MetaAnswer, StoreError> {
    Ok(match q {
        MetaQuery::GetBucket(name) => MetaAnswer::Bucket(store.get(CF_BUCKETS, name.as_bytes())?),
        MetaQuery::ListBuckets => MetaAnswer::Buckets(
            store
                .scan_prefix::<BucketInfo>(CF_BUCKETS, b"", usize::MAX)?
                .into_iter()
                .map(|(_, b)| b)
                .collect(),
        ),
        MetaQuery::GetObject { bucket_id, key } => MetaAnswer::Object(
            store
                .get::<ObjectVersion>(CF_OBJECTS, &keys::object(*bucket_id, key))?
                .map(Box::new),
        ),
        MetaQuery::GetCountedObject { bucket_id, key } => MetaAnswer::CountedObject(
            match store.get::<ObjectVersion>(CF_OBJECTS, &keys::object(*bucket_id, key))? {
                Some(v) => {
                    let n = super::acls::tag_count_of(store, *bucket_id, &v)?;
                    Some((Box::new(v), n))
                }
                None => None,
            },
        ),
        MetaQuery::GetVersion {
            bucket_id,
            key,
            version_id,
        } => MetaAnswer::CountedObject(
            match super::versions::find(store, *bucket_id, key, version_id.as_deref())? {
                Some(f) => {
                    let n = tag_count(store, &f)?;
                    Some((Box::new(f.version), n))
                }
                None => None,
            },
        ),
        MetaQuery::GetKmsKey(id) => MetaAnswer::KmsKey(super::kms::get(store, id)?),
        MetaQuery::ListKmsKeys => MetaAnswer::KmsKeys(super::kms::list(store)?),
        MetaQuery::GetLockedVersion {
            bucket_id,
            key,
            version_id,
        } => MetaAnswer::LockedVersion(
            match super::versions::find(store, *bucket_id, key, version_id.as_deref())? {
                Some(f) => Some(LockedVersion {
                    tag_count: tag_count(store, &f)?,
                    lock: super::acls::get(store, CF_LOCKS, &f.docs)?,
                    version: Box::new(f.version),
                }),
                None => None,
            },
        ),
        MetaQuery::VersionFacts {
            bucket_id,
            key,
            version_id,
        } => MetaAnswer::ObjectFacts(super::acls::version_facts(
            store, *bucket_id, key, version_id,
        )?),
        MetaQuery::VersionLock {
            bucket_id,
            key,
            version_id,
        } => MetaAnswer::Lock(super::locks::version_lock(
            store,
            *bucket_id,
            key,
            version_id.as_deref(),
        )?),
        MetaQuery::ListVersions { bucket_id, query } => {
            MetaAnswer::Versions(super::versions::list(store, *bucket_id, query)?)
        }
        MetaQuery::ListObjects { bucket_id, query } => {
            MetaAnswer::Objects(list::list_objects(store, *bucket_id, query)?)
        }
        MetaQuery::GetUpload {
            bucket_id,
            key,
            upload_id,
        } => MetaAnswer::Upload(
            store
                .get(CF_UPLOADS, &keys::upload(*bucket_id, key, upload_id))?
                .map(Box::new),
        ),
        MetaQuery::ListParts {
            bucket_id,
            key,
            upload_id,
            marker,
            max_parts,
        } => MetaAnswer::Parts(list_parts(
            store, *bucket_id, key, upload_id, *marker, *max_parts,
        )?),
        MetaQuery::ListUploads { bucket_id, query } => {
            MetaAnswer::Uploads(list_uploads(store, *bucket_id, query)?)
        }
        MetaQuery::PendingGc { max } => MetaAnswer::Gc(
            store
                .scan_prefix::<BlobRef>(CF_GC, b"", *max as usize)?
                .into_iter()
                .map(|(_, b)| b)
                .collect(),
        ),
        MetaQuery::ClusterMap => MetaAnswer::Nodes(nodes(store)?),
        MetaQuery::StorageClasses => MetaAnswer::StorageClasses(storage_classes(store)?),
        MetaQuery::GetUser(name) => MetaAnswer::User(iam::user(store, name)?),
        MetaQuery::ListUsers => MetaAnswer::Users(iam::users(store)?),
        MetaQuery::GetAccessKey(id) => MetaAnswer::AccessKey(iam::key(store, id)?),
        MetaQuery::ListAccessKeys { user } => MetaAnswer::AccessKeys(iam::user_keys(store, user)?),
        MetaQuery::GetBucketConfig { bucket, kind } => {
            MetaAnswer::BucketConfig(policies::bucket_config(store, bucket, *kind)?)
        }
        MetaQuery::GetClusterConfig(kind) => {
            MetaAnswer::BucketConfig(Some(policies::cluster_config(store, *kind)?))
        }
        MetaQuery::ListGroups => MetaAnswer::Groups(policies::groups(store)?),
        MetaQuery::GetGroup(name) => MetaAnswer::Group(match policies::group(store, name)? {
            Some(g) => Some((g, policies::members(store, name)?)),
            None => None,
        }),
        MetaQuery::GroupsOfUser(user) => MetaAnswer::Groups(policies::groups_of(store, user)?),
        MetaQuery::ListIdentityPolicies(owner) => {
            MetaAnswer::IdentityPolicies(policies::identity_policies(store, owner)?)
        }
        MetaQuery::CompletedUpload {
            bucket_id,
            key,
            upload_id,
        } => MetaAnswer::Object(
            store
                .get::<ObjectVersion>(
                    CF_COMPLETED,
                    &super::apply::completion_key(*bucket_id, key, upload_id),
                )?
                .map(Box::new),
        ),
        MetaQuery::ObjectFacts { bucket_id, key } => {
            MetaAnswer::ObjectFacts(super::acls::object_facts(store, *bucket_id, key)?)
        }
        MetaQuery::Authorization { access_key, bucket } => MetaAnswer::Authorization(Box::new(
            policies::authorization(store, access_key.as_deref(), bucket.as_deref())?,
        )),
        MetaQuery::AuthorizationWith {
            access_key,
            bucket,
            configs,
        } => {
            let facts = policies::authorization(store, access_key.as_deref(), bucket.as_deref())?;
            let docs = match &facts.bucket {
                Some(b) => configs
                    .iter()
                    .map(|kind| policies::bucket_doc(store, b.id, *kind))
                    .collect::<Result<_, _>>()?,
                None => vec![None; configs.len()],
            };
            MetaAnswer::AuthorizationWith(Box::new((facts, docs)))
        }
    })
}

/// Up to `max` blobs referenced by current object versions and uploaded parts, in key order
/// after `after` (`None`: from the start); returns them with the cursor for the next page
/// (`None` when the scan is complete). One page reads one consistent snapshot.
pub fn blobs_page(
    store: &MetaStore,
    after: Option<&BlobCursor>,
    max: usize,
) -> Result<(Vec<BlobRef>, Option<BlobCursor>), StoreError> {
    let (blobs, next) = blob_records_page(store, after, max)?;
    Ok((blobs.into_iter().map(|(_, b)| b).collect(), next))
}

/// A blob with the record that references it.
pub type RecordedBlob = (BlobRecord, BlobRef);

/// [`blobs_page`], with the record that references each blob.
pub fn blob_records_page(
    store: &MetaStore,
    after: Option<&BlobCursor>,
    max: usize,
) -> Result<(Vec<RecordedBlob>, Option<BlobCursor>), StoreError> {
    let snap = store.view();
    let mut out = Vec::new();
    let start_cf = after.map_or(0, |c| c.cf);
    for (cf_pos, cf) in [CF_OBJECTS, CF_PARTS, CF_VERSIONS]
        .into_iter()
        .enumerate()
        .skip(start_cf)
    {
        let mut it = snap.cursor(cf)?;
        match after {
            Some(c) if c.cf == cf_pos => {
                it.seek(&c.key);
                if it.key() == Some(c.key.as_slice()) {
                    it.next();
                }
            }
            _ => it.seek_to_first(),
        }
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            if cf != CF_PARTS {
                let o: ObjectVersion = format::decode(v)?;
                let rec = match cf {
                    CF_OBJECTS => BlobRecord::Object(k.to_vec()),
                    _ => BlobRecord::Version(k.to_vec()),
                };
                out.extend(o.data.blobs().iter().map(|b| (rec.clone(), b.clone())));
            } else {
                let p: PartInfo = format::decode(v)?;
                out.push((BlobRecord::Part(k.to_vec()), p.blob));
            }
            if out.len() >= max {
                let key = k.to_vec();
                return Ok((out, Some(BlobCursor { cf: cf_pos, key })));
            }
            it.next();
        }
        it.status()?;
    }
    Ok((out, None))
}

/// Ids of the nodes being drained.
pub fn draining(store: &MetaStore) -> Result<Vec<u64>, StoreError> {
    Ok(store
        .scan_prefix::<()>(CF_DRAINING, b"", usize::MAX)?
        .into_iter()
        .filter_map(|(k, ())| Some(u64::from_be_bytes(k.get(..8)?.try_into().ok()?)))
        .collect())
}

/// Where [`blobs_page`] goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobCursor {
    cf: usize,
    key: Vec<u8>,
}

/// The erasure profile given to storage class `name`, as applied here.
pub fn storage_class(store: &MetaStore, name: &str) -> Result<Option<(u8, u8)>, StoreError> {
    store.get(CF_CLASSES, name.as_bytes())
}

/// Every storage class given its own erasure profile: (name, k, m), by name.
pub fn storage_classes(store: &MetaStore) -> Result<Vec<(String, u8, u8)>, StoreError> {
    Ok(store
        .scan_prefix::<(u8, u8)>(CF_CLASSES, b"", usize::MAX)?
        .into_iter()
        .map(|(name, (k, m))| (String::from_utf8_lossy(&name).into_owned(), k, m))
        .collect())
}

/// The cluster map as applied here, by node id.
pub fn nodes(store: &MetaStore) -> Result<Vec<NodeInfo>, StoreError> {
    Ok(store
        .scan_prefix::<NodeInfo>(CF_NODES, b"", usize::MAX)?
        .into_iter()
        .map(|(_, n)| n)
        .collect())
}

fn list_parts(
    store: &MetaStore,
    bucket_id: u64,
    key: &str,
    upload_id: &str,
    marker: u32,
    max: u32,
) -> Result<PartListResult, StoreError> {
    let prefix = keys::parts_prefix(bucket_id, key, upload_id);
    let mut it = store.raw_iter(CF_PARTS)?;
    it.seek(&keys::part(
        bucket_id,
        key,
        upload_id,
        marker.saturating_add(1),
    ));
    let mut out = PartListResult::default();
    while let (Some(k), Some(v)) = (it.key(), it.value()) {
        if !k.starts_with(&prefix) {
            break;
        }
        if out.parts.len() >= max as usize {
            out.truncated = true;
            break;
        }
        let p: PartInfo = format::decode(v)?;
        out.next_marker = Some(p.number);
        out.parts.push(p);
        it.next();
    }
    it.status()?;
    Ok(out)
}

fn list_uploads(
    store: &MetaStore,
    bucket_id: u64,
    q: &UploadListQuery,
) -> Result<UploadListResult, StoreError> {
    let mut out = UploadListResult::default();
    let max = q.max_uploads as usize;
    let base = keys::bucket_prefix(bucket_id);
    // Keys in `uploads` are `key 0x00 upload_id`; scan folds on the delimiter using the object
    // key part. Start after the key marker (all of its uploads when no upload-id marker).
    let start = q.key_marker.as_ref().map(|k| match &q.upload_id_marker {
        Some(u) => format!("{k}\0{u}"),
        None => format!("{k}\0\u{10FFFF}"),
    });
    let mut err = None;
    list::scan(
        store,
        CF_UPLOADS,
        &base,
        &q.prefix,
        q.delimiter.as_deref(),
        start.as_deref(),
        |item| {
            if out.uploads.len() + out.common_prefixes.len() >= max {
                out.truncated = true;
                return Ok(false);
            }
            match item {
                Item::Prefix(p) => {
                    // A delimiter inside "key\0upload_id" can only fold the key part, except when the
                    // delimiter occurs in the upload id, which ours never contain.
                    out.next_key_marker = Some(p.clone());
                    out.next_upload_id_marker = None;
                    out.common_prefixes.push(p);
                }
                Item::Key(_, raw) => match format::decode::<UploadInfo>(raw) {
                    Ok(u) => {
                        out.next_key_marker = Some(u.key.clone());
                        out.next_upload_id_marker = Some(u.upload_id.clone());
                        out.uploads.push(u);
                    }
                    Err(e) => {
                        err = Some(e);
                        return Ok(false);
                    }
                },
            }
            Ok(true)
        },
    )?;
    if let Some(e) = err {
        return Err(e.into());
    }
    Ok(out)
}

/// Of `candidates` (blob id → shard indices found on node `me`), keep only the shards that
/// nothing places there: the blob is unknown (not the data of a current object, an uploaded
/// part, or a blob queued for deletion), or its placement puts that index on another node (its
/// shard moved away, or a stale repair wrote it back). Blobs in the delete queue are dropped
/// from `candidates` (their deletion is under way). One RocksDB snapshot covers all three
/// column families, so a command that moves a blob between them (CompleteMultipartUpload
/// moves parts into an object) cannot hide it.
pub fn retain_unreferenced(
    store: &MetaStore,
    me: u64,
    candidates: &mut std::collections::HashMap<[u8; 16], Vec<usize>>,
) -> Result<(), StoreError> {
    let snap = store.view();
    let keep = |b: &BlobRef, candidates: &mut std::collections::HashMap<[u8; 16], Vec<usize>>| {
        if let Some(shards) = candidates.get_mut(&b.id) {
            shards.retain(|&i| b.placement.get(i).is_none_or(|l| l.node != me));
            if shards.is_empty() {
                candidates.remove(&b.id);
            }
        }
    };
    for cf in [CF_OBJECTS, CF_VERSIONS, CF_PARTS, CF_GC] {
        if candidates.is_empty() {
            break;
        }
        let mut it = snap.cursor(cf)?;
        it.seek_to_first();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            match cf {
                CF_OBJECTS | CF_VERSIONS => {
                    let o: ObjectVersion = format::decode(v)?;
                    for b in o.data.blobs() {
                        keep(b, candidates);
                    }
                }
                CF_PARTS => {
                    let p: PartInfo = format::decode(v)?;
                    keep(&p.blob, candidates);
                }
                _ => {
                    if let Ok(id) = <[u8; 16]>::try_from(k) {
                        candidates.remove(&id);
                    }
                }
            }
            it.next();
        }
        it.status()?;
    }
    Ok(())
}
