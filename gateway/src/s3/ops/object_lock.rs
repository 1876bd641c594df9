//! Object Lock operations: Get/PutObjectLockConfiguration, Get/PutObjectRetention and
//! Get/PutObjectLegalHold. Documents and header rules are [`crate::s3::object_lock`]; what a
//! lock allows is the state machine's to decide (`coffer_proto::lock`).

use actix_web::{web, HttpResponse};
use coffer_proto::lock::{LockConfig, VersionLock};
use coffer_proto::meta::{BucketConfigKind, MetaCommand};

use crate::s3::body::small_body;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers;
use crate::s3::object::read::{self, about_version};
use crate::s3::object_lock::{self as lock, bypasses_governance};
use crate::s3::xml::xml_ok;

/// The bucket's Object Lock configuration, which the version calls need.
async fn locked(ctx: &ReqCtx<'_>) -> S3Result<(u64, LockConfig)> {
    let bucket = ctx.bucket().await?;
    match lock::config_of(ctx, &bucket).await? {
        Some(c) => Ok((bucket.id, c)),
        None => Err(S3Error::msg(
            S3ErrorCode::InvalidRequest,
            "Bucket is missing Object Lock Configuration",
        )),
    }
}

/// The lock of the version of `key` the request names, with that version's id.
async fn lock_of(ctx: &ReqCtx<'_>, bucket_id: u64, key: &str) -> S3Result<(VersionLock, String)> {
    let named = ctx.query.get("versionId");
    let (v, lock) = read::load_locked(ctx.cluster, bucket_id, key, named).await?;
    Ok((lock.unwrap_or_default(), v.version_id))
}

/// GET /bucket?object-lock
pub async fn get_configuration(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    match lock::config_of(ctx, &bucket).await? {
        Some(c) => Ok(xml_ok(lock::config_xml(&c))),
        None => Err(
            S3Error::new(S3ErrorCode::ObjectLockConfigurationNotFoundError)
                .with("BucketName", ctx.bucket_name),
        ),
    }
}

/// PUT /bucket?object-lock (on a bucket with versioning Enabled: it turns Object Lock on).
pub async fn put_configuration(ctx: &ReqCtx<'_>, payload: web::Payload) -> S3Result<HttpResponse> {
    let body = small_body(payload, 64 << 10).await?;
    let config = lock::parse_config(&body)?;
    let doc = serde_json::to_string(&config).unwrap_or_default();
    ctx.set_bucket_config(BucketConfigKind::ObjectLock, Some(doc))
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// GET /bucket/key?retention
pub async fn get_retention(ctx: &ReqCtx<'_>, key: &str) -> S3Result<HttpResponse> {
    let (bucket_id, _) = locked(ctx).await?;
    let (lock, id) = lock_of(ctx, bucket_id, key).await?;
    match lock.retention {
        Some(r) => Ok(about_version(HttpResponse::Ok(), ctx, &id)
            .content_type("application/xml")
            .body(lock::retention_xml(&r))),
        None => Err(S3Error::new(S3ErrorCode::NoSuchObjectLockConfiguration)),
    }
}

/// Change the lock of the version of `key` the request names: `parse` reads the request's
/// body (a malformed one is refused before anything is read) into what makes the command of
/// the bucket's id and the version's id.
async fn change_lock<C: FnOnce(u64, String) -> MetaCommand>(
    ctx: &ReqCtx<'_>,
    key: &str,
    payload: web::Payload,
    parse: impl FnOnce(&[u8]) -> S3Result<C>,
) -> S3Result<HttpResponse> {
    let (bucket_id, _) = locked(ctx).await?;
    let body = small_body(payload, 64 << 10).await?;
    let command = parse(&body)?;
    let (_, id) = lock_of(ctx, bucket_id, key).await?;
    ctx.cluster
        .meta_write(command(bucket_id, id.clone()))
        .await?;
    Ok(about_version(HttpResponse::Ok(), ctx, &id).finish())
}

/// PUT /bucket/key?retention
pub async fn put_retention(
    ctx: &ReqCtx<'_>,
    key: &str,
    payload: web::Payload,
) -> S3Result<HttpResponse> {
    let bypass_governance = bypasses_governance(ctx, key);
    change_lock(ctx, key, payload, |body| {
        let now_ms = headers::now_ms();
        let retention = lock::parse_retention(body, now_ms)?;
        Ok(move |bucket_id, id| MetaCommand::SetRetention {
            bucket_id,
            key: key.to_owned(),
            version_id: Some(id),
            retention,
            bypass_governance,
            now_ms,
        })
    })
    .await
}

/// GET /bucket/key?legal-hold
pub async fn get_legal_hold(ctx: &ReqCtx<'_>, key: &str) -> S3Result<HttpResponse> {
    let (bucket_id, _) = locked(ctx).await?;
    let (lock, id) = lock_of(ctx, bucket_id, key).await?;
    Ok(about_version(HttpResponse::Ok(), ctx, &id)
        .content_type("application/xml")
        .body(lock::legal_hold_xml(lock.legal_hold)))
}

/// PUT /bucket/key?legal-hold
pub async fn put_legal_hold(
    ctx: &ReqCtx<'_>,
    key: &str,
    payload: web::Payload,
) -> S3Result<HttpResponse> {
    change_lock(ctx, key, payload, |body| {
        let on = lock::parse_legal_hold(body)?;
        Ok(move |bucket_id, id| MetaCommand::SetLegalHold {
            bucket_id,
            key: key.to_owned(),
            version_id: Some(id),
            on,
        })
    })
    .await
}
