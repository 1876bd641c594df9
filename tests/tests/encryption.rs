//! Server-side encryption is not built yet: a write that asks for it is refused with
//! NotImplemented and stores nothing, and a customer key sent to read or copy an object gets
//! S3's answer for an object not encrypted with one.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use aws_sdk_s3::types::ServerSideEncryption;
use base64::Engine;
use cluster_tests::{code, status, Server};
use md5::Digest;

/// An SSE-C key as the SDK sends it: the key and its MD5, both base64.
fn customer_key() -> (String, String) {
    let key = [7u8; 32];
    let b64 = base64::engine::general_purpose::STANDARD;
    (b64.encode(key), b64.encode(md5::Md5::digest(key)))
}

#[tokio::test]
async fn writes_asking_for_encryption_are_not_implemented() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("sse").send().await.unwrap();
    let (key, key_md5) = customer_key();

    for sse in [ServerSideEncryption::Aes256, ServerSideEncryption::AwsKms] {
        let e = c
            .put_object()
            .bucket("sse")
            .key("s3")
            .server_side_encryption(sse.clone())
            .body(b"secret".to_vec().into())
            .send()
            .await
            .unwrap_err();
        assert_eq!((status(&e), code(&e).as_str()), (501, "NotImplemented"));
        let e = c
            .create_multipart_upload()
            .bucket("sse")
            .key("s3")
            .server_side_encryption(sse)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "NotImplemented");
    }
    let e = c
        .put_object()
        .bucket("sse")
        .key("c")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&key_md5)
        .body(b"secret".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (501, "NotImplemented"));

    // A copy may not ask for it either.
    c.put_object()
        .bucket("sse")
        .key("plain")
        .body(b"plain".to_vec().into())
        .send()
        .await
        .unwrap();
    let e = c
        .copy_object()
        .bucket("sse")
        .key("copied")
        .copy_source("sse/plain")
        .server_side_encryption(ServerSideEncryption::Aes256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NotImplemented");

    // Nothing refused was stored: no object, no upload.
    for k in ["s3", "c", "copied"] {
        let e = c
            .head_object()
            .bucket("sse")
            .key(k)
            .send()
            .await
            .unwrap_err();
        assert_eq!(status(&e), 404, "{k}");
    }
    let uploads = c
        .list_multipart_uploads()
        .bucket("sse")
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty());
}

#[tokio::test]
async fn a_customer_key_does_not_apply_to_a_plain_object() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("ssec").send().await.unwrap();
    c.put_object()
        .bucket("ssec")
        .key("plain")
        .body(b"plain".to_vec().into())
        .send()
        .await
        .unwrap();
    let (key, key_md5) = customer_key();

    let e = c
        .get_object()
        .bucket("ssec")
        .key("plain")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&key_md5)
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (400, "InvalidRequest"));
    let e = c
        .head_object()
        .bucket("ssec")
        .key("plain")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&key_md5)
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
