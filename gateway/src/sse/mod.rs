//! Server-side encryption in the gateway: a write's data key made and sealed under the key its
//! request (or, later, its bucket) names ([`for_write`]), a stored version's data key opened
//! for reading ([`open`]), and the response headers that describe both ([`describe`]). The
//! bytes are sealed and opened in [`packages`]; keys come from [`keys`].

pub mod keys;
pub mod packages;

use std::sync::Arc;

use actix_web::HttpResponseBuilder;
use coffer_proto::sse::{data_key_aad, Encryption, Keeper, SCHEME_GCM_PACKAGES, SSE_S3_KEY};
use coffer_proto::types::ObjectVersion;

use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3Result};
use packages::RunCipher;

/// An object's (or an upload's) data key, unsealed: it makes the cipher of each run.
#[derive(Clone)]
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// The cipher of blob `blob` (None: the inline bytes).
    pub fn run(&self, blob: Option<&[u8; 16]>) -> RunCipher {
        RunCipher::new(&self.0, blob)
    }
}

/// What a write stores encrypted: the record's facts and the data key that seals the bytes.
#[derive(Debug, Clone)]
pub struct Sealing {
    /// What the version (or upload) records.
    pub encryption: Encryption,
    /// The data key.
    pub key: Arc<DataKey>,
}

/// The encryption a write asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// None.
    None,
    /// SSE-S3 (`x-amz-server-side-encryption: AES256`).
    S3,
}

/// The encryption a write's headers (checked by `crate::s3::sse::check`) ask for.
pub fn asked(h: &actix_web::http::header::HeaderMap) -> Asked {
    match crate::s3::headers::get(h, "x-amz-server-side-encryption") {
        Some("AES256") => Asked::S3,
        _ => Asked::None,
    }
}

/// A fresh data key for a write of `key` in bucket `bucket` that asked for `asked`, sealed as
/// it says (None: the write is not encrypted).
pub async fn for_write(
    ctx: &ReqCtx<'_>,
    bucket: &str,
    key: &str,
    asked: Asked,
) -> S3Result<Option<Sealing>> {
    match asked {
        Asked::None => Ok(None),
        Asked::S3 => {
            let sse_key = ctx.keys.sse_s3(ctx.cluster).await?;
            let material = ctx.keys.newest(&sse_key)?;
            let data_key: [u8; 32] = rand::random();
            let sealed_key = material
                .key
                .seal(&data_key, &data_key_aad(SCHEME_GCM_PACKAGES, bucket, key));
            Ok(Some(Sealing {
                encryption: Encryption {
                    scheme: SCHEME_GCM_PACKAGES,
                    keeper: Keeper::S3 {
                        generation: material.generation,
                    },
                    sealed_key,
                },
                key: Arc::new(DataKey(data_key)),
            }))
        }
    }
}

/// The data key of version `v` of bucket `bucket`, opened (None: it is not encrypted).
pub async fn open(
    ctx: &ReqCtx<'_>,
    bucket: &str,
    v: &ObjectVersion,
) -> S3Result<Option<Arc<DataKey>>> {
    unlock(ctx, bucket, &v.key, v.encryption.as_deref()).await
}

/// The data key of what `key` of bucket `bucket` stored encrypted as `enc` (an object version
/// or an upload), opened (None: not encrypted).
pub async fn unlock(
    ctx: &ReqCtx<'_>,
    bucket: &str,
    key: &str,
    enc: Option<&Encryption>,
) -> S3Result<Option<Arc<DataKey>>> {
    let Some(enc) = enc else {
        return Ok(None);
    };
    if enc.scheme != SCHEME_GCM_PACKAGES {
        return Err(S3Error::internal(format!(
            "the object is encrypted with scheme {}, which this build does not know",
            enc.scheme
        )));
    }
    let sealing_key = match &enc.keeper {
        Keeper::S3 { generation } => {
            let k = ctx
                .keys
                .key(ctx.cluster, SSE_S3_KEY)
                .await?
                .ok_or_else(|| {
                    S3Error::internal(
                        "the object is encrypted with SSE-S3, but the cluster has no SSE-S3 key",
                    )
                })?;
            ctx.keys.unseal(&k, *generation)?.key
        }
        Keeper::Kms { .. } | Keeper::Customer { .. } => {
            return Err(S3Error::internal(
                "SSE-KMS and SSE-C objects are not readable by this build",
            ))
        }
    };
    let plain = sealing_key
        .open(&enc.sealed_key, &data_key_aad(enc.scheme, bucket, key))
        .ok_or_else(keys::tampered_key)?;
    let key: [u8; 32] = plain.try_into().map_err(|_| keys::tampered_key())?;
    Ok(Some(Arc::new(DataKey(key))))
}

/// Add the headers that describe encryption `enc` to a response.
pub fn describe(b: &mut HttpResponseBuilder, enc: Option<&Encryption>) {
    let Some(enc) = enc else {
        return;
    };
    if let Some(v) = enc.keeper.header() {
        b.insert_header(("x-amz-server-side-encryption", v));
    }
}
