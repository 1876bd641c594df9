//! Reading an object: GET, HEAD, GetObjectAttributes and a copy's source find the version a
//! request names through [`load`]; the tagging and ACL operations, which need only its owner,
//! ACL and tags, through [`facts`]. When versioning lands, which version a request names is
//! decided here and nowhere else.

use std::sync::Arc;

use coffer_proto::api::ClusterApiExt;
use coffer_proto::meta::ObjectFacts;
use coffer_proto::types::ObjectVersion;
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

/// Check that `version` (a requested version id, if any) names `current`, the version of
/// `key` that exists: a malformed id is InvalidArgument, a well-formed one that names another
/// version NoSuchVersion, as on S3.
fn check_version(key: &str, current: &str, version: Option<&str>) -> S3Result<()> {
    let Some(want) = version else {
        return Ok(());
    };
    let asked = VersionId::parse(want).map_err(|_| invalid_version(want))?;
    if asked.to_string() == current {
        Ok(())
    } else {
        Err(S3Error::new(S3ErrorCode::NoSuchVersion)
            .with("Key", key)
            .with("VersionId", want))
    }
}

/// The version of `key` a read names: the current one, or `version` (a version id), which
/// must be it (only the current version exists until versioning lands). NoSuchKey if the key
/// has none, or its current version is a delete marker.
pub async fn load(
    cluster: &Arc<dyn ClusterApi>,
    bucket_id: u64,
    key: &str,
    version: Option<&str>,
) -> S3Result<ObjectVersion> {
    let v = cluster
        .object(bucket_id, key)
        .await?
        .filter(|v| !v.delete_marker)
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchKey).with("Key", key))?;
    check_version(key, &v.version_id, version)?;
    Ok(v)
}

/// The owner, ACL and tags of the version of `key` a request names (as [`load`]).
pub async fn facts(
    cluster: &Arc<dyn ClusterApi>,
    bucket_id: u64,
    key: &str,
    version: Option<&str>,
) -> S3Result<ObjectFacts> {
    let facts = cluster
        .object_facts(bucket_id, key)
        .await?
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchKey).with("Key", key))?;
    check_version(key, &facts.version_id, version)?;
    Ok(facts)
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
    Ok(Source {
        bucket,
        bucket_id: b.id,
        key,
        version,
    })
}
