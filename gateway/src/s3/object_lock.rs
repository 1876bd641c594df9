//! Object Lock request headers. Object Lock is not built yet, so no bucket has it:
//! - a bucket cannot be created with it (NotImplemented), rather than created without it;
//! - a write that asks to lock what it writes gets S3's answer for a bucket without Object
//!   Lock (400 InvalidRequest), rather than a 200 for an object anyone may delete.

use actix_web::http::header::HeaderMap;

use super::error::{S3Error, S3ErrorCode, S3Result};
use super::router::Endpoint;

/// The headers that lock an object as it is written.
const LOCK: [&str; 3] = [
    "x-amz-object-lock-mode",
    "x-amz-object-lock-retain-until-date",
    "x-amz-object-lock-legal-hold",
];
/// The CreateBucket header that turns Object Lock on.
const ENABLED: &str = "x-amz-bucket-object-lock-enabled";

/// Check a request's Object Lock headers for `endpoint`.
pub fn check(endpoint: &Endpoint, headers: &HeaderMap) -> S3Result<()> {
    match endpoint {
        Endpoint::CreateBucket => {
            let on = headers
                .get(ENABLED)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            if on {
                return Err(S3Error::msg(
                    S3ErrorCode::NotImplemented,
                    "Object Lock is not implemented yet by this server",
                )
                .with("Header", ENABLED));
            }
            Ok(())
        }
        Endpoint::PutObject { .. }
        | Endpoint::CopyObject { .. }
        | Endpoint::CreateMultipartUpload { .. } => {
            if LOCK.iter().any(|h| headers.contains_key(*h)) {
                return Err(S3Error::msg(
                    S3ErrorCode::InvalidRequest,
                    "Bucket is missing Object Lock Configuration",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn with(name: &str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
        h
    }

    fn code(r: S3Result<()>) -> Option<&'static str> {
        r.err().map(|e| e.code.as_str())
    }

    #[test]
    fn a_locked_bucket_is_not_implemented() {
        let create = Endpoint::CreateBucket;
        assert_eq!(
            code(check(&create, &with(ENABLED, "True"))),
            Some("NotImplemented")
        );
        assert_eq!(code(check(&create, &with(ENABLED, "false"))), None);
        assert_eq!(code(check(&create, &HeaderMap::new())), None);
    }

    #[test]
    fn a_locked_write_finds_no_lock_configuration() {
        for h in LOCK {
            for e in [
                Endpoint::PutObject { key: "k".into() },
                Endpoint::CopyObject { key: "k".into() },
                Endpoint::CreateMultipartUpload { key: "k".into() },
            ] {
                assert_eq!(code(check(&e, &with(h, "ON"))), Some("InvalidRequest"));
            }
        }
        let get = Endpoint::GetObject { key: "k".into() };
        assert_eq!(code(check(&get, &with(LOCK[0], "GOVERNANCE"))), None);
    }
}
