//! Lifecycle configuration: Put/Get/DeleteBucketLifecycleConfiguration (and the older
//! PutBucketLifecycle and GetBucketLifecycle, the same requests with a rule-level `Prefix`)
//! over the bucket's `Lifecycle` document ([`crate::model::lifecycle`]).

use actix_web::{web, HttpResponse};
use coffer_proto::meta::BucketConfigKind;

use crate::model::lifecycle::{self, MinSize, MIN_SIZE_HEADER};
use crate::s3::body::small_body;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers;
use crate::s3::xml::xml_ok;

/// Largest configuration document: 1,000 rules of long filters fit.
const MAX_BODY: usize = 2 << 20;

/// The `x-amz-transition-default-minimum-object-size` asked for (S3's default without one).
fn min_size(ctx: &ReqCtx<'_>) -> S3Result<MinSize> {
    match ctx.header(MIN_SIZE_HEADER) {
        None => Ok(MinSize::default()),
        Some(v) => MinSize::parse(v.trim()).ok_or_else(|| {
            S3Error::msg(
                S3ErrorCode::InvalidArgument,
                format!("Invalid value for {MIN_SIZE_HEADER}: {v}"),
            )
            .with("ArgumentName", MIN_SIZE_HEADER)
            .with("ArgumentValue", v)
        }),
    }
}

/// PUT /bucket?lifecycle
pub async fn put(ctx: &ReqCtx<'_>, payload: web::Payload) -> S3Result<HttpResponse> {
    let min_size = min_size(ctx)?;
    let body = small_body(payload, MAX_BODY).await?;
    headers::integrity_required(ctx.req.headers(), &body)?;
    let conf = lifecycle::parse(&body, min_size)?;
    ctx.set_bucket_config(BucketConfigKind::Lifecycle, Some(lifecycle::encode(&conf)))
        .await?;
    ctx.caches.lifecycle.forget(ctx.bucket_name);
    Ok(HttpResponse::Ok()
        .insert_header((MIN_SIZE_HEADER, conf.min_size.as_str()))
        .finish())
}

/// GET /bucket?lifecycle: the rules, or NoSuchLifecycleConfiguration.
pub async fn get(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let conf = ctx
        .bucket_config(BucketConfigKind::Lifecycle)
        .await?
        .and_then(|d| lifecycle::decode(&d))
        .ok_or_else(|| {
            S3Error::new(S3ErrorCode::NoSuchLifecycleConfiguration)
                .with("BucketName", ctx.bucket_name)
        })?;
    let mut resp = xml_ok(lifecycle::to_xml(&conf));
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(conf.min_size.as_str()) {
        resp.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static(MIN_SIZE_HEADER),
            v,
        );
    }
    Ok(resp)
}

/// DELETE /bucket?lifecycle (204 whether or not there was one, as on S3).
pub async fn delete(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    ctx.set_bucket_config(BucketConfigKind::Lifecycle, None)
        .await?;
    ctx.caches.lifecycle.forget(ctx.bucket_name);
    Ok(HttpResponse::NoContent().finish())
}
