//! DeleteObject and DeleteObjects. Deleting a missing key succeeds (S3 semantics), unless the
//! request makes it conditional: `If-Match`, `x-amz-if-match-last-modified-time` and
//! `x-amz-if-match-size` (DeleteObject) or `<ETag>`, `<LastModifiedTime>` and `<Size>`
//! (DeleteObjects) delete only a current version that has them (`*`: any ETag), and a missing
//! key is then NoSuchKey.
//! The data of deleted versions is queued for deletion in the same metadata commit.

use actix_web::{web, HttpResponse};
use coffer_proto::meta::{MetaCommand, WritePrecondition};
use coffer_proto::types::NULL_VERSION;
use coffer_proto::ProtoError;

use crate::s3::body::small_body;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers::delete_precondition;
use crate::s3::object::read::invalid_version;
use crate::s3::xml::xml_ok;
use crate::s3::xml::{self, XmlWriter};

/// DELETE /bucket/key.
pub async fn delete_object(ctx: &ReqCtx<'_>, key: &str) -> S3Result<HttpResponse> {
    // Every version is the null one until versioning is built: another id names nothing,
    // and deleting the current version in its place would lose it.
    if let Some(v) = ctx.query.get("versionId").filter(|v| *v != NULL_VERSION) {
        return Err(invalid_version(v));
    }
    let precondition = delete_precondition(ctx.req.headers())?;
    let bucket = ctx.bucket().await?;
    let cmd = match precondition {
        WritePrecondition::None => MetaCommand::DeleteObjects {
            bucket_id: bucket.id,
            keys: vec![key.to_owned()],
        },
        precondition => {
            // Comparing the object's ETag, time or size reads it: S3 asks for s3:GetObject
            // as well.
            if !ctx
                .authz
                .allows_object(ctx.bucket_name, "s3:GetObject", key)
            {
                return Err(S3Error::new(S3ErrorCode::AccessDenied));
            }
            MetaCommand::DeleteObjectIf {
                bucket_id: bucket.id,
                key: key.to_owned(),
                precondition,
            }
        }
    };
    ctx.cluster
        .meta_write(cmd)
        .await
        .map_err(|e| S3Error::from(e).with("Key", key))?;
    Ok(HttpResponse::NoContent().finish())
}

/// POST /bucket?delete.
pub async fn delete_objects(ctx: &ReqCtx<'_>, payload: web::Payload) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let body = small_body(payload, 2 << 20).await?;
    let req: xml::Delete = xml::from_body(&body)?;
    if req.objects.is_empty() || req.objects.len() > 1000 {
        return Err(S3Error::new(S3ErrorCode::MalformedXML));
    }
    // Each key is authorized on its own (s3:DeleteObject on that object), as S3 does: a key
    // the caller may not delete is reported as AccessDenied and the others go ahead.
    let mut plain = Vec::new();
    let mut conditional = Vec::new();
    let mut refused = Vec::new();
    for o in req.objects {
        let allowed = |action| ctx.authz.allows_object(ctx.bucket_name, action, &o.key);
        let code = if o.key.is_empty() {
            Some(S3ErrorCode::InvalidArgument)
        } else if o.key.len() > 1024 {
            Some(S3ErrorCode::KeyTooLongError)
        } else if !allowed("s3:DeleteObject") || (o.is_conditional() && !allowed("s3:GetObject")) {
            Some(S3ErrorCode::AccessDenied)
        } else if o.version_id.as_deref().is_some_and(|v| v != NULL_VERSION) {
            Some(S3ErrorCode::NoSuchVersion)
        } else {
            None
        };
        match (code, o.precondition()) {
            (Some(code), _) => refused.push((o, code)),
            (None, Ok(WritePrecondition::None)) => plain.push(o),
            (None, Ok(pre)) => conditional.push((o, pre)),
            (None, Err(code)) => refused.push((o, code)),
        }
    }
    let keys: Vec<String> = plain.iter().map(|o| o.key.clone()).collect();
    if !keys.is_empty() {
        ctx.cluster
            .meta_write(MetaCommand::DeleteObjects {
                bucket_id: bucket.id,
                keys,
            })
            .await?;
    }
    // Each conditional key is its own write, checked and applied together.
    let outcomes = futures::future::join_all(conditional.iter().map(|(o, pre)| {
        ctx.cluster.meta_write(MetaCommand::DeleteObjectIf {
            bucket_id: bucket.id,
            key: o.key.clone(),
            precondition: pre.clone(),
        })
    }))
    .await;
    let mut deleted = plain;
    for ((o, _), outcome) in conditional.into_iter().zip(outcomes) {
        match outcome {
            Ok(_) => deleted.push(o),
            Err(ProtoError::PreconditionFailed) => {
                refused.push((o, S3ErrorCode::PreconditionFailed))
            }
            Err(ProtoError::NoSuchKey) => refused.push((o, S3ErrorCode::NoSuchKey)),
            Err(e) => return Err(e.into()),
        }
    }
    let mut x = XmlWriter::new();
    x.open_ns("DeleteResult");
    if !req.quiet {
        for o in &deleted {
            x.open("Deleted");
            x.elem("Key", &o.key);
            x.opt("VersionId", o.version_id.as_deref());
            x.close("Deleted");
        }
    }
    for (o, code) in &refused {
        x.open("Error");
        x.elem("Key", &o.key);
        x.opt("VersionId", o.version_id.as_deref());
        x.elem("Code", code.as_str());
        x.elem("Message", code.message());
        x.close("Error");
    }
    x.close("DeleteResult");
    Ok(xml_ok(x.finish()))
}
