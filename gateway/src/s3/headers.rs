//! Typed extractors for headers that several operations share: content headers, user
//! metadata, conditional requests, byte ranges, checksums and time formats. Handlers call these;
//! none of this is parsed inline in a handler.

use actix_web::http::header::HeaderMap;
use base64::Engine;
use coffer_proto::types::{ChecksumAlgorithm, ContentHeaders, ObjectVersion};

use super::error::{S3Error, S3ErrorCode};

/// A header as text.
pub fn get<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// A header value as text to keep and send back: UTF-8 as it is, other bytes as ISO-8859-1
/// (one character per byte), so that nothing a client sent is dropped or replaced. (`get`
/// sees only visible ASCII: a file name with an accent would vanish from the object.)
pub fn stored_text(value: &[u8]) -> String {
    match std::str::from_utf8(value) {
        Ok(s) => s.to_owned(),
        Err(_) => value.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Standard content headers of a write.
pub fn content_headers(h: &HeaderMap) -> ContentHeaders {
    let s = |n| h.get(n).map(|v| stored_text(v.as_bytes()));
    ContentHeaders {
        content_type: s("content-type"),
        content_encoding: s("content-encoding")
            .map(|e| {
                e.split(',')
                    .map(str::trim)
                    .filter(|p| *p != "aws-chunked")
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .filter(|e| !e.is_empty()),
        content_disposition: s("content-disposition"),
        content_language: s("content-language"),
        cache_control: s("cache-control"),
        expires: s("expires"),
    }
}

/// Most user metadata S3 accepts (names and values, in bytes).
pub const MAX_USER_META: usize = 2048;

/// `x-amz-meta-*` headers (names lowercased, prefix removed).
pub fn user_meta(h: &HeaderMap) -> Result<Vec<(String, String)>, S3Error> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut total = 0;
    for (name, value) in h.iter() {
        if let Some(n) = name.as_str().strip_prefix("x-amz-meta-") {
            let v = stored_text(value.as_bytes());
            total += n.len() + v.len();
            match out.iter_mut().find(|(k, _)| k == n) {
                Some((_, existing)) => {
                    existing.push(',');
                    existing.push_str(&v);
                }
                None => out.push((n.to_owned(), v)),
            }
        }
    }
    if total > MAX_USER_META {
        return Err(S3Error::new(S3ErrorCode::MetadataTooLarge));
    }
    out.sort();
    Ok(out)
}

/// Milliseconds since the epoch → RFC 7231 date (Last-Modified).
pub fn http_date(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs((ms / 1000).max(0) as u64);
    httpdate::fmt_http_date(t)
}

/// Milliseconds since the epoch → ISO 8601 with milliseconds (XML timestamps).
pub fn iso_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn parse_time(v: &str) -> Option<i64> {
    httpdate::parse_http_date(v)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
}

fn etag_list_matches(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(|e| e.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|e| e == "*" || e == etag)
}

/// `x-amz-copy-source`: `bucket/key` or `/bucket/key`, URL-encoded, with `?versionId=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySource {
    /// Source bucket.
    pub bucket: String,
    /// Source key.
    pub key: String,
    /// Version asked for.
    pub version_id: Option<String>,
}

impl CopySource {
    /// Parse the header (InvalidArgument when it names no bucket and key).
    pub fn from_headers(h: &HeaderMap) -> Result<CopySource, S3Error> {
        let raw = get(h, "x-amz-copy-source").unwrap_or_default();
        let (path, version) = match raw.split_once("?versionId=") {
            Some((p, v)) => (p, Some(v.to_owned())),
            None => (raw, None),
        };
        let decoded = percent_encoding::percent_decode_str(path.trim_start_matches('/'))
            .decode_utf8()
            .map_err(|_| {
                S3Error::msg(S3ErrorCode::InvalidArgument, "Invalid copy source encoding")
            })?;
        let (bucket, key) = decoded
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(|| {
                S3Error::msg(
                    S3ErrorCode::InvalidArgument,
                    "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                )
                .with("ArgumentName", "x-amz-copy-source")
            })?;
        Ok(CopySource {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version_id: version,
        })
    }
}

/// Conditional request headers (`If-*`, or `x-amz-copy-source-if-*` for a copy source).
#[derive(Debug, Default)]
pub struct Preconditions {
    if_match: Option<String>,
    if_none_match: Option<String>,
    if_modified_since: Option<i64>,
    if_unmodified_since: Option<i64>,
}

impl Preconditions {
    /// Read the `If-*` headers.
    pub fn from_headers(h: &HeaderMap) -> Self {
        Self::with_prefix(h, "if-")
    }

    /// Read the `x-amz-copy-source-if-*` headers.
    pub fn copy_source(h: &HeaderMap) -> Self {
        Self::with_prefix(h, "x-amz-copy-source-if-")
    }

    fn with_prefix(h: &HeaderMap, p: &str) -> Self {
        Preconditions {
            if_match: get(h, &format!("{p}match")).map(str::to_owned),
            if_none_match: get(h, &format!("{p}none-match")).map(str::to_owned),
            if_modified_since: get(h, &format!("{p}modified-since")).and_then(parse_time),
            if_unmodified_since: get(h, &format!("{p}unmodified-since")).and_then(parse_time),
        }
    }

    /// Evaluate against an object as RFC 7232 and S3 do: 412 PreconditionFailed or 304
    /// NotModified (`copy` turns 304 cases into 412, as CopyObject does).
    pub fn check(&self, v: &ObjectVersion, copy: bool) -> Result<(), S3Error> {
        let lm = v.last_modified_ms / 1000;
        let failed = || {
            let e = S3Error::new(S3ErrorCode::PreconditionFailed);
            if copy {
                e
            } else {
                e.with("Condition", "If-Match")
            }
        };
        let not_modified = || {
            if copy {
                S3Error::new(S3ErrorCode::PreconditionFailed)
            } else {
                let mut e = S3Error::new(S3ErrorCode::NotModified);
                e.headers.push(("etag", format!("\"{}\"", v.etag)));
                e.headers
                    .push(("last-modified", http_date(v.last_modified_ms)));
                e
            }
        };
        if let Some(m) = &self.if_match {
            if !etag_list_matches(m, &v.etag) {
                return Err(failed());
            }
        } else if let Some(t) = self.if_unmodified_since {
            if lm > t {
                return Err(failed());
            }
        }
        if let Some(m) = &self.if_none_match {
            if etag_list_matches(m, &v.etag) {
                return Err(not_modified());
            }
        } else if let Some(t) = self.if_modified_since {
            if lm <= t {
                return Err(not_modified());
            }
        }
        Ok(())
    }
}

/// A satisfiable byte range `start..end` (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

/// Parse a `Range` header against an object of `size` bytes. Syntactically invalid or multi-
/// range headers are ignored (the whole object is returned, as S3 does); a valid range that
/// cannot be satisfied is InvalidRange (416).
pub fn parse_range(v: Option<&str>, size: u64) -> Result<Option<ByteRange>, S3Error> {
    let Some(spec) = v.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let unsatisfiable = || {
        let mut e = S3Error::new(S3ErrorCode::InvalidRange)
            .with("RangeRequested", format!("bytes={spec}"))
            .with("ActualObjectSize", size.to_string());
        e.headers.push(("content-range", format!("bytes */{size}")));
        e
    };
    let r = match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(s), Ok(e)) if s <= e => {
            if s >= size {
                return Err(unsatisfiable());
            }
            ByteRange {
                start: s,
                // `e` may be u64::MAX; `s < size`, so the last byte is `size - 1` at most.
                end: e.min(size - 1) + 1,
            }
        }
        (Ok(s), Err(_)) if b.is_empty() => {
            if s >= size {
                return Err(unsatisfiable());
            }
            ByteRange {
                start: s,
                end: size,
            }
        }
        (Err(_), Ok(n)) if a.is_empty() => {
            if n == 0 {
                return Err(unsatisfiable());
            }
            if size == 0 {
                // The last n bytes of an empty object: the whole (empty) object, 200, as S3
                // answers tail reads of empty files.
                return Ok(None);
            }
            ByteRange {
                start: size.saturating_sub(n),
                end: size,
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(r))
}

/// Algorithm from its S3 name (`CRC32`, `crc32c`, ...).
pub fn checksum_algorithm(name: &str) -> Option<ChecksumAlgorithm> {
    Some(match name.to_ascii_uppercase().as_str() {
        "CRC32" => ChecksumAlgorithm::Crc32,
        "CRC32C" => ChecksumAlgorithm::Crc32c,
        "CRC64NVME" => ChecksumAlgorithm::Crc64Nvme,
        "SHA1" => ChecksumAlgorithm::Sha1,
        "SHA256" => ChecksumAlgorithm::Sha256,
        _ => return None,
    })
}

/// The S3 name of an algorithm (`CRC32`, ...).
pub fn checksum_name(a: ChecksumAlgorithm) -> &'static str {
    match a {
        ChecksumAlgorithm::Crc32 => "CRC32",
        ChecksumAlgorithm::Crc32c => "CRC32C",
        ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
        ChecksumAlgorithm::Sha1 => "SHA1",
        ChecksumAlgorithm::Sha256 => "SHA256",
    }
}

/// The header carrying an algorithm's value (`x-amz-checksum-crc32`, ...).
pub fn checksum_header(a: ChecksumAlgorithm) -> &'static str {
    match a {
        ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
        ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
        ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
        ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
        ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
    }
}

const ALL_ALGORITHMS: [ChecksumAlgorithm; 5] = [
    ChecksumAlgorithm::Crc32,
    ChecksumAlgorithm::Crc32c,
    ChecksumAlgorithm::Crc64Nvme,
    ChecksumAlgorithm::Sha1,
    ChecksumAlgorithm::Sha256,
];

/// What a write says about checksums: the algorithm to compute and, if sent up front, the
/// expected value; `in_trailer` when the value comes in the aws-chunked trailer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumRequest {
    /// Algorithm.
    pub algorithm: ChecksumAlgorithm,
    /// Expected base64 value, if given in a header.
    pub expected: Option<String>,
    /// Value arrives in the trailer.
    pub in_trailer: bool,
}

/// Read `x-amz-checksum-*`, `x-amz-sdk-checksum-algorithm` and `x-amz-trailer`.
pub fn checksum_request(h: &HeaderMap) -> Result<Option<ChecksumRequest>, S3Error> {
    let given: Vec<(ChecksumAlgorithm, &str)> = ALL_ALGORITHMS
        .iter()
        .filter_map(|a| get(h, checksum_header(*a)).map(|v| (*a, v)))
        .collect();
    if given.len() > 1 {
        return Err(S3Error::msg(
            S3ErrorCode::InvalidRequest,
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        ));
    }
    let trailer = get(h, "x-amz-trailer").map(|t| t.trim().to_ascii_lowercase());
    let trailer_alg = match &trailer {
        Some(t) => Some(
            ALL_ALGORITHMS
                .iter()
                .copied()
                .find(|a| checksum_header(*a) == t)
                .ok_or_else(|| {
                    S3Error::msg(
                        S3ErrorCode::InvalidRequest,
                        "The value specified in the x-amz-trailer header is not supported",
                    )
                })?,
        ),
        None => None,
    };
    let sdk = match get(h, "x-amz-sdk-checksum-algorithm") {
        Some(n) => Some(checksum_algorithm(n).ok_or_else(|| {
            S3Error::msg(
                S3ErrorCode::InvalidRequest,
                "Value for x-amz-sdk-checksum-algorithm header is invalid.",
            )
        })?),
        None => None,
    };
    if let Some((a, v)) = given.first() {
        if sdk.is_some_and(|s| s != *a) || trailer_alg.is_some() {
            return Err(S3Error::msg(
                S3ErrorCode::InvalidRequest,
                "Value for x-amz-sdk-checksum-algorithm header is invalid.",
            ));
        }
        return Ok(Some(ChecksumRequest {
            algorithm: *a,
            expected: Some((*v).to_owned()),
            in_trailer: false,
        }));
    }
    if let Some(a) = trailer_alg {
        return Ok(Some(ChecksumRequest {
            algorithm: a,
            expected: None,
            in_trailer: true,
        }));
    }
    Ok(sdk.map(|a| ChecksumRequest {
        algorithm: a,
        expected: None,
        in_trailer: false,
    }))
}

/// Decode `Content-MD5` (InvalidDigest if it is not 16 bytes of base64).
pub fn content_md5(h: &HeaderMap) -> Result<Option<[u8; 16]>, S3Error> {
    let Some(v) = get(h, "content-md5") else {
        return Ok(None);
    };
    let d = base64::engine::general_purpose::STANDARD
        .decode(v.trim())
        .map_err(|_| S3Error::new(S3ErrorCode::InvalidDigest))?;
    let d: [u8; 16] = d
        .try_into()
        .map_err(|_| S3Error::new(S3ErrorCode::InvalidDigest))?;
    Ok(Some(d))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ranges() {
        let r = |v: &str| parse_range(Some(v), 100);
        assert_eq!(
            r("bytes=0-9").unwrap(),
            Some(ByteRange { start: 0, end: 10 })
        );
        assert_eq!(
            r("bytes=90-").unwrap(),
            Some(ByteRange {
                start: 90,
                end: 100
            })
        );
        assert_eq!(
            r("bytes=-10").unwrap(),
            Some(ByteRange {
                start: 90,
                end: 100
            })
        );
        assert_eq!(
            r("bytes=-1000").unwrap(),
            Some(ByteRange { start: 0, end: 100 })
        );
        assert_eq!(
            r("bytes=50-1000").unwrap(),
            Some(ByteRange {
                start: 50,
                end: 100
            })
        );
        assert_eq!(r("bytes=100-").unwrap_err().code, S3ErrorCode::InvalidRange);
        assert_eq!(r("bytes=-0").unwrap_err().code, S3ErrorCode::InvalidRange);
        assert_eq!(r("bytes=5-1").unwrap(), None);
        assert_eq!(r("items=0-1").unwrap(), None);
        assert_eq!(r("bytes=0-1,3-4").unwrap(), None);
        assert_eq!(
            parse_range(Some("bytes=0-"), 0).unwrap_err().code,
            S3ErrorCode::InvalidRange
        );
        // Found by the `request` fuzz target.
        assert_eq!(
            r("bytes=5-18446744073709551615").unwrap(),
            Some(ByteRange { start: 5, end: 100 })
        );
        assert_eq!(parse_range(Some("bytes=-3"), 0).unwrap(), None);
        assert_eq!(
            parse_range(Some("bytes=0-0"), 0).unwrap_err().code,
            S3ErrorCode::InvalidRange
        );
    }

    #[test]
    fn stored_text_keeps_every_byte_sent() {
        assert_eq!(stored_text(b"plain"), "plain");
        assert_eq!(
            stored_text("caf\u{e9} \u{2019}".as_bytes()),
            "caf\u{e9} \u{2019}"
        );
        // Not UTF-8: ISO-8859-1, not U+FFFD.
        assert_eq!(stored_text(b"caf\xe9"), "caf\u{e9}");
    }

    #[test]
    fn dates() {
        assert_eq!(iso_date(1_369_353_600_123), "2013-05-24T00:00:00.123Z");
        assert_eq!(
            http_date(1_369_353_600_999),
            "Fri, 24 May 2013 00:00:00 GMT"
        );
    }
}
