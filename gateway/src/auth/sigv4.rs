//! AWS Signature Version 4 for S3: the Authorization header, presigned URLs (X-Amz-* query),
//! and the chunk/trailer signature chain of `aws-chunked` uploads. Test vectors are the AWS
//! S3 documentation's examples.

use chrono::{NaiveDateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{same, Auth, Credentials, Payload, SignedRequest};
use crate::s3::error::{S3Error, S3ErrorCode};

/// The algorithm name.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Largest allowed presigned lifetime: 7 days.
pub const MAX_EXPIRES: i64 = 7 * 24 * 3600;
/// Allowed clock difference for header-signed requests.
pub const MAX_SKEW: i64 = 15 * 60;

/// The SHA-256 of an empty string, hex.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    let mut m = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes any key length"),
    };
    m.update(data);
    m.finalize().into_bytes().into()
}

/// The SigV4 signing key for a date (YYYYMMDD), region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    hmac(&k, b"aws4_request")
}

/// URI-encode as SigV4 wants: unreserved characters kept, everything else `%XX` (uppercase);
/// `/` kept when `keep_slash`.
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                o.push(b as char)
            }
            b'/' if keep_slash => o.push('/'),
            _ => o.push_str(&format!("%{b:02X}")),
        }
    }
    o
}

fn canonical_query(raw: &str, skip_signature: bool) -> String {
    let mut pairs: Vec<(String, String)> = raw
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (uri_encode(&dec(k), false), uri_encode(&dec(v), false))
        })
        .filter(|(k, _)| !(skip_signature && k == "X-Amz-Signature"))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn canonical_headers(req: &SignedRequest<'_>, signed: &str) -> String {
    let mut out = String::new();
    for name in signed.split(';') {
        let values: Vec<String> = req
            .headers
            .get_all(name)
            .map(|v| {
                let s = String::from_utf8_lossy(v.as_bytes());
                s.split_whitespace().collect::<Vec<_>>().join(" ")
            })
            .collect();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out
}

/// Candidate canonical URIs: the path as sent, and the path re-encoded from its decoded form
/// (clients differ in which characters they escape).
fn canonical_uris(raw_path: &str) -> Vec<String> {
    let decoded = percent_encoding::percent_decode_str(raw_path).decode_utf8_lossy();
    let reencoded = uri_encode(&decoded, true);
    if reencoded == raw_path {
        vec![reencoded]
    } else {
        vec![raw_path.to_owned(), reencoded]
    }
}

fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    let h = hex::encode(Sha256::digest(canonical_request.as_bytes()));
    format!("{ALGORITHM}\n{amz_date}\n{scope}\n{h}")
}

/// Build the canonical request (exposed for tests).
pub fn canonical_request(
    req: &SignedRequest<'_>,
    uri: &str,
    signed_headers: &str,
    payload_hash: &str,
    presigned: bool,
) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method.as_str(),
        uri,
        canonical_query(req.raw_query, presigned),
        canonical_headers(req, signed_headers),
        signed_headers,
        payload_hash
    )
}

/// Parse `20130524T000000Z` to seconds since the epoch.
pub fn parse_amz_date(s: &str) -> Option<i64> {
    NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| Utc.from_utc_datetime(&t).timestamp())
}

struct Scope<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
}

/// A scope must name the endpoint's region; the error says which one it expects.
fn check_region(
    scope: &Scope<'_>,
    region: &str,
    code: S3ErrorCode,
    context: &str,
) -> Result<(), S3Error> {
    if scope.region == region {
        return Ok(());
    }
    let msg = format!(
        "{context}; the region '{}' is wrong; expecting '{region}'",
        scope.region
    );
    Err(S3Error::msg(code, msg).with("Region", region))
}

fn parse_credential(c: &str) -> Option<Scope<'_>> {
    let mut it = c.split('/');
    let s = Scope {
        access_key: it.next()?,
        date: it.next()?,
        region: it.next()?,
        service: it.next()?,
    };
    (it.next()? == "aws4_request" && it.next().is_none() && s.date.len() == 8).then_some(s)
}

/// Signs the chunks (and trailer) of a streaming upload, each chained to the previous
/// signature, starting from the request's own signature.
#[derive(Clone)]
pub struct ChunkSigner {
    key: [u8; 32],
    amz_date: String,
    scope: String,
    prev: String,
}

impl std::fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkSigner")
            .field("scope", &self.scope)
            .finish()
    }
}

impl ChunkSigner {
    /// A signer seeded with the request signature.
    pub fn new(key: [u8; 32], amz_date: &str, scope: &str, seed: &str) -> Self {
        ChunkSigner {
            key,
            amz_date: amz_date.into(),
            scope: scope.into(),
            prev: seed.into(),
        }
    }

    /// Check the signature of the next chunk, given the chunk's SHA-256, and advance.
    pub fn verify_chunk(&mut self, chunk_sha256: &[u8], given: &str) -> bool {
        let sts = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{EMPTY_SHA256}\n{}",
            self.amz_date,
            self.scope,
            self.prev,
            hex::encode(chunk_sha256)
        );
        self.advance(&sts, given)
    }

    /// Check the trailer signature, given the canonical trailer (`name:value\n` lines).
    pub fn verify_trailer(&mut self, canonical_trailer: &str, given: &str) -> bool {
        let sts = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
            self.amz_date,
            self.scope,
            self.prev,
            hex::encode(Sha256::digest(canonical_trailer.as_bytes()))
        );
        self.advance(&sts, given)
    }

    fn advance(&mut self, sts: &str, given: &str) -> bool {
        let sig = hex::encode(hmac(&self.key, sts.as_bytes()));
        let ok = same(sig.as_bytes(), given.as_bytes());
        self.prev = sig;
        ok
    }
}

fn malformed(msg: &'static str) -> S3Error {
    S3Error::msg(S3ErrorCode::AuthorizationHeaderMalformed, msg)
}

/// Verify an `Authorization: AWS4-HMAC-SHA256 ...` header.
pub fn verify_header(
    req: &SignedRequest<'_>,
    authz: &str,
    creds: &Credentials,
    now: i64,
) -> Result<Auth, S3Error> {
    let rest = authz.strip_prefix(ALGORITHM).unwrap_or(authz).trim();
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(malformed(
            "The authorization header is malformed; incomplete signature.",
        ));
    };
    let scope = parse_credential(credential).ok_or_else(|| {
        malformed("The authorization header is malformed; the Credential is mal-formed.")
    })?;
    check_region(
        &scope,
        req.region,
        S3ErrorCode::AuthorizationHeaderMalformed,
        "The authorization header is malformed",
    )?;
    let secret = creds
        .secret(scope.access_key)
        .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidAccessKeyId))?;
    let amz_date = req.header("x-amz-date").map(str::to_owned).or_else(|| {
        req.header("date")
            .and_then(|d| httpdate::parse_http_date(d).ok())
            .map(|t| {
                chrono::DateTime::<Utc>::from(t)
                    .format("%Y%m%dT%H%M%SZ")
                    .to_string()
            })
    });
    let amz_date = amz_date.ok_or_else(|| {
        S3Error::msg(
            S3ErrorCode::AccessDenied,
            "AWS authentication requires a valid Date or x-amz-date header",
        )
    })?;
    let t = parse_amz_date(&amz_date).ok_or_else(|| {
        S3Error::msg(
            S3ErrorCode::AccessDenied,
            "AWS authentication requires a valid Date or x-amz-date header",
        )
    })?;
    if (now - t).abs() > MAX_SKEW {
        return Err(S3Error::new(S3ErrorCode::RequestTimeTooSkewed)
            .with("RequestTime", amz_date.clone())
            .with(
                "ServerTime",
                Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            )
            .with("MaxAllowedSkewMilliseconds", "900000"));
    }
    if !amz_date.starts_with(scope.date) {
        return Err(malformed("The authorization header is malformed; the credential date does not match the request date."));
    }
    let payload_hash = req
        .header("x-amz-content-sha256")
        .or(req.body_sha256)
        .ok_or_else(|| {
            S3Error::msg(
                S3ErrorCode::InvalidRequest,
                "Missing required header for this request: x-amz-content-sha256",
            )
        })?;
    let payload = match payload_hash {
        "UNSIGNED-PAYLOAD" => Payload::Unsigned,
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" => Payload::StreamingSigned { trailer: false },
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" => Payload::StreamingSigned { trailer: true },
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => Payload::StreamingUnsignedTrailer,
        h => {
            let mut d = [0u8; 32];
            hex::decode_to_slice(h, &mut d).map_err(|_| {
                S3Error::msg(S3ErrorCode::InvalidArgument, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-... or a valid sha256 value.")
            })?;
            Payload::Sha256(d)
        }
    };
    let scope_str = format!(
        "{}/{}/{}/aws4_request",
        scope.date, scope.region, scope.service
    );
    let key = signing_key(secret, scope.date, scope.region, scope.service);
    let ok = canonical_uris(req.raw_path).iter().any(|uri| {
        let cr = canonical_request(req, uri, signed_headers, payload_hash, false);
        let sig = hex::encode(hmac(
            &key,
            string_to_sign(&amz_date, &scope_str, &cr).as_bytes(),
        ));
        same(sig.as_bytes(), signature.as_bytes())
    });
    if !ok {
        return Err(S3Error::new(S3ErrorCode::SignatureDoesNotMatch)
            .with("AWSAccessKeyId", scope.access_key));
    }
    let chunk_signer = matches!(payload, Payload::StreamingSigned { .. })
        .then(|| ChunkSigner::new(key, &amz_date, &scope_str, signature));
    Ok(Auth {
        access_key: Some(scope.access_key.to_owned()),
        payload,
        chunk_signer,
    })
}

/// Verify a presigned URL (`X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=...`).
pub fn verify_presigned(
    req: &SignedRequest<'_>,
    creds: &Credentials,
    now: i64,
) -> Result<Auth, S3Error> {
    let q = req.query;
    let qerr = |m: &'static str| S3Error::msg(S3ErrorCode::AuthorizationQueryParametersError, m);
    if q.get("X-Amz-Algorithm") != Some(ALGORITHM) {
        return Err(qerr("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""));
    }
    let (Some(credential), Some(amz_date), Some(expires), Some(signed_headers), Some(signature)) = (
        q.get("X-Amz-Credential"),
        q.get("X-Amz-Date"),
        q.get("X-Amz-Expires"),
        q.get("X-Amz-SignedHeaders"),
        q.get("X-Amz-Signature"),
    ) else {
        return Err(qerr("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."));
    };
    let scope = parse_credential(credential).ok_or_else(|| qerr("Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."))?;
    check_region(
        &scope,
        req.region,
        S3ErrorCode::AuthorizationQueryParametersError,
        "Error parsing the X-Amz-Credential parameter",
    )?;
    let t = parse_amz_date(amz_date).ok_or_else(|| {
        qerr("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
    })?;
    let expires: i64 = expires
        .parse()
        .map_err(|_| qerr("X-Amz-Expires should be a number"))?;
    if expires < 0 {
        return Err(qerr("X-Amz-Expires must be non-negative"));
    }
    if expires > MAX_EXPIRES {
        return Err(qerr(
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        ));
    }
    let secret = creds
        .secret(scope.access_key)
        .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidAccessKeyId))?;
    if t > now + MAX_SKEW {
        return Err(S3Error::msg(
            S3ErrorCode::AccessDenied,
            "Request is not valid yet",
        ));
    }
    if now > t + expires {
        return Err(
            S3Error::msg(S3ErrorCode::AccessDenied, "Request has expired")
                .with("X-Amz-Expires", expires.to_string()),
        );
    }
    let payload_hash = req
        .header("x-amz-content-sha256")
        .unwrap_or("UNSIGNED-PAYLOAD");
    let scope_str = format!(
        "{}/{}/{}/aws4_request",
        scope.date, scope.region, scope.service
    );
    let key = signing_key(secret, scope.date, scope.region, scope.service);
    let ok = canonical_uris(req.raw_path).iter().any(|uri| {
        let cr = canonical_request(req, uri, signed_headers, payload_hash, true);
        let sig = hex::encode(hmac(
            &key,
            string_to_sign(amz_date, &scope_str, &cr).as_bytes(),
        ));
        same(sig.as_bytes(), signature.as_bytes())
    });
    if !ok {
        return Err(S3Error::new(S3ErrorCode::SignatureDoesNotMatch)
            .with("AWSAccessKeyId", scope.access_key));
    }
    Ok(Auth {
        access_key: Some(scope.access_key.to_owned()),
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

    const AK: &str = "AKIAIOSFODNN7EXAMPLE";
    const SK: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const T: i64 = 1_369_353_600; // 2013-05-24T00:00:00Z

    fn headers(h: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in h {
            m.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        m
    }

    fn creds() -> Credentials {
        let mut c = Credentials::default();
        c.insert(AK, SK);
        c
    }

    #[test]
    fn aws_doc_get_object_example() {
        // "Example: GET Object" from the S3 SigV4 header-based auth documentation.
        let h = headers(&[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
            ("authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
        ]);
        let q = Query::default();
        let req = SignedRequest {
            method: &Method::GET,
            raw_path: "/test.txt",
            raw_query: "",
            query: &q,
            headers: &h,
            vhost_bucket: Some("examplebucket"),
            region: "us-east-1",
            body_sha256: None,
        };
        let a = verify_header(
            &req,
            h.get("authorization").unwrap().to_str().unwrap(),
            &creds(),
            T,
        )
        .unwrap();
        assert_eq!(a.access_key.as_deref(), Some(AK));
        // A wrong secret, or a time more than 15 minutes off, is refused.
        let mut bad = Credentials::default();
        bad.insert(AK, "nope");
        let e = verify_header(
            &req,
            h.get("authorization").unwrap().to_str().unwrap(),
            &bad,
            T,
        )
        .unwrap_err();
        assert_eq!(e.code, S3ErrorCode::SignatureDoesNotMatch);
        let e = verify_header(
            &req,
            h.get("authorization").unwrap().to_str().unwrap(),
            &creds(),
            T + 901,
        )
        .unwrap_err();
        assert_eq!(e.code, S3ErrorCode::RequestTimeTooSkewed);
        // A scope naming another region than the endpoint's is malformed, and says which.
        let other = SignedRequest {
            region: "eu-west-1",
            ..req
        };
        let e = verify_header(
            &other,
            h.get("authorization").unwrap().to_str().unwrap(),
            &creds(),
            T,
        )
        .unwrap_err();
        assert_eq!(e.code, S3ErrorCode::AuthorizationHeaderMalformed);
        assert!(e.extra.contains(&("Region", "eu-west-1".into())), "{e:?}");
    }

    #[test]
    fn aws_doc_presigned_example() {
        let raw = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
        let q = Query::parse(raw);
        let h = headers(&[("host", "examplebucket.s3.amazonaws.com")]);
        let req = SignedRequest {
            method: &Method::GET,
            raw_path: "/test.txt",
            raw_query: raw,
            query: &q,
            headers: &h,
            vhost_bucket: Some("examplebucket"),
            region: "us-east-1",
            body_sha256: None,
        };
        assert!(verify_presigned(&req, &creds(), T + 10).is_ok());
        let e = verify_presigned(&req, &creds(), T + 86_401).unwrap_err();
        assert_eq!(e.code, S3ErrorCode::AccessDenied);
    }

    #[test]
    fn presigned_lifetime_is_at_most_a_week() {
        let raw = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=604801&X-Amz-SignedHeaders=host&X-Amz-Signature=00";
        let q = Query::parse(raw);
        let h = headers(&[("host", "x")]);
        let req = SignedRequest {
            method: &Method::GET,
            raw_path: "/b/k",
            raw_query: raw,
            query: &q,
            headers: &h,
            vhost_bucket: None,
            region: "us-east-1",
            body_sha256: None,
        };
        assert_eq!(
            verify_presigned(&req, &creds(), T).unwrap_err().code,
            S3ErrorCode::AuthorizationQueryParametersError
        );
    }

    #[test]
    fn aws_doc_chunk_signatures() {
        // "Example Calculations" for STREAMING-AWS4-HMAC-SHA256-PAYLOAD: 65536 + 1024 bytes of 'a'.
        let key = signing_key(SK, "20130524", "us-east-1", "s3");
        let mut s = ChunkSigner::new(
            key,
            "20130524T000000Z",
            "20130524/us-east-1/s3/aws4_request",
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        );
        assert!(s.verify_chunk(
            &Sha256::digest(vec![b'a'; 65536]),
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
        ));
        assert!(s.verify_chunk(
            &Sha256::digest(vec![b'a'; 1024]),
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
        ));
        assert!(s.verify_chunk(
            &Sha256::digest(b""),
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
        ));
    }

    #[test]
    fn uri_encoding() {
        assert_eq!(uri_encode("a b/c~d+e", true), "a%20b/c~d%2Be");
        assert_eq!(uri_encode("a/b", false), "a%2Fb");
        assert_eq!(canonical_query("b=2&a=1&a=0&c", false), "a=0&a=1&b=2&c=");
    }
}
