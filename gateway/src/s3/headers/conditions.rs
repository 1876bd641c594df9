//! Conditions and ranges: `If-*` on reads and writes, `x-amz-copy-source` and its
//! `x-amz-copy-source-if-*` conditions, and `Range`.

use actix_web::http::header::HeaderMap;
use coffer_proto::meta::WritePrecondition;
use coffer_proto::types::ObjectVersion;

use super::{get, http_date};
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};

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

/// The conditions of a write (PutObject, CopyObject's destination, POST Object,
/// CompleteMultipartUpload): `If-Match` (the key exists with that ETag; `*`: exists) and
/// `If-None-Match` (`*`: the key does not exist; ETags: it does not exist with any of them),
/// alone or together. Checked atomically with the write.
pub fn write_precondition(h: &HeaderMap) -> S3Result<WritePrecondition> {
    let mut all = Vec::new();
    if let Some(e) = get(h, "if-match") {
        all.push(WritePrecondition::EtagMatches(
            e.trim().trim_matches('"').to_owned(),
        ));
    }
    if let Some(list) = get(h, "if-none-match") {
        for e in list
            .split(',')
            .map(|e| e.trim().trim_start_matches("W/").trim_matches('"'))
        {
            all.push(match e {
                "*" => WritePrecondition::MustNotExist,
                "" => {
                    return Err(S3Error::msg(
                        S3ErrorCode::InvalidArgument,
                        "If-None-Match names no ETag",
                    )
                    .with("ArgumentName", "If-None-Match")
                    .with("ArgumentValue", list))
                }
                e => WritePrecondition::EtagDiffers(e.to_owned()),
            });
        }
    }
    Ok(WritePrecondition::all(all))
}

/// The conditions of a DeleteObject: `If-Match`, `x-amz-if-match-last-modified-time` (an
/// HTTP date; the current version was last modified in that second) and
/// `x-amz-if-match-size` (its size in bytes). All must hold.
pub fn delete_precondition(h: &HeaderMap) -> S3Result<WritePrecondition> {
    let invalid = |name: &'static str, value: &str| {
        S3Error::msg(
            S3ErrorCode::InvalidArgument,
            format!("Invalid {name} header"),
        )
        .with("ArgumentName", name)
        .with("ArgumentValue", value)
    };
    let mut all = Vec::new();
    if let Some(e) = get(h, "if-match") {
        all.push(WritePrecondition::EtagMatches(
            e.trim().trim_matches('"').to_owned(),
        ));
    }
    if let Some(t) = get(h, "x-amz-if-match-last-modified-time") {
        let secs = parse_time(t)
            .or_else(|| {
                chrono::DateTime::parse_from_rfc3339(t)
                    .ok()
                    .map(|d| d.timestamp())
            })
            .ok_or_else(|| invalid("x-amz-if-match-last-modified-time", t))?;
        all.push(WritePrecondition::ModifiedAt(secs));
    }
    if let Some(n) = get(h, "x-amz-if-match-size") {
        let size = n
            .trim()
            .parse::<u64>()
            .map_err(|_| invalid("x-amz-if-match-size", n))?;
        all.push(WritePrecondition::SizeIs(size));
    }
    Ok(WritePrecondition::all(all))
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
}
