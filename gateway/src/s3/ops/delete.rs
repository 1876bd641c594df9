//! DeleteObject and DeleteObjects. Deleting a missing key succeeds (S3 semantics), unless the
//! request makes it conditional: `If-Match`, `x-amz-if-match-last-modified-time` and
//! `x-amz-if-match-size` (DeleteObject) or `<ETag>`, `<LastModifiedTime>` and `<Size>`
//! (DeleteObjects) delete only a current version that has them (`*`: any ETag), and a missing
//! key is then NoSuchKey. In a bucket with versioning on, a delete without a version id adds
//! a delete marker; a version id (`versionId`, `<VersionId>`) removes that version for good
//! (with a condition, only if it holds of the current version: S3 evaluates a delete's
//! condition on the current version only).
//! The data of deleted versions is queued for deletion in the same metadata commit.

use actix_web::{web, HttpResponse};
use coffer_proto::meta::{MetaCommand, MetaOk, WritePrecondition};
use coffer_proto::version_id::VersionId;
use coffer_proto::ProtoError;

use crate::s3::body::small_body;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers::delete_precondition;
use crate::s3::object::read::invalid_version;
use crate::s3::object_lock::bypasses_governance;
use crate::s3::xml::xml_ok;
use crate::s3::xml::{self, XmlWriter};

/// What a delete did, as its answer describes it.
#[derive(Debug, Default)]
struct Outcome {
    /// The version removed, or the delete marker added (None: an unversioned bucket's delete).
    version_id: Option<String>,
    /// Whether that version is a delete marker.
    delete_marker: bool,
}

impl Outcome {
    fn of(ok: MetaOk) -> Outcome {
        match ok {
            MetaOk::Deleted {
                version_id,
                delete_marker,
            } => Outcome {
                version_id: Some(version_id),
                delete_marker,
            },
            _ => Outcome::default(),
        }
    }
}

/// DELETE /bucket/key: without `versionId`, the key's current version goes (unversioned) or
/// a delete marker is added (versioning on); with it, that version goes for good.
pub async fn delete_object(ctx: &ReqCtx<'_>, key: &str) -> S3Result<HttpResponse> {
    crate::s3::headers::refuse_mfa(ctx.req.headers())?;
    let precondition = delete_precondition(ctx.req.headers())?;
    let bucket = ctx.bucket().await?;
    if let Some(v) = ctx.query.get("versionId") {
        VersionId::parse(v).map_err(|_| invalid_version(v))?;
    }
    // Comparing the object's ETag, time or size reads it: S3 asks for s3:GetObject as well.
    if precondition != WritePrecondition::None
        && !ctx
            .authz
            .allows_object(ctx.bucket_name, "s3:GetObject", key)
    {
        return Err(S3Error::new(S3ErrorCode::AccessDenied));
    }
    let cmd = deletion(
        bucket.id,
        key,
        ctx.query.get("versionId"),
        precondition,
        bypasses_governance(ctx, key),
    );
    let ok = ctx
        .cluster
        .meta_write(cmd)
        .await
        .map_err(|e| S3Error::from(e).with("Key", key))?;
    let done = Outcome::of(ok);
    let mut b = HttpResponse::NoContent();
    if done.delete_marker {
        b.insert_header(("x-amz-delete-marker", "true"));
    }
    if let Some(id) = &done.version_id {
        b.insert_header(("x-amz-version-id", id.as_str()));
    }
    Ok(b.finish())
}

/// The command that deletes `key` (`version`: that version of it) if `precondition` holds of
/// its current version.
fn deletion(
    bucket_id: u64,
    key: &str,
    version: Option<&str>,
    precondition: WritePrecondition,
    bypass_governance: bool,
) -> MetaCommand {
    let key = key.to_owned();
    match (version, precondition) {
        (None, WritePrecondition::None) => MetaCommand::DeleteObjects {
            bucket_id,
            keys: vec![key],
        },
        (None, precondition) => MetaCommand::DeleteObjectIf {
            bucket_id,
            key,
            precondition,
        },
        (Some(v), WritePrecondition::None) => MetaCommand::DeleteVersion {
            bucket_id,
            key,
            version_id: v.to_owned(),
            bypass_governance,
        },
        (Some(v), precondition) => MetaCommand::DeleteVersionIf {
            bucket_id,
            key,
            version_id: v.to_owned(),
            bypass_governance,
            precondition,
        },
    }
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
        } else if o
            .version_id
            .as_deref()
            .is_some_and(|v| VersionId::parse(v).is_err())
        {
            Some(S3ErrorCode::NoSuchVersion)
        } else if o.version_id.is_some() && !allowed("s3:DeleteObjectVersion") {
            Some(S3ErrorCode::AccessDenied)
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
    // The keys named without a version go in one write, which answers for all of them (with
    // versioning on, their delete markers share its id); a named version or a condition is a
    // write of its own.
    let (whole, named): (Vec<_>, Vec<_>) = plain.into_iter().partition(|o| o.version_id.is_none());
    let mut deleted = Vec::new();
    if !whole.is_empty() {
        let ok = ctx
            .cluster
            .meta_write(MetaCommand::DeleteObjects {
                bucket_id: bucket.id,
                keys: whole.iter().map(|o| o.key.clone()).collect(),
            })
            .await?;
        for o in whole {
            deleted.push((o, Outcome::of(ok.clone())));
        }
    }
    let writes = named
        .iter()
        .map(|o| (o, WritePrecondition::None))
        .chain(conditional.iter().map(|(o, pre)| (o, pre.clone())))
        .map(|(o, pre)| {
            let bypass = bypasses_governance(ctx, &o.key);
            deletion(bucket.id, &o.key, o.version_id.as_deref(), pre, bypass)
        });
    let outcomes = futures::future::join_all(writes.map(|cmd| ctx.cluster.meta_write(cmd))).await;
    let asked = named
        .into_iter()
        .chain(conditional.into_iter().map(|(o, _)| o));
    for (o, outcome) in asked.zip(outcomes) {
        match outcome {
            Ok(ok) => deleted.push((o, Outcome::of(ok))),
            Err(ProtoError::PreconditionFailed) => {
                refused.push((o, S3ErrorCode::PreconditionFailed))
            }
            Err(ProtoError::NoSuchKey) => refused.push((o, S3ErrorCode::NoSuchKey)),
            Err(ProtoError::ObjectLocked) => refused.push((o, S3ErrorCode::AccessDenied)),
            Err(e) => return Err(e.into()),
        }
    }
    let mut x = XmlWriter::new();
    x.open_ns("DeleteResult");
    if !req.quiet {
        for (o, done) in &deleted {
            x.open("Deleted");
            x.elem("Key", &o.key);
            x.opt("VersionId", o.version_id.as_deref());
            match (&o.version_id, &done.version_id) {
                // A version named and removed: whether it was a marker.
                (Some(_), _) if done.delete_marker => x.elem("DeleteMarker", "true"),
                (Some(_), _) => {}
                // A marker added.
                (None, Some(id)) => {
                    x.elem("DeleteMarker", "true");
                    x.elem("DeleteMarkerVersionId", id);
                }
                (None, None) => {}
            }
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
