//! PutObject: store the body (inline or as a blob), then commit the version through the
//! object pipeline ([`crate::s3::object::write`]) with the request's conditions.

use actix_web::{web, HttpResponse};
use coffer_proto::types::ChecksumAlgorithm;

use crate::s3::body::Computed;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers::{checksum_headers, write_precondition};
use crate::s3::object::data::write_body;
use crate::s3::object::write::{self, Body, Commit, NewObject};

/// The header that asks to append to an object at an offset.
const APPEND: &str = "x-amz-write-offset-bytes";

/// PUT /bucket/key.
pub async fn put_object(
    ctx: &ReqCtx<'_>,
    key: &str,
    payload: web::Payload,
) -> S3Result<HttpResponse> {
    let h = ctx.req.headers();
    // S3 appends at an offset in directory buckets only; here the PUT would replace the object.
    if h.contains_key(APPEND) {
        return Err(S3Error::msg(
            S3ErrorCode::NotImplemented,
            "Appending to an object is not implemented",
        )
        .with("Header", APPEND));
    }
    let bucket = ctx.bucket().await?;
    let precondition = write_precondition(h)?;
    let lock = crate::s3::object_lock::for_write(ctx, &bucket, h, true).await?;
    let sealing = crate::sse::for_write(ctx, &bucket.name, key, crate::sse::asked(h)?).await?;
    let new = NewObject::from_headers(ctx, &bucket, key, h)?
        .when(precondition)
        .locked(lock)
        .sealed(sealing);
    let (data, outcome) = write_body(
        ctx,
        &new.storage_class,
        payload,
        Some(ctx.config.inline_threshold),
        ctx.config.max_put_size,
        Computed::Default(ChecksumAlgorithm::Crc64Nvme),
        new.data_key(),
    )
    .await?;
    let body = Body::single(data, outcome.size, outcome.md5, outcome.stored_checksum());
    let done = write::commit(ctx.cluster, bucket.id, new, body, Commit::Put).await?;
    let mut b = HttpResponse::Ok();
    b.insert_header(("etag", done.quoted_etag()));
    done.version_header(&mut b);
    checksum_headers(&mut b, done.checksum.as_ref());
    if let Some(h) = crate::s3::expiration::header(ctx, done.subject(key)).await {
        b.insert_header(h);
    }
    Ok(b.finish())
}
