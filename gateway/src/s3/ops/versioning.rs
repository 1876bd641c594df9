//! Get/PutBucketVersioning. A bucket starts unversioned; Enabled and Suspended are the two
//! states it can be put in, and it never goes back (see `node/src/meta/apply/versions.rs` for
//! what each state does to writes and deletes). MFA Delete is not supported: asking for it
//! is refused, never silently ignored.

use actix_web::{web, HttpResponse};
use coffer_proto::meta::MetaCommand;
use coffer_proto::types::Versioning;
use serde::Deserialize;

use crate::s3::body::small_body;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers;
use crate::s3::xml::{self, xml_ok, XmlWriter};

/// `<VersioningConfiguration>`.
#[derive(Debug, Deserialize)]
struct VersioningConfiguration {
    #[serde(rename = "Status", default)]
    status: Option<String>,
    #[serde(rename = "MfaDelete", default)]
    mfa_delete: Option<String>,
}

/// GET /bucket?versioning.
pub async fn get_bucket_versioning(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let b = ctx.bucket().await?;
    let mut x = XmlWriter::new();
    x.open_ns("VersioningConfiguration");
    match b.versioning {
        Versioning::Unversioned => {}
        Versioning::Enabled => x.elem("Status", "Enabled"),
        Versioning::Suspended => x.elem("Status", "Suspended"),
    }
    x.close("VersioningConfiguration");
    Ok(xml_ok(x.finish()))
}

/// PUT /bucket?versioning.
pub async fn put_bucket_versioning(
    ctx: &ReqCtx<'_>,
    payload: web::Payload,
) -> S3Result<HttpResponse> {
    headers::refuse_mfa(ctx.req.headers())?;
    let body = small_body(payload, 64 << 10).await?;
    let conf: VersioningConfiguration = xml::from_body(&body)?;
    match conf.mfa_delete.as_deref() {
        None | Some("Disabled") => {}
        Some("Enabled") => {
            return Err(S3Error::msg(
                S3ErrorCode::NotImplemented,
                "MFA Delete is not supported by this server.",
            ))
        }
        Some(_) => return Err(S3Error::new(S3ErrorCode::MalformedXML)),
    }
    let state = match conf.status.as_deref() {
        Some("Enabled") => Versioning::Enabled,
        Some("Suspended") => Versioning::Suspended,
        _ => return Err(S3Error::new(S3ErrorCode::MalformedXML)),
    };
    ctx.cluster
        .meta_write(MetaCommand::SetVersioning {
            bucket: ctx.bucket_name.to_owned(),
            state,
        })
        .await
        .map_err(|e| S3Error::from(e).with("BucketName", ctx.bucket_name))?;
    Ok(HttpResponse::Ok().finish())
}
