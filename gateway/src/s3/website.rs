//! Static website hosting is not built yet. A write that sets an object's website redirect
//! (`x-amz-website-redirect-location`) is NotImplemented: the redirect would be neither
//! stored nor served, and the write would answer 200 all the same.

use actix_web::http::header::HeaderMap;

use super::error::{S3Error, S3ErrorCode, S3Result};
use super::router::Endpoint;

/// The header that sets an object's redirect.
const REDIRECT: &str = "x-amz-website-redirect-location";

/// Check a request's website headers for `endpoint`.
pub fn check(endpoint: &Endpoint, headers: &HeaderMap) -> S3Result<()> {
    let writes = matches!(
        endpoint,
        Endpoint::PutObject { .. }
            | Endpoint::CopyObject { .. }
            | Endpoint::CreateMultipartUpload { .. }
    );
    if writes && headers.contains_key(REDIRECT) {
        return Err(S3Error::msg(
            S3ErrorCode::NotImplemented,
            "Website redirects are not implemented yet by this server",
        )
        .with("Header", REDIRECT));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    #[test]
    fn a_redirect_on_a_write_is_not_implemented() {
        let mut h = HeaderMap::new();
        h.insert(
            HeaderName::from_static(REDIRECT),
            HeaderValue::from_static("/other.html"),
        );
        let put = Endpoint::PutObject { key: "k".into() };
        let e = check(&put, &h).unwrap_err();
        assert_eq!(e.code.as_str(), "NotImplemented");
        assert!(check(&put, &HeaderMap::new()).is_ok());
        assert!(check(&Endpoint::GetObject { key: "k".into() }, &h).is_ok());
    }
}
