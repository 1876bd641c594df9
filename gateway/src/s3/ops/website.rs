//! Static website hosting's configuration: Put/Get/DeleteBucketWebsite over the bucket's
//! `Website` document ([`crate::model::website`]). The website endpoint
//! (`crate::website`) serves buckets that have one.

use actix_web::{web, HttpResponse};
use coffer_proto::meta::BucketConfigKind;

use crate::model::website;
use crate::s3::body::small_body;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::xml::xml_ok;

/// Largest configuration document (50 rules of long keys fit many times over).
const MAX_BODY: usize = 128 << 10;

/// PUT /bucket?website
pub async fn put(ctx: &ReqCtx<'_>, payload: web::Payload) -> S3Result<HttpResponse> {
    let body = small_body(payload, MAX_BODY).await?;
    let conf = website::parse(&body)?;
    ctx.set_bucket_config(BucketConfigKind::Website, Some(website::encode(&conf)))
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// GET /bucket?website: the configuration, or NoSuchWebsiteConfiguration.
pub async fn get(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let conf = ctx
        .bucket_config(BucketConfigKind::Website)
        .await?
        .and_then(|d| website::decode(&d))
        .ok_or_else(|| {
            S3Error::new(S3ErrorCode::NoSuchWebsiteConfiguration)
                .with("BucketName", ctx.bucket_name)
        })?;
    Ok(xml_ok(website::to_xml(&conf)))
}

/// DELETE /bucket?website (204 whether or not there was one, as on S3).
pub async fn delete(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    ctx.set_bucket_config(BucketConfigKind::Website, None)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
