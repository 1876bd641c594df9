//! Who owns a new bucket, object or upload, and the ACL its request gives it: Object
//! Ownership decides whether ACLs may be set at all, Block Public Access whether public ones
//! may. Shared by the bucket, object-write and ACL operations; [`crate::authz`] enforces ACLs.

use coffer_proto::meta::BucketConfigKind;
use coffer_proto::types::BucketInfo;

use crate::model::acl::xml::invalid;
use crate::model::acl::{Acl, Ownership};
use crate::model::owner::owner_id;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers::acl::{requested, Requested};

/// Refuse a public ACL where Block Public Access blocks them.
pub fn check_public(ctx: &ReqCtx<'_>, acl: Option<&Acl>) -> S3Result<()> {
    if ctx.authz.public_access.block_public_acls && acl.is_some_and(Acl::is_public) {
        return Err(S3Error::new(S3ErrorCode::AccessDenied));
    }
    Ok(())
}

/// The owner and ACL of an object or upload `bucket` gets when its request asks for `asked`,
/// as its Object Ownership says: under BucketOwnerEnforced the bucket owner owns it and no ACL
/// but the bucket owner's full control is accepted; under BucketOwnerPreferred the bucket
/// owner owns what is written with `bucket-owner-full-control`; else the writer owns it.
pub fn for_new_object(
    ctx: &ReqCtx<'_>,
    bucket: &BucketInfo,
    asked: Requested,
) -> S3Result<(String, Option<Acl>)> {
    let bucket_owner = owner_id(&bucket.owner);
    let owner = match ctx.authz.ownership {
        Ownership::BucketOwnerEnforced => {
            if asked
                .resolve(&bucket_owner, &bucket_owner)
                .is_some_and(|a| !a.owner_only(&bucket_owner))
            {
                return Err(S3Error::new(S3ErrorCode::AccessControlListNotSupported));
            }
            return Ok((bucket.owner.clone(), None));
        }
        Ownership::BucketOwnerPreferred
            if asked == Requested::Canned("bucket-owner-full-control".into()) =>
        {
            bucket.owner.clone()
        }
        _ => ctx.owner.to_owned(),
    };
    let acl = asked.resolve(&owner_id(&owner), &bucket_owner);
    check_public(ctx, acl.as_ref())?;
    Ok((owner, acl))
}

/// The first documents of a bucket `ctx.owner` creates: its Object Ownership
/// (`x-amz-object-ownership`, else the configured default: BucketOwnerEnforced unless set
/// otherwise, as S3 since 2023) and the ACL its headers ask for.
pub fn for_new_bucket(ctx: &ReqCtx<'_>) -> S3Result<Vec<(BucketConfigKind, String)>> {
    let ownership = match ctx.header("x-amz-object-ownership") {
        None => ctx.config.default_ownership,
        Some(o) => Ownership::parse(o).ok_or_else(|| {
            invalid(
                "Invalid x-amz-object-ownership header",
                "x-amz-object-ownership",
                o,
            )
        })?,
    };
    let me = owner_id(ctx.owner);
    let acl = requested(ctx.req.headers())?.resolve(&me, &me);
    if !ownership.acls_enabled() && acl.as_ref().is_some_and(|a| !a.owner_only(&me)) {
        return Err(S3Error::new(
            S3ErrorCode::InvalidBucketAclWithObjectOwnership,
        ));
    }
    check_public(ctx, acl.as_ref())?;
    let mut configs = vec![(
        BucketConfigKind::OwnershipControls,
        ownership.as_str().to_owned(),
    )];
    if let Some(acl) = acl.filter(|_| ownership.acls_enabled()) {
        configs.push((BucketConfigKind::Acl, acl.encode()));
    }
    Ok(configs)
}
