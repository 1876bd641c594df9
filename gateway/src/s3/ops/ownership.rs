//! Object Ownership: Put/Get/DeleteBucketOwnershipControls. New buckets get
//! BucketOwnerEnforced (ACLs disabled) unless CreateBucket asks otherwise; a bucket without
//! the setting behaves as ObjectWriter.

use actix_web::{web, HttpResponse};
use coffer_proto::meta::BucketConfigKind;
use serde::Deserialize;

use crate::model::acl::Ownership;
use crate::model::owner::owner_id;
use crate::s3::body::small_body;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::xml::xml_ok;
use crate::s3::xml::{self, XmlWriter};

#[derive(Debug, Deserialize)]
struct Controls {
    #[serde(rename = "Rule", default)]
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
struct Rule {
    #[serde(rename = "ObjectOwnership")]
    ownership: String,
}

/// Parse an `<OwnershipControls>` body: exactly one rule with a known setting.
pub fn parse(body: &[u8]) -> S3Result<Ownership> {
    let c: Controls = xml::from_body(body)?;
    match c.rules.as_slice() {
        [rule] => Ownership::parse(rule.ownership.trim())
            .ok_or_else(|| S3Error::new(S3ErrorCode::MalformedXML)),
        _ => Err(S3Error::new(S3ErrorCode::MalformedXML)),
    }
}

/// The `<OwnershipControls>` document.
pub fn to_xml(o: Ownership) -> String {
    let mut x = XmlWriter::new();
    x.open_ns("OwnershipControls");
    x.open("Rule");
    x.elem("ObjectOwnership", o.as_str());
    x.close("Rule");
    x.close("OwnershipControls");
    x.finish()
}

/// PUT /bucket?ownershipControls. Disabling ACLs needs a bucket ACL that grants the owner
/// alone (InvalidBucketAclWithObjectOwnership otherwise, as on S3).
pub async fn put(ctx: &ReqCtx<'_>, payload: web::Payload) -> S3Result<HttpResponse> {
    let body = small_body(payload, 4096).await?;
    let ownership = parse(&body)?;
    let bucket = ctx.bucket().await?;
    if !ownership.acls_enabled()
        && ctx.authz.ownership.acls_enabled()
        && !ctx.authz.bucket_acl.owner_only(&owner_id(&bucket.owner))
    {
        return Err(S3Error::new(
            S3ErrorCode::InvalidBucketAclWithObjectOwnership,
        ));
    }
    let value = Some(ownership.as_str().to_owned());
    ctx.set_bucket_config(BucketConfigKind::OwnershipControls, value)
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// GET /bucket?ownershipControls
pub async fn get(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let doc = ctx
        .bucket_config(BucketConfigKind::OwnershipControls)
        .await?
        .ok_or_else(|| {
            S3Error::new(S3ErrorCode::OwnershipControlsNotFoundError)
                .with("BucketName", ctx.bucket_name)
        })?;
    Ok(xml_ok(to_xml(Ownership::from_stored(Some(&doc)))))
}

/// DELETE /bucket?ownershipControls (the bucket then behaves as ObjectWriter)
pub async fn delete(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    ctx.set_bucket_config(BucketConfigKind::OwnershipControls, None)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn one_rule_with_a_known_setting() {
        for o in [
            "BucketOwnerEnforced",
            "BucketOwnerPreferred",
            "ObjectWriter",
        ] {
            let doc = format!("<OwnershipControls><Rule><ObjectOwnership>{o}</ObjectOwnership></Rule></OwnershipControls>");
            let parsed = parse(doc.as_bytes()).unwrap();
            assert_eq!(parsed.as_str(), o);
            assert_eq!(parse(to_xml(parsed).as_bytes()).unwrap(), parsed);
        }
        let bad = [
            "<OwnershipControls/>",
            "<OwnershipControls><Rule><ObjectOwnership>Mine</ObjectOwnership></Rule></OwnershipControls>",
            "<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>",
            "<OwnershipControls>",
        ];
        for doc in bad {
            assert_eq!(
                parse(doc.as_bytes()).unwrap_err().code,
                S3ErrorCode::MalformedXML,
                "{doc}"
            );
        }
    }
}
