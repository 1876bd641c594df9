//! Which bucket a website request is for, from its `Host`: `BUCKET.s3-website.DOMAIN`,
//! `BUCKET.s3-website-REGION.DOMAIN` or `BUCKET.s3-website.REGION.DOMAIN` under the configured
//! website domain, else the host itself (a custom domain pointed at Coffer, served by the
//! bucket of that name, e.g. `www.example.test`).

use crate::s3::error::{S3Error, S3ErrorCode, S3Result};

/// The label that marks a website host under the domain.
const LABEL: &str = "s3-website";

/// The bucket `host` (the Host header, None when missing) names, under website domain
/// `domain`. Host names are case-insensitive: the bucket is named in lowercase. A missing or
/// empty Host is InvalidArgument.
pub fn bucket_of(host: Option<&str>, domain: Option<&str>) -> S3Result<String> {
    let host = host.map(str::trim).unwrap_or_default();
    // A port, unless the host is an IPv6 literal's brackets.
    let host = match host.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return Err(S3Error::msg(
            S3ErrorCode::InvalidArgument,
            "A website request needs a Host header naming its bucket",
        )
        .with("ArgumentName", "Host"));
    }
    let under = domain
        .map(|d| d.trim_matches('.').to_ascii_lowercase())
        .filter(|d| !d.is_empty())
        .and_then(|d| {
            host.strip_suffix(&d)
                .and_then(|h| h.strip_suffix('.'))
                .map(str::to_owned)
        });
    if let Some(name) = under.as_deref().and_then(website_label) {
        return Ok(name.to_owned());
    }
    Ok(host)
}

/// The bucket of `BUCKET.s3-website`, `BUCKET.s3-website-REGION` or
/// `BUCKET.s3-website.REGION` (what is left of a host once the domain is cut off).
fn website_label(rest: &str) -> Option<&str> {
    let at = rest.rfind(&format!(".{LABEL}"))?;
    let (bucket, tail) = (&rest[..at], &rest[at + 1 + LABEL.len()..]);
    let region_ok =
        |r: &str| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let ok = match tail.chars().next() {
        None => true,
        Some('-') | Some('.') => region_ok(&tail[1..]),
        Some(_) => false,
    };
    (ok && !bucket.is_empty()).then_some(bucket)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hosts_name_buckets() {
        let d = Some("web.test");
        for (host, want) in [
            ("site.s3-website.web.test", "site"),
            ("site.s3-website.web.test:8080", "site"),
            ("Site.S3-Website.Web.Test", "site"),
            ("my.site.s3-website-us-east-1.web.test", "my.site"),
            ("site.s3-website.eu-west-1.web.test", "site"),
            ("www.example.test", "www.example.test"),
            ("WWW.Example.Test.", "www.example.test"),
            ("www.example.test:80", "www.example.test"),
            ("127.0.0.1:9001", "127.0.0.1"),
            ("[::1]:9001", "[::1]"),
            // Under the domain, but not a website host: the host is the bucket's name.
            ("other.web.test", "other.web.test"),
            ("s3-website.web.test", "s3-website.web.test"),
            ("site.s3-websitex.web.test", "site.s3-websitex.web.test"),
        ] {
            assert_eq!(bucket_of(Some(host), d).unwrap(), want, "{host}");
        }
        assert_eq!(
            bucket_of(Some("site.s3-website.web.test"), None).unwrap(),
            "site.s3-website.web.test"
        );
        for bad in [None, Some(""), Some("  "), Some(":80")] {
            let e = bucket_of(bad, d).unwrap_err();
            assert_eq!(e.code, S3ErrorCode::InvalidArgument, "{bad:?}");
        }
    }
}
