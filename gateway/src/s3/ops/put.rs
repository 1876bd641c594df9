//! PutObject: store the body (inline or as a blob), then install the version through Raft
//! with the request's preconditions. A refused commit leaves nothing visible: the state
//! machine queues the new blob for deletion.

use actix_web::http::header::HeaderMap;
use actix_web::{web, HttpResponse, HttpResponseBuilder};
use coffer_proto::meta::{MetaCommand, WritePrecondition};
use coffer_proto::types::{Checksum, ChecksumType, ObjectVersion, NULL_VERSION, STORAGE_CLASSES};

use super::data::write_body;
use crate::s3::body::BodyOutcome;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers::{self, checksum_header};

/// `x-amz-storage-class` (InvalidStorageClass for unknown names). Each class may have its own
/// erasure profile (`coffer admin storage-class set`).
pub fn storage_class(h: &HeaderMap) -> S3Result<String> {
    match headers::get(h, "x-amz-storage-class") {
        None => Ok("STANDARD".into()),
        Some(c) if STORAGE_CLASSES.contains(&c) => Ok(c.to_owned()),
        Some(c) => {
            Err(S3Error::new(S3ErrorCode::InvalidStorageClass).with("StorageClassRequested", c))
        }
    }
}

/// Conditional-write headers: `If-None-Match: *` and `If-Match: etag`.
pub fn write_precondition(h: &HeaderMap) -> S3Result<WritePrecondition> {
    match (
        headers::get(h, "if-none-match"),
        headers::get(h, "if-match"),
    ) {
        (Some(_), Some(_)) => Err(S3Error::msg(
            S3ErrorCode::NotImplemented,
            "If-Match and If-None-Match together are not supported",
        )),
        (Some("*"), None) => Ok(WritePrecondition::MustNotExist),
        (Some(_), None) => Err(S3Error::msg(
            S3ErrorCode::NotImplemented,
            "If-None-Match on writes only supports *",
        )),
        (None, Some(e)) => Ok(WritePrecondition::EtagMatches(
            e.trim().trim_matches('"').to_owned(),
        )),
        (None, None) => Ok(WritePrecondition::None),
    }
}

/// Add `x-amz-checksum-*` and `x-amz-checksum-type` for a stored checksum.
pub fn checksum_headers(b: &mut HttpResponseBuilder, c: Option<&Checksum>) {
    if let Some(c) = c {
        b.insert_header((checksum_header(c.algorithm), c.value.as_str()));
        b.insert_header((
            "x-amz-checksum-type",
            match c.kind {
                ChecksumType::FullObject => "FULL_OBJECT",
                ChecksumType::Composite => "COMPOSITE",
            },
        ));
    }
}

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
    let storage_class = storage_class(h)?;
    let content = headers::content_headers(h);
    let user_meta = headers::user_meta(h)?;
    let (owner, acl) = super::acl::for_new_object(ctx, &bucket)?;
    let tags = super::tagging::from_header(h)?;
    let (
        data,
        BodyOutcome {
            size,
            md5,
            checksum,
        },
    ) = write_body(
        ctx,
        &storage_class,
        payload,
        Some(ctx.config.inline_threshold),
        ctx.config.max_put_size,
    )
    .await?;
    let version = ObjectVersion {
        key: key.to_owned(),
        version_id: NULL_VERSION.into(),
        last_modified_ms: headers::now_ms(),
        size,
        etag: hex::encode(md5),
        content,
        user_meta,
        checksum,
        parts: Vec::new(),
        storage_class,
        delete_marker: false,
        owner,
        data,
    };
    let etag = format!("\"{}\"", version.etag);
    let checksum = version.checksum.clone();
    let cmd = MetaCommand::PutObject {
        bucket_id: bucket.id,
        version,
        precondition,
    };
    ctx.cluster
        .meta_write(super::tagging::with_tags(
            super::acl::with_acl(cmd, acl.as_ref()),
            tags.as_ref(),
        ))
        .await
        .map_err(|e| S3Error::from(e).with("Key", key))?;
    let mut b = HttpResponse::Ok();
    b.insert_header(("etag", etag));
    checksum_headers(&mut b, checksum.as_ref());
    Ok(b.finish())
}
