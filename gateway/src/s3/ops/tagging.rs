//! Object tagging: Put/Get/DeleteObjectTagging. Tag sets themselves are
//! [`crate::model::tags`]; the tags a new object gets are read with its other headers
//! ([`crate::s3::headers::tagging`]).

use actix_web::{web, HttpResponse};
use coffer_proto::meta::MetaCommand;

use crate::model::tags::{self, Tags};
use crate::s3::body::small_body;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3Result};
use crate::s3::object;
use crate::s3::object::read::about_version;

/// Set or remove the tag set of the version a request names; answers its version id.
async fn set(ctx: &ReqCtx<'_>, key: &str, set_to: Option<&Tags>) -> S3Result<String> {
    let bucket = ctx.bucket().await?;
    let named = ctx.query.get("versionId");
    let facts = object::read::facts(ctx.cluster, bucket.id, key, named).await?;
    let tags = set_to.filter(|t| !t.is_empty()).map(tags::encode);
    let cmd = match named {
        // Named: that version, wherever it is among the key's versions.
        Some(_) => MetaCommand::SetVersionTags {
            bucket_id: bucket.id,
            key: key.to_owned(),
            version_id: facts.version_id.clone(),
            tags,
        },
        None => MetaCommand::SetObjectTags {
            bucket_id: bucket.id,
            key: key.to_owned(),
            tags,
        },
    };
    ctx.cluster
        .meta_write(cmd)
        .await
        .map_err(|e| S3Error::from(e).with("Key", key))?;
    Ok(facts.version_id)
}

/// GET /bucket/key?tagging
pub async fn get(ctx: &ReqCtx<'_>, key: &str) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let version = ctx.query.get("versionId");
    let f = object::read::facts(ctx.cluster, bucket.id, key, version).await?;
    let current = tags::decode(f.tags.as_deref());
    Ok(about_version(HttpResponse::Ok(), ctx, &f.version_id)
        .content_type("application/xml")
        .body(tags::to_xml(&current)))
}

/// PUT /bucket/key?tagging
pub async fn put(ctx: &ReqCtx<'_>, key: &str, payload: web::Payload) -> S3Result<HttpResponse> {
    let body = small_body(payload, 64 << 10).await?;
    let set_to = tags::parse(&body)?;
    let id = set(ctx, key, Some(&set_to)).await?;
    Ok(about_version(HttpResponse::Ok(), ctx, &id).finish())
}

/// DELETE /bucket/key?tagging
pub async fn delete(ctx: &ReqCtx<'_>, key: &str) -> S3Result<HttpResponse> {
    let id = set(ctx, key, None).await?;
    Ok(about_version(HttpResponse::NoContent(), ctx, &id).finish())
}
