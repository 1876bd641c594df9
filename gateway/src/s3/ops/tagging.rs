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
use crate::s3::xml::xml_ok;

async fn set(ctx: &ReqCtx<'_>, key: &str, set_to: Option<&Tags>) -> S3Result<()> {
    let bucket = ctx.bucket().await?;
    object::read::facts(ctx.cluster, bucket.id, key, ctx.query.get("versionId")).await?;
    let cmd = MetaCommand::SetObjectTags {
        bucket_id: bucket.id,
        key: key.to_owned(),
        tags: set_to.filter(|t| !t.is_empty()).map(tags::encode),
    };
    ctx.cluster
        .meta_write(cmd)
        .await
        .map_err(|e| S3Error::from(e).with("Key", key))?;
    Ok(())
}

/// GET /bucket/key?tagging
pub async fn get(ctx: &ReqCtx<'_>, key: &str) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let version = ctx.query.get("versionId");
    let current = object::read::tags(ctx.cluster, bucket.id, key, version).await?;
    Ok(xml_ok(tags::to_xml(&current)))
}

/// PUT /bucket/key?tagging
pub async fn put(ctx: &ReqCtx<'_>, key: &str, payload: web::Payload) -> S3Result<HttpResponse> {
    let body = small_body(payload, 64 << 10).await?;
    let set_to = tags::parse(&body)?;
    set(ctx, key, Some(&set_to)).await?;
    Ok(HttpResponse::Ok().finish())
}

/// DELETE /bucket/key?tagging
pub async fn delete(ctx: &ReqCtx<'_>, key: &str) -> S3Result<HttpResponse> {
    set(ctx, key, None).await?;
    Ok(HttpResponse::NoContent().finish())
}
