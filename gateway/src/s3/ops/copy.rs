//! CopyObject (COPY/REPLACE metadata directive, copy-source conditions, in-place copy with
//! REPLACE) and the source side shared with UploadPartCopy.

use actix_web::HttpResponse;
use coffer_proto::api::ClusterApiExt;
use coffer_proto::meta::MetaCommand;
use coffer_proto::types::{ChecksumType, ObjectData, ObjectVersion, NULL_VERSION};

use super::data::{read_range, write_stream};
use super::put::{storage_class, write_precondition};
use super::xml_ok;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers::{self, checksum_name, iso_date, ByteRange, CopySource, Preconditions};
use crate::s3::xml::XmlWriter;

/// A resolved copy source.
pub struct Source {
    /// Source bucket name.
    pub bucket: String,
    /// Its id.
    pub bucket_id: u64,
    /// Source key.
    pub key: String,
    /// The source object.
    pub version: ObjectVersion,
}

/// Load the object `x-amz-copy-source` names and check the `x-amz-copy-source-if-*`
/// conditions (reading it was authorized with the request).
pub async fn source(ctx: &ReqCtx<'_>) -> S3Result<Source> {
    let CopySource {
        bucket,
        key,
        version_id: version,
    } = CopySource::from_headers(ctx.req.headers())?;
    let (bucket, key, version) = (bucket.as_str(), key.as_str(), version.as_deref());
    let b = ctx
        .cluster
        .bucket(bucket)
        .await?
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchBucket).with("BucketName", bucket))?;
    let v = ctx
        .cluster
        .object(b.id, key)
        .await?
        .filter(|v| !v.delete_marker)
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchKey).with("Key", key))?;
    if let Some(want) = version {
        if want != v.version_id {
            return Err(super::invalid_version(want));
        }
    }
    Preconditions::copy_source(ctx.req.headers()).check(&v, true)?;
    Ok(Source {
        bucket: bucket.to_owned(),
        bucket_id: b.id,
        key: key.to_owned(),
        version: v,
    })
}

/// Copy `range` of the source's bytes into new object data: inline when small enough,
/// else a new blob of `storage_class`. Returns the data and its MD5.
pub async fn copy_data(
    ctx: &ReqCtx<'_>,
    src: &ObjectVersion,
    range: ByteRange,
    storage_class: &str,
    inline_ok: bool,
) -> S3Result<(ObjectData, [u8; 16])> {
    use md5::Digest;
    let len = range.end - range.start;
    if let (true, ObjectData::Inline(b)) =
        (inline_ok && len <= ctx.config.inline_threshold, &src.data)
    {
        let slice = b.slice(range.start as usize..range.end as usize);
        let md5: [u8; 16] = md5::Md5::digest(&slice).into();
        return Ok((ObjectData::Inline(slice), md5));
    }
    let stream = read_range(ctx.cluster.clone(), &src.data, range.start, range.end);
    let (blob, md5) = write_stream(ctx.cluster, storage_class, stream).await?;
    Ok((ObjectData::Blobs(vec![blob]), md5))
}

/// PUT /bucket/key with x-amz-copy-source.
pub async fn copy_object(ctx: &ReqCtx<'_>, key: &str) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let src = source(ctx).await?;
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
    let class = if h.contains_key("x-amz-storage-class") {
        Some(storage_class(h)?)
    } else {
        None
    };
    if src.bucket == ctx.bucket_name && src.key == key && !replace && class.is_none() {
        return Err(S3Error::msg(
            S3ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    let precondition = write_precondition(h)?;
    let (owner, acl) = super::acl::for_new_object(ctx, &bucket)?;
    // The copy keeps the source's tags unless the request replaces them.
    let tags = match ctx.header("x-amz-tagging-directive") {
        None | Some("COPY") => {
            let version = Some(src.version.version_id.as_str());
            let tags = super::tagging::object_tags(ctx, src.bucket_id, &src.key, version);
            Some(tags.await?)
        }
        Some("REPLACE") => super::tagging::from_header(h)?,
        Some(_) => {
            return Err(S3Error::msg(
                S3ErrorCode::InvalidArgument,
                "Unknown tagging directive.",
            ))
        }
    };
    let v = &src.version;
    // Without x-amz-storage-class the copy is STANDARD, whatever the source's class.
    let class = class.unwrap_or_else(|| "STANDARD".to_owned());
    let (data, md5) = copy_data(
        ctx,
        v,
        ByteRange {
            start: 0,
            end: v.size,
        },
        &class,
        true,
    )
    .await?;
    let (content, user_meta) = if replace {
        (headers::content_headers(h), headers::user_meta(h)?)
    } else {
        (v.content.clone(), v.user_meta.clone())
    };
    // A full-object checksum still describes the copied bytes; a composite one does not.
    let checksum = v
        .checksum
        .clone()
        .filter(|c| c.kind == ChecksumType::FullObject);
    let version = ObjectVersion {
        key: key.to_owned(),
        version_id: NULL_VERSION.into(),
        last_modified_ms: headers::now_ms(),
        size: v.size,
        etag: hex::encode(md5),
        content,
        user_meta,
        checksum,
        parts: Vec::new(),
        storage_class: class,
        delete_marker: false,
        owner,
        data,
    };
    let (etag, lm, checksum) = (
        version.etag.clone(),
        version.last_modified_ms,
        version.checksum.clone(),
    );
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
    let mut x = XmlWriter::new();
    x.open_ns("CopyObjectResult");
    x.elem("ETag", &format!("\"{etag}\""));
    x.elem("LastModified", &iso_date(lm));
    if let Some(c) = checksum {
        x.elem("ChecksumType", "FULL_OBJECT");
        x.elem(&format!("Checksum{}", checksum_name(c.algorithm)), &c.value);
    }
    x.close("CopyObjectResult");
    Ok(xml_ok(x.finish()))
}
