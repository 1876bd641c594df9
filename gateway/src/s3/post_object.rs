//! POST Object: an HTML form upload (`multipart/form-data`) to `POST /bucket`. The form
//! carries the key, the object's headers as fields, a policy document and its signature
//! (SigV4: `x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `x-amz-signature`; or SigV2:
//! `AWSAccessKeyId` and `signature`), and last the file, which streams into the store like a
//! PutObject body. A form without a signature is anonymous: a bucket policy or ACL must let
//! anyone write.
//!
//! The signature proves the policy, and the policy bounds the form: it expires, every field
//! must satisfy a condition, and `content-length-range` bounds the file.

use actix_multipart::{Field, Multipart};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use coffer_proto::types::{ChecksumAlgorithm, ObjectData};
use futures::StreamExt;

use super::body::{BodyProcessor, Computed};
use super::ctx::ReqCtx;
use super::error::{S3Error, S3ErrorCode, S3Result};
use super::object::data;
use super::object::write::{self, Body, Commit, Committed, NewObject};
use super::post_policy::PostPolicy;
use super::router::{Endpoint, Query};
use super::xml::XmlWriter;
use crate::auth::{self, sigv4, Auth};
use crate::authz::{self, Authz};
use crate::state::AppState;

/// Form fields before the file, in bytes (as S3: 20 KB of fields, with room for the policy).
const MAX_FIELDS: usize = 64 << 10;

/// Form fields that become the object's headers under the same name.
const HEADER_FIELDS: [&str; 8] = [
    "cache-control",
    "content-type",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
    "x-amz-storage-class",
    "x-amz-website-redirect-location",
];

fn invalid_field(msg: &'static str, name: &str) -> S3Error {
    S3Error::msg(S3ErrorCode::InvalidArgument, msg).with("ArgumentName", name.to_owned())
}

/// The fields that precede the file (names lower case), and the file field; no file is
/// InvalidArgument.
async fn read_fields(form: &mut Multipart) -> S3Result<(Vec<(String, String)>, Field)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut total = 0;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| {
            S3Error::msg(
                S3ErrorCode::MalformedPOSTRequest,
                format!(
                    "The body of your POST request is not well-formed multipart/form-data: {e}"
                ),
            )
        })?;
        let name = field.name().unwrap_or_default().to_ascii_lowercase();
        if name == "file" {
            return Ok((fields, field));
        }
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk
                .map_err(|e| S3Error::msg(S3ErrorCode::MalformedPOSTRequest, e.to_string()))?;
            total += chunk.len();
            if total > MAX_FIELDS {
                return Err(S3Error::new(S3ErrorCode::MaxPostPreDataLengthExceededError));
            }
            value.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(value)
            .map_err(|_| invalid_field("Form fields must be UTF-8", &name))?;
        total += name.len();
        fields.push((name, value));
    }
    Err(invalid_field(
        "POST requires exactly one file upload per request.",
        "file",
    ))
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The fields that S3 reads as request headers, as headers: the content headers, the storage
/// class, `x-amz-meta-*`, the checksum and encryption fields, `acl` as `x-amz-acl`, and
/// `tagging` (a `<Tagging>` document) as `x-amz-tagging`.
fn as_headers(fields: &[(String, String)]) -> S3Result<HeaderMap> {
    let mut h = HeaderMap::new();
    for (name, value) in fields {
        let (header, value) = match name.as_str() {
            "acl" => ("x-amz-acl", value.clone()),
            "tagging" => ("x-amz-tagging", tagging_query(value)?),
            n if HEADER_FIELDS.contains(&n)
                || n.starts_with("x-amz-meta-")
                || n.starts_with("x-amz-checksum-")
                || n.starts_with("x-amz-server-side-encryption") =>
            {
                (n, value.clone())
            }
            _ => continue,
        };
        let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(header.as_bytes()),
            HeaderValue::from_str(&value),
        ) else {
            return Err(invalid_field("Invalid form field", name));
        };
        h.append(k, v);
    }
    Ok(h)
}

/// A form's `tagging` document as the `k1=v1&k2=v2` of `x-amz-tagging` (MalformedXML or
/// InvalidTag as PutObjectTagging answers).
fn tagging_query(doc: &str) -> S3Result<String> {
    let tags = crate::model::tags::parse(doc.as_bytes())?;
    Ok(tags
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                sigv4::uri_encode(k, true),
                sigv4::uri_encode(v, true)
            )
        })
        .collect::<Vec<_>>()
        .join("&"))
}

/// How a form is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signature {
    /// Not at all: anonymous.
    None,
    /// SigV4: `x-amz-credential`, `x-amz-algorithm`, `x-amz-date`, `x-amz-signature`.
    V4,
    /// SigV2: `AWSAccessKeyId` and `signature`, the base64 HMAC-SHA1 of the policy.
    V2,
}

impl Signature {
    /// What the form's fields say; a form with part of a signature is InvalidArgument naming
    /// the field it lacks, as S3 answers.
    fn of(fields: &[(String, String)]) -> S3Result<Signature> {
        let has = |n: &str| field(fields, n).is_some();
        let missing = |name: &'static str| {
            invalid_field(
                match name {
                    "AWSAccessKeyId" => "Bucket POST must contain a field named 'AWSAccessKeyId'.  If it is specified, please check the order of the fields.",
                    "Signature" => "Bucket POST must contain a field named 'Signature'.  If it is specified, please check the order of the fields.",
                    "Policy" => "Bucket POST must contain a field named 'Policy'.  If it is specified, please check the order of the fields.",
                    _ => "Bucket POST must contain the fields policy, x-amz-credential and x-amz-signature together.",
                },
                name,
            )
        };
        if has("x-amz-credential") || has("x-amz-signature") || has("x-amz-algorithm") {
            if !(has("x-amz-credential") && has("x-amz-signature") && has("policy")) {
                return Err(missing("x-amz-credential"));
            }
            return Ok(Signature::V4);
        }
        if has("awsaccesskeyid") || has("signature") {
            for (name, lower) in [
                ("AWSAccessKeyId", "awsaccesskeyid"),
                ("Signature", "signature"),
                ("Policy", "policy"),
            ] {
                if !has(lower) {
                    return Err(missing(name));
                }
            }
            return Ok(Signature::V2);
        }
        if has("policy") {
            return Err(missing("AWSAccessKeyId"));
        }
        Ok(Signature::None)
    }

    /// The access key the form claims to be signed with.
    fn claimed(self, fields: &[(String, String)]) -> Option<&str> {
        match self {
            Signature::None => None,
            Signature::V4 => field(fields, "x-amz-credential").and_then(|c| c.split('/').next()),
            Signature::V2 => field(fields, "awsaccesskeyid").map(str::trim),
        }
    }

    /// `s3:signatureversion` of the form.
    fn version(self) -> Option<&'static str> {
        match self {
            Signature::None => None,
            Signature::V4 => Some(sigv4::ALGORITHM),
            Signature::V2 => Some("AWS"),
        }
    }
}

/// Who signed the form (None: anonymous), after checking the signature of its policy and
/// the policy's conditions.
fn verify(
    state: &AppState,
    fields: &[(String, String)],
    creds: &auth::Credentials,
    bucket: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> S3Result<Option<String>> {
    let signature = Signature::of(fields)?;
    let policy = field(fields, "policy").unwrap_or_default();
    let signer = match signature {
        Signature::None => return Ok(None),
        Signature::V4 => verify_v4(state, fields, creds, policy)?,
        Signature::V2 => {
            let ak = signature.claimed(fields).unwrap_or_default();
            let Some(secret) = creds.secret(ak) else {
                return Err(
                    S3Error::new(S3ErrorCode::InvalidAccessKeyId).with("AWSAccessKeyId", ak)
                );
            };
            let given = field(fields, "signature").unwrap_or_default();
            let want = auth::sigv2::sign(secret, policy.trim());
            if !auth::same(want.as_bytes(), given.trim().as_bytes()) {
                return Err(
                    S3Error::new(S3ErrorCode::SignatureDoesNotMatch).with("AWSAccessKeyId", ak)
                );
            }
            ak.to_owned()
        }
    };
    PostPolicy::parse(policy)?.check(fields, bucket, now.timestamp_millis())?;
    Ok(Some(signer))
}

/// Check a SigV4 form's signature of `policy`; the access key that made it.
fn verify_v4(
    state: &AppState,
    fields: &[(String, String)],
    creds: &auth::Credentials,
    policy: &str,
) -> S3Result<String> {
    let credential = field(fields, "x-amz-credential").unwrap_or_default();
    if field(fields, "x-amz-algorithm") != Some(sigv4::ALGORITHM) {
        return Err(invalid_field(
            "The x-amz-algorithm field must be AWS4-HMAC-SHA256.",
            "x-amz-algorithm",
        ));
    }
    let parts: Vec<&str> = credential.split('/').collect();
    let [ak, date, region, "s3", "aws4_request"] = parts.as_slice() else {
        return Err(invalid_field(
            "Invalid x-amz-credential.",
            "x-amz-credential",
        ));
    };
    if *region != state.config.region {
        return Err(S3Error::msg(
            S3ErrorCode::AuthorizationQueryParametersError,
            format!(
                "the region '{region}' is wrong; expecting '{}'",
                state.config.region
            ),
        ));
    }
    let Some(secret) = creds.secret(ak) else {
        return Err(S3Error::new(S3ErrorCode::InvalidAccessKeyId));
    };
    let given = field(fields, "x-amz-signature").unwrap_or_default();
    let key = sigv4::signing_key(secret, date, region, "s3");
    let want = hex::encode(sigv4::hmac(&key, policy.as_bytes()));
    if !auth::same(want.as_bytes(), given.trim().as_bytes()) {
        return Err(S3Error::new(S3ErrorCode::SignatureDoesNotMatch));
    }
    Ok((*ak).to_owned())
}

/// POST /bucket with a form.
pub async fn post_object(
    state: &AppState,
    req: &HttpRequest,
    query: &Query,
    bucket_name: &str,
    payload: web::Payload,
) -> S3Result<HttpResponse> {
    let multipart = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        return Err(S3Error::msg(
            S3ErrorCode::PreconditionFailed,
            "Bucket POST must be of the enclosure-type multipart/form-data",
        )
        .with(
            "Condition",
            "Bucket POST must be of the enclosure-type multipart/form-data",
        ));
    }
    let mut form = Multipart::new(req.headers(), payload);
    let (fields, file) = read_fields(&mut form).await?;
    let filename = file
        .content_disposition()
        .and_then(|d| d.get_filename())
        .unwrap_or_default()
        .to_owned();
    let key = field(&fields, "key")
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            invalid_field(
                "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
                "key",
            )
        })?
        .replace("${filename}", &filename);
    if key.len() > 1024 {
        return Err(S3Error::new(S3ErrorCode::KeyTooLongError));
    }

    // Who signed it, with one read for the key's user and the bucket.
    let cfg = &state.config;
    let signature = Signature::of(&fields)?;
    let claimed = signature.claimed(&fields).map(str::to_owned);
    let root = claimed
        .as_deref()
        .is_some_and(|ak| cfg.credentials.secret(ak).is_some());
    let user_key = claimed.filter(|_| !root);
    let facts = super::dispatch::authenticate::authorization_facts(
        state,
        user_key.clone(),
        Some(bucket_name.into()),
    )
    .await?;
    let user_creds;
    let creds = match &user_key {
        Some(ak) => {
            user_creds = super::dispatch::authenticate::credentials(cfg, ak, facts.key.as_ref());
            &user_creds
        }
        None => &cfg.credentials,
    };
    let now = chrono::Utc::now();
    let signer = verify(state, &fields, creds, bucket_name, now)?;
    let (caller, owner) =
        super::dispatch::authenticate::identify(signer.as_deref(), root, facts.user.as_ref())?;
    let secure = cfg.transport.secure(req.head());
    let mut context = authz::context::build(req.head(), query, false, &caller, now, secure);
    let form_headers = as_headers(&fields)?;
    authz::context::add_form(&mut context, &form_headers, signature.version());
    let authz = Authz::new(caller, owner, facts, context, &state.policies);
    let endpoint = Endpoint::PutObject { key: key.clone() };
    let pending = authz.check(&endpoint, bucket_name, false)?;
    super::dispatch::authorize::settle(state, &authz, pending, None).await?;
    super::sse::check_write(&form_headers, true, cfg.sse_c_over_http || secure)?;

    let auth = Auth {
        access_key: signer,
        ..Auth::anonymous()
    };
    let owner = authz.writer();
    let ctx = ReqCtx {
        cluster: &state.cluster,
        config: cfg,
        req,
        query,
        auth: &auth,
        owner: &owner,
        authz: &authz,
        bucket_name,
        keys: &state.keys,
        caches: &state.caches,
    };
    let done = store(&ctx, &key, &fields, file).await?;
    respond(req, &fields, bucket_name, &key, &done)
}

/// Store the file as `key` with the form's headers; its ETag.
async fn store(
    ctx: &ReqCtx<'_>,
    key: &str,
    fields: &[(String, String)],
    file: Field,
) -> S3Result<Committed> {
    let bucket = ctx.bucket().await?;
    let h = as_headers(fields)?;
    let lock = super::object_lock::for_write(ctx, &bucket, &h, false).await?;
    let sealing = crate::sse::for_write(ctx, &bucket.name, key, crate::sse::asked(&h)?).await?;
    let new = NewObject::from_headers(ctx, &bucket, key, &h)?
        .locked(lock)
        .sealed(sealing);
    let (lo, hi) = match field(fields, "policy") {
        Some(p) => PostPolicy::parse(p)?
            .length_range()
            .unwrap_or((0, u64::MAX)),
        None => (0, u64::MAX),
    };
    let max = hi.min(ctx.config.max_put_size);
    let checksum = super::headers::checksum_request(&h)?;
    let proc = BodyProcessor::new(ctx.auth, false, None, None, checksum, max)?
        .computing(Computed::Default(ChecksumAlgorithm::Crc64Nvme));
    let file = file.map(|c| c.map_err(|e| e.to_string()));
    let (stored, outcome) = data::store_body(
        ctx.cluster,
        &new.storage_class,
        Box::pin(file),
        proc,
        Some(ctx.config.inline_threshold),
        new.data_key(),
    )
    .await
    .map_err(|e| match e.code {
        S3ErrorCode::EntityTooLarge if hi < ctx.config.max_put_size => S3Error::msg(
            S3ErrorCode::EntityTooLarge,
            "Your proposed upload exceeds the maximum allowed size",
        )
        .with("MaxSizeAllowed", hi.to_string()),
        _ => e,
    })?;
    if outcome.size < lo {
        if let ObjectData::Blobs(blobs) = stored {
            for b in blobs {
                data::discard(ctx.cluster, b).await;
            }
        }
        return Err(S3Error::msg(
            S3ErrorCode::EntityTooSmall,
            "Your proposed upload is smaller than the minimum allowed size",
        )
        .with("MinSizeAllowed", lo.to_string())
        .with("ProposedSize", outcome.size.to_string()));
    }
    let body = Body::single(stored, outcome.size, outcome.md5, outcome.stored_checksum());
    write::commit(ctx.cluster, bucket.id, new, body, Commit::Put).await
}

/// The answer S3 gives a stored form: a 303 to `success_action_redirect`, or
/// `success_action_status` (200, 201 with a `PostResponse` document, or the default 204).
fn respond(
    req: &HttpRequest,
    fields: &[(String, String)],
    bucket: &str,
    key: &str,
    done: &Committed,
) -> S3Result<HttpResponse> {
    let etag = &done.quoted_etag();
    // Every answer names the stored version: its ETag, and its id in a versioned bucket.
    let answer = |mut b: actix_web::HttpResponseBuilder| {
        b.insert_header(("etag", etag.as_str()));
        done.version_header(&mut b);
        b
    };
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let encoded = sigv4::uri_encode(key, true);
    let location = format!("http://{host}/{bucket}/{encoded}");
    let redirect = field(fields, "success_action_redirect")
        .or_else(|| field(fields, "redirect"))
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"));
    if let Some(url) = redirect {
        let sep = if url.contains('?') { '&' } else { '?' };
        let to = format!(
            "{url}{sep}bucket={}&key={}&etag={}",
            sigv4::uri_encode(bucket, false),
            sigv4::uri_encode(key, false),
            sigv4::uri_encode(etag, false)
        );
        return Ok(answer(HttpResponse::SeeOther())
            .insert_header(("location", to))
            .finish());
    }
    match field(fields, "success_action_status") {
        Some("200") => Ok(answer(HttpResponse::Ok())
            .insert_header(("location", location))
            .finish()),
        Some("201") => {
            let mut x = XmlWriter::new();
            x.open("PostResponse");
            x.elem("Location", &location);
            x.elem("Bucket", bucket);
            x.elem("Key", key);
            x.elem("ETag", etag);
            x.close("PostResponse");
            Ok(answer(HttpResponse::Created())
                .insert_header(("location", location))
                .content_type("application/xml")
                .body(x.finish()))
        }
        _ => Ok(answer(HttpResponse::NoContent())
            .insert_header(("location", location))
            .finish()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fields_become_headers() {
        let f = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let h = as_headers(&f(&[
            ("acl", "public-read"),
            ("content-type", "image/png"),
            ("x-amz-meta-a", "1"),
            ("key", "k"),
            ("policy", "p"),
        ]))
        .unwrap();
        assert_eq!(h.get("x-amz-acl").unwrap(), "public-read");
        assert_eq!(h.get("content-type").unwrap(), "image/png");
        assert_eq!(h.get("x-amz-meta-a").unwrap(), "1");
        assert!(h.get("key").is_none() && h.get("policy").is_none());
        let bad = as_headers(&f(&[("content-type", "a\nb")])).unwrap_err();
        assert_eq!(bad.code, S3ErrorCode::InvalidArgument);
    }
}
