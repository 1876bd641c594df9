//! Bucket policies: PutBucketPolicy (validated: MalformedPolicy names the reason),
//! GetBucketPolicy, DeleteBucketPolicy and GetBucketPolicyStatus.

use actix_web::{web, HttpResponse};
use coffer_proto::meta::BucketConfigKind;
use coffer_proto::policy::{Policy, PolicyKind, MAX_BUCKET_POLICY_BYTES};

use crate::s3::body::small_body;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::xml::xml_ok;
use crate::s3::xml::XmlWriter;

/// The stored policy (NoSuchBucketPolicy when there is none).
async fn stored(ctx: &ReqCtx<'_>) -> S3Result<String> {
    ctx.bucket_config(BucketConfigKind::Policy)
        .await?
        .ok_or_else(|| {
            S3Error::new(S3ErrorCode::NoSuchBucketPolicy).with("BucketName", ctx.bucket_name)
        })
}

async fn set(ctx: &ReqCtx<'_>, value: Option<String>) -> S3Result<HttpResponse> {
    ctx.set_bucket_config(BucketConfigKind::Policy, value)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// PUT /bucket?policy
pub async fn put_bucket_policy(ctx: &ReqCtx<'_>, payload: web::Payload) -> S3Result<HttpResponse> {
    // One byte over the limit is enough for the parser to name the limit.
    let body = small_body(payload, MAX_BUCKET_POLICY_BYTES + 1)
        .await
        .map_err(|e| match e.code {
            S3ErrorCode::MalformedXML => S3Error::msg(
                S3ErrorCode::MalformedPolicy,
                "Policies must be less than 20 KB",
            ),
            _ => e,
        })?;
    let text = std::str::from_utf8(&body).map_err(|_| {
        S3Error::msg(
            S3ErrorCode::MalformedPolicy,
            "This policy contains invalid Json",
        )
    })?;
    let policy = Policy::parse(text, &PolicyKind::Bucket(ctx.bucket_name.to_owned()))
        .map_err(|e| S3Error::msg(S3ErrorCode::MalformedPolicy, e.0))?;
    if policy.is_public() && ctx.authz.public_access.block_public_policy {
        return Err(S3Error::msg(
            S3ErrorCode::AccessDenied,
            "Block Public Access (BlockPublicPolicy) refuses a public bucket policy",
        ));
    }
    set(ctx, Some(text.to_owned())).await
}

/// GET /bucket?policy
pub async fn get_bucket_policy(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let doc = stored(ctx).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(doc))
}

/// DELETE /bucket?policy (204 also when there was none, as S3).
pub async fn delete_bucket_policy(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    set(ctx, None).await
}

/// GET /bucket?policyStatus
pub async fn get_bucket_policy_status(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let doc = stored(ctx).await?;
    let public = Policy::parse(&doc, &PolicyKind::Bucket(ctx.bucket_name.to_owned()))
        .is_ok_and(|p| p.is_public());
    let mut x = XmlWriter::new();
    x.open_ns("PolicyStatus");
    x.elem("IsPublic", if public { "true" } else { "false" });
    x.close("PolicyStatus");
    Ok(xml_ok(x.finish()))
}
