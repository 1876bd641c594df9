//! ListObjectVersions: every version and delete marker of the keys in scope, keys ascending
//! and each key's newest first, with exactly one `IsLatest` per key. The node walks the
//! current versions and the older ones in step (`node/src/meta/versions.rs`); a page can end
//! inside a key, and `NextKeyMarker` with `NextVersionIdMarker` resume right after the last
//! version returned.

use actix_web::HttpResponse;
use coffer_proto::api::ClusterApiExt;
use coffer_proto::types::VersionListQuery;
use coffer_proto::version_id::VersionId;

use super::{entry_facts, url_encoding, Enc, Facts, Owners, Scope};
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers::iso_date;
use crate::s3::object::read::invalid_version;
use crate::s3::xml::{xml_ok, XmlWriter};

/// GET /bucket?versions.
pub async fn list_object_versions(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let enc = Enc(url_encoding(ctx)?);
    let scope = Scope::parse(ctx)?;
    let (prefix, delimiter, max_keys) = (scope.prefix, scope.delimiter, scope.max_keys);
    let key_marker = ctx.query.get("key-marker").unwrap_or_default();
    let version_marker = ctx.query.get("version-id-marker").unwrap_or_default();
    if !version_marker.is_empty() {
        if key_marker.is_empty() {
            return Err(S3Error::msg(
                S3ErrorCode::InvalidArgument,
                "A version-id marker cannot be specified without a key marker.",
            )
            .with("ArgumentName", "version-id-marker")
            .with("ArgumentValue", version_marker));
        }
        if VersionId::parse(version_marker).is_err() {
            return Err(invalid_version(version_marker));
        }
    }
    let r = ctx
        .cluster
        .list_versions(
            bucket.id,
            VersionListQuery {
                prefix: prefix.to_owned(),
                delimiter: delimiter.map(str::to_owned),
                key_marker: Some(key_marker.to_owned()).filter(|m| !m.is_empty()),
                version_id_marker: Some(version_marker.to_owned()).filter(|m| !m.is_empty()),
                max_keys,
            },
        )
        .await?;
    let mut x = XmlWriter::new();
    x.open_ns("ListVersionsResult");
    x.elem("Name", &bucket.name);
    x.elem("Prefix", &enc.s(prefix));
    x.elem("KeyMarker", &enc.s(key_marker));
    x.elem("VersionIdMarker", version_marker);
    x.elem("MaxKeys", &max_keys.to_string());
    if let Some(d) = delimiter {
        x.elem("Delimiter", &enc.s(d));
    }
    if enc.0 {
        x.elem("EncodingType", "url");
    }
    x.elem("IsTruncated", if r.truncated { "true" } else { "false" });
    if let Some(m) = &r.next_key_marker {
        x.elem("NextKeyMarker", &enc.s(m));
    }
    if let Some(m) = &r.next_version_id_marker {
        x.elem("NextVersionIdMarker", m);
    }
    let mut owners = Owners::default();
    for e in &r.versions {
        let v = &e.version;
        let latest = if e.is_latest { "true" } else { "false" };
        if v.delete_marker {
            x.open("DeleteMarker");
            x.elem("Key", &enc.s(&v.key));
            x.elem("VersionId", &v.version_id);
            x.elem("IsLatest", latest);
            x.elem("LastModified", &iso_date(v.last_modified_ms));
            owners.write(&mut x, &v.owner);
            x.close("DeleteMarker");
        } else {
            x.open("Version");
            x.elem("Key", &enc.s(&v.key));
            x.elem("VersionId", &v.version_id);
            x.elem("IsLatest", latest);
            entry_facts(&mut x, &Facts::of_version(v), Some(&mut owners));
            x.close("Version");
        }
    }
    for p in &r.common_prefixes {
        x.open("CommonPrefixes");
        x.elem("Prefix", &enc.s(p));
        x.close("CommonPrefixes");
    }
    x.close("ListVersionsResult");
    Ok(xml_ok(x.finish()))
}
