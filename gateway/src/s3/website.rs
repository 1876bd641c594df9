//! An object's website redirect on the REST side: `x-amz-website-redirect-location` on the
//! writes that make an object (PutObject, CopyObject, CreateMultipartUpload, POST Object) is
//! checked here and stored with the version ([`crate::s3::object::write::NewObject`]); GET and
//! HEAD return it; the website endpoint (`crate::website`) answers it with a 301.

use actix_web::http::header::HeaderMap;

use super::error::{S3Error, S3ErrorCode, S3Result};

/// The header that sets an object's redirect.
pub const REDIRECT: &str = "x-amz-website-redirect-location";

/// Longest redirect S3 stores (2 KB).
const MAX_LEN: usize = 2048;

/// The redirect a write's headers `h` set (None: none), or InvalidRedirectLocation: it must
/// start with `/`, `http://` or `https://` and be at most 2 KB.
pub fn redirect_location(h: &HeaderMap) -> S3Result<Option<String>> {
    let Some(v) = h.get(REDIRECT) else {
        return Ok(None);
    };
    let invalid = || S3Error::new(S3ErrorCode::InvalidRedirectLocation);
    let v = v.to_str().map_err(|_| invalid())?;
    let shaped = v.starts_with('/') || v.starts_with("http://") || v.starts_with("https://");
    if !shaped || v.len() > MAX_LEN {
        return Err(invalid());
    }
    Ok(Some(v.to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn with(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            HeaderName::from_static(REDIRECT),
            HeaderValue::from_str(v).unwrap(),
        );
        h
    }

    #[test]
    fn redirects_are_paths_or_http_urls_of_at_most_2_kb() {
        assert_eq!(redirect_location(&HeaderMap::new()).unwrap(), None);
        for ok in [
            "/",
            "/other.html",
            "http://example.test/x",
            "https://e.test",
        ] {
            assert_eq!(redirect_location(&with(ok)).unwrap().as_deref(), Some(ok));
        }
        let long = format!("/{}", "a".repeat(MAX_LEN - 1));
        assert!(redirect_location(&with(&long)).is_ok());
        for bad in [
            "other.html",
            "ftp://e.test",
            "",
            "HTTP://e.test",
            &format!("{long}a"),
        ] {
            let e = redirect_location(&with(bad)).unwrap_err();
            assert_eq!(e.code, S3ErrorCode::InvalidRedirectLocation, "{bad}");
        }
    }
}
