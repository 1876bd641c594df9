//! Server access logging: Put/GetBucketLogging over the bucket's `Logging` document
//! ([`crate::model::logging`]); the records and their delivery are [`crate::access_log`]'s.

use actix_web::{web, HttpResponse};
use coffer_proto::meta::BucketConfigKind;

use crate::access_log::deliver::check_target;
use crate::model::logging;
use crate::s3::body::small_body;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::S3Result;
use crate::s3::headers;
use crate::s3::xml::xml_ok;

/// Largest status document (100 grants fit).
const MAX_BODY: usize = 256 << 10;

/// PUT /bucket?logging: an empty `<BucketLoggingStatus/>` turns logging off; a target must
/// exist and take the logs (its policy grants the logging service, or its ACL the
/// LogDelivery group).
pub async fn put(ctx: &ReqCtx<'_>, payload: web::Payload) -> S3Result<HttpResponse> {
    let body = small_body(payload, MAX_BODY).await?;
    headers::integrity_required(ctx.req.headers(), &body)?;
    let bucket = ctx.bucket().await?;
    let status = logging::parse(&body, &bucket.owner)?;
    if let Some(s) = &status {
        check_target(ctx.cluster, ctx.bucket_name, s, &s.target_prefix).await?;
    }
    ctx.set_bucket_config(
        BucketConfigKind::Logging,
        status.as_ref().map(logging::encode),
    )
    .await?;
    ctx.caches.logging.forget(ctx.bucket_name);
    Ok(HttpResponse::Ok().finish())
}

/// GET /bucket?logging: the target, or an empty status when logging is off.
pub async fn get(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let status = ctx
        .bucket_config(BucketConfigKind::Logging)
        .await?
        .and_then(|d| logging::decode(&d));
    Ok(xml_ok(logging::to_xml(status.as_ref())))
}
