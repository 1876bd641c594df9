//! What a write's headers say about the object it makes: content headers, user metadata and
//! storage class.

use actix_web::http::header::HeaderMap;
use coffer_proto::types::{ContentHeaders, STORAGE_CLASSES};

use super::{get, stored_text};
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};

/// Standard content headers of a write.
pub fn content_headers(h: &HeaderMap) -> ContentHeaders {
    let s = |n| h.get(n).map(|v| stored_text(v.as_bytes()));
    ContentHeaders {
        content_type: s("content-type"),
        content_encoding: s("content-encoding").and_then(|e| without_aws_chunked(&e)),
        content_disposition: s("content-disposition"),
        content_language: s("content-language"),
        cache_control: s("cache-control"),
        expires: s("expires"),
    }
}

/// A `Content-Encoding` without the `aws-chunked` of the transfer, the rest spelt as the client
/// sent it (`deflate, gzip, aws-chunked` is stored as `deflate, gzip`); None when nothing else
/// remains.
fn without_aws_chunked(e: &str) -> Option<String> {
    let kept: Vec<&str> = e
        .split(',')
        .filter(|p| !p.trim().eq_ignore_ascii_case("aws-chunked"))
        .collect();
    let joined = kept.join(",");
    let joined = joined.trim();
    (!joined.is_empty()).then(|| joined.to_owned())
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

/// `x-amz-storage-class` (InvalidStorageClass for unknown names). Each class may have its own
/// erasure profile (`coffer admin storage-class set`).
pub fn storage_class(h: &HeaderMap) -> S3Result<String> {
    match get(h, "x-amz-storage-class") {
        None => Ok("STANDARD".into()),
        Some(c) if STORAGE_CLASSES.contains(&c) => Ok(c.to_owned()),
        Some(c) => {
            Err(S3Error::new(S3ErrorCode::InvalidStorageClass).with("StorageClassRequested", c))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_chunked_leaves_the_rest_as_spelt() {
        let cases = [
            ("deflate, gzip, aws-chunked", Some("deflate, gzip")),
            ("aws-chunked, gzip", Some("gzip")),
            ("gzip,aws-chunked,br", Some("gzip,br")),
            ("x-custom;q=1 ,  gzip", Some("x-custom;q=1 ,  gzip")),
            ("aws-chunked", None),
            ("AWS-CHUNKED", None),
        ];
        for (sent, stored) in cases {
            assert_eq!(without_aws_chunked(sent).as_deref(), stored, "{sent}");
        }
    }
}
