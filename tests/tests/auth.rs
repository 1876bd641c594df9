//! Authentication: wrong keys and signatures, anonymous access, presigned URLs (expiry and
//! the 7-day limit), clock skew, and malformed requests over raw HTTP.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use cluster_tests::{client_for, code, signed, Server, ACCESS_KEY};

#[tokio::test]
async fn wrong_credentials_are_refused() {
    let s = Server::start().await;
    s.client()
        .create_bucket()
        .bucket("auth")
        .send()
        .await
        .unwrap();
    let e = client_for(&s.endpoint, ACCESS_KEY, "wrong-secret")
        .list_buckets()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "SignatureDoesNotMatch");
    let e = client_for(&s.endpoint, "nobody", "x")
        .list_buckets()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidAccessKeyId");
    let r = reqwest::get(format!("{}/auth", s.endpoint)).await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let xml = r.text().await.unwrap();
    assert!(
        xml.contains("<Code>AccessDenied</Code>") && xml.contains("<RequestId>"),
        "{xml}"
    );
}

#[tokio::test]
async fn presigned_urls() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("pre").send().await.unwrap();
    let put = c
        .put_object()
        .bucket("pre")
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let r = http
        .put(put.uri())
        .body("via presigned put")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let get = c
        .get_object()
        .bucket("pre")
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let r = http.get(get.uri()).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "via presigned put");
    // Tampering with the URL breaks the signature.
    let r = http
        .get(get.uri().replace("/pre/k", "/pre/other"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // Expired.
    let cfg = PresigningConfig::builder()
        .start_time(std::time::SystemTime::now() - Duration::from_secs(3600))
        .expires_in(Duration::from_secs(60))
        .build()
        .unwrap();
    let old = c
        .get_object()
        .bucket("pre")
        .key("k")
        .presigned(cfg)
        .await
        .unwrap();
    let r = http.get(old.uri()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("Request has expired"));
    // More than 7 days: the SDK refuses to sign it, so edit X-Amz-Expires (the check comes first).
    let long = get
        .uri()
        .replace("X-Amz-Expires=300", "X-Amz-Expires=604801");
    let r = http.get(long).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("AuthorizationQueryParametersError"));
}

#[tokio::test]
async fn malformed_input_gets_s3_errors_and_the_server_keeps_serving() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("bad").send().await.unwrap();
    let http = reqwest::Client::new();
    for body in ["<Delete><Object>", "not xml at all", "<Delete></Delete>"] {
        let r = signed(reqwest::Method::POST, &s.endpoint, "/bad?delete", &[])
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{body}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("<Code>MalformedXML</Code>"),
            "{body}"
        );
    }
    // Clock skew on a header-signed request: an old x-amz-date with a real-looking signature.
    let r = http
        .get(format!("{}/bad", s.endpoint))
        .header("x-amz-date", "20200101T000000Z")
        .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .header("authorization", format!("AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20200101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("RequestTimeTooSkewed"));
    // Broken aws-chunked framing through a presigned PUT.
    let put = c
        .put_object()
        .bucket("bad")
        .key("chunked")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let r = http
        .put(put.uri())
        .header("content-encoding", "aws-chunked")
        .body("zz\r\nhello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = http
        .put(put.uri())
        .header("content-encoding", "aws-chunked")
        .body("5\r\nhel")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let e = c
        .head_object()
        .bucket("bad")
        .key("chunked")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        cluster_tests::status(&e),
        404,
        "a refused body leaves nothing visible"
    );
    // The same signer, unmodified, is accepted: the refusals above are about the bodies.
    let r = signed(reqwest::Method::GET, &s.endpoint, "/bad?list-type=2", &[])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = signed(reqwest::Method::POST, &s.endpoint, "/bad?delete", &[])
        .body("<Delete><Object><Key>gone</Key></Object></Delete>")
        .send()
        .await
        .unwrap();
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("<Deleted><Key>gone</Key></Deleted>"));
    // Signed streaming with broken framing, truncated: IncompleteBody / InvalidRequest.
    let r = signed(
        reqwest::Method::PUT,
        &s.endpoint,
        "/bad/cb",
        &[
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "5"),
        ],
    )
    .body("5\r\nhel")
    .send()
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // Unknown sub-resources are NotImplemented, never a wrong success.
    let e = c
        .get_bucket_accelerate_configuration()
        .bucket("bad")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NotImplemented");
    c.list_buckets().send().await.unwrap();
}

#[tokio::test]
async fn a_scope_for_another_region_is_refused_with_the_right_region() {
    let s = Server::start().await;
    s.client()
        .create_bucket()
        .bucket("reg")
        .send()
        .await
        .unwrap();
    let conf = s
        .client()
        .config()
        .to_builder()
        .region(aws_sdk_s3::config::Region::new("eu-west-1"))
        .build();
    let other = aws_sdk_s3::Client::from_conf(conf);
    let e = other
        .list_objects_v2()
        .bucket("reg")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AuthorizationHeaderMalformed");
    let raw = e.raw_response().unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    let body = std::str::from_utf8(raw.body().bytes().unwrap()).unwrap();
    assert!(body.contains("<Region>us-east-1</Region>"), "{body}");

    let url = other
        .get_object()
        .bucket("reg")
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(60)).unwrap())
        .await
        .unwrap();
    let r = reqwest::get(url.uri()).await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("<Code>AuthorizationQueryParametersError</Code>")
            && body.contains("<Region>us-east-1</Region>"),
        "{body}"
    );
}

/// A SigV2 header-signed GET of `path` with `Date: date`.
async fn v2_get(endpoint: &str, path: &str, date: &str) -> (u16, String) {
    use base64::Engine;
    use hmac::Mac;
    let sts = format!("GET\n\n\n{date}\n{path}");
    let mut m =
        hmac::Hmac::<sha1::Sha1>::new_from_slice(cluster_tests::SECRET_KEY.as_bytes()).unwrap();
    m.update(sts.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes());
    let r = reqwest::Client::new()
        .get(format!("{endpoint}{path}"))
        .header("date", date)
        .header("authorization", format!("AWS {ACCESS_KEY}:{sig}"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn signature_v2_dates_in_every_format_and_the_skew_window() {
    let s = Server::start().await;
    s.client()
        .create_bucket()
        .bucket("sig-v2")
        .send()
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let old = now - chrono::Duration::minutes(20);
    let http_date =
        |t: chrono::DateTime<chrono::Utc>| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let rfc2822 =
        |t: chrono::DateTime<chrono::Utc>| t.format("%a, %d %b %Y %H:%M:%S +0000").to_string();
    for date in [http_date(now), rfc2822(now)] {
        let (status, body) = v2_get(&s.endpoint, "/sig-v2/", &date).await;
        assert_eq!(status, 200, "{date}: {body}");
    }
    for date in [http_date(old), rfc2822(old)] {
        let (status, body) = v2_get(&s.endpoint, "/sig-v2/", &date).await;
        assert_eq!(status, 403, "{date}: {body}");
        assert!(
            body.contains("<Code>RequestTimeTooSkewed</Code>"),
            "{date}: {body}"
        );
        assert!(
            body.contains("<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>"),
            "{body}"
        );
    }
    let (status, body) = v2_get(&s.endpoint, "/sig-v2/", "yesterday").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
}

#[tokio::test]
async fn an_expired_presigned_put_is_access_denied() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("pre-put").send().await.unwrap();
    let cfg = PresigningConfig::builder()
        .start_time(std::time::SystemTime::now() - Duration::from_secs(3600))
        .expires_in(Duration::from_secs(60))
        .build()
        .unwrap();
    let put = c
        .put_object()
        .bucket("pre-put")
        .key("k")
        .presigned(cfg)
        .await
        .unwrap();
    let mut req = reqwest::Client::new().put(put.uri()).body("late");
    for (k, v) in put.headers() {
        req = req.header(k, v);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("<Code>AccessDenied</Code>") && body.contains("Request has expired"),
        "{body}"
    );
    assert!(c
        .head_object()
        .bucket("pre-put")
        .key("k")
        .send()
        .await
        .is_err());
}
