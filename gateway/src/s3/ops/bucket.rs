//! Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
//! GetBucketLocation.

use actix_web::{web, HttpResponse};
use coffer_proto::api::ClusterApiExt;
use coffer_proto::meta::{BucketConfigKind, MetaCommand};
use coffer_proto::ProtoError;

use crate::model::owner::owner_xml;
use crate::s3::body::small_body;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::grants;
use crate::s3::headers::iso_date;
use crate::s3::names::valid_bucket_name;
use crate::s3::xml::{self, xml_ok, XmlWriter};

/// GET / (ListBuckets), with `prefix`, `max-buckets` and `continuation-token`.
pub async fn list_buckets(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let all = ctx.cluster.buckets().await?;
    let prefix = ctx.query.get("prefix").unwrap_or_default();
    let after = ctx.query.get("continuation-token").unwrap_or_default();
    let max = match ctx.query.get("max-buckets") {
        None => 10_000,
        Some(m) => match m.parse::<usize>() {
            Ok(n @ 1..=10_000) => n,
            _ => {
                return Err(S3Error::msg(
                    S3ErrorCode::InvalidArgument,
                    "max-buckets must be an integer between 1 and 10000",
                ))
            }
        },
    };
    let matching: Vec<_> = all
        .iter()
        .filter(|b| b.name.starts_with(prefix) && b.name.as_str() > after)
        .collect();
    let mut x = XmlWriter::new();
    x.open_ns("ListAllMyBucketsResult");
    owner_xml(&mut x, "Owner", ctx.owner);
    x.open("Buckets");
    for b in matching.iter().take(max) {
        x.open("Bucket");
        x.elem("Name", &b.name);
        x.elem("CreationDate", &iso_date(b.created_ms));
        x.elem(
            "BucketRegion",
            if b.location.is_empty() {
                &ctx.config.region
            } else {
                &b.location
            },
        );
        x.close("Bucket");
    }
    x.close("Buckets");
    if matching.len() > max {
        x.opt(
            "ContinuationToken",
            matching.get(max - 1).map(|b| b.name.as_str()),
        );
    }
    x.opt("Prefix", ctx.query.get("prefix"));
    x.close("ListAllMyBucketsResult");
    Ok(xml_ok(x.finish()))
}

/// PUT /bucket.
pub async fn create_bucket(ctx: &ReqCtx<'_>, payload: web::Payload) -> S3Result<HttpResponse> {
    let name = ctx.bucket_name;
    if !valid_bucket_name(name) {
        return Err(S3Error::new(S3ErrorCode::InvalidBucketName).with("BucketName", name));
    }
    let body = small_body(payload, 64 * 1024).await?;
    let conf: xml::CreateBucketConfiguration = if body.iter().all(u8::is_ascii_whitespace) {
        Default::default()
    } else {
        xml::from_body(&body)?
    };
    let location = conf.location_constraint.unwrap_or_default();
    if !location.is_empty() && location != ctx.config.region {
        return Err(S3Error::msg(
            S3ErrorCode::IllegalLocationConstraintException,
            format!("The {location} location constraint is incompatible for the region specific endpoint this request was sent to."),
        ));
    }
    let mut configs = grants::for_new_bucket(ctx)?;
    if crate::s3::object_lock::asked_at_creation(ctx.req.headers()) {
        // Object Lock on: the state machine turns versioning on with it, in the same write.
        let lock = coffer_proto::lock::LockConfig::default();
        configs.push((
            BucketConfigKind::ObjectLock,
            serde_json::to_string(&lock).unwrap_or_default(),
        ));
    }
    let cmd = MetaCommand::WithBucketConfig {
        configs,
        cmd: Box::new(MetaCommand::CreateBucket {
            name: name.to_owned(),
            owner: ctx.owner.to_owned(),
            location,
            now_ms: crate::s3::headers::now_ms(),
        }),
    };
    match ctx.cluster.meta_write(cmd).await {
        Ok(_) => {}
        // S3 in us-east-1 answers 200 when the caller re-creates a bucket it owns (legacy).
        Err(ProtoError::BucketAlreadyOwnedByYou) if ctx.config.region == "us-east-1" => {}
        Err(e) => return Err(S3Error::from(e).with("BucketName", name)),
    }
    Ok(HttpResponse::Ok()
        .insert_header(("location", format!("/{name}")))
        .finish())
}

/// HEAD /bucket.
pub async fn head_bucket(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let b = ctx.bucket().await?;
    let region = if b.location.is_empty() {
        ctx.config.region.clone()
    } else {
        b.location
    };
    Ok(HttpResponse::Ok()
        .insert_header(("x-amz-bucket-region", region))
        .insert_header(("x-amz-access-point-alias", "false"))
        .finish())
}

/// DELETE /bucket: refused while it holds objects; its incomplete multipart uploads are
/// aborted with it, as on S3.
pub async fn delete_bucket(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    ctx.cluster
        .meta_write(MetaCommand::DeleteBucketAndUploads {
            name: ctx.bucket_name.to_owned(),
        })
        .await
        .map_err(|e| S3Error::from(e).with("BucketName", ctx.bucket_name))?;
    Ok(HttpResponse::NoContent().finish())
}

/// GET /bucket?location.
pub async fn get_bucket_location(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let b = ctx.bucket().await?;
    let mut x = XmlWriter::new();
    x.open_ns("LocationConstraint");
    // us-east-1 is reported as an empty constraint, as S3 does.
    if b.location != "us-east-1" {
        x.finish_text(&b.location);
    }
    x.close("LocationConstraint");
    Ok(xml_ok(x.finish()))
}
