//! Server-side encryption headers on requests, checked before the handler runs (the
//! encryption itself is `crate::sse`):
//! - a write that asks for SSE-S3 (`AES256`) is encrypted; one that asks for SSE-KMS or SSE-C
//!   is NotImplemented until they are built, never a 200 for bytes stored in the clear;
//! - KMS headers without `aws:kms`, and a customer key beside SSE-S3, are S3's 400s;
//! - a read that brings `x-amz-server-side-encryption` is refused as S3 refuses it, and one
//!   (or a copy's source) that brings a customer key gets S3's answer for an object that was
//!   not encrypted with one (400 InvalidRequest).

use actix_web::http::header::HeaderMap;

use super::error::{S3Error, S3ErrorCode, S3Result};
use super::router::Endpoint;

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
/// SSE-C: the customer's key for the object written or read.
const CUSTOMER: [&str; 3] = [
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-server-side-encryption-customer-key",
    "x-amz-server-side-encryption-customer-key-md5",
];
/// SSE-C: the customer's key for a copy's source.
const COPY_SOURCE_CUSTOMER: [&str; 3] = [
    "x-amz-copy-source-server-side-encryption-customer-algorithm",
    "x-amz-copy-source-server-side-encryption-customer-key",
    "x-amz-copy-source-server-side-encryption-customer-key-md5",
];

/// Check a request's encryption headers for `endpoint`.
pub fn check(endpoint: &Endpoint, headers: &HeaderMap) -> S3Result<()> {
    match endpoint {
        Endpoint::PutObject { .. } | Endpoint::CreateMultipartUpload { .. } => {
            check_write(headers, true)
        }
        Endpoint::CopyObject { .. } => {
            check_copy_source(headers)?;
            check_write(headers, true)
        }
        // A part is encrypted as its upload was created: only SSE-C repeats the key.
        Endpoint::UploadPart { .. } => check_write(headers, false),
        Endpoint::UploadPartCopy { .. } => {
            check_copy_source(headers)?;
            check_write(headers, false)
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
            if present(headers, &CUSTOMER).is_some() {
                return Err(not_encrypted_with_key());
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A write (or a form upload's fields as headers): what it asks for must be a method S3 has,
/// with the headers that go with it; SSE-S3 passes, SSE-KMS and SSE-C are not built yet.
/// `whole`: the request creates an object or an upload, where SSE-S3 and SSE-KMS are asked
/// for.
pub fn check_write(headers: &HeaderMap, whole: bool) -> S3Result<()> {
    let customer = present(headers, &CUSTOMER);
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
            (Some(_), _) => return Err(not_implemented(SSE)),
        }
    }
    match customer {
        Some(h) => Err(not_implemented(h)),
        None => Ok(()),
    }
}

fn check_copy_source(headers: &HeaderMap) -> S3Result<()> {
    match present(headers, &COPY_SOURCE_CUSTOMER) {
        Some(_) => Err(not_encrypted_with_key()),
        None => Ok(()),
    }
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

fn not_encrypted_with_key() -> S3Error {
    S3Error::msg(
        S3ErrorCode::InvalidRequest,
        "The encryption parameters are not applicable to this object.",
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

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

    #[test]
    fn plain_requests_pass() {
        let h = headers(&[("content-type", "text/plain"), ("x-amz-meta-a", "1")]);
        for e in [
            put(),
            Endpoint::GetObject { key: "k".into() },
            Endpoint::CopyObject { key: "k".into() },
        ] {
            assert!(check(&e, &h).is_ok());
        }
    }

    #[test]
    fn sse_s3_writes_pass() {
        for e in [
            put(),
            Endpoint::CreateMultipartUpload { key: "k".into() },
            Endpoint::CopyObject { key: "k".into() },
        ] {
            assert!(check(&e, &headers(&[(SSE, "AES256")])).is_ok());
        }
    }

    #[test]
    fn kms_headers_without_aws_kms_and_mixed_methods_are_invalid() {
        for h in [
            headers(&[(KMS[0], "arn:aws:kms:us-east-1:1:key/x")]),
            headers(&[(SSE, "AES256"), (KMS[0], "k")]),
            headers(&[(SSE, "AES256"), (CUSTOMER[0], "AES256")]),
            headers(&[(SSE, "aws:kms"), (CUSTOMER[1], "a2V5")]),
        ] {
            assert_eq!(code(check(&put(), &h)), Some("InvalidArgument"), "{h:?}");
        }
    }

    #[test]
    fn a_read_with_the_sse_header_is_refused() {
        let h = headers(&[(SSE, "AES256")]);
        for e in [
            Endpoint::GetObject { key: "k".into() },
            Endpoint::HeadObject { key: "k".into() },
        ] {
            assert_eq!(code(check(&e, &h)), Some("InvalidArgument"));
        }
    }

    #[test]
    fn writes_that_ask_for_kms_or_a_customer_key_are_not_implemented() {
        for h in [
            headers(&[(SSE, "aws:kms")]),
            headers(&[(SSE, "aws:kms"), (KMS[0], "arn:aws:kms:us-east-1:1:key/x")]),
            headers(&[(CUSTOMER[0], "AES256")]),
            headers(&[(CUSTOMER[1], "a2V5")]),
        ] {
            for e in [
                put(),
                Endpoint::CreateMultipartUpload { key: "k".into() },
                Endpoint::CopyObject { key: "k".into() },
            ] {
                assert_eq!(code(check(&e, &h)), Some("NotImplemented"), "{e:?} {h:?}");
            }
        }
        let part = Endpoint::UploadPart {
            key: "k".into(),
            part_number: 1,
            upload_id: "u".into(),
        };
        let h = headers(&[(CUSTOMER[2], "bWQ1")]);
        assert_eq!(code(check(&part, &h)), Some("NotImplemented"));
        let e = check(&put(), &headers(&[(SSE, "aws:kms")])).unwrap_err();
        assert_eq!(e.extra, [("Header", SSE.to_owned())]);
    }

    #[test]
    fn an_unknown_method_is_invalid() {
        let e = check(&put(), &headers(&[(SSE, "rot13")])).unwrap_err();
        assert_eq!(e.code.as_str(), "InvalidArgument");
        assert!(e.extra.contains(&("ArgumentValue", "rot13".to_owned())));
    }

    #[test]
    fn a_customer_key_for_a_read_or_a_copy_source_does_not_apply() {
        let h = headers(&[(CUSTOMER[0], "AES256")]);
        for e in [
            Endpoint::GetObject { key: "k".into() },
            Endpoint::HeadObject { key: "k".into() },
        ] {
            assert_eq!(code(check(&e, &h)), Some("InvalidRequest"));
        }
        let h = headers(&[(COPY_SOURCE_CUSTOMER[1], "a2V5")]);
        let copy = Endpoint::UploadPartCopy {
            key: "k".into(),
            part_number: 1,
            upload_id: "u".into(),
        };
        assert_eq!(code(check(&copy, &h)), Some("InvalidRequest"));
    }
}
