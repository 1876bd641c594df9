//! Bucket default encryption: Put/Get/DeleteBucketEncryption over the bucket's `Encryption`
//! document ([`crate::model::encryption`]). Writes that ask for no encryption are encrypted
//! as it says (`crate::sse::for_write`), or as the gateway's `--default-encryption` says for
//! a bucket without one.

use actix_web::{web, HttpResponse};
use coffer_proto::meta::BucketConfigKind;

use crate::config::DefaultSse;
use crate::model::encryption::{self, DefaultEncryption};
use crate::s3::body::small_body;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::xml::xml_ok;

/// Largest configuration document.
const MAX_BODY: usize = 64 << 10;

/// PUT /bucket?encryption
pub async fn put(ctx: &ReqCtx<'_>, payload: web::Payload) -> S3Result<HttpResponse> {
    let body = small_body(payload, MAX_BODY).await?;
    let conf = encryption::parse(&body)?;
    ctx.set_bucket_config(
        BucketConfigKind::Encryption,
        Some(encryption::encode(&conf)),
    )
    .await?;
    Ok(HttpResponse::Ok().finish())
}

/// GET /bucket?encryption: the bucket's configuration; for a bucket without one, SSE-S3
/// when that is the gateway's default (as S3 answers for every bucket), else
/// ServerSideEncryptionConfigurationNotFoundError.
pub async fn get(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let stored = ctx
        .bucket_config(BucketConfigKind::Encryption)
        .await?
        .and_then(|d| encryption::decode(&d));
    let conf = match (stored, ctx.config.default_encryption) {
        (Some(c), _) => c,
        (None, DefaultSse::S3) => DefaultEncryption {
            algorithm: "AES256".into(),
            key_id: None,
            bucket_key: false,
        },
        (None, DefaultSse::None) => {
            return Err(
                S3Error::new(S3ErrorCode::ServerSideEncryptionConfigurationNotFoundError)
                    .with("BucketName", ctx.bucket_name),
            )
        }
    };
    Ok(xml_ok(encryption::to_xml(&conf)))
}

/// DELETE /bucket?encryption: back to the gateway's default.
pub async fn delete(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    ctx.set_bucket_config(BucketConfigKind::Encryption, None)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
