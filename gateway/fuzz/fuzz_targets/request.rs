//! Fuzz what a request's head controls: routing (method, path, query), the S3 headers the
//! gateway reads (Range, copy source, preconditions, checksums, Content-MD5, metadata, ACL and
//! tagging headers, storage class, SSE, Object Lock, website redirects) and authentication
//! (SigV4 and SigV2, header and presigned). Any head must be answered or refused with an S3
//! error, never panic; a Range that is accepted must lie inside the object.
//!
//! Input: `METHOD\nPATH\nQUERY\nname: value\n...`, the object size taken from the path's
//! length so that ranges meet both small and empty objects.
#![no_main]

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::Method;
use coffer_gateway::auth::{self, Credentials, SignedRequest};
use coffer_gateway::s3::headers::{self, CopySource, Preconditions};
use coffer_gateway::s3::ops::{acl, put, tagging};
use coffer_gateway::s3::router::{Endpoint, Query};
use coffer_gateway::s3::{names, object_lock, sse, website};
use libfuzzer_sys::fuzz_target;

/// 2023-11-14T22:13:20Z: signatures dated near it are inside the allowed skew.
const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n');
    let method = lines
        .next()
        .and_then(|m| Method::from_bytes(m).ok())
        .unwrap_or(Method::GET);
    let raw_path = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let raw_query = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let mut h = HeaderMap::new();
    for l in lines {
        let Some(colon) = l.iter().position(|&b| b == b':') else {
            continue;
        };
        let (n, v) = (&l[..colon], l[colon + 1..].trim_ascii());
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(n), HeaderValue::from_bytes(v)) {
            h.append(n, v);
        }
    }

    let q = Query::parse(&raw_query);
    let path = raw_path.strip_prefix('/').unwrap_or(&raw_path);
    let (bucket, key) = match path.split_once('/') {
        Some((b, k)) => (Some(b), Some(k)),
        None if path.is_empty() => (None, None),
        None => (Some(path), None),
    };
    if let Some(b) = bucket {
        let _ = names::valid_bucket_name(b);
    }
    let copy = h.contains_key("x-amz-copy-source");
    if let Ok(ep) = Endpoint::route(&method, bucket, key, &q, copy) {
        let _ = (ep.name(), ep.action(), ep.manages_policy());
        let _ = sse::check(&ep, &h);
        let _ = object_lock::check(&ep, &h);
        let _ = website::check(&ep, &h);
    }

    let size = raw_path.len() as u64;
    if let Ok(Some(r)) = headers::parse_range(headers::get(&h, "range"), size) {
        assert!(
            r.start < r.end && r.end <= size,
            "range {r:?} outside {size} bytes"
        );
    }
    let _ = CopySource::from_headers(&h);
    let _ = Preconditions::from_headers(&h);
    let _ = Preconditions::copy_source(&h);
    let _ = headers::content_md5(&h);
    let _ = headers::checksum_request(&h);
    let _ = headers::user_meta(&h);
    let _ = headers::content_headers(&h);
    let _ = put::storage_class(&h);
    let _ = put::write_precondition(&h);
    let _ = tagging::from_header(&h);
    if let Ok(asked) = acl::requested(&h) {
        let _ = asked.resolve("AKIDFUZZ", "AKIDOWNER");
    }

    let mut creds = Credentials::default();
    creds.insert("AKIDFUZZ", "fuzz-secret-key");
    let req = SignedRequest {
        method: &method,
        raw_path: &raw_path,
        raw_query: &raw_query,
        query: &q,
        headers: &h,
        vhost_bucket: None,
        region: "us-east-1",
        body_sha256: None,
    };
    let _ = auth::claimed_access_key(&req);
    let _ = auth::authenticate(&req, &creds, NOW);
    let req = SignedRequest {
        vhost_bucket: bucket,
        body_sha256: Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ..req
    };
    let _ = auth::authenticate(&req, &creds, NOW);
});
