//! Stage 1, route: where a request is addressed (path or virtual-host style) and which
//! operation it asks for.

use actix_web::dev::RequestHead;

use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::router::{Endpoint, Query};

/// Where a request is addressed.
#[derive(Debug)]
pub struct Addressed {
    /// The bucket, if any.
    pub bucket: Option<String>,
    /// The key, if any.
    pub key: Option<String>,
    /// The bucket, when the host named it (virtual-host style).
    pub vhost: Option<String>,
    /// The decoded query.
    pub query: Query,
}

impl Addressed {
    /// Address `req`; `domain` is the S3 domain under which hosts name buckets.
    pub fn of(req: &RequestHead, domain: Option<&str>) -> S3Result<Addressed> {
        let (bucket, key, vhost) = address(req, domain)?;
        Ok(Addressed {
            bucket,
            key,
            vhost,
            query: Query::parse(req.uri.query().unwrap_or_default()),
        })
    }

    /// The addressed bucket name ("" for service-level requests).
    pub fn bucket_name(&self) -> &str {
        self.bucket.as_deref().unwrap_or_default()
    }

    /// The operation `req` asks for (a key over 1024 bytes is KeyTooLongError).
    pub fn endpoint(&self, req: &RequestHead) -> S3Result<Endpoint> {
        let endpoint = Endpoint::route(
            &req.method,
            self.bucket.as_deref(),
            self.key.as_deref(),
            &self.query,
            req.headers.contains_key("x-amz-copy-source"),
        )?;
        if let Some(k) = self
            .key
            .as_ref()
            .filter(|_| endpoint != Endpoint::PostObject)
        {
            if k.len() > 1024 {
                return Err(S3Error::new(S3ErrorCode::KeyTooLongError)
                    .with("Size", k.len().to_string())
                    .with("MaxSizeAllowed", "1024"));
            }
        }
        Ok(endpoint)
    }
}

/// Split the request into (bucket, key, bucket-from-host).
pub fn address(
    req: &RequestHead,
    domain: Option<&str>,
) -> S3Result<(Option<String>, Option<String>, Option<String>)> {
    let raw = req.uri.path();
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| {
            S3Error::msg(
                S3ErrorCode::InvalidArgument,
                "The request path is not valid UTF-8",
            )
        })?;
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    let vhost = domain
        .and_then(|d| host.strip_suffix(d))
        .and_then(|b| b.strip_suffix('.'))
        .filter(|b| !b.is_empty())
        .map(str::to_owned);
    let path = decoded.strip_prefix('/').unwrap_or(&decoded);
    if let Some(b) = vhost {
        let key = (!path.is_empty()).then(|| path.to_owned());
        return Ok((Some(b.clone()), key, Some(b)));
    }
    Ok(match path.split_once('/') {
        Some((b, k)) => (Some(b.to_owned()), Some(k.to_owned()), None),
        None if path.is_empty() => (None, None, None),
        None => (Some(path.to_owned()), None, None),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn path_and_virtual_host_addressing() {
        let r = TestRequest::with_uri("/b/a%20b/c")
            .insert_header(("host", "localhost:9000"))
            .to_http_request();
        assert_eq!(
            address(r.head(), Some("s3.local")).unwrap(),
            (Some("b".into()), Some("a b/c".into()), None)
        );
        let r = TestRequest::with_uri("/a/b")
            .insert_header(("host", "bk.s3.local:9000"))
            .to_http_request();
        assert_eq!(
            address(r.head(), Some("s3.local")).unwrap(),
            (Some("bk".into()), Some("a/b".into()), Some("bk".into()))
        );
        let r = TestRequest::with_uri("/")
            .insert_header(("host", "s3.local"))
            .to_http_request();
        assert_eq!(
            address(r.head(), Some("s3.local")).unwrap(),
            (None, None, None)
        );
        let r = TestRequest::with_uri("/b").to_http_request();
        assert_eq!(
            address(r.head(), None).unwrap(),
            (Some("b".into()), None, None)
        );
    }
}
