//! SSE-C through a real server and the AWS SDK: every read and part needs the customer's key
//! (400 without it, 403 with another), copies take the source's key and their own, the key is
//! never at rest nor in a debug-level log, and over plain HTTP it is refused unless allowed or
//! brought by a trusted proxy that ended TLS; a
//! customer key sent to read or copy an object gets S3's answer for an object not encrypted
//! with one.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use aws_sdk_s3::types::{ObjectAttributes, ServerSideEncryption};
use base64::Engine;
use cluster_tests::{bytes, code, files_holding as holding, get_bytes, status, windows_of, Server};
use md5::Digest;

/// SDK requests that can carry a customer key (SSE-C).
trait WithKey {
    /// The request with customer key `key` (base64) and its MD5 (base64).
    fn with_key(self, key: &str, md5: &str) -> Self;
}

macro_rules! with_key_for {
    ($($builder:ty),* $(,)?) => {$(
        impl WithKey for $builder {
            fn with_key(self, key: &str, md5: &str) -> Self {
                self.sse_customer_algorithm("AES256")
                    .sse_customer_key(key)
                    .sse_customer_key_md5(md5)
            }
        }
    )*};
}

with_key_for!(
    aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder,
    aws_sdk_s3::operation::get_object::builders::GetObjectFluentBuilder,
    aws_sdk_s3::operation::head_object::builders::HeadObjectFluentBuilder,
    aws_sdk_s3::operation::upload_part::builders::UploadPartFluentBuilder,
    aws_sdk_s3::operation::create_multipart_upload::builders::CreateMultipartUploadFluentBuilder,
    aws_sdk_s3::operation::copy_object::builders::CopyObjectFluentBuilder,
);

/// The bytes of `key` in `bucket`, read with customer key `k` (base64) and its MD5.
async fn get_with_key(
    c: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    k: &str,
    md5: &str,
) -> Vec<u8> {
    let o = c
        .get_object()
        .bucket(bucket)
        .key(key)
        .with_key(k, md5)
        .send()
        .await
        .unwrap();
    o.body.collect().await.unwrap().into_bytes().to_vec()
}

#[tokio::test]
async fn a_customer_key_does_not_apply_to_a_plain_object() {
    let s = Server::start_with(&["--sse-c-over-http"]).await;
    let c = s.client();
    c.create_bucket().bucket("ssec").send().await.unwrap();
    c.put_object()
        .bucket("ssec")
        .key("plain")
        .body(b"plain".to_vec().into())
        .send()
        .await
        .unwrap();
    let (_, key, key_md5) = key_of(7);

    let e = c
        .get_object()
        .bucket("ssec")
        .key("plain")
        .with_key(&key, &key_md5)
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (400, "InvalidRequest"));
    let e = c
        .head_object()
        .bucket("ssec")
        .key("plain")
        .with_key(&key, &key_md5)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 400);
    let e = c
        .copy_object()
        .bucket("ssec")
        .key("copy")
        .copy_source("ssec/plain")
        .copy_source_sse_customer_algorithm("AES256")
        .copy_source_sse_customer_key(&key)
        .copy_source_sse_customer_key_md5(&key_md5)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequest");

    // Without the key, the object reads as before.
    let o = c
        .get_object()
        .bucket("ssec")
        .key("plain")
        .send()
        .await
        .unwrap();
    let got = o.body.collect().await.unwrap().into_bytes();
    assert_eq!(got.as_ref(), b"plain");
}

/// A customer key of its own: (raw key, key base64, MD5 base64).
fn key_of(byte: u8) -> ([u8; 32], String, String) {
    let key = [byte; 32];
    let b64 = base64::engine::general_purpose::STANDARD;
    (key, b64.encode(key), b64.encode(md5::Md5::digest(key)))
}

#[tokio::test]
async fn sse_c_objects_need_their_key_and_the_key_is_never_at_rest() {
    // Logging at debug level: the log must not hold the key either.
    let mut s = Server::start_with_env(&["--sse-c-over-http"], &[("RUST_LOG", "debug")]).await;
    let c = s.client();
    c.create_bucket().bucket("ssec").send().await.unwrap();
    let (raw, key, key_md5) = key_of(0x42);
    let (_, other, other_md5) = key_of(0x43);
    let mut secrets = Vec::new();
    for (k, len) in [("inline", 5_000), ("blob", 300_000)] {
        let data = bytes(len, len as u64 + 1);
        let r = c
            .put_object()
            .bucket("ssec")
            .key(k)
            .with_key(&key, &key_md5)
            .body(data.clone().into())
            .send()
            .await
            .unwrap();
        assert_eq!(r.sse_customer_algorithm(), Some("AES256"));
        assert_eq!(r.sse_customer_key_md5(), Some(key_md5.as_str()));
        assert_eq!(r.server_side_encryption(), None);
        // Not the MD5 of the bytes, as on S3.
        let md5 = hex::encode(md5::Md5::digest(&data));
        assert_ne!(r.e_tag(), Some(format!("\"{md5}\"").as_str()), "{k}");
        secrets.push((k, data));
    }
    for (k, data) in &secrets {
        // Without the key: 400; with another: 403; GET, HEAD and attributes alike.
        let e = c
            .get_object()
            .bucket("ssec")
            .key(*k)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            (status(&e), code(&e).as_str()),
            (400, "InvalidRequest"),
            "{k}"
        );
        let e = c
            .head_object()
            .bucket("ssec")
            .key(*k)
            .send()
            .await
            .unwrap_err();
        assert_eq!(status(&e), 400, "{k}");
        let e = c
            .get_object()
            .bucket("ssec")
            .key(*k)
            .with_key(&other, &other_md5)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            (status(&e), code(&e).as_str()),
            (403, "AccessDenied"),
            "{k}"
        );
        let e = c
            .head_object()
            .bucket("ssec")
            .key(*k)
            .with_key(&other, &other_md5)
            .send()
            .await
            .unwrap_err();
        assert_eq!(status(&e), 403, "{k}");
        let e = c
            .get_object_attributes()
            .bucket("ssec")
            .key(*k)
            .object_attributes(ObjectAttributes::ObjectSize)
            .send()
            .await
            .unwrap_err();
        assert_eq!(status(&e), 400, "{k}");
        // With it: the bytes, whole and in a range, and the key's MD5 echoed.
        let o = c
            .get_object()
            .bucket("ssec")
            .key(*k)
            .with_key(&key, &key_md5)
            .range("bytes=1000-1999")
            .send()
            .await
            .unwrap();
        assert_eq!(o.sse_customer_key_md5(), Some(key_md5.as_str()));
        let got = o.body.collect().await.unwrap().into_bytes();
        assert_eq!(&got[..], &data[1000..2000], "{k}");
        let h = c
            .head_object()
            .bucket("ssec")
            .key(*k)
            .with_key(&key, &key_md5)
            .send()
            .await
            .unwrap();
        assert_eq!(h.content_length(), Some(data.len() as i64));
        assert_eq!(h.sse_customer_algorithm(), Some("AES256"));
    }

    // Multipart: every part needs the upload's key.
    let up = c
        .create_multipart_upload()
        .bucket("ssec")
        .key("multi")
        .with_key(&key, &key_md5)
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap();
    let parts = [bytes(5 << 20, 21), bytes(70_000, 22)];
    let e = c
        .upload_part()
        .bucket("ssec")
        .key("multi")
        .upload_id(id)
        .part_number(1)
        // Large: the refusal comes before the body is read, and the client still reads it
        // (the connection is not reset under the body it is sending).
        .body(bytes(24 << 20, 20).into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 400, "a part without the key: {e:?}");
    let mut done = Vec::new();
    for (n, p) in (1..).zip(&parts) {
        let r = c
            .upload_part()
            .bucket("ssec")
            .key("multi")
            .upload_id(id)
            .part_number(n)
            .with_key(&key, &key_md5)
            .body(p.clone().into())
            .send()
            .await
            .unwrap();
        assert_eq!(r.sse_customer_key_md5(), Some(key_md5.as_str()));
        done.push((n, r.e_tag().unwrap().to_owned()));
    }
    c.complete_multipart_upload()
        .bucket("ssec")
        .key("multi")
        .upload_id(id)
        .multipart_upload(cluster_tests::completed(&done))
        .send()
        .await
        .unwrap();
    let multi = parts.concat();
    let got = get_with_key(&c, "ssec", "multi", &key, &key_md5).await;
    assert_eq!(&got[..], &multi[..]);

    // Copies: the source's key opens it; the copy is encrypted as its own request says.
    let e = c
        .copy_object()
        .bucket("ssec")
        .key("copied")
        .copy_source("ssec/blob")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 400, "a copy without the source's key");
    c.copy_object()
        .bucket("ssec")
        .key("copied")
        .copy_source("ssec/blob")
        .copy_source_sse_customer_algorithm("AES256")
        .copy_source_sse_customer_key(&key)
        .copy_source_sse_customer_key_md5(&key_md5)
        .with_key(&other, &other_md5)
        .send()
        .await
        .unwrap();
    let got = get_with_key(&c, "ssec", "copied", &other, &other_md5).await;
    assert_eq!(&got[..], &secrets[1].1[..]);
    // In place, from SSE-C to SSE-S3: then it reads without a key.
    let r = c
        .copy_object()
        .bucket("ssec")
        .key("inline")
        .copy_source("ssec/inline")
        .copy_source_sse_customer_algorithm("AES256")
        .copy_source_sse_customer_key(&key)
        .copy_source_sse_customer_key_md5(&key_md5)
        .server_side_encryption(ServerSideEncryption::Aes256)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
    assert_eq!(get_bytes(&c, "ssec", "inline").await, secrets[0].1);

    // At rest: neither the plaintext nor the key, raw or in base64.
    s.crash_and_restart().await;
    let mut needles: Vec<Vec<u8>> = [&secrets[0].1, &secrets[1].1, &multi]
        .iter()
        .flat_map(|d| windows_of(d))
        .collect();
    needles.push(raw.to_vec());
    needles.push(key.as_bytes().to_vec());
    let found = holding(&s.data(), &needles);
    assert!(found.is_empty(), "SSE-C plaintext or key in {found:?}");
    let log = s.process.log();
    assert!(log.contains("DEBUG"), "the server logged at debug level");
    assert!(
        !log.contains(&key) && !log.contains(&other),
        "a customer key in the log"
    );
}

#[tokio::test]
async fn sse_c_over_plain_http_is_refused_unless_allowed() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("plain").send().await.unwrap();
    let (_, key, key_md5) = key_of(1);
    let e = c
        .put_object()
        .bucket("plain")
        .key("k")
        .with_key(&key, &key_md5)
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (400, "InvalidRequest"));
    let e = c
        .head_object()
        .bucket("plain")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 404, "nothing was stored");
}

#[tokio::test]
async fn a_trusted_proxy_that_ended_tls_may_bring_customer_keys() {
    let (_, key, key_md5) = key_of(3);
    let put = |endpoint: &str, name: &str, forwarded: Option<&str>| {
        let mut headers = vec![
            ("x-amz-server-side-encryption-customer-algorithm", "AES256"),
            ("x-amz-server-side-encryption-customer-key", key.as_str()),
            (
                "x-amz-server-side-encryption-customer-key-md5",
                key_md5.as_str(),
            ),
        ];
        if let Some(f) = forwarded {
            headers.push(("x-forwarded-proto", f));
        }
        let url = format!("/proxied/{name}");
        let rb = cluster_tests::signed(reqwest::Method::PUT, endpoint, &url, &headers);
        async move {
            let r = rb.body("behind a proxy").send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // Trusted: this address's proxy says it ended TLS.
    let s = Server::start_with(&["--trusted-proxies", "127.0.0.0/8"]).await;
    s.client()
        .create_bucket()
        .bucket("proxied")
        .send()
        .await
        .unwrap();
    assert_eq!(put(&s.endpoint, "a", Some("https")).await.0, 200);
    let (st, body) = put(&s.endpoint, "b", Some("http")).await;
    assert_eq!(st, 400, "{body}");
    assert!(body.contains("<Code>InvalidRequest</Code>"), "{body}");
    assert_eq!(put(&s.endpoint, "c", None).await.0, 400);
    let r = cluster_tests::signed(
        reqwest::Method::GET,
        &s.endpoint,
        "/proxied/a",
        &[
            ("x-amz-server-side-encryption-customer-algorithm", "AES256"),
            ("x-amz-server-side-encryption-customer-key", key.as_str()),
            (
                "x-amz-server-side-encryption-customer-key-md5",
                key_md5.as_str(),
            ),
            ("x-forwarded-proto", "https"),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"behind a proxy");
    // Not trusted: anybody's header is not a secure connection.
    let s = Server::start_with(&["--trusted-proxies", "10.0.0.0/8"]).await;
    s.client()
        .create_bucket()
        .bucket("proxied")
        .send()
        .await
        .unwrap();
    let (st, body) = put(&s.endpoint, "a", Some("https")).await;
    assert_eq!(st, 400, "{body}");
}
