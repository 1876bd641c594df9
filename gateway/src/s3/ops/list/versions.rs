//! ListObjectVersions. Versioning is not built yet: every key has one version, the null one,
//! which is its latest, and there are no delete markers. So the listing is the listing of
//! keys, each as its null version, and a page ends after a key's only version. Tools that
//! empty a bucket by its versions (boto3's `object_versions.delete()`, Terraform's
//! `force_destroy`) list it this way, then delete each key with `versionId=null`.

use actix_web::HttpResponse;
use coffer_proto::types::NULL_VERSION;

use super::{common_prefixes, entry_facts, scan, url_encoding, Enc, Scope};
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
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
        if version_marker != NULL_VERSION {
            return Err(invalid_version(version_marker));
        }
    }
    // After the key marker's null version (or the whole key, with no version marker) comes
    // the next key.
    let r = scan(ctx, bucket.id, scope.query(Some(key_marker))).await?;
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
    if r.truncated {
        if let Some(m) = &r.next_marker {
            x.elem("NextKeyMarker", &enc.s(m));
            // A common prefix is no version: the next page starts after the whole prefix.
            if r.entries.last().is_some_and(|e| &e.key == m) {
                x.elem("NextVersionIdMarker", NULL_VERSION);
            }
        }
    }
    for e in &r.entries {
        x.open("Version");
        x.elem("Key", &enc.s(&e.key));
        x.elem("VersionId", NULL_VERSION);
        x.elem("IsLatest", "true");
        entry_facts(&mut x, e, true);
        x.close("Version");
    }
    common_prefixes(&mut x, &r, &enc);
    x.close("ListVersionsResult");
    Ok(xml_ok(x.finish()))
}
