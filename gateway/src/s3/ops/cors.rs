//! CORS: Put/Get/DeleteBucketCors and the preflight `OPTIONS` request, answered from the
//! bucket's rules ([`crate::model::cors`]).

use actix_web::{web, HttpResponse};
use coffer_proto::meta::BucketConfigKind;

use crate::model::cors::{self, CorsRule};
use crate::s3::body::small_body;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::xml::xml_ok;

/// Largest configuration document (as S3: 64 KB).
const MAX_BODY: usize = 64 << 10;

/// The bucket's rules (NoSuchCORSConfiguration when it has none).
async fn stored(ctx: &ReqCtx<'_>) -> S3Result<Vec<CorsRule>> {
    let doc = ctx.bucket_config(BucketConfigKind::Cors).await?;
    doc.map(|d| cors::decode(&d)).ok_or_else(|| {
        S3Error::new(S3ErrorCode::NoSuchCORSConfiguration).with("BucketName", ctx.bucket_name)
    })
}

/// PUT /bucket?cors
pub async fn put_bucket_cors(ctx: &ReqCtx<'_>, payload: web::Payload) -> S3Result<HttpResponse> {
    let body = small_body(payload, MAX_BODY).await?;
    let rules = cors::parse(&body)?;
    let doc = serde_json::to_string(&rules).map_err(S3Error::internal)?;
    ctx.set_bucket_config(BucketConfigKind::Cors, Some(doc))
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// GET /bucket?cors
pub async fn get_bucket_cors(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let rules = stored(ctx).await?;
    Ok(xml_ok(cors::to_xml(&rules)))
}

/// DELETE /bucket?cors
pub async fn delete_bucket_cors(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    ctx.set_bucket_config(BucketConfigKind::Cors, None).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// OPTIONS /bucket[/key]: a browser's preflight.
pub async fn preflight(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let forbidden = |m: &'static str| S3Error::msg(S3ErrorCode::AccessForbidden, m);
    let origin = ctx.header("origin").ok_or_else(|| {
        S3Error::msg(
            S3ErrorCode::BadRequest,
            "Insufficient information. Origin request header needed.",
        )
    })?;
    let method = ctx.header("access-control-request-method").ok_or_else(|| {
        S3Error::msg(
            S3ErrorCode::BadRequest,
            "Invalid Access-Control-Request-Method: null",
        )
    })?;
    let rules = match stored(ctx).await {
        Err(e) if e.code == S3ErrorCode::NoSuchCORSConfiguration => {
            return Err(forbidden(
                "CORSResponse: CORS is not enabled for this bucket.",
            ))
        }
        r => r?,
    };
    let requested = ctx.header("access-control-request-headers");
    let wanted: Vec<&str> = requested
        .map(|h| {
            h.split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let rule = cors::matching(&rules, origin, method, &wanted).ok_or_else(|| {
        forbidden("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")
    })?;
    let mut resp = HttpResponse::Ok();
    for (k, v) in cors::headers(rule, origin, requested) {
        resp.insert_header((k, v));
    }
    Ok(resp.finish())
}
