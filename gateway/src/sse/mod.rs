//! Server-side encryption in the gateway: a write's data key made and sealed under the key its
//! request (or, later, its bucket) names ([`for_write`]), a stored version's data key opened
//! for reading ([`open`], [`unlock`]), and the response headers that describe both
//! ([`describe`]). The bytes are sealed and opened in [`packages`]; keys come from [`keys`]
//! (SSE-S3 and SSE-KMS, whose keys are used as the caller's `kms:` permissions allow) or from
//! the request itself ([`customer`], SSE-C).

pub mod customer;
pub mod keys;
pub mod packages;

use std::sync::Arc;

use actix_web::HttpResponseBuilder;
use coffer_proto::sse::{
    data_key_aad, key_id_of, Encryption, Keeper, KmsKey, DEFAULT_KMS_KEY, SCHEME_GCM_PACKAGES,
    SSE_S3_KEY,
};
use coffer_proto::types::ObjectVersion;
use coffer_proto::ClusterApi;

use crate::config::DefaultSse;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::sse::KmsAsk;
pub use customer::CustomerKey;
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

    /// The ETag of bytes whose MD5 is `md5` under this key: 32 hex digits that are not their
    /// MD5 (S3's ETag of an SSE-C object is not one), HMAC-SHA256 of it under the data key.
    pub fn opaque_etag(&self, md5: &[u8; 16]) -> String {
        use hmac::Mac;
        // HMAC takes a key of any length: `new_from_slice` cannot fail here.
        let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts a 32-byte key"));
        m.update(b"coffer-sse-etag");
        m.update(md5);
        hex::encode(&m.finalize().into_bytes()[..16])
    }
}

/// What a write stores encrypted: the record's facts and the data key that seals the bytes.
#[derive(Debug, Clone)]
pub struct Sealing {
    /// What the version (or upload) records.
    pub encryption: Encryption,
    /// The data key.
    pub key: Arc<DataKey>,
    /// The customer's key (SSE-C), whose MD5 the answers echo.
    pub customer: Option<CustomerKey>,
}

impl Sealing {
    /// The ETag of bytes whose MD5 is `md5` stored this way.
    pub fn etag(&self, md5: &[u8; 16]) -> String {
        etag(Some(&self.encryption), Some(&self.key), md5)
    }
}

/// The ETag of bytes whose MD5 is `md5`, stored encrypted as `enc` under data key `key`: the
/// MD5, except for SSE-C and SSE-KMS, where it is not one (as on S3).
pub fn etag(enc: Option<&Encryption>, key: Option<&DataKey>, md5: &[u8; 16]) -> String {
    match (enc.map(|e| &e.keeper), key) {
        (Some(Keeper::Customer { .. } | Keeper::Kms { .. }), Some(k)) => k.opaque_etag(md5),
        _ => hex::encode(md5),
    }
}

/// The encryption a write asks for.
#[derive(Debug, Clone)]
pub enum Asked {
    /// None.
    None,
    /// SSE-S3 (`x-amz-server-side-encryption: AES256`).
    S3,
    /// SSE-KMS (`x-amz-server-side-encryption: aws:kms`).
    Kms(KmsAsk),
    /// SSE-C: the customer's key.
    Customer(CustomerKey),
}

/// The encryption a write's headers (checked by `crate::s3::sse::check`) ask for.
pub fn asked(h: &actix_web::http::header::HeaderMap) -> S3Result<Asked> {
    if let Some(k) = CustomerKey::from_headers(h, &customer::OBJECT)? {
        return Ok(Asked::Customer(k));
    }
    Ok(
        match crate::s3::headers::get(h, "x-amz-server-side-encryption") {
            Some("AES256") => Asked::S3,
            Some("aws:kms") => Asked::Kms(KmsAsk::from_headers(h)?),
            _ => Asked::None,
        },
    )
}

/// The customer's key a read (or a write to an upload) brings, if any.
pub fn given_key(h: &actix_web::http::header::HeaderMap) -> S3Result<Option<CustomerKey>> {
    CustomerKey::from_headers(h, &customer::OBJECT)
}

/// What a write to bucket `bucket` that asks for no encryption gets: the bucket's default
/// encryption, or for a bucket without one the gateway's `--default-encryption`.
fn bucket_default(ctx: &ReqCtx<'_>, bucket: &str) -> Asked {
    let configured = ctx
        .authz
        .bucket
        .as_ref()
        .filter(|b| b.name == bucket)
        .and(ctx.authz.bucket_encryption.as_deref())
        .and_then(crate::model::encryption::decode);
    match configured {
        Some(d) if d.algorithm == "aws:kms" => Asked::Kms(KmsAsk {
            key_id: d.key_id,
            context: None,
            bucket_key: d.bucket_key,
        }),
        Some(_) => Asked::S3,
        None => match ctx.config.default_encryption {
            DefaultSse::S3 => Asked::S3,
            DefaultSse::None => Asked::None,
        },
    }
}

/// A fresh data key for a write of `key` in bucket `bucket` that asked for `asked` (or, when
/// it asked for none, as the bucket's default encryption says), sealed as it says (None: the
/// write is not encrypted).
pub async fn for_write(
    ctx: &ReqCtx<'_>,
    bucket: &str,
    key: &str,
    asked: Asked,
) -> S3Result<Option<Sealing>> {
    let asked = match asked {
        Asked::None => bucket_default(ctx, bucket),
        a => a,
    };
    let data_key: [u8; 32] = rand::random();
    let aad = data_key_aad(SCHEME_GCM_PACKAGES, bucket, key);
    let (keeper, sealed_key, customer) = match asked {
        Asked::None => return Ok(None),
        Asked::S3 => return sse_s3(ctx.keys, ctx.cluster, bucket, key).await.map(Some),
        Asked::Kms(ask) => {
            let kms_key = kms_key_for_write(ctx, ask.key_id.as_deref()).await?;
            let material = ctx.keys.newest(&kms_key)?;
            let context = ask.context.unwrap_or_else(|| {
                let arn = if ask.bucket_key {
                    format!("arn:aws:s3:::{bucket}")
                } else {
                    format!("arn:aws:s3:::{bucket}/{key}")
                };
                serde_json::json!({ "aws:s3:arn": arn }).to_string()
            });
            let aad = kms_aad(aad, &context);
            let keeper = Keeper::Kms {
                key_id: kms_key.id.clone(),
                generation: material.generation,
                context,
                bucket_key: ask.bucket_key,
            };
            (keeper, material.key.seal(&data_key, &aad), None)
        }
        Asked::Customer(k) => {
            let keeper = Keeper::Customer { check: k.check() };
            (keeper, k.sealer().seal(&data_key, &aad), Some(k))
        }
    };
    Ok(Some(Sealing {
        encryption: Encryption {
            scheme: SCHEME_GCM_PACKAGES,
            keeper,
            sealed_key,
        },
        key: Arc::new(DataKey(data_key)),
        customer,
    }))
}

/// A fresh data key for a write of `key` in bucket `bucket`, sealed with SSE-S3's key: what
/// a write that asks for SSE-S3 gets, and what the server's own writes (access logs) get in
/// a bucket with default encryption.
pub async fn sse_s3(
    keys: &keys::Keyring,
    cluster: &Arc<dyn ClusterApi>,
    bucket: &str,
    key: &str,
) -> S3Result<Sealing> {
    let data_key: [u8; 32] = rand::random();
    let aad = data_key_aad(SCHEME_GCM_PACKAGES, bucket, key);
    let sse_key = keys.sse_s3(cluster).await?;
    let material = keys.newest(&sse_key)?;
    Ok(Sealing {
        encryption: Encryption {
            scheme: SCHEME_GCM_PACKAGES,
            keeper: Keeper::S3 {
                generation: material.generation,
            },
            sealed_key: material.key.seal(&data_key, &aad),
        },
        key: Arc::new(DataKey(data_key)),
        customer: None,
    })
}

/// An SSE-KMS data key's associated data: a data key's, and the encryption context, which
/// must be the same to open it (as KMS binds a data key to its context).
fn kms_aad(mut aad: Vec<u8>, context: &str) -> Vec<u8> {
    aad.extend_from_slice(b"\0coffer-kms-context\0");
    aad.extend_from_slice(context.as_bytes());
    aad
}

/// The ARN of the key service's key `id`, as policies name it.
pub fn key_arn(region: &str, id: &str) -> String {
    format!("arn:aws:kms:{region}::key/{id}")
}

/// The key a write that names `named` (None: the default key) seals its data key under,
/// if the caller may use it for that.
async fn kms_key_for_write(ctx: &ReqCtx<'_>, named: Option<&str>) -> S3Result<Arc<KmsKey>> {
    let id = named.map_or(DEFAULT_KMS_KEY, key_id_of);
    let k = if id == DEFAULT_KMS_KEY {
        ctx.keys.default_kms(ctx.cluster).await?
    } else {
        ctx.keys.key(ctx.cluster, id).await?.ok_or_else(|| {
            S3Error::msg(
                S3ErrorCode::KmsNotFound,
                format!("Invalid keyId '{}'", named.unwrap_or(id)),
            )
        })?
    };
    usable(ctx, &k, "kms:GenerateDataKey")?;
    Ok(k)
}

/// Whether key `k` may be used for `action` now: it is enabled and the caller is allowed.
fn usable(ctx: &ReqCtx<'_>, k: &KmsKey, action: &str) -> S3Result<()> {
    let arn = key_arn(&ctx.config.region, &k.id);
    if !ctx.authz.allows_kms(action, &arn, k.id == DEFAULT_KMS_KEY) {
        return Err(S3Error::msg(
            S3ErrorCode::AccessDenied,
            format!("The caller is not authorized to perform {action} on resource {arn}"),
        ));
    }
    if !k.enabled {
        return Err(S3Error::msg(
            S3ErrorCode::KmsDisabled,
            format!("{arn} is disabled."),
        ));
    }
    Ok(())
}

/// The data key of version `v` of bucket `bucket`, opened with the customer's key `given`
/// when it is SSE-C (None: it is not encrypted).
pub async fn open(
    ctx: &ReqCtx<'_>,
    bucket: &str,
    v: &ObjectVersion,
    given: Option<&CustomerKey>,
) -> S3Result<Option<Arc<DataKey>>> {
    unlock(ctx, bucket, &v.key, v.encryption.as_deref(), given).await
}

/// Whether reading `v` needs its key even when no byte is read (HEAD): an SSE-C object, or a
/// request that brought a customer key, has it checked as S3 checks it.
pub fn key_checked_on_head(v: &ObjectVersion, given: Option<&CustomerKey>) -> bool {
    given.is_some()
        || matches!(
            v.encryption.as_deref(),
            Some(Encryption {
                keeper: Keeper::Customer { .. },
                ..
            })
        )
}

/// The data key of what `key` of bucket `bucket` stored encrypted as `enc` (an object version
/// or an upload), opened (None: not encrypted). `given`: the customer's key the request
/// brought, which an SSE-C object needs and any other refuses, as S3 answers.
pub async fn unlock(
    ctx: &ReqCtx<'_>,
    bucket: &str,
    key: &str,
    enc: Option<&Encryption>,
    given: Option<&CustomerKey>,
) -> S3Result<Option<Arc<DataKey>>> {
    let customer = matches!(
        enc,
        Some(Encryption {
            keeper: Keeper::Customer { .. },
            ..
        })
    );
    if given.is_some() && !customer {
        return Err(S3Error::msg(
            S3ErrorCode::InvalidRequest,
            "The encryption parameters are not applicable to this object.",
        ));
    }
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
        Keeper::Customer { check } => {
            let Some(given) = given else {
                return Err(S3Error::msg(
                    S3ErrorCode::InvalidRequest,
                    "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
                ));
            };
            if !given.matches(check) {
                return Err(S3Error::msg(
                    S3ErrorCode::AccessDenied,
                    "The provided customer encryption key does not match the key the object was encrypted with.",
                ));
            }
            given.sealer()
        }
        Keeper::Kms {
            key_id, generation, ..
        } => {
            let k = ctx.keys.key(ctx.cluster, key_id).await?.ok_or_else(|| {
                S3Error::internal(format!(
                    "the object is encrypted under key {key_id}, which the key service does \
                     not have"
                ))
            })?;
            usable(ctx, &k, "kms:Decrypt")?;
            ctx.keys.unseal(&k, *generation)?.key
        }
    };
    let mut aad = data_key_aad(enc.scheme, bucket, key);
    if let Keeper::Kms { context, .. } = &enc.keeper {
        aad = kms_aad(aad, context);
    }
    let plain = sealing_key
        .open(&enc.sealed_key, &aad)
        .ok_or_else(keys::tampered_key)?;
    let key: [u8; 32] = plain.try_into().map_err(|_| keys::tampered_key())?;
    Ok(Some(Arc::new(DataKey(key))))
}

/// Add the headers that describe encryption `enc` to a response (`customer`: the key an
/// SSE-C request brought, whose MD5 S3 echoes).
pub fn describe(
    b: &mut HttpResponseBuilder,
    enc: Option<&Encryption>,
    customer: Option<&CustomerKey>,
) {
    let Some(enc) = enc else {
        return;
    };
    if let Some(v) = enc.keeper.header() {
        b.insert_header(("x-amz-server-side-encryption", v));
    }
    if let Keeper::Kms {
        key_id, bucket_key, ..
    } = &enc.keeper
    {
        b.insert_header((
            "x-amz-server-side-encryption-aws-kms-key-id",
            key_id.as_str(),
        ));
        if *bucket_key {
            b.insert_header(("x-amz-server-side-encryption-bucket-key-enabled", "true"));
        }
    }
    if let (Keeper::Customer { .. }, Some(k)) = (&enc.keeper, customer) {
        b.insert_header(("x-amz-server-side-encryption-customer-algorithm", "AES256"));
        b.insert_header((
            "x-amz-server-side-encryption-customer-key-md5",
            k.md5.as_str(),
        ));
    }
}

/// [`describe`], for the answer to a write: SSE-KMS's encryption context too, as S3 echoes it
/// to PUT, Copy and CreateMultipartUpload.
pub fn describe_write(
    b: &mut HttpResponseBuilder,
    enc: Option<&Encryption>,
    customer: Option<&CustomerKey>,
) {
    describe(b, enc, customer);
    if let Some(Keeper::Kms { context, .. }) = enc.map(|e| &e.keeper) {
        use base64::Engine;
        b.insert_header((
            "x-amz-server-side-encryption-context",
            base64::engine::general_purpose::STANDARD.encode(context),
        ));
    }
}
