//! The request headers that operations share, read in one place: what a write says about the
//! object it makes ([`object`]: content headers, user metadata, storage class), its ACL
//! ([`acl`]) and tags ([`tagging`]), conditions and ranges ([`conditions`]), checksums
//! ([`checksum`]); and the time formats of headers and documents. Handlers call these; none of
//! this is parsed inline in a handler, and no handler borrows another's.

pub mod acl;
pub mod checksum;
pub mod conditions;
pub mod object;
pub mod tagging;

pub use checksum::{
    checksum_algorithm, checksum_header, checksum_headers, checksum_name, checksum_request,
    checksum_type_name, content_md5, integrity_required, ChecksumRequest,
};
pub use conditions::{
    delete_precondition, parse_range, write_precondition, ByteRange, CopySource, Preconditions,
};
pub use object::{content_headers, storage_class, user_meta, MAX_USER_META};

use actix_web::http::header::HeaderMap;

use crate::s3::error::{S3Error, S3ErrorCode};

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

/// Refuse a request that carries `x-amz-mfa`: Coffer has no MFA devices to check it against.
pub fn refuse_mfa(h: &HeaderMap) -> Result<(), S3Error> {
    match get(h, "x-amz-mfa") {
        Some(_) => Err(S3Error::msg(
            S3ErrorCode::NotImplemented,
            "MFA (the x-amz-mfa header) is not supported by this server.",
        )
        .with("Header", "x-amz-mfa")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

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
