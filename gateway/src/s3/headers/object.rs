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
