//! Multipart uploads: Create, UploadPart, UploadPartCopy, Complete (part order and ETag
//! validation, minimum part size, `md5-of-md5s-N` ETag, composite or full-object checksums),
//! Abort and ListParts.

use actix_web::{web, HttpResponse};
use base64::Engine;
use coffer_proto::api::ClusterApiExt;
use coffer_proto::meta::{CompletePart, MetaCommand, COMPLETION_KEPT_MS};
use coffer_proto::types::{
    BlobRef, BucketInfo, Checksum, ChecksumAlgorithm, ChecksumType, ObjectData, PartInfo,
    PartSummary, UploadInfo,
};
use md5::Digest;

use crate::model::owner::owner_xml;
use crate::s3::body::{b64, small_body, ChecksumHasher, Computed};
use crate::s3::crc_combine;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::expiration;
use crate::s3::headers::{
    self, checksum_algorithm, checksum_headers, checksum_name, checksum_type_name, iso_date,
    write_precondition, ByteRange,
};
use crate::s3::object::data::{copy_data, write_body};
use crate::s3::object::read::{self, copy_source};
use crate::s3::object::write::{self, commit_part, Body, Commit, NewObject};
use crate::s3::xml::{self, CompletedPart, XmlWriter};

/// Smallest part size, except for the last part.
pub const MIN_PART: u64 = 5 << 20;
/// Largest object.
pub const MAX_OBJECT: u64 = 5 << 40;

async fn upload(
    ctx: &ReqCtx<'_>,
    bucket_id: u64,
    key: &str,
    upload_id: &str,
) -> S3Result<UploadInfo> {
    ctx.cluster
        .upload(bucket_id, key, upload_id)
        .await?
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchUpload).with("UploadId", upload_id))
}

/// POST /bucket/key?uploads.
pub async fn create(ctx: &ReqCtx<'_>, key: &str) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let h = ctx.req.headers();
    let invalid = |m: &'static str| S3Error::msg(S3ErrorCode::InvalidRequest, m);
    let algorithm = match headers::get(h, "x-amz-checksum-algorithm") {
        Some(a) => Some(
            checksum_algorithm(a)
                .ok_or_else(|| invalid("Checksum algorithm provided is unsupported."))?,
        ),
        None => None,
    };
    let kind = match headers::get(h, "x-amz-checksum-type") {
        None => None,
        Some("COMPOSITE") => Some(ChecksumType::Composite),
        Some("FULL_OBJECT") => Some(ChecksumType::FullObject),
        Some(_) => return Err(invalid("Value for x-amz-checksum-type header is invalid.")),
    };
    let kind = match (algorithm, kind) {
        (None, Some(_)) => return Err(invalid("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")),
        (None, None) => None,
        (Some(ChecksumAlgorithm::Crc64Nvme), Some(ChecksumType::Composite)) => {
            return Err(invalid("The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."))
        }
        (Some(ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256), Some(ChecksumType::FullObject)) => {
            return Err(invalid("The FULL_OBJECT checksum type cannot be used with the sha1 or sha256 checksum algorithm."))
        }
        (Some(ChecksumAlgorithm::Crc64Nvme), None) => Some(ChecksumType::FullObject),
        (Some(_), k) => Some(k.unwrap_or(ChecksumType::Composite)),
    };
    let lock = crate::s3::object_lock::for_write(ctx, &bucket, h, false).await?;
    let sealing = crate::sse::for_write(ctx, &bucket.name, key, crate::sse::asked(h)?).await?;
    let encryption = sealing.as_ref().map(|s| s.encryption.clone());
    let customer = sealing.as_ref().and_then(|s| s.customer.clone());
    let new = NewObject::from_headers(ctx, &bucket, key, h)?
        .locked(lock)
        .sealed(sealing);
    let upload_id = new_upload_id();
    let checksum = algorithm.zip(kind);
    let initiated_ms = write::create_upload(ctx, bucket.id, new, &upload_id, checksum).await?;
    let mut x = XmlWriter::new();
    x.open_ns("InitiateMultipartUploadResult");
    x.elem("Bucket", ctx.bucket_name);
    x.elem("Key", key);
    x.elem("UploadId", &upload_id);
    x.close("InitiateMultipartUploadResult");
    let mut r = HttpResponse::Ok();
    if let Some((a, k)) = checksum {
        r.insert_header(("x-amz-checksum-algorithm", checksum_name(a)));
        r.insert_header(("x-amz-checksum-type", checksum_type_name(k)));
    }
    crate::sse::describe_write(&mut r, encryption.as_ref(), customer.as_ref());
    for h in crate::s3::expiration::abort_headers(ctx, key, initiated_ms).await {
        r.insert_header(h);
    }
    Ok(r.content_type("application/xml").body(x.finish()))
}

/// The customer's key a part request brings (SSE-C) and the data key of upload `up` of `key`
/// in `bucket`, opened with it (None: the upload is not encrypted).
async fn part_key(
    ctx: &ReqCtx<'_>,
    bucket: &str,
    key: &str,
    up: &UploadInfo,
) -> S3Result<(
    Option<crate::sse::CustomerKey>,
    Option<std::sync::Arc<crate::sse::DataKey>>,
)> {
    let given = crate::sse::given_key(ctx.req.headers())?;
    let data_key =
        crate::sse::unlock(ctx, bucket, key, up.encryption.as_deref(), given.as_ref()).await?;
    Ok((given, data_key))
}

/// A part's ETag: its MD5, except in an SSE-C or SSE-KMS upload, where it is not one (as on
/// S3).
fn part_etag(up: &UploadInfo, key: Option<&crate::sse::DataKey>, md5: &[u8; 16]) -> String {
    crate::sse::etag(up.encryption.as_deref(), key, md5)
}

fn single_blob(data: ObjectData) -> S3Result<BlobRef> {
    match data {
        ObjectData::Blobs(mut b) if b.len() == 1 => Ok(b.remove(0)),
        _ => Err(S3Error::internal("part data is not one blob")),
    }
}

/// PUT /bucket/key?partNumber=N&uploadId=U.
pub async fn upload_part(
    ctx: &ReqCtx<'_>,
    key: &str,
    number: u32,
    upload_id: &str,
    payload: web::Payload,
) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let up = upload(ctx, bucket.id, key, upload_id).await?;
    // Every part keeps a checksum in its upload's algorithm (CRC64NVME, the default, for an
    // upload created without one), whatever the client sent: the object's is made of them.
    let algorithm = part_algorithm(&up);
    let (given, data_key) = part_key(ctx, &bucket.name, key, &up).await?;
    let (data, outcome) = write_body(
        ctx,
        &up.storage_class,
        payload,
        None,
        ctx.config.max_put_size,
        Computed::Always(algorithm),
        data_key.as_deref(),
    )
    .await?;
    let part = PartInfo {
        number,
        last_modified_ms: headers::now_ms(),
        size: outcome.size,
        etag: part_etag(&up, data_key.as_deref(), &outcome.md5),
        checksum: outcome.checksum_of(algorithm),
        blob: single_blob(data)?,
    };
    let etag = format!("\"{}\"", part.etag);
    let answered = outcome.checksum.clone().or_else(|| part.checksum.clone());
    commit_part(ctx, bucket.id, key, upload_id, part).await?;
    let mut r = HttpResponse::Ok();
    r.insert_header(("etag", etag));
    if let Some(c) = &answered {
        r.insert_header((headers::checksum_header(c.algorithm), c.value.as_str()));
    }
    crate::sse::describe(&mut r, up.encryption.as_deref(), given.as_ref());
    Ok(r.finish())
}

/// The algorithm of an upload's part checksums: the upload's, or the default CRC64NVME.
fn part_algorithm(up: &UploadInfo) -> ChecksumAlgorithm {
    up.checksum_algorithm
        .unwrap_or(ChecksumAlgorithm::Crc64Nvme)
}

/// PUT /bucket/key?partNumber=N&uploadId=U with x-amz-copy-source.
pub async fn upload_part_copy(
    ctx: &ReqCtx<'_>,
    key: &str,
    number: u32,
    upload_id: &str,
) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let up = upload(ctx, bucket.id, key, upload_id).await?;
    let src = copy_source(ctx).await?;
    let size = src.version.size;
    let range = match ctx.header("x-amz-copy-source-range") {
        None => ByteRange {
            start: 0,
            end: size,
        },
        Some(r) => {
            // A range that is not `bytes=first-last` is InvalidArgument; one past the end of
            // the source, InvalidRange, as on S3.
            let bad = || {
                S3Error::msg(
                    S3ErrorCode::InvalidArgument,
                    "The x-amz-copy-source-range value must be of the form bytes=first-last \
                     where first and last are the zero-based offsets of the first and last \
                     bytes to copy",
                )
                .with("ArgumentName", "x-amz-copy-source-range")
                .with("ArgumentValue", r)
            };
            let (a, b) = r
                .trim()
                .strip_prefix("bytes=")
                .and_then(|s| s.split_once('-'))
                .ok_or_else(bad)?;
            let (a, b): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
            if a > b {
                return Err(bad());
            }
            if b >= size {
                return Err(S3Error::new(S3ErrorCode::InvalidRange)
                    .with("RangeRequested", r.trim())
                    .with("ActualObjectSize", size.to_string()));
            }
            ByteRange {
                start: a,
                end: b + 1,
            }
        }
    };
    let algorithm = part_algorithm(&up);
    let (given, data_key) = part_key(ctx, &bucket.name, key, &up).await?;
    let (data, md5, checksum) = copy_data(
        ctx,
        &src,
        range,
        &up.storage_class,
        false,
        algorithm,
        data_key.as_deref(),
    )
    .await?;
    let now = headers::now_ms();
    let part = PartInfo {
        number,
        last_modified_ms: now,
        size: range.end - range.start,
        etag: part_etag(&up, data_key.as_deref(), &md5),
        checksum: Some(checksum.clone()),
        blob: single_blob(data)?,
    };
    let etag = part.etag.clone();
    commit_part(ctx, bucket.id, key, upload_id, part).await?;
    let mut x = XmlWriter::new();
    x.open_ns("CopyPartResult");
    x.elem("ETag", &format!("\"{etag}\""));
    x.elem("LastModified", &iso_date(now));
    x.elem(
        &format!("Checksum{}", checksum_name(checksum.algorithm)),
        &checksum.value,
    );
    x.close("CopyPartResult");
    let mut r = HttpResponse::Ok();
    src.version_header(&mut r);
    crate::sse::describe(&mut r, up.encryption.as_deref(), given.as_ref());
    Ok(r.content_type("application/xml").body(x.finish()))
}

async fn all_parts(
    ctx: &ReqCtx<'_>,
    bucket_id: u64,
    key: &str,
    upload_id: &str,
) -> S3Result<Vec<PartInfo>> {
    let page = ctx.cluster.parts(bucket_id, key, upload_id, 0, 10_000);
    Ok(page.await?.parts)
}

fn given_checksum(p: &CompletedPart, a: ChecksumAlgorithm) -> Option<&str> {
    match a {
        ChecksumAlgorithm::Crc32 => p.checksum_crc32.as_deref(),
        ChecksumAlgorithm::Crc32c => p.checksum_crc32c.as_deref(),
        ChecksumAlgorithm::Crc64Nvme => p.checksum_crc64nvme.as_deref(),
        ChecksumAlgorithm::Sha1 => p.checksum_sha1.as_deref(),
        ChecksumAlgorithm::Sha256 => p.checksum_sha256.as_deref(),
    }
}

/// The object checksum from the parts' checksums, if every part has one (parts stored
/// before parts had a checksum by default have none). An upload created without an algorithm
/// gives its object the default, a full-object CRC64NVME.
fn object_checksum(upload: &UploadInfo, parts: &[&PartInfo]) -> S3Result<Option<Checksum>> {
    let (a, kind) = match (upload.checksum_algorithm, upload.checksum_type) {
        (Some(a), Some(kind)) => (a, kind),
        (None, _) => (ChecksumAlgorithm::Crc64Nvme, ChecksumType::FullObject),
        (Some(_), None) => return Ok(None),
    };
    let mut raw = Vec::with_capacity(parts.len());
    for p in parts {
        let Some(c) = p.checksum.as_ref().filter(|c| c.algorithm == a) else {
            return Ok(None);
        };
        let d = base64::engine::general_purpose::STANDARD
            .decode(&c.value)
            .map_err(|_| S3Error::internal("stored part checksum is not base64"))?;
        raw.push((d, p.size));
    }
    let value = match kind {
        ChecksumType::Composite => {
            let mut h = ChecksumHasher::new(a);
            for (d, _) in &raw {
                h.update(d);
            }
            format!("{}-{}", b64(&h.finish()), parts.len())
        }
        ChecksumType::FullObject => {
            let (poly, width) = match a {
                ChecksumAlgorithm::Crc32 => (crc_combine::CRC32, 32),
                ChecksumAlgorithm::Crc32c => (crc_combine::CRC32C, 32),
                ChecksumAlgorithm::Crc64Nvme => (crc_combine::CRC64NVME, 64),
                ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => return Ok(None),
            };
            let as_int = |d: &[u8]| d.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            let mut crc: Option<u64> = None;
            for (d, size) in &raw {
                let c = as_int(d);
                crc = Some(match crc {
                    None => c,
                    Some(prev) => crc_combine::combine(prev, c, *size, poly, width),
                });
            }
            let c = crc.unwrap_or(0);
            let bytes = if width == 32 {
                (c as u32).to_be_bytes().to_vec()
            } else {
                c.to_be_bytes().to_vec()
            };
            b64(&bytes)
        }
    };
    Ok(Some(Checksum {
        algorithm: a,
        value,
        kind,
    }))
}

/// POST /bucket/key?uploadId=U.
pub async fn complete(
    ctx: &ReqCtx<'_>,
    key: &str,
    upload_id: &str,
    payload: web::Payload,
) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let body = small_body(payload, 4 << 20).await?;
    let req: xml::CompleteMultipartUpload = xml::from_body(&body)?;
    if req.parts.is_empty() || req.parts.len() > 10_000 {
        return Err(S3Error::msg(S3ErrorCode::MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema"));
    }
    if req
        .parts
        .windows(2)
        .any(|w| w[0].part_number >= w[1].part_number)
    {
        return Err(S3Error::new(S3ErrorCode::InvalidPartOrder).with("UploadId", upload_id));
    }
    let precondition = write_precondition(ctx.req.headers())?;
    let Some(up) = ctx.cluster.upload(bucket.id, key, upload_id).await? else {
        return completed_again(ctx, &bucket, key, upload_id, &req.parts).await;
    };
    // The key of an SSE-C upload need not come again; when it does, it must be the one.
    let given = crate::sse::given_key(ctx.req.headers())?;
    if given.is_some() {
        crate::sse::unlock(
            ctx,
            &bucket.name,
            key,
            up.encryption.as_deref(),
            given.as_ref(),
        )
        .await?;
    }
    let stored = all_parts(ctx, bucket.id, key, upload_id).await?;
    let mut chosen: Vec<&PartInfo> = Vec::with_capacity(req.parts.len());
    for (i, want) in req.parts.iter().enumerate() {
        let invalid = || {
            S3Error::new(S3ErrorCode::InvalidPart)
                .with("UploadId", upload_id)
                .with("PartNumber", want.part_number.to_string())
                .with("ETag", want.etag.clone())
        };
        let p = stored
            .iter()
            .find(|p| p.number == want.part_number)
            .ok_or_else(invalid)?;
        if want.etag.trim().trim_matches('"') != p.etag {
            return Err(invalid());
        }
        if let (Some(a), Some(c)) = (up.checksum_algorithm, &p.checksum) {
            if given_checksum(want, a).is_some_and(|g| g != c.value) {
                return Err(invalid());
            }
        }
        if i + 1 < req.parts.len() && p.size < MIN_PART {
            return Err(S3Error::new(S3ErrorCode::EntityTooSmall)
                .with("ProposedSize", p.size.to_string())
                .with("MinSizeAllowed", MIN_PART.to_string())
                .with("PartNumber", p.number.to_string())
                .with("ETag", format!("\"{}\"", p.etag)));
        }
        chosen.push(p);
    }
    let size: u64 = chosen.iter().map(|p| p.size).sum();
    if size > MAX_OBJECT {
        return Err(S3Error::new(S3ErrorCode::EntityTooLarge));
    }
    let mut md5s = md5::Md5::new();
    for p in &chosen {
        let mut d = [0u8; 16];
        hex::decode_to_slice(&p.etag, &mut d)
            .map_err(|_| S3Error::internal("stored part etag is not hex"))?;
        md5s.update(d);
    }
    let etag = format!("{}-{}", hex::encode(md5s.finalize()), chosen.len());
    let checksum = object_checksum(&up, &chosen)?;
    if let (Some(c), Some(given)) = (
        &checksum,
        ctx.header(headers::checksum_header(
            checksum
                .as_ref()
                .map_or(ChecksumAlgorithm::Crc32, |c| c.algorithm),
        )),
    ) {
        if given.split('-').next() != c.value.split('-').next() {
            return Err(S3Error::msg(
                S3ErrorCode::BadDigest,
                format!(
                    "The {} you specified did not match the calculated checksum.",
                    checksum_name(c.algorithm)
                ),
            ));
        }
    }
    let body = Body {
        size,
        etag,
        checksum,
        parts: chosen
            .iter()
            .map(|p| PartSummary {
                number: p.number,
                size: p.size,
                etag: p.etag.clone(),
                checksum: p.checksum.clone(),
            })
            .collect(),
        data: ObjectData::Blobs(Vec::new()),
    };
    let parts = chosen
        .iter()
        .map(|p| CompletePart {
            number: p.number,
            blob_id: p.blob.id,
        })
        .collect();
    // Described when the upload was created (Object Ownership decided its owner then).
    let new = NewObject::from_upload(&up, precondition);
    let how = Commit::Complete { upload_id, parts };
    let done = match write::commit(ctx.cluster, bucket.id, new, body, how).await {
        // The object is encrypted as its upload was.
        Ok(done) => write::Committed {
            encryption: up.encryption.clone(),
            customer: given,
            ..done
        },
        // Completed by another request since the upload was read: the same completion
        // answers as it did.
        Err(e) if e.code == S3ErrorCode::NoSuchUpload => {
            return completed_again(ctx, &bucket, key, upload_id, &req.parts).await;
        }
        Err(e) => return Err(e),
    };
    Ok(completed(ctx, key, &done).await)
}

/// The answer to a completion of an upload that is no longer in progress: if it was completed
/// (within [`COMPLETION_KEPT_MS`]) from the same parts, the success it answered then; else
/// NoSuchUpload.
async fn completed_again(
    ctx: &ReqCtx<'_>,
    bucket: &BucketInfo,
    key: &str,
    upload_id: &str,
    wanted: &[CompletedPart],
) -> S3Result<HttpResponse> {
    let no_such_upload = || S3Error::new(S3ErrorCode::NoSuchUpload).with("UploadId", upload_id);
    let Some(v) = ctx
        .cluster
        .completed_upload(bucket.id, key, upload_id)
        .await?
    else {
        return Err(no_such_upload());
    };
    let fresh = v.last_modified_ms.saturating_add(COMPLETION_KEPT_MS) > headers::now_ms();
    let same_parts = v.parts.len() == wanted.len()
        && v.parts.iter().zip(wanted).all(|(had, want)| {
            had.number == want.part_number && had.etag == want.etag.trim().trim_matches('"')
        });
    if !fresh || !same_parts {
        return Err(no_such_upload());
    }
    let version_id = read::shown_version_id(bucket, &v).map(str::to_owned);
    let done = write::Committed {
        etag: v.etag,
        last_modified_ms: v.last_modified_ms,
        checksum: v.checksum,
        version_id,
        encryption: v.encryption,
        customer: None,
        size: v.size,
        tagged: v.tag_count.is_some_and(|n| n > 0),
    };
    Ok(completed(ctx, key, &done).await)
}

/// The CompleteMultipartUploadResult of `done`.
async fn completed(ctx: &ReqCtx<'_>, key: &str, done: &write::Committed) -> HttpResponse {
    let host = ctx.header("host").unwrap_or("localhost");
    let mut x = XmlWriter::new();
    x.open_ns("CompleteMultipartUploadResult");
    x.elem(
        "Location",
        &format!(
            "http://{host}/{}/{}",
            ctx.bucket_name,
            crate::auth::sigv4::uri_encode(key, true)
        ),
    );
    x.elem("Bucket", ctx.bucket_name);
    x.elem("Key", key);
    x.elem("ETag", &done.quoted_etag());
    if let Some(c) = &done.checksum {
        x.elem(&format!("Checksum{}", checksum_name(c.algorithm)), &c.value);
        x.elem("ChecksumType", checksum_type_name(c.kind));
    }
    x.close("CompleteMultipartUploadResult");
    let mut r = HttpResponse::Ok();
    checksum_headers(&mut r, done.checksum.as_ref());
    done.version_header(&mut r);
    if let Some(h) = expiration::header(ctx, done.subject(key)).await {
        r.insert_header(h);
    }
    r.content_type("application/xml").body(x.finish())
}

/// DELETE /bucket/key?uploadId=U.
pub async fn abort(ctx: &ReqCtx<'_>, key: &str, upload_id: &str) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    ctx.cluster
        .meta_write(MetaCommand::AbortUpload {
            bucket_id: bucket.id,
            key: key.to_owned(),
            upload_id: upload_id.to_owned(),
        })
        .await
        .map_err(|e| S3Error::from(e).with("UploadId", upload_id))?;
    Ok(HttpResponse::NoContent().finish())
}

/// GET /bucket/key?uploadId=U.
pub async fn list_parts(ctx: &ReqCtx<'_>, key: &str, upload_id: &str) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let up = upload(ctx, bucket.id, key, upload_id).await?;
    let num = |name: &str, default: u32| -> S3Result<u32> {
        match ctx.query.get(name) {
            None => Ok(default),
            Some(v) => v.parse::<u32>().map_err(|_| {
                S3Error::msg(
                    S3ErrorCode::InvalidArgument,
                    format!("Provided {name} not an integer or within integer range"),
                )
            }),
        }
    };
    let marker = num("part-number-marker", 0)?;
    let max = num("max-parts", 1000)?.min(1000);
    let r = ctx
        .cluster
        .parts(bucket.id, key, upload_id, marker, max)
        .await?;
    let mut x = XmlWriter::new();
    x.open_ns("ListPartsResult");
    x.elem("Bucket", ctx.bucket_name);
    x.elem("Key", key);
    x.elem("UploadId", upload_id);
    x.elem("PartNumberMarker", &marker.to_string());
    x.elem(
        "NextPartNumberMarker",
        &r.next_marker.unwrap_or(marker).to_string(),
    );
    x.elem("MaxParts", &max.to_string());
    x.elem("IsTruncated", if r.truncated { "true" } else { "false" });
    for p in &r.parts {
        x.open("Part");
        x.elem("PartNumber", &p.number.to_string());
        x.elem("LastModified", &iso_date(p.last_modified_ms));
        x.elem("ETag", &format!("\"{}\"", p.etag));
        x.elem("Size", &p.size.to_string());
        if let Some(c) = &p.checksum {
            x.elem(&format!("Checksum{}", checksum_name(c.algorithm)), &c.value);
        }
        x.close("Part");
    }
    owner_xml(&mut x, "Initiator", &up.owner);
    owner_xml(&mut x, "Owner", &up.owner);
    x.elem("StorageClass", &up.storage_class);
    if let Some(a) = up.checksum_algorithm {
        x.elem("ChecksumAlgorithm", checksum_name(a));
    }
    if let Some(t) = up.checksum_type {
        x.elem("ChecksumType", checksum_type_name(t));
    }
    x.close("ListPartsResult");
    let mut r = HttpResponse::Ok();
    for h in crate::s3::expiration::abort_headers(ctx, key, up.initiated_ms).await {
        r.insert_header(h);
    }
    Ok(r.content_type("application/xml").body(x.finish()))
}

/// A new upload id: 256 random bits in hex. Only letters and digits: an id that starts with
/// `-` (as base64url ones do one time in 64) reads as an option to the aws CLI
/// (`--upload-id -k...`) and to grep.
fn new_upload_id() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

#[cfg(test)]
mod upload_id_tests {
    use super::new_upload_id;

    #[test]
    fn upload_ids_are_alphanumeric() {
        for _ in 0..1000 {
            let id = new_upload_id();
            assert_eq!(id.len(), 64);
            assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
        }
    }
}
