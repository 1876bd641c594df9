//! CopyObject: COPY/REPLACE metadata and tagging directives, copy-source conditions, in-place
//! copy with REPLACE. The source is read and the copy committed through the object pipeline.

use actix_web::HttpResponse;
use coffer_proto::api::ClusterApiExt;
use coffer_proto::types::{ChecksumAlgorithm, ChecksumType};

use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers::{self, checksum_name, iso_date, ByteRange};
use crate::s3::object::data::copy_data;
use crate::s3::object::read::{self, copy_source};
use crate::s3::object::write::{self, Body, Commit, NewObject};
use crate::s3::xml::XmlWriter;

/// PUT /bucket/key with x-amz-copy-source.
pub async fn copy_object(ctx: &ReqCtx<'_>, key: &str) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let src = copy_source(ctx).await?;
    let h = ctx.req.headers();
    let replace = match ctx.header("x-amz-metadata-directive") {
        None | Some("COPY") => false,
        Some("REPLACE") => true,
        Some(_) => {
            return Err(S3Error::msg(
                S3ErrorCode::InvalidArgument,
                "Unknown metadata directive.",
            ))
        }
    };
    let class_given = h.contains_key("x-amz-storage-class");
    if class_given {
        headers::storage_class(h)?;
    }
    // Asking for an encryption changes the copy's encryption attributes (S3 then lets an
    // object be copied onto itself: how its encryption is changed in place).
    let asked = crate::sse::asked(h)?;
    if src.bucket == ctx.bucket_name
        && src.key == key
        && !replace
        && !class_given
        && !h.contains_key("x-amz-website-redirect-location")
        && matches!(asked, crate::sse::Asked::None)
        && !restores_older(ctx, &src, bucket.id).await?
    {
        return Err(S3Error::msg(
            S3ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    // The copy keeps the source's tags unless the request replaces them.
    let copy_tags = match ctx.header("x-amz-tagging-directive") {
        None | Some("COPY") => true,
        Some("REPLACE") => false,
        Some(_) => {
            return Err(S3Error::msg(
                S3ErrorCode::InvalidArgument,
                "Unknown tagging directive.",
            ))
        }
    };
    // What the request's headers say, less what the directives copy from the source (headers
    // that are not read are not checked either, as on S3). Without x-amz-storage-class the
    // copy is STANDARD, whatever the source's class.
    let mut described = h.clone();
    if !replace {
        let meta: Vec<_> = described
            .keys()
            .filter(|n| n.as_str().starts_with("x-amz-meta-"))
            .cloned()
            .collect();
        for n in meta {
            described.remove(n);
        }
    }
    if copy_tags {
        described.remove("x-amz-tagging");
    }
    let precondition = headers::write_precondition(h)?;
    let lock = crate::s3::object_lock::for_write(ctx, &bucket, h, false).await?;
    // The copy is encrypted as its own request asks, whatever the source was.
    let sealing = crate::sse::for_write(ctx, &bucket.name, key, asked).await?;
    let mut new = NewObject::from_headers(ctx, &bucket, key, &described)?
        .when(precondition)
        .locked(lock)
        .sealed(sealing);
    let v = &src.version;
    if !replace {
        new.content = v.content.clone();
        new.user_meta = v.user_meta.clone();
    }
    if copy_tags {
        let version = Some(v.version_id.as_str());
        new.tags = Some(read::tags(ctx.cluster, src.bucket_id, &src.key, version).await?);
    }
    let whole = ByteRange {
        start: 0,
        end: v.size,
    };
    // The copy's checksum is computed as its bytes are copied: in the algorithm the request
    // names, else the source's when it has a full-object one, else the default CRC64NVME (a
    // composite checksum describes parts the copy does not have).
    let algorithm = match ctx.header("x-amz-checksum-algorithm") {
        Some(a) => headers::checksum_algorithm(a).ok_or_else(|| {
            S3Error::msg(
                S3ErrorCode::InvalidRequest,
                "Checksum algorithm provided is unsupported.",
            )
        })?,
        None => v
            .checksum
            .as_ref()
            .filter(|c| c.kind == ChecksumType::FullObject)
            .map_or(ChecksumAlgorithm::Crc64Nvme, |c| c.algorithm),
    };
    let (data, md5, checksum) = copy_data(
        ctx,
        &src,
        whole,
        &new.storage_class,
        true,
        algorithm,
        new.data_key(),
    )
    .await?;
    let body = Body::single(data, v.size, md5, Some(checksum));
    let done = write::commit(ctx.cluster, bucket.id, new, body, Commit::Put).await?;
    let mut x = XmlWriter::new();
    x.open_ns("CopyObjectResult");
    x.elem("ETag", &done.quoted_etag());
    x.elem("LastModified", &iso_date(done.last_modified_ms));
    if let Some(c) = &done.checksum {
        x.elem("ChecksumType", headers::checksum_type_name(c.kind));
        x.elem(&format!("Checksum{}", checksum_name(c.algorithm)), &c.value);
    }
    x.close("CopyObjectResult");
    let mut r = HttpResponse::Ok();
    done.version_header(&mut r);
    src.version_header(&mut r);
    if let Some(h) = crate::s3::expiration::header(ctx, done.subject(key)).await {
        r.insert_header(h);
    }
    Ok(r.content_type("application/xml").body(x.finish()))
}

/// Whether a copy of a key onto itself restores an older version of it (the source names a
/// version that is not the current one): how S3's user guide restores a version, and no
/// copy of an object onto itself.
async fn restores_older(ctx: &ReqCtx<'_>, src: &read::Source, bucket_id: u64) -> S3Result<bool> {
    if !src.named_version {
        return Ok(false);
    }
    let current = ctx.cluster.object(bucket_id, &src.key).await?;
    Ok(current.is_none_or(|c| c.version_id != src.version.version_id))
}
