//! ListObjects (v1), ListObjectsV2 and ListMultipartUploads.

use actix_web::HttpResponse;
use base64::Engine;
use coffer_proto::api::ClusterApiExt;
use coffer_proto::types::UploadListQuery;

use super::{contents, max_param, scan, url_encoding, Enc, Scope};
use crate::model::owner::owner_xml;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers::{checksum_name, iso_date};
use crate::s3::xml::{xml_ok, XmlWriter};

/// GET /bucket (ListObjects v1).
pub async fn list_objects_v1(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let enc = Enc(url_encoding(ctx)?);
    let scope = Scope::parse(ctx)?;
    let (prefix, delimiter, max_keys) = (scope.prefix, scope.delimiter, scope.max_keys);
    let marker = ctx.query.get("marker").unwrap_or_default();
    let r = scan(ctx, bucket.id, scope.query(Some(marker))).await?;
    let mut x = XmlWriter::new();
    x.open_ns("ListBucketResult");
    x.elem("Name", &bucket.name);
    x.elem("Prefix", &enc.s(prefix));
    x.elem("Marker", &enc.s(marker));
    x.elem("MaxKeys", &max_keys.to_string());
    if let Some(d) = delimiter {
        x.elem("Delimiter", &enc.s(d));
    }
    x.elem("IsTruncated", if r.truncated { "true" } else { "false" });
    if r.truncated && delimiter.is_some() {
        x.opt(
            "NextMarker",
            r.next_marker.as_deref().map(|m| enc.s(m)).as_deref(),
        );
    }
    if enc.0 {
        x.elem("EncodingType", "url");
    }
    contents(&mut x, &r, &enc, true);
    x.close("ListBucketResult");
    Ok(xml_ok(x.finish()))
}

fn token_encode(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_bytes())
}

fn token_decode(t: &str) -> S3Result<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            S3Error::msg(
                S3ErrorCode::InvalidArgument,
                "The continuation token provided is incorrect",
            )
            .with("ArgumentName", "continuation-token")
        })
}

/// GET /bucket?list-type=2.
pub async fn list_objects_v2(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let enc = Enc(url_encoding(ctx)?);
    let scope = Scope::parse(ctx)?;
    let (prefix, delimiter, max_keys) = (scope.prefix, scope.delimiter, scope.max_keys);
    let token = ctx.query.get("continuation-token");
    let start_after = ctx.query.get("start-after").filter(|s| !s.is_empty());
    let from = match token {
        Some(t) => Some(token_decode(t)?),
        None => start_after.map(str::to_owned),
    };
    let r = scan(ctx, bucket.id, scope.query(from.as_deref())).await?;
    let fetch_owner = ctx.query.get("fetch-owner") == Some("true");
    let mut x = XmlWriter::new();
    x.open_ns("ListBucketResult");
    x.elem("Name", &bucket.name);
    x.elem("Prefix", &enc.s(prefix));
    if let Some(d) = delimiter {
        x.elem("Delimiter", &enc.s(d));
    }
    x.elem("MaxKeys", &max_keys.to_string());
    if enc.0 {
        x.elem("EncodingType", "url");
    }
    x.elem(
        "KeyCount",
        &(r.entries.len() + r.common_prefixes.len()).to_string(),
    );
    x.elem("IsTruncated", if r.truncated { "true" } else { "false" });
    x.opt("ContinuationToken", token);
    if r.truncated {
        x.opt(
            "NextContinuationToken",
            r.next_marker.as_deref().map(token_encode).as_deref(),
        );
    }
    if let Some(s) = start_after {
        x.elem("StartAfter", &enc.s(s));
    }
    contents(&mut x, &r, &enc, fetch_owner);
    x.close("ListBucketResult");
    Ok(xml_ok(x.finish()))
}

/// GET /bucket?uploads.
pub async fn list_uploads(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let enc = Enc(url_encoding(ctx)?);
    let max = max_param(ctx, "max-uploads")?;
    let prefix = ctx.query.get("prefix").unwrap_or_default();
    let delimiter = ctx.query.get("delimiter").filter(|d| !d.is_empty());
    let key_marker = ctx.query.get("key-marker").filter(|s| !s.is_empty());
    let id_marker = ctx
        .query
        .get("upload-id-marker")
        .filter(|s| !s.is_empty() && key_marker.is_some());
    let query = UploadListQuery {
        prefix: prefix.to_owned(),
        delimiter: delimiter.map(str::to_owned),
        key_marker: key_marker.map(str::to_owned),
        upload_id_marker: id_marker.map(str::to_owned),
        max_uploads: max,
    };
    let r = ctx.cluster.uploads(bucket.id, query).await?;
    let mut x = XmlWriter::new();
    x.open_ns("ListMultipartUploadsResult");
    x.elem("Bucket", &bucket.name);
    x.elem("KeyMarker", &enc.s(key_marker.unwrap_or_default()));
    x.elem("UploadIdMarker", id_marker.unwrap_or_default());
    if r.truncated {
        x.elem(
            "NextKeyMarker",
            &enc.s(r.next_key_marker.as_deref().unwrap_or_default()),
        );
        x.elem(
            "NextUploadIdMarker",
            r.next_upload_id_marker.as_deref().unwrap_or_default(),
        );
    }
    if let Some(d) = delimiter {
        x.elem("Delimiter", &enc.s(d));
    }
    x.elem("Prefix", &enc.s(prefix));
    x.elem("MaxUploads", &max.to_string());
    x.elem("IsTruncated", if r.truncated { "true" } else { "false" });
    if enc.0 {
        x.elem("EncodingType", "url");
    }
    for u in &r.uploads {
        x.open("Upload");
        x.elem("Key", &enc.s(&u.key));
        x.elem("UploadId", &u.upload_id);
        owner_xml(&mut x, "Initiator", &u.owner);
        owner_xml(&mut x, "Owner", &u.owner);
        x.elem("StorageClass", &u.storage_class);
        x.elem("Initiated", &iso_date(u.initiated_ms));
        if let Some(a) = u.checksum_algorithm {
            x.elem("ChecksumAlgorithm", checksum_name(a));
        }
        x.close("Upload");
    }
    for p in &r.common_prefixes {
        x.open("CommonPrefixes");
        x.elem("Prefix", &enc.s(p));
        x.close("CommonPrefixes");
    }
    x.close("ListMultipartUploadsResult");
    Ok(xml_ok(x.finish()))
}
