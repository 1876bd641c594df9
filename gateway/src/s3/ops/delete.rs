//! DeleteObject and DeleteObjects. Deleting a missing key succeeds (S3 semantics); the data of
//! deleted versions is queued for deletion in the same metadata commit.

use actix_web::{web, HttpResponse};
use coffer_proto::meta::MetaCommand;

use super::{small_body, xml_ok};
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::xml::{self, XmlWriter};

/// DELETE /bucket/key.
pub async fn delete_object(ctx: &ReqCtx<'_>, key: &str) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    ctx.cluster
        .meta_write(MetaCommand::DeleteObjects {
            bucket_id: bucket.id,
            keys: vec![key.to_owned()],
        })
        .await?;
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
    let mut ok = Vec::new();
    let mut refused = Vec::new();
    for o in req.objects {
        let code = if o.key.is_empty() {
            Some(S3ErrorCode::InvalidArgument)
        } else if o.key.len() > 1024 {
            Some(S3ErrorCode::KeyTooLongError)
        } else if !ctx
            .authz
            .allows_object(ctx.bucket_name, "s3:DeleteObject", &o.key)
        {
            Some(S3ErrorCode::AccessDenied)
        } else {
            None
        };
        match code {
            Some(code) => refused.push((o, code)),
            None => ok.push(o),
        }
    }
    let keys: Vec<String> = ok.iter().map(|o| o.key.clone()).collect();
    if !keys.is_empty() {
        ctx.cluster
            .meta_write(MetaCommand::DeleteObjects {
                bucket_id: bucket.id,
                keys,
            })
            .await?;
    }
    let mut x = XmlWriter::new();
    x.open_ns("DeleteResult");
    if !req.quiet {
        for o in &ok {
            x.open("Deleted");
            x.elem("Key", &o.key);
            x.opt("VersionId", o.version_id.as_deref());
            x.close("Deleted");
        }
    }
    for (o, code) in &refused {
        x.open("Error");
        x.elem("Key", &o.key);
        x.elem("Code", code.as_str());
        x.elem("Message", code.message());
        x.close("Error");
    }
    x.close("DeleteResult");
    Ok(xml_ok(x.finish()))
}
