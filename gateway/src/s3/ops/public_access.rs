//! Block Public Access of a bucket: Put/Get/DeletePublicAccessBlock. The settings in force
//! are the bucket's together with the cluster-wide ones (`coffer admin public-access-block`),
//! and the authorizer applies them (`crate::authz`).

use actix_web::{web, HttpResponse};
use coffer_proto::meta::BucketConfigKind;
use coffer_proto::types::PublicAccessBlock;
use serde::Deserialize;

use crate::s3::body::small_body;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::xml::xml_ok;
use crate::s3::xml::{self, XmlWriter};

#[derive(Debug, Deserialize)]
struct Configuration {
    #[serde(rename = "BlockPublicAcls", default)]
    block_public_acls: bool,
    #[serde(rename = "IgnorePublicAcls", default)]
    ignore_public_acls: bool,
    #[serde(rename = "BlockPublicPolicy", default)]
    block_public_policy: bool,
    #[serde(rename = "RestrictPublicBuckets", default)]
    restrict_public_buckets: bool,
}

/// Parse a `<PublicAccessBlockConfiguration>` body.
pub fn parse(body: &[u8]) -> S3Result<PublicAccessBlock> {
    let c: Configuration = xml::from_body(body)?;
    Ok(PublicAccessBlock {
        block_public_acls: c.block_public_acls,
        ignore_public_acls: c.ignore_public_acls,
        block_public_policy: c.block_public_policy,
        restrict_public_buckets: c.restrict_public_buckets,
    })
}

/// The `<PublicAccessBlockConfiguration>` document.
pub fn to_xml(p: &PublicAccessBlock) -> String {
    let b = |v: bool| if v { "true" } else { "false" };
    let mut x = XmlWriter::new();
    x.open_ns("PublicAccessBlockConfiguration");
    x.elem("BlockPublicAcls", b(p.block_public_acls));
    x.elem("IgnorePublicAcls", b(p.ignore_public_acls));
    x.elem("BlockPublicPolicy", b(p.block_public_policy));
    x.elem("RestrictPublicBuckets", b(p.restrict_public_buckets));
    x.close("PublicAccessBlockConfiguration");
    x.finish()
}

/// PUT /bucket?publicAccessBlock
pub async fn put(ctx: &ReqCtx<'_>, payload: web::Payload) -> S3Result<HttpResponse> {
    let body = small_body(payload, 4096).await?;
    let conf = parse(&body)?;
    ctx.set_bucket_config(BucketConfigKind::PublicAccessBlock, Some(conf.encode()))
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// GET /bucket?publicAccessBlock (the bucket's own settings)
pub async fn get(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let doc = ctx
        .bucket_config(BucketConfigKind::PublicAccessBlock)
        .await?
        .ok_or_else(|| {
            S3Error::new(S3ErrorCode::NoSuchPublicAccessBlockConfiguration)
                .with("BucketName", ctx.bucket_name)
        })?;
    Ok(xml_ok(to_xml(&PublicAccessBlock::decode(Some(&doc)))))
}

/// DELETE /bucket?publicAccessBlock
pub async fn delete(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    ctx.set_bucket_config(BucketConfigKind::PublicAccessBlock, None)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trip() {
        let p = parse(b"<PublicAccessBlockConfiguration><BlockPublicPolicy>maybe</BlockPublicPolicy></PublicAccessBlockConfiguration>");
        assert_eq!(p.unwrap_err().code, S3ErrorCode::MalformedXML);
        let p = parse(b"<PublicAccessBlockConfiguration><BlockPublicPolicy>true</BlockPublicPolicy></PublicAccessBlockConfiguration>").unwrap();
        assert!(p.block_public_policy && !p.restrict_public_buckets);
        let back = parse(to_xml(&p).as_bytes()).unwrap();
        assert_eq!(back, p);
    }
}
