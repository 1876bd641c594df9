//! AWS Signature Version 2 (`Authorization: AWS key:sig` and `?AWSAccessKeyId=&Expires=&
//! Signature=`): HMAC-SHA1 over the method, Content-MD5, Content-Type, date, `x-amz-*` headers
//! and the canonical resource with its signed sub-resources.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::{same, Auth, Credentials, Payload, SignedRequest};
use crate::s3::error::{S3Error, S3ErrorCode};

/// Sub-resources included in the string to sign, in sorted order.
const SUBRESOURCES: &[&str] = &[
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// The SigV2 signature of `sts`: base64 of its HMAC-SHA1 under `secret` (also what signs a
/// POST Object form's policy).
pub fn sign(secret: &str, sts: &str) -> String {
    let mut m = match Hmac::<Sha1>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes any key length"),
    };
    m.update(sts.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
}

/// The SigV2 string to sign; `date` is the Date header (or Expires for presigned URLs).
pub fn string_to_sign(req: &SignedRequest<'_>, date: &str) -> String {
    let h = |n: &str| req.header(n).unwrap_or_default().to_owned();
    let mut amz: Vec<(String, String)> = Vec::new();
    for (name, value) in req.headers.iter() {
        let n = name.as_str().to_ascii_lowercase();
        if n.starts_with("x-amz-") {
            let v = String::from_utf8_lossy(value.as_bytes()).trim().to_owned();
            match amz.iter_mut().find(|(k, _)| *k == n) {
                Some((_, existing)) => {
                    existing.push(',');
                    existing.push_str(&v);
                }
                None => amz.push((n, v)),
            }
        }
    }
    amz.sort();
    let mut resource = String::new();
    if let Some(b) = req.vhost_bucket {
        resource.push('/');
        resource.push_str(b);
    }
    resource.push_str(req.raw_path);
    let mut subs: Vec<String> = req
        .query
        .0
        .iter()
        .filter(|(k, _)| SUBRESOURCES.contains(&k.as_str()))
        .map(|(k, v)| {
            if v.is_empty() {
                k.clone()
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    subs.sort();
    if !subs.is_empty() {
        resource.push('?');
        resource.push_str(&subs.join("&"));
    }
    let mut sts = format!(
        "{}\n{}\n{}\n{}\n",
        req.method.as_str(),
        h("content-md5"),
        h("content-type"),
        date
    );
    for (k, v) in amz {
        sts.push_str(&format!("{k}:{v}\n"));
    }
    sts.push_str(&resource);
    sts
}

/// Seconds since the epoch of a SigV2 `Date` or `x-amz-date`: an HTTP date (`GMT`), or an
/// RFC 2822 date with a numeric zone (`+0000`, as s3cmd and older SDKs send it).
fn request_time(value: &str) -> Option<i64> {
    if let Ok(t) = httpdate::parse_http_date(value) {
        return t
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_secs()).ok());
    }
    chrono::DateTime::parse_from_rfc2822(value.trim())
        .ok()
        .map(|d| d.timestamp())
}

/// Verify `Authorization: AWS key:signature`.
pub fn verify_header(
    req: &SignedRequest<'_>,
    authz: &str,
    creds: &Credentials,
    now: i64,
) -> Result<Auth, S3Error> {
    let (ak, sig) = authz
        .strip_prefix("AWS ")
        .and_then(|r| r.rsplit_once(':'))
        .ok_or_else(|| {
            S3Error::msg(
                S3ErrorCode::InvalidArgument,
                "Authorization header is invalid",
            )
        })?;
    let secret = creds
        .secret(ak)
        .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidAccessKeyId))?;
    let date_value = req
        .header("x-amz-date")
        .or_else(|| req.header("date"))
        .unwrap_or_default();
    let t = request_time(date_value).ok_or_else(|| {
        S3Error::msg(
            S3ErrorCode::AccessDenied,
            "AWS authentication requires a valid Date or x-amz-date header",
        )
    })?;
    if (now - t).abs() > super::sigv4::MAX_SKEW {
        return Err(S3Error::new(S3ErrorCode::RequestTimeTooSkewed)
            .with("RequestTime", date_value)
            .with(
                "ServerTime",
                chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            )
            .with("MaxAllowedSkewMilliseconds", "900000"));
    }
    // With x-amz-date, the Date line is empty (x-amz-date is signed among the amz headers).
    let date_line = if req.header("x-amz-date").is_some() {
        ""
    } else {
        date_value
    };
    let want = sign(secret, &string_to_sign(req, date_line));
    if !same(want.as_bytes(), sig.as_bytes()) {
        return Err(S3Error::new(S3ErrorCode::SignatureDoesNotMatch).with("AWSAccessKeyId", ak));
    }
    Ok(Auth {
        access_key: Some(ak.to_owned()),
        payload: Payload::Unsigned,
        chunk_signer: None,
    })
}

/// Verify a SigV2 presigned URL.
pub fn verify_presigned(
    req: &SignedRequest<'_>,
    creds: &Credentials,
    now: i64,
) -> Result<Auth, S3Error> {
    let q = req.query;
    let (Some(ak), Some(expires), Some(sig)) = (
        q.get("AWSAccessKeyId"),
        q.get("Expires"),
        q.get("Signature"),
    ) else {
        return Err(S3Error::msg(
            S3ErrorCode::AccessDenied,
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
        ));
    };
    let exp: i64 = expires.parse().map_err(|_| {
        S3Error::msg(
            S3ErrorCode::AccessDenied,
            "Invalid date (should be seconds since epoch)",
        )
    })?;
    let secret = creds
        .secret(ak)
        .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidAccessKeyId))?;
    if now > exp {
        return Err(
            S3Error::msg(S3ErrorCode::AccessDenied, "Request has expired").with("Expires", expires),
        );
    }
    let want = sign(secret, &string_to_sign(req, expires));
    if !same(want.as_bytes(), sig.as_bytes()) {
        return Err(S3Error::new(S3ErrorCode::SignatureDoesNotMatch).with("AWSAccessKeyId", ak));
    }
    Ok(Auth {
        access_key: Some(ak.to_owned()),
        payload: Payload::Unsigned,
        chunk_signer: None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::s3::router::Query;
    use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
    use actix_web::http::Method;

    #[test]
    fn dates_in_http_and_rfc2822_form() {
        let t = 1_796_560_800; // 2026-12-06T12:40:00Z
        assert_eq!(request_time("Sun, 06 Dec 2026 12:40:00 GMT"), Some(t));
        assert_eq!(request_time("Sun, 06 Dec 2026 12:40:00 +0000"), Some(t));
        assert_eq!(request_time("Sun, 06 Dec 2026 13:40:00 +0100"), Some(t));
        assert_eq!(request_time("20261206T124000Z"), None);
        assert_eq!(request_time("yesterday"), None);
    }

    #[test]
    fn aws_doc_object_get_example() {
        // The "Object GET" example of the S3 REST authentication (SigV2) documentation.
        let mut h = HeaderMap::new();
        h.insert(
            HeaderName::from_static("host"),
            HeaderValue::from_static("awsexamplebucket1.us-west-1.s3.amazonaws.com"),
        );
        h.insert(
            HeaderName::from_static("date"),
            HeaderValue::from_static("Tue, 27 Mar 2007 19:36:42 +0000"),
        );
        let q = Query::default();
        let req = SignedRequest {
            method: &Method::GET,
            raw_path: "/photos/puppy.jpg",
            raw_query: "",
            query: &q,
            headers: &h,
            vhost_bucket: Some("awsexamplebucket1"),
            region: "us-east-1",
            body_sha256: None,
        };
        let sts = string_to_sign(&req, "Tue, 27 Mar 2007 19:36:42 +0000");
        assert_eq!(
            sts,
            "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg"
        );
        assert_eq!(
            sign("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", &sts),
            "qgk2+6Sv9/oM7G3qLEjTH1a1l1g="
        );
    }

    #[test]
    fn presigned_v2_expiry_and_signature() {
        let mut c = Credentials::default();
        c.insert("AK", "SK");
        let h = HeaderMap::new();
        let q0 = Query::default();
        let base = SignedRequest {
            method: &Method::GET,
            raw_path: "/b/k",
            raw_query: "",
            query: &q0,
            headers: &h,
            vhost_bucket: None,
            region: "us-east-1",
            body_sha256: None,
        };
        let sig = sign("SK", &string_to_sign(&base, "2000"));
        let raw = format!(
            "AWSAccessKeyId=AK&Expires=2000&Signature={}",
            percent_encoding::utf8_percent_encode(&sig, percent_encoding::NON_ALPHANUMERIC)
        );
        let q = Query::parse(&raw);
        let req = SignedRequest {
            query: &q,
            raw_query: &raw,
            ..base
        };
        assert!(verify_presigned(&req, &c, 1999).is_ok());
        assert_eq!(
            verify_presigned(&req, &c, 2001).unwrap_err().code,
            S3ErrorCode::AccessDenied
        );
    }
}
