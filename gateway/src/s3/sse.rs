//! Server-side encryption headers on requests, checked before the handler runs (the
//! encryption itself is `crate::sse`):
//! - a write may ask for SSE-S3 (`AES256`), SSE-KMS (`aws:kms`, with a key id, an encryption
//!   context and the bucket-key flag, see [`KmsAsk`]) or SSE-C (a customer key, whose three
//!   headers are checked as S3 checks them); DSSE-KMS is NotImplemented, never a 200 for
//!   bytes stored in a way it did not ask for;
//! - KMS headers without `aws:kms`, and a method beside a customer key, are S3's 400s;
//! - a customer key sent over plain HTTP is refused, as S3 refuses it, unless the gateway was
//!   told to allow it;
//! - a read that brings `x-amz-server-side-encryption` is refused as S3 refuses it. Whether a
//!   customer key fits the object is the handler's to decide, once it has the object.

use actix_web::http::header::HeaderMap;

use super::error::{S3Error, S3ErrorCode, S3Result};
use super::router::Endpoint;
use crate::sse::customer::{self, CustomerKey, Names};

/// The header that asks for SSE-S3 or SSE-KMS.
const SSE: &str = "x-amz-server-side-encryption";
/// Its values S3 knows.
const SSE_METHODS: [&str; 3] = ["AES256", "aws:kms", "aws:kms:dsse"];
/// Headers that only go with SSE-KMS.
const KMS: [&str; 3] = [
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-context",
    "x-amz-server-side-encryption-bucket-key-enabled",
];

/// Check a request's encryption headers for `endpoint`. `plain_http_ok`: customer keys may
/// come over plain HTTP (the gateway was told to allow it).
pub fn check(endpoint: &Endpoint, headers: &HeaderMap, plain_http_ok: bool) -> S3Result<()> {
    match endpoint {
        Endpoint::PutObject { .. } | Endpoint::CreateMultipartUpload { .. } => {
            check_write(headers, true, plain_http_ok)
        }
        Endpoint::CopyObject { .. } => {
            key_of(headers, &customer::COPY_SOURCE, plain_http_ok)?;
            check_write(headers, true, plain_http_ok)
        }
        // A part is encrypted as its upload was created: only SSE-C repeats the key.
        Endpoint::UploadPart { .. } | Endpoint::CompleteMultipartUpload { .. } => {
            check_write(headers, false, plain_http_ok)
        }
        Endpoint::UploadPartCopy { .. } => {
            key_of(headers, &customer::COPY_SOURCE, plain_http_ok)?;
            check_write(headers, false, plain_http_ok)
        }
        Endpoint::GetObject { .. }
        | Endpoint::HeadObject { .. }
        | Endpoint::GetObjectAttributes { .. } => {
            if headers.contains_key(SSE) {
                return Err(S3Error::msg(
                    S3ErrorCode::InvalidArgument,
                    "x-amz-server-side-encryption header is not supported for this operation.",
                ));
            }
            key_of(headers, &customer::OBJECT, plain_http_ok).map(drop)
        }
        _ => Ok(()),
    }
}

/// The customer key of headers `names`, checked, and refused over plain HTTP unless allowed.
fn key_of(h: &HeaderMap, names: &Names, plain_http_ok: bool) -> S3Result<Option<CustomerKey>> {
    let key = CustomerKey::from_headers(h, names)?;
    if key.is_some() && !plain_http_ok {
        return Err(S3Error::msg(
            S3ErrorCode::InvalidRequest,
            "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.",
        ));
    }
    Ok(key)
}

/// A write (or a form upload's fields as headers): what it asks for must be a method S3 has,
/// with the headers that go with it; SSE-S3 and SSE-C pass, SSE-KMS is not built yet.
/// `whole`: the request creates an object or an upload, where SSE-S3 and SSE-KMS are asked
/// for.
pub fn check_write(headers: &HeaderMap, whole: bool, plain_http_ok: bool) -> S3Result<()> {
    let customer = key_of(headers, &customer::OBJECT, plain_http_ok)?;
    if whole {
        let method = match headers.get(SSE) {
            Some(v) => {
                let v = v.to_str().unwrap_or_default();
                if !SSE_METHODS.contains(&v) {
                    return Err(S3Error::msg(
                        S3ErrorCode::InvalidArgument,
                        "The encryption method specified is not supported",
                    )
                    .with("ArgumentName", SSE)
                    .with("ArgumentValue", v));
                }
                Some(v)
            }
            None => None,
        };
        if method.is_some() && customer.is_some() {
            return Err(S3Error::msg(
                S3ErrorCode::InvalidArgument,
                "Server Side Encryption with Customer provided key is incompatible with the encryption method specified",
            )
            .with("ArgumentName", SSE)
            .with("ArgumentValue", method.unwrap_or_default()));
        }
        let kms = present(headers, &KMS);
        match (method, kms) {
            (Some("AES256"), Some(h)) | (None, Some(h)) => {
                return Err(S3Error::msg(
                    S3ErrorCode::InvalidArgument,
                    "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
                )
                .with("ArgumentName", h))
            }
            (Some("AES256") | None, None) => {}
            (Some("aws:kms"), _) => {
                KmsAsk::from_headers(headers)?;
            }
            (Some(_), _) => return Err(not_implemented(SSE)),
        }
    }
    Ok(())
}

/// What a write that asks for SSE-KMS says of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KmsAsk {
    /// The key it names, as it names it (None: the default key).
    pub key_id: Option<String>,
    /// The encryption context it gives, as JSON with its keys in order (None: the default).
    pub context: Option<String>,
    /// Whether it asks for an S3 Bucket Key.
    pub bucket_key: bool,
}

impl KmsAsk {
    /// The SSE-KMS headers of a write, checked as S3 checks them.
    pub fn from_headers(h: &HeaderMap) -> S3Result<KmsAsk> {
        let text = |name: &'static str| -> S3Result<Option<&str>> {
            match h.get(name) {
                None => Ok(None),
                Some(v) => v.to_str().map(Some).map_err(|_| invalid(name, "")),
            }
        };
        let key_id = match text(KMS[0])? {
            Some(k) if k.trim().is_empty() => {
                return Err(S3Error::msg(
                    S3ErrorCode::InvalidArgument,
                    "KMS key id must not be empty",
                )
                .with("ArgumentName", KMS[0]))
            }
            k => k.map(|k| k.trim().to_owned()),
        };
        let context = text(KMS[1])?
            .map(|c| encryption_context(c).ok_or_else(|| invalid(KMS[1], c)))
            .transpose()?;
        let bucket_key = match text(KMS[2])? {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) => return Err(invalid(KMS[2], v)),
        };
        Ok(KmsAsk {
            key_id,
            context,
            bucket_key,
        })
    }
}

/// An encryption context as the header carries it (base64 of a JSON object of strings), as
/// JSON with its keys in order (None: it is not one).
fn encryption_context(b64: &str) -> Option<String> {
    use base64::Engine;
    let json = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let pairs: std::collections::BTreeMap<String, String> = serde_json::from_slice(&json).ok()?;
    serde_json::to_string(&pairs).ok()
}

fn invalid(name: &'static str, value: &str) -> S3Error {
    S3Error::msg(
        S3ErrorCode::InvalidArgument,
        format!("The value of header {name} is not valid."),
    )
    .with("ArgumentName", name)
    .with("ArgumentValue", value.to_owned())
}

/// The first of `names` the request carries.
fn present(headers: &HeaderMap, names: &[&'static str]) -> Option<&'static str> {
    names.iter().copied().find(|n| headers.contains_key(*n))
}

fn not_implemented(header: &str) -> S3Error {
    S3Error::msg(
        S3ErrorCode::NotImplemented,
        "Server-side encryption is not implemented yet by this server",
    )
    .with("Header", header)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use base64::Engine;
    use md5::Digest;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn code(e: S3Result<()>) -> Option<&'static str> {
        e.err().map(|e| e.code.as_str())
    }

    fn put() -> Endpoint {
        Endpoint::PutObject { key: "k".into() }
    }

    /// A customer key's three headers (with `prefix`: the copy source's).
    fn customer_key(prefix: &str) -> Vec<(String, String)> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let key = [5u8; 32];
        vec![
            (
                format!("{prefix}server-side-encryption-customer-algorithm"),
                "AES256".into(),
            ),
            (
                format!("{prefix}server-side-encryption-customer-key"),
                b64.encode(key),
            ),
            (
                format!("{prefix}server-side-encryption-customer-key-md5"),
                b64.encode(md5::Md5::digest(key)),
            ),
        ]
    }

    fn with(pairs: &[(String, String)], more: &[(&str, &str)]) -> HeaderMap {
        let mut all: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        all.extend_from_slice(more);
        headers(&all)
    }

    #[test]
    fn plain_requests_pass() {
        let h = headers(&[("content-type", "text/plain"), ("x-amz-meta-a", "1")]);
        for e in [
            put(),
            Endpoint::GetObject { key: "k".into() },
            Endpoint::CopyObject { key: "k".into() },
        ] {
            assert!(check(&e, &h, false).is_ok());
        }
    }

    #[test]
    fn sse_s3_and_customer_keys_pass_where_allowed() {
        let object = customer_key("x-amz-");
        let source = customer_key("x-amz-copy-source-");
        for e in [
            put(),
            Endpoint::CreateMultipartUpload { key: "k".into() },
            Endpoint::CopyObject { key: "k".into() },
        ] {
            assert!(check(&e, &headers(&[(SSE, "AES256")]), false).is_ok());
            assert!(check(&e, &with(&object, &[]), true).is_ok());
            // Over plain HTTP, a customer key is refused unless allowed.
            assert_eq!(
                code(check(&e, &with(&object, &[]), false)),
                Some("InvalidRequest")
            );
        }
        let copy = Endpoint::CopyObject { key: "k".into() };
        assert!(check(&copy, &with(&source, &[]), true).is_ok());
        assert_eq!(
            code(check(&copy, &with(&source, &[]), false)),
            Some("InvalidRequest")
        );
        let get = Endpoint::GetObject { key: "k".into() };
        assert!(check(&get, &with(&object, &[]), true).is_ok());
    }

    #[test]
    fn kms_headers_without_aws_kms_and_mixed_methods_are_invalid() {
        let object = customer_key("x-amz-");
        for h in [
            headers(&[(KMS[0], "arn:aws:kms:us-east-1:1:key/x")]),
            headers(&[(SSE, "AES256"), (KMS[0], "k")]),
            with(&object, &[(SSE, "AES256")]),
            with(&object, &[(SSE, "aws:kms")]),
        ] {
            assert_eq!(
                code(check(&put(), &h, true)),
                Some("InvalidArgument"),
                "{h:?}"
            );
        }
        // A broken customer key: S3's 400s, before anything is read or stored.
        let mut bad = customer_key("x-amz-");
        bad[2].1 = "AAAAAAAAAAAAAAAAAAAAAA==".into();
        assert_eq!(
            code(check(&put(), &with(&bad, &[]), true)),
            Some("InvalidArgument")
        );
    }

    #[test]
    fn a_read_with_the_sse_header_is_refused() {
        let h = headers(&[(SSE, "AES256")]);
        for e in [
            Endpoint::GetObject { key: "k".into() },
            Endpoint::HeadObject { key: "k".into() },
        ] {
            assert_eq!(code(check(&e, &h, true)), Some("InvalidArgument"));
        }
    }

    #[test]
    fn kms_writes_pass_and_dsse_is_not_implemented() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let context = b64(r#"{"b":"2","a":"1"}"#);
        for h in [
            headers(&[(SSE, "aws:kms")]),
            headers(&[(SSE, "aws:kms"), (KMS[0], "arn:aws:kms:us-east-1:1:key/x")]),
            headers(&[(SSE, "aws:kms"), (KMS[1], &context), (KMS[2], "true")]),
        ] {
            for e in [
                put(),
                Endpoint::CreateMultipartUpload { key: "k".into() },
                Endpoint::CopyObject { key: "k".into() },
            ] {
                assert!(check(&e, &h, false).is_ok(), "{e:?} {h:?}");
            }
        }
        let ask = KmsAsk::from_headers(&headers(&[
            (KMS[0], "testkey-1"),
            (KMS[1], &context),
            (KMS[2], "TRUE"),
        ]))
        .unwrap();
        assert_eq!(
            ask,
            KmsAsk {
                key_id: Some("testkey-1".into()),
                context: Some(r#"{"a":"1","b":"2"}"#.into()),
                bucket_key: true,
            }
        );
        let e = check(&put(), &headers(&[(SSE, "aws:kms:dsse")]), true).unwrap_err();
        assert_eq!(e.code.as_str(), "NotImplemented");
        assert_eq!(e.extra, [("Header", SSE.to_owned())]);
    }

    #[test]
    fn broken_kms_headers_are_invalid() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        for (name, value) in [
            (KMS[1], "not base64!".to_owned()),
            (KMS[1], b64("[1,2]")),
            (KMS[1], b64(r#"{"a":1}"#)),
            (KMS[1], b64("not json")),
            (KMS[2], "maybe".to_owned()),
            (KMS[0], " ".to_owned()),
        ] {
            let h = headers(&[(SSE, "aws:kms"), (name, &value)]);
            let e = check(&put(), &h, true).unwrap_err();
            assert_eq!(e.code.as_str(), "InvalidArgument", "{name}: {value}");
            assert!(e.extra.contains(&("ArgumentName", name.to_owned())));
        }
    }

    #[test]
    fn an_unknown_method_is_invalid() {
        let e = check(&put(), &headers(&[(SSE, "rot13")]), true).unwrap_err();
        assert_eq!(e.code.as_str(), "InvalidArgument");
        assert!(e.extra.contains(&("ArgumentValue", "rot13".to_owned())));
    }
}
