//! GetObject, HeadObject and GetObjectAttributes: conditional requests, ranges, `partNumber`,
//! `response-*` overrides and checksums, with the body streamed from the cluster.

use actix_web::body::SizedStream;
use actix_web::http::header::HeaderValue;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder};
use coffer_proto::types::{ObjectVersion, Versioning};

use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers::{
    self, checksum_headers, checksum_name, checksum_type_name, http_date, parse_range, ByteRange,
    Preconditions,
};
use crate::s3::object::data::read_range;
use crate::s3::object::read;
use crate::s3::object_lock;
use crate::s3::xml::{xml_ok, XmlWriter};

/// The version of `key` the request names (`versionId`).
async fn load(ctx: &ReqCtx<'_>, bucket_id: u64, key: &str) -> S3Result<ObjectVersion> {
    read::load(ctx.cluster, bucket_id, key, ctx.query.get("versionId")).await
}

fn object_headers(b: &mut HttpResponseBuilder, v: &ObjectVersion) {
    b.insert_header(("etag", format!("\"{}\"", v.etag)));
    b.insert_header(("last-modified", http_date(v.last_modified_ms)));
    b.insert_header(("accept-ranges", "bytes"));
    let c = &v.content;
    b.insert_header((
        "content-type",
        c.content_type.as_deref().unwrap_or("binary/octet-stream"),
    ));
    for (name, value) in [
        ("content-encoding", &c.content_encoding),
        ("content-disposition", &c.content_disposition),
        ("content-language", &c.content_language),
        ("cache-control", &c.cache_control),
        ("expires", &c.expires),
    ] {
        if let Some(v) = value {
            b.insert_header((name, v.as_str()));
        }
    }
    for (k, val) in &v.user_meta {
        b.insert_header((format!("x-amz-meta-{k}"), val.as_str()));
    }
    if v.storage_class != "STANDARD" {
        b.insert_header(("x-amz-storage-class", v.storage_class.as_str()));
    }
    if let Some(r) = &v.website_redirect {
        b.insert_header((crate::s3::website::REDIRECT, r.as_str()));
    }
}

/// The `response-*` query overrides: their headers, checked before anything is read. S3
/// refuses them on anonymous requests. It sends a value as ISO-8859-1, so a character past
/// U+00FF is InvalidArgument, and so is a control character, which no header can carry.
fn overrides(ctx: &ReqCtx<'_>) -> S3Result<Vec<(&'static str, HeaderValue)>> {
    let mut out = Vec::new();
    for (param, header) in [
        ("response-content-type", "content-type"),
        ("response-content-language", "content-language"),
        ("response-expires", "expires"),
        ("response-cache-control", "cache-control"),
        ("response-content-disposition", "content-disposition"),
        ("response-content-encoding", "content-encoding"),
    ] {
        let Some(v) = ctx.query.get(param) else {
            continue;
        };
        if ctx.auth.access_key.is_none() {
            return Err(S3Error::msg(
                S3ErrorCode::InvalidRequest,
                "Request specific response headers cannot be used for anonymous GET requests.",
            ));
        }
        let invalid = |msg: &'static str| S3Error::msg(S3ErrorCode::InvalidArgument, msg);
        let latin1 = v
            .chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| {
                let e = invalid("Header value cannot be represented using ISO-8859-1.")
                    .with("ArgumentName", param);
                // Echoed as S3 does, unless XML could not carry it (a control character).
                if v.chars().any(char::is_control) {
                    e
                } else {
                    e.with("ArgumentValue", v)
                }
            })?;
        let value = HeaderValue::from_bytes(&latin1).map_err(|_| {
            invalid("Header value contains a control character.").with("ArgumentName", param)
        })?;
        out.push((header, value));
    }
    Ok(out)
}

/// The byte range selected by `partNumber` (None for the whole object).
fn part_range(v: &ObjectVersion, n: &str) -> S3Result<(ByteRange, usize)> {
    let n: usize = n
        .parse()
        .ok()
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            S3Error::msg(
                S3ErrorCode::InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive",
            )
        })?;
    let not_satisfiable = || S3Error::new(S3ErrorCode::InvalidPartNumber);
    if v.parts.is_empty() {
        return if n == 1 {
            Ok((
                ByteRange {
                    start: 0,
                    end: v.size,
                },
                1,
            ))
        } else {
            Err(not_satisfiable())
        };
    }
    let start: u64 = v.parts.iter().take(n - 1).map(|p| p.size).sum();
    let p = v.parts.get(n - 1).ok_or_else(not_satisfiable)?;
    Ok((
        ByteRange {
            start,
            end: start + p.size,
        },
        v.parts.len(),
    ))
}

/// GET or HEAD /bucket/key.
pub async fn get_object(ctx: &ReqCtx<'_>, key: &str, head: bool) -> S3Result<HttpResponse> {
    read_object(ctx, key, head, Reading::AsAsked).await
}

/// How [`read_object`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// As the request asks: its conditions, its range or part.
    AsAsked,
    /// The whole object, whatever the request's conditions and range (the website endpoint's
    /// error document).
    Whole,
}

/// GET or HEAD of `key` (`reading` as the request asks, or whole).
pub async fn read_object(
    ctx: &ReqCtx<'_>,
    key: &str,
    head: bool,
    reading: Reading,
) -> S3Result<HttpResponse> {
    let overridden = overrides(ctx)?;
    let bucket = ctx.bucket().await?;
    // Only a versioned bucket can hold locks (Object Lock needs versioning Enabled, for good).
    let (v, lock) = if bucket.versioning == Versioning::Enabled {
        read::load_locked(ctx.cluster, bucket.id, key, ctx.query.get("versionId")).await?
    } else {
        (load(ctx, bucket.id, key).await?, None)
    };
    let as_asked = reading == Reading::AsAsked;
    if as_asked {
        Preconditions::from_headers(ctx.req.headers()).check(&v, false)?;
    }
    let range_header = ctx.header("range").filter(|_| as_asked);
    let mut parts_count = None;
    let range = match ctx.query.get("partNumber") {
        Some(n) => {
            if range_header.is_some() {
                return Err(S3Error::msg(
                    S3ErrorCode::InvalidRequest,
                    "Cannot specify both Range header and partNumber query parameter",
                ));
            }
            let (r, count) = part_range(&v, n)?;
            parts_count = (!v.parts.is_empty()).then_some(count);
            Some(r)
        }
        None => parse_range(range_header, v.size)?,
    };
    let partial = range.is_some() && (range_header.is_some() || parts_count.is_some());
    let ByteRange { start, end } = range.unwrap_or(ByteRange {
        start: 0,
        end: v.size,
    });
    let mut b = HttpResponse::build(if partial {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    });
    object_headers(&mut b, &v);
    let given = crate::sse::given_key(ctx.req.headers())?;
    crate::sse::describe(&mut b, v.encryption.as_deref(), given.as_ref());
    if let Some(id) = read::shown_version_id(&bucket, &v) {
        b.insert_header(("x-amz-version-id", id));
    }
    for h in overridden {
        b.insert_header(h);
    }
    if partial {
        b.insert_header((
            "content-range",
            format!("bytes {start}-{}/{}", end.saturating_sub(1), v.size),
        ));
    }
    if let Some(lock) = &lock {
        for h in object_lock::shown(ctx, key, lock) {
            b.insert_header(h);
        }
    }
    if let Some(n) = parts_count {
        b.insert_header(("x-amz-mp-parts-count", n.to_string()));
    }
    // The rules expire current versions: the header describes the object a request without
    // a version id reads.
    if ctx.query.get("versionId").is_none() {
        let subject = crate::s3::expiration::Subject {
            key: &v.key,
            size: v.size,
            created: v.last_modified_ms.div_euclid(1000),
            tagged: v.tag_count.is_some_and(|n| n > 0),
        };
        if let Some(h) = crate::s3::expiration::header(ctx, subject).await {
            b.insert_header(h);
        }
    }
    // As S3: the count of an object that has tags, to a caller who may read them.
    if let Some(n) = v.tag_count.filter(|n| *n > 0) {
        if ctx
            .authz
            .allows_object(ctx.bucket_name, "s3:GetObjectTagging", &v.key)
        {
            b.insert_header(("x-amz-tagging-count", n.to_string()));
        }
    }
    let whole = start == 0 && end == v.size;
    if ctx
        .header("x-amz-checksum-mode")
        .is_some_and(|m| m.eq_ignore_ascii_case("enabled"))
        && whole
    {
        checksum_headers(&mut b, v.checksum.as_ref());
    }
    let len = end - start;
    if head {
        if crate::sse::key_checked_on_head(&v, given.as_ref()) {
            crate::sse::open(ctx, &bucket.name, &v, given.as_ref()).await?;
        }
        let empty = futures::stream::empty::<Result<bytes::Bytes, std::io::Error>>();
        return Ok(b.body(SizedStream::new(len, empty)));
    }
    let data_key = crate::sse::open(ctx, &bucket.name, &v, given.as_ref()).await?;
    let stream = read_range(ctx.cluster.clone(), &v.data, data_key, start, end);
    let stream = futures::StreamExt::flat_map(stream, |r| {
        futures::stream::iter(match r {
            Ok(b) => send_chunks(b).into_iter().map(Ok).collect(),
            Err(e) => vec![Err(std::io::Error::other(e.to_string()))],
        })
    });
    Ok(b.body(SizedStream::new(len, stream)))
}

/// The longest chunk a response body hands to actix-http. Its writer copies each chunk into
/// the connection's write buffer and, once that buffer has grown past 128 KiB, drops it after
/// the flush: a 1 MiB stripe as one chunk cost a fresh 1 MiB allocation, written cold, for
/// every MiB sent. Chunks of this size keep one small buffer per connection, warm in cache.
const SEND_CHUNK: usize = 64 << 10;

/// `b` cut into pieces of at most [`SEND_CHUNK`] bytes (slices of it, nothing copied).
fn send_chunks(mut b: bytes::Bytes) -> Vec<bytes::Bytes> {
    let mut out = Vec::with_capacity(b.len().div_ceil(SEND_CHUNK));
    while b.len() > SEND_CHUNK {
        out.push(b.split_to(SEND_CHUNK));
    }
    if !b.is_empty() {
        out.push(b);
    }
    out
}

/// `<ObjectParts>` of a multipart object: the count, and a page of its parts (after
/// `x-amz-part-number-marker`, at most `x-amz-max-parts`, default 1000) with their checksums.
/// As on S3, the parts themselves are listed only when the object has a checksum.
fn object_parts(ctx: &ReqCtx<'_>, x: &mut XmlWriter, v: &ObjectVersion) -> S3Result<()> {
    let number = |name: &'static str, default: u32| -> S3Result<u32> {
        match ctx.header(name) {
            None => Ok(default),
            Some(n) => n.trim().parse::<u32>().map_err(|_| {
                S3Error::msg(
                    S3ErrorCode::InvalidArgument,
                    format!("Invalid {name} header"),
                )
                .with("ArgumentName", name)
                .with("ArgumentValue", n)
            }),
        }
    };
    let marker = number("x-amz-part-number-marker", 0)?;
    let max = number("x-amz-max-parts", 1000)?.min(1000);
    let after: Vec<_> = v.parts.iter().filter(|p| p.number > marker).collect();
    let page = after
        .get(..(max as usize).min(after.len()))
        .unwrap_or_default();
    x.open("ObjectParts");
    x.elem("PartsCount", &v.parts.len().to_string());
    x.elem("PartNumberMarker", &marker.to_string());
    let next = page.last().map_or(marker, |p| p.number);
    x.elem("NextPartNumberMarker", &next.to_string());
    x.elem("MaxParts", &max.to_string());
    let truncated = after.len() > page.len();
    x.elem("IsTruncated", if truncated { "true" } else { "false" });
    if v.checksum.is_some() {
        for p in page {
            x.open("Part");
            x.elem("PartNumber", &p.number.to_string());
            x.elem("Size", &p.size.to_string());
            if let Some(c) = &p.checksum {
                x.elem(&format!("Checksum{}", checksum_name(c.algorithm)), &c.value);
            }
            x.close("Part");
        }
    }
    x.close("ObjectParts");
    Ok(())
}

/// GET /bucket/key?attributes.
pub async fn get_object_attributes(ctx: &ReqCtx<'_>, key: &str) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let v = load(ctx, bucket.id, key).await?;
    // An SSE-C object's attributes need its key, as its HEAD does.
    let given = crate::sse::given_key(ctx.req.headers())?;
    if crate::sse::key_checked_on_head(&v, given.as_ref()) {
        crate::sse::open(ctx, &bucket.name, &v, given.as_ref()).await?;
    }
    // The list may come as one comma-separated header or as several header lines.
    let wanted: Vec<String> = ctx
        .req
        .headers()
        .get_all("x-amz-object-attributes")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if wanted.is_empty() {
        return Err(S3Error::msg(
            S3ErrorCode::InvalidArgument,
            "Empty attribute specified",
        ));
    }
    let has = |n: &str| wanted.iter().any(|w| w == n);
    let mut x = XmlWriter::new();
    x.open_ns("GetObjectAttributesResponse");
    if has("ETag") {
        x.elem("ETag", &v.etag);
    }
    if has("Checksum") {
        if let Some(c) = &v.checksum {
            x.open("Checksum");
            x.elem(&format!("Checksum{}", checksum_name(c.algorithm)), &c.value);
            x.elem("ChecksumType", checksum_type_name(c.kind));
            x.close("Checksum");
        }
    }
    if has("ObjectParts") && !v.parts.is_empty() {
        object_parts(ctx, &mut x, &v)?;
    }
    if has("StorageClass") {
        x.elem("StorageClass", &v.storage_class);
    }
    if has("ObjectSize") {
        x.elem("ObjectSize", &v.size.to_string());
    }
    x.close("GetObjectAttributesResponse");
    let mut r = xml_ok(x.finish());
    if let Ok(lm) =
        actix_web::http::header::HeaderValue::from_str(&headers::http_date(v.last_modified_ms))
    {
        r.headers_mut()
            .insert(actix_web::http::header::LAST_MODIFIED, lm);
    }
    if let Some(id) = read::shown_version_id(&bucket, &v) {
        if let Ok(id) = actix_web::http::header::HeaderValue::from_str(id) {
            r.headers_mut().insert(
                actix_web::http::header::HeaderName::from_static("x-amz-version-id"),
                id,
            );
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::{send_chunks, SEND_CHUNK};

    #[test]
    fn a_stripe_goes_out_in_small_slices_of_itself() {
        let stripe = bytes::Bytes::from((0..(1 << 20) + 5).map(|i| i as u8).collect::<Vec<_>>());
        let pieces = send_chunks(stripe.clone());
        assert_eq!(pieces.len(), 17);
        assert!(pieces
            .iter()
            .all(|p| !p.is_empty() && p.len() <= SEND_CHUNK));
        assert_eq!(pieces.last().map(|p| p.len()), Some(5));
        // Slices of the stripe's own buffer, in order: nothing copied, nothing lost.
        assert_eq!(pieces[0].as_ptr(), stripe.as_ptr());
        assert_eq!(pieces.concat(), stripe.to_vec());
        assert!(send_chunks(bytes::Bytes::new()).is_empty());
        assert_eq!(send_chunks(stripe.slice(..SEND_CHUNK)).len(), 1);
    }
}
