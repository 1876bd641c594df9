//! ACLs on the wire: Get/PutBucketAcl and Get/PutObjectAcl. The ACL model and its document
//! are [`crate::model::acl`]; the ACL a new resource gets is [`crate::s3::grants`].

use actix_web::{web, HttpResponse};
use coffer_proto::meta::{BucketConfigKind, MetaCommand};
use coffer_proto::types::BucketInfo;

use crate::model::acl::xml::{malformed, parse_policy, to_xml};
use crate::model::acl::Acl;
use crate::model::owner::owner_id;
use crate::s3::body::small_body;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::grants::check_public;
use crate::s3::headers::acl::{requested, Requested};
use crate::s3::object::read;
use crate::s3::object::read::about_version;
use crate::s3::xml::xml_ok;

/// Largest AccessControlPolicy document accepted.
const MAX_BODY: usize = 64 << 10;

/// The ACL a PutBucketAcl or PutObjectAcl request sets on a resource owned by `owner` in a
/// bucket owned by `bucket_owner` (canonical ids): from its headers or from its body.
async fn asked_acl(
    ctx: &ReqCtx<'_>,
    payload: web::Payload,
    owner: &str,
    bucket_owner: &str,
) -> S3Result<Acl> {
    let body = small_body(payload, MAX_BODY)
        .await
        .map_err(|_| malformed())?;
    let has_body = !body.iter().all(u8::is_ascii_whitespace);
    match (requested(ctx.req.headers())?, has_body) {
        (Requested::Default, true) => parse_policy(&body, owner),
        (Requested::Default, false) => Err(malformed()),
        (_, true) => Err(S3Error::msg(
            S3ErrorCode::UnexpectedContent,
            "This request does not support content",
        )),
        (asked, false) => asked.resolve(owner, bucket_owner).ok_or_else(malformed),
    }
}

/// GET /bucket?acl (under BucketOwnerEnforced: the owner's full control, whatever was set).
pub async fn get_bucket_acl(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let acl = if ctx.authz.ownership.acls_enabled() {
        ctx.authz.bucket_acl.clone()
    } else {
        Acl::private(&owner_id(&bucket.owner))
    };
    Ok(xml_ok(to_xml(&bucket.owner, &acl)))
}

/// PUT /bucket?acl
pub async fn put_bucket_acl(ctx: &ReqCtx<'_>, payload: web::Payload) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let owner = owner_id(&bucket.owner);
    let acl = asked_acl(ctx, payload, &owner, &owner).await?;
    if !ctx.authz.ownership.acls_enabled() {
        if !acl.owner_only(&owner) {
            return Err(S3Error::new(S3ErrorCode::AccessControlListNotSupported));
        }
        // The one ACL BucketOwnerEnforced accepts is the one in force already.
        return Ok(HttpResponse::Ok().finish());
    }
    check_public(ctx, Some(&acl))?;
    ctx.set_bucket_config(BucketConfigKind::Acl, Some(acl.encode()))
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// The owner and ACL in force of `key`'s current version (NoSuchKey if there is none).
/// The owner and ACL of the version of `key` a request names, and that version's id.
async fn object_acl(
    ctx: &ReqCtx<'_>,
    bucket: &BucketInfo,
    key: &str,
) -> S3Result<(String, Acl, String)> {
    let version = ctx.query.get("versionId");
    let f = read::facts(ctx.cluster, bucket.id, key, version).await?;
    if !ctx.authz.ownership.acls_enabled() {
        let private = Acl::private(&owner_id(&bucket.owner));
        return Ok((bucket.owner.clone(), private, f.version_id));
    }
    let acl = Acl::decode(f.acl.as_deref(), &owner_id(&f.owner));
    Ok((f.owner, acl, f.version_id))
}

/// GET /bucket/key?acl
pub async fn get_object_acl(ctx: &ReqCtx<'_>, key: &str) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let (owner, acl, id) = object_acl(ctx, &bucket, key).await?;
    Ok(about_version(HttpResponse::Ok(), ctx, &id)
        .content_type("application/xml")
        .body(to_xml(&owner, &acl)))
}

/// PUT /bucket/key?acl
pub async fn put_object_acl(
    ctx: &ReqCtx<'_>,
    key: &str,
    payload: web::Payload,
) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let (owner, _, id) = object_acl(ctx, &bucket, key).await?;
    let owner = owner_id(&owner);
    let acl = asked_acl(ctx, payload, &owner, &owner_id(&bucket.owner)).await?;
    if !ctx.authz.ownership.acls_enabled() {
        if !acl.owner_only(&owner) {
            return Err(S3Error::new(S3ErrorCode::AccessControlListNotSupported));
        }
        return Ok(HttpResponse::Ok().finish());
    }
    check_public(ctx, Some(&acl))?;
    let cmd = match ctx.query.get("versionId") {
        Some(_) => MetaCommand::SetVersionAcl {
            bucket_id: bucket.id,
            key: key.to_owned(),
            version_id: id.clone(),
            acl: acl.encode(),
        },
        None => MetaCommand::SetObjectAcl {
            bucket_id: bucket.id,
            key: key.to_owned(),
            acl: acl.encode(),
        },
    };
    ctx.cluster
        .meta_write(cmd)
        .await
        .map_err(|e| S3Error::from(e).with("Key", key))?;
    Ok(about_version(HttpResponse::Ok(), ctx, &id).finish())
}
