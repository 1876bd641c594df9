//! Request authentication: AWS Signature V4 (Authorization header, presigned query, streaming
//! chunk signatures) and Signature V2 (header and query, as aws CLI v1's `s3 presign` makes).
//! Produces the caller's identity and how the payload must be verified. Signature comparison is
//! constant-time; secrets never leave this module's inputs.

pub mod chunked;
pub mod credentials;
pub mod sigv2;
pub mod sigv4;

use actix_web::http::header::HeaderMap;
use actix_web::http::Method;

pub use credentials::Credentials;

use crate::s3::error::{S3Error, S3ErrorCode};
use crate::s3::router::Query;

/// How the request body must be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Not signed (UNSIGNED-PAYLOAD, SigV2, anonymous).
    Unsigned,
    /// The body's SHA-256 must equal this.
    Sha256([u8; 32]),
    /// aws-chunked with signed chunks (and a signed trailer when `trailer`).
    StreamingSigned {
        /// Whether a signed trailer follows the last chunk.
        trailer: bool,
    },
    /// aws-chunked, unsigned chunks, trailing checksum.
    StreamingUnsignedTrailer,
}

/// What authentication established.
#[derive(Debug, Clone)]
pub struct Auth {
    /// Access key id of the caller (None for anonymous).
    pub access_key: Option<String>,
    /// Payload verification.
    pub payload: Payload,
    /// For signed streaming: the chunk signer seeded with the request signature.
    pub chunk_signer: Option<sigv4::ChunkSigner>,
}

/// The parts of a request that signatures cover.
pub struct SignedRequest<'a> {
    /// Method.
    pub method: &'a Method,
    /// Path exactly as received (still percent-encoded).
    pub raw_path: &'a str,
    /// Query string exactly as received.
    pub raw_query: &'a str,
    /// Decoded query.
    pub query: &'a Query,
    /// Headers.
    pub headers: &'a HeaderMap,
    /// Bucket from virtual-host addressing, if used (SigV2 resources include it).
    pub vhost_bucket: Option<&'a str>,
    /// The region this endpoint serves: SigV4 credential scopes must name it.
    pub region: &'a str,
    /// The body's SHA-256 (hex), when the gateway has read it before authenticating: the
    /// payload hash of SigV4 requests that send no x-amz-content-sha256 (other services than
    /// S3, such as IAM, sign the body without naming its hash).
    pub body_sha256: Option<&'a str>,
}

impl SignedRequest<'_> {
    /// A header as a string (None if absent or not visible ASCII).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// How a request carries a signature, from its head alone (not verified): what policies see
/// as `s3:authType` and `s3:signatureversion`, and what the access log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed {
    /// In the query string (a presigned URL) rather than the `Authorization` header.
    pub in_query: bool,
    /// Signature Version 4 (else 2).
    pub v4: bool,
}

/// How a request with `headers` and `query` is signed (None: it is not).
pub fn how_signed(headers: &HeaderMap, query: &Query) -> Option<Signed> {
    let signed = |in_query, v4| Some(Signed { in_query, v4 });
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(a) if a.starts_with("AWS4-") => signed(false, true),
        Some(_) => signed(false, false),
        None if query.has("X-Amz-Algorithm") => signed(true, true),
        None if query.has("AWSAccessKeyId") => signed(true, false),
        None => None,
    }
}

/// The access key id a request claims to be signed with, from whichever signature form it
/// uses (None for anonymous requests or a form too malformed to name one).
pub fn claimed_access_key(req: &SignedRequest<'_>) -> Option<String> {
    let from_credential = |c: &str| c.split('/').next().map(str::to_owned);
    match req.header("authorization") {
        Some(a) if a.starts_with(sigv4::ALGORITHM) => a
            .split([' ', ','])
            .find_map(|p| p.trim().strip_prefix("Credential="))
            .and_then(from_credential),
        Some(a) => a
            .strip_prefix("AWS ")
            .and_then(|r| r.rsplit_once(':'))
            .map(|(ak, _)| ak.to_owned()),
        None => req
            .query
            .get("X-Amz-Credential")
            .and_then(from_credential)
            .or_else(|| req.query.get("AWSAccessKeyId").map(str::to_owned)),
    }
}

/// Authenticate a request at time `now` (seconds since the epoch).
pub fn authenticate(
    req: &SignedRequest<'_>,
    creds: &Credentials,
    now: i64,
) -> Result<Auth, S3Error> {
    let authz = req.header("authorization");
    match authz {
        Some(a) if a.starts_with(sigv4::ALGORITHM) => sigv4::verify_header(req, a, creds, now),
        Some(a) if a.starts_with("AWS ") => sigv2::verify_header(req, a, creds, now),
        Some(_) => Err(S3Error::msg(
            S3ErrorCode::InvalidArgument,
            "Unsupported Authorization Type",
        )),
        None if req.query.has("X-Amz-Algorithm") => sigv4::verify_presigned(req, creds, now),
        None if req.query.has("AWSAccessKeyId") => sigv2::verify_presigned(req, creds, now),
        None => Ok(Auth::anonymous()),
    }
}

impl Auth {
    /// An anonymous caller's: nothing to verify in the body.
    pub fn anonymous() -> Auth {
        Auth {
            access_key: None,
            payload: Payload::Unsigned,
            chunk_signer: None,
        }
    }
}

/// Constant-time comparison of two signatures.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn claimed(h: &[(&str, &str)], query: &str) -> Option<String> {
        let mut m = HeaderMap::new();
        for (k, v) in h {
            m.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let q = Query::parse(query);
        claimed_access_key(&SignedRequest {
            method: &Method::GET,
            raw_path: "/b/k",
            raw_query: query,
            query: &q,
            headers: &m,
            vhost_bucket: None,
            region: "us-east-1",
            body_sha256: None,
        })
    }

    #[test]
    fn the_claimed_access_key_of_every_signature_form() {
        let v4 = "AWS4-HMAC-SHA256 Credential=AKIAV4/20130524/us-east-1/s3/aws4_request, \
                  SignedHeaders=host, Signature=abc";
        assert_eq!(
            claimed(&[("authorization", v4)], "").as_deref(),
            Some("AKIAV4")
        );
        let v4 = "AWS4-HMAC-SHA256 Credential=AKIAV4B/20130524/us-east-1/s3/aws4_request,\
                  SignedHeaders=host,Signature=abc";
        assert_eq!(
            claimed(&[("authorization", v4)], "").as_deref(),
            Some("AKIAV4B")
        );
        assert_eq!(
            claimed(&[("authorization", "AWS AKIAV2:c2ln")], "").as_deref(),
            Some("AKIAV2")
        );
        assert_eq!(
            claimed(
                &[],
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAQ4%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            )
            .as_deref(),
            Some("AKIAQ4")
        );
        assert_eq!(
            claimed(&[], "AWSAccessKeyId=AKIAQ2&Signature=x&Expires=1").as_deref(),
            Some("AKIAQ2")
        );
        assert_eq!(claimed(&[], ""), None);
        assert_eq!(claimed(&[("authorization", "Bearer x")], ""), None);
    }
}
