//! Reading an object: GET, HEAD, GetObjectAttributes and a copy's source find the version a
//! request names through [`load`]; the tagging and ACL operations, which need only its owner,
//! ACL and tags, through [`facts`]. When versioning lands, which version a request names is
//! decided here and nowhere else.

use std::sync::Arc;

use coffer_proto::api::ClusterApiExt;
use coffer_proto::lock::VersionLock;
use coffer_proto::meta::ObjectFacts;
use coffer_proto::types::{BucketInfo, ObjectVersion, Versioning, NULL_VERSION};
use coffer_proto::version_id::VersionId;
use coffer_proto::ClusterApi;

use crate::model::tags::{self, Tags};
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers::{CopySource, Preconditions};

/// A `versionId` that names no version of the key.
pub fn invalid_version(want: &str) -> S3Error {
    S3Error::msg(S3ErrorCode::InvalidArgument, "Invalid version id specified")
        .with("ArgumentName", "versionId")
        .with("ArgumentValue", want)
}

/// The version of `key` a read names: the current one, or `version` (a version id). A
/// malformed id is InvalidArgument, a well-formed one that names no version NoSuchVersion; a
/// key whose latest version is a delete marker is NoSuchKey with `x-amz-delete-marker`, and a
/// delete marker named by its id MethodNotAllowed, as on S3.
pub async fn load(
    cluster: &Arc<dyn ClusterApi>,
    bucket_id: u64,
    key: &str,
    version: Option<&str>,
) -> S3Result<ObjectVersion> {
    let found = match version {
        None => match cluster.object(bucket_id, key).await? {
            Some(v) => return Ok(v),
            // No current version: the latest may be a delete marker, which the answer shows.
            None => cluster.version(bucket_id, key, None).await?,
        },
        Some(want) => {
            VersionId::parse(want).map_err(|_| invalid_version(want))?;
            cluster.version(bucket_id, key, Some(want)).await?
        }
    };
    judge(key, version, found)
}

/// As [`load`], with the version's Object Lock (None: never locked), in one read.
pub async fn load_locked(
    cluster: &Arc<dyn ClusterApi>,
    bucket_id: u64,
    key: &str,
    version: Option<&str>,
) -> S3Result<(ObjectVersion, Option<VersionLock>)> {
    if let Some(want) = version {
        VersionId::parse(want).map_err(|_| invalid_version(want))?;
    }
    let (found, lock) = match cluster.locked_version(bucket_id, key, version).await? {
        Some((v, lock)) => (Some(v), lock),
        None => (None, None),
    };
    Ok((judge(key, version, found)?, lock))
}

/// What a read of `key` that named `want` (None: the latest) answers when it `found` that.
fn judge(key: &str, want: Option<&str>, found: Option<ObjectVersion>) -> S3Result<ObjectVersion> {
    match (found, want) {
        (Some(m), None) if m.delete_marker => Err(marker_headers(
            S3Error::new(S3ErrorCode::NoSuchKey).with("Key", key),
            &m,
        )),
        (Some(m), Some(_)) if m.delete_marker => Err(marker_headers(
            S3Error::new(S3ErrorCode::MethodNotAllowed)
                .with("Method", "GET")
                .with("ResourceType", "DeleteMarker"),
            &m,
        )
        .header("allow", "DELETE")),
        (Some(v), _) => Ok(v),
        (None, None) => Err(S3Error::new(S3ErrorCode::NoSuchKey).with("Key", key)),
        (None, Some(want)) => Err(no_such_version(key, want)),
    }
}

/// The version id an answer about `v` shows (`x-amz-version-id`): every id but an unversioned
/// bucket's `null`, as S3 does.
pub fn shown_version_id<'v>(bucket: &BucketInfo, v: &'v ObjectVersion) -> Option<&'v str> {
    (v.version_id != NULL_VERSION || bucket.versioning != Versioning::Unversioned)
        .then_some(v.version_id.as_str())
}

/// An answer about version `id` (`x-amz-version-id`, except for the null version of a
/// request that did not name it, as S3 leaves it out for unversioned buckets).
pub fn about_version(
    mut b: actix_web::HttpResponseBuilder,
    ctx: &ReqCtx<'_>,
    id: &str,
) -> actix_web::HttpResponseBuilder {
    if id != NULL_VERSION || ctx.query.get("versionId").is_some() {
        b.insert_header(("x-amz-version-id", id));
    }
    b
}

/// NoSuchVersion of `want` (a well-formed id) of `key`.
fn no_such_version(key: &str, want: &str) -> S3Error {
    S3Error::new(S3ErrorCode::NoSuchVersion)
        .with("Key", key)
        .with("VersionId", want)
}

/// `err` with the headers S3 sends about delete marker `m`.
fn marker_headers(err: S3Error, m: &ObjectVersion) -> S3Error {
    err.header("x-amz-delete-marker", "true")
        .header("x-amz-version-id", m.version_id.clone())
        .header(
            "last-modified",
            crate::s3::headers::http_date(m.last_modified_ms),
        )
}

/// The owner, ACL and tags of the version of `key` a request names (as [`load`]).
pub async fn facts(
    cluster: &Arc<dyn ClusterApi>,
    bucket_id: u64,
    key: &str,
    version: Option<&str>,
) -> S3Result<ObjectFacts> {
    let found = match version {
        None => cluster.object_facts(bucket_id, key).await?,
        Some(want) => {
            VersionId::parse(want).map_err(|_| invalid_version(want))?;
            cluster.version_facts(bucket_id, key, want).await?
        }
    };
    match found {
        Some(f) => Ok(f),
        // Why there is none (a delete marker, a missing version) is `load`'s to tell.
        None => load(cluster, bucket_id, key, version)
            .await
            .and(Err(S3Error::new(S3ErrorCode::NoSuchKey).with("Key", key))),
    }
}

/// The tags of the version of `key` a request names.
pub async fn tags(
    cluster: &Arc<dyn ClusterApi>,
    bucket_id: u64,
    key: &str,
    version: Option<&str>,
) -> S3Result<Tags> {
    let f = facts(cluster, bucket_id, key, version).await?;
    Ok(tags::decode(f.tags.as_deref()))
}

/// A copy's source, loaded.
pub struct Source {
    /// Source bucket name.
    pub bucket: String,
    /// Its id.
    pub bucket_id: u64,
    /// Source key.
    pub key: String,
    /// The source object.
    pub version: ObjectVersion,
    /// Whether the request named the version (`?versionId=` in `x-amz-copy-source`).
    pub named_version: bool,
    /// Its data key, when it is encrypted.
    pub data_key: Option<Arc<crate::sse::DataKey>>,
}

impl Source {
    /// Add `x-amz-copy-source-version-id` to `b`: the version a copy read, when it has an id
    /// of its own or the request named it.
    pub fn version_header(&self, b: &mut actix_web::HttpResponseBuilder) {
        if self.version.version_id != NULL_VERSION || self.named_version {
            b.insert_header((
                "x-amz-copy-source-version-id",
                self.version.version_id.as_str(),
            ));
        }
    }
}

/// Load the object `x-amz-copy-source` names and check the `x-amz-copy-source-if-*`
/// conditions (reading it was authorized with the request).
pub async fn copy_source(ctx: &ReqCtx<'_>) -> S3Result<Source> {
    let CopySource {
        bucket,
        key,
        version_id,
    } = CopySource::from_headers(ctx.req.headers())?;
    let b = ctx
        .cluster
        .bucket(&bucket)
        .await?
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchBucket).with("BucketName", &bucket))?;
    let version = load(ctx.cluster, b.id, &key, version_id.as_deref()).await?;
    Preconditions::copy_source(ctx.req.headers()).check(&version, true)?;
    let given = crate::sse::CustomerKey::from_headers(
        ctx.req.headers(),
        &crate::sse::customer::COPY_SOURCE,
    )?;
    let data_key = crate::sse::open(ctx, &bucket, &version, given.as_ref()).await?;
    Ok(Source {
        bucket,
        bucket_id: b.id,
        key,
        version,
        named_version: version_id.is_some(),
        data_key,
    })
}
