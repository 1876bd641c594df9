//! CORS: bucket rules set and read with the SDK, browser preflights (`OPTIONS` with curl-like
//! raw requests) allowed or refused with 403, and the CORS headers on actual responses.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
use cluster_tests::{code, Server};

fn rule(origin: &str, methods: &[&str], headers: &[&str]) -> CorsRule {
    let mut r = CorsRule::builder()
        .allowed_origins(origin)
        .max_age_seconds(600);
    for m in methods {
        r = r.allowed_methods(*m);
    }
    for h in headers {
        r = r.allowed_headers(*h);
    }
    r.expose_headers("ETag").build().unwrap()
}

/// An OPTIONS preflight: (status, response headers).
async fn preflight(
    url: &str,
    origin: &str,
    method: &str,
    headers: Option<&str>,
) -> (u16, reqwest::header::HeaderMap) {
    let mut r = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, url)
        .header("origin", origin)
        .header("access-control-request-method", method);
    if let Some(h) = headers {
        r = r.header("access-control-request-headers", h);
    }
    let resp = r.send().await.unwrap();
    (resp.status().as_u16(), resp.headers().clone())
}

fn h<'a>(m: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    m.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn cors_rules_preflights_and_response_headers() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("web").send().await.unwrap();
    c.put_object()
        .bucket("web")
        .key("a.txt")
        .body(b"hello".to_vec().into())
        .send()
        .await
        .unwrap();
    let url = format!("{}/web/a.txt", s.endpoint);

    // No rules yet.
    let e = c.get_bucket_cors().bucket("web").send().await.unwrap_err();
    assert_eq!(code(&e), "NoSuchCORSConfiguration");
    let (st, _) = preflight(&url, "https://app.example.com", "PUT", None).await;
    assert_eq!(st, 403);

    let conf = CorsConfiguration::builder()
        .cors_rules(rule(
            "https://*.example.com",
            &["PUT", "POST"],
            &["content-type", "x-amz-*"],
        ))
        .cors_rules(rule("*", &["GET"], &[]))
        .build()
        .unwrap();
    c.put_bucket_cors()
        .bucket("web")
        .cors_configuration(conf)
        .send()
        .await
        .unwrap();
    let got = c.get_bucket_cors().bucket("web").send().await.unwrap();
    assert_eq!(got.cors_rules().len(), 2);
    assert_eq!(
        got.cors_rules()[0].allowed_origins(),
        ["https://*.example.com"]
    );
    assert_eq!(got.cors_rules()[0].max_age_seconds(), Some(600));

    // Allowed preflight: the origin, methods, requested headers, exposed headers, max age.
    let (st, hs) = preflight(
        &url,
        "https://app.example.com",
        "PUT",
        Some("content-type, x-amz-date"),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(
        h(&hs, "access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(h(&hs, "access-control-allow-methods"), Some("PUT, POST"));
    assert_eq!(
        h(&hs, "access-control-allow-headers"),
        Some("content-type, x-amz-date")
    );
    assert_eq!(h(&hs, "access-control-expose-headers"), Some("ETag"));
    assert_eq!(h(&hs, "access-control-max-age"), Some("600"));
    // A preflight of a presigned URL carries its query, signature included: a preflight is
    // never authenticated (its method is not the one signed).
    let presigned = format!("{url}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=00");
    let (st, hs) = preflight(&presigned, "https://app.example.com", "PUT", None).await;
    assert_eq!(st, 200);
    assert_eq!(
        h(&hs, "access-control-allow-origin"),
        Some("https://app.example.com")
    );
    // Refused: another origin, a method no rule allows, a header no rule allows.
    for (origin, method, headers) in [
        ("https://evil.test", "PUT", None),
        ("https://app.example.com", "DELETE", None),
        ("https://app.example.com", "PUT", Some("authorization")),
    ] {
        let (st, hs) = preflight(&url, origin, method, headers).await;
        assert_eq!(st, 403, "{origin} {method} {headers:?}");
        assert!(h(&hs, "access-control-allow-origin").is_none());
    }
    // The wildcard rule: any origin may GET.
    let (st, hs) = preflight(&url, "http://elsewhere.test", "GET", None).await;
    assert_eq!(st, 200);
    assert_eq!(h(&hs, "access-control-allow-origin"), Some("*"));

    // Actual responses carry the headers of the rule that matches, errors included.
    let get = |origin: &'static str| {
        reqwest::Client::new()
            .get(&url)
            .header("origin", origin)
            .send()
    };
    let r = get("http://elsewhere.test").await.unwrap();
    assert_eq!(r.status().as_u16(), 403, "anonymous, no policy");
    assert_eq!(h(r.headers(), "access-control-allow-origin"), Some("*"));
    c.put_bucket_policy()
        .bucket("web")
        .policy(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::web/*"}}"#,
        )
        .send()
        .await
        .unwrap();
    let r = get("https://app.example.com").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(h(r.headers(), "access-control-allow-origin"), Some("*"));
    assert_eq!(
        h(r.headers(), "access-control-expose-headers"),
        Some("ETag")
    );
    let r = reqwest::get(&url).await.unwrap();
    assert!(
        h(r.headers(), "access-control-allow-origin").is_none(),
        "no Origin, no CORS headers"
    );

    // Bad configurations.
    let bad = CorsConfiguration::builder()
        .cors_rules(rule("*", &["PATCH"], &[]))
        .build()
        .unwrap();
    let e = c
        .put_bucket_cors()
        .bucket("web")
        .cors_configuration(bad)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequest");

    c.delete_bucket_cors().bucket("web").send().await.unwrap();
    let (st, _) = preflight(&url, "http://elsewhere.test", "GET", None).await;
    assert_eq!(st, 403);
    let e = c.get_bucket_cors().bucket("web").send().await.unwrap_err();
    assert_eq!(code(&e), "NoSuchCORSConfiguration");
}
