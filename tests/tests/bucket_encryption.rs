//! Bucket default encryption through a real server and the AWS SDK: Put/Get/DeleteBucketEncryption
//! with S3's answers and errors; writes that ask for nothing (PUT, copy, multipart) are
//! encrypted as the bucket says, writes that ask win; a default key the service does not have
//! fails the write and stores nothing; `--default-encryption sse-s3` for buckets without a
//! configuration; a bucket policy that requires the encryption header, as in AWS's examples.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use cluster_tests::{bytes, code, files_holding, get_bytes, outcome, status, windows_of, Server};

fn configuration(
    algorithm: ServerSideEncryption,
    key: Option<&str>,
    bucket_key: bool,
) -> ServerSideEncryptionConfiguration {
    ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(
                    ServerSideEncryptionByDefault::builder()
                        .sse_algorithm(algorithm)
                        .set_kms_master_key_id(key.map(str::to_owned))
                        .build()
                        .unwrap(),
                )
                .bucket_key_enabled(bucket_key)
                .build(),
        )
        .build()
        .unwrap()
}

async fn sse_of(c: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Option<ServerSideEncryption> {
    c.head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap()
        .server_side_encryption()
        .cloned()
}

#[tokio::test]
async fn writes_follow_the_bucket_default_encryption() {
    let s = Server::start_with(&["--kms-keys", "testkey-1"]).await;
    let c = s.client();
    c.create_bucket().bucket("enc").send().await.unwrap();
    let aes = ServerSideEncryption::Aes256;
    let kms = ServerSideEncryption::AwsKms;

    // No configuration yet: S3's 404, and writes are stored as sent.
    let e = c
        .get_bucket_encryption()
        .bucket("enc")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (status(&e), code(&e).as_str()),
        (404, "ServerSideEncryptionConfigurationNotFoundError")
    );
    c.put_object()
        .bucket("enc")
        .key("plain")
        .body(b"plain".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(sse_of(&c, "enc", "plain").await, None);

    // SSE-S3 by default: PUT, copy and multipart that ask for nothing are encrypted.
    c.put_bucket_encryption()
        .bucket("enc")
        .server_side_encryption_configuration(configuration(aes.clone(), None, false))
        .send()
        .await
        .unwrap();
    let got = c
        .get_bucket_encryption()
        .bucket("enc")
        .send()
        .await
        .unwrap();
    let rule = &got.server_side_encryption_configuration().unwrap().rules()[0];
    let apply = rule.apply_server_side_encryption_by_default().unwrap();
    assert_eq!(apply.sse_algorithm(), &aes);
    assert_eq!(apply.kms_master_key_id(), None);
    assert_eq!(rule.bucket_key_enabled(), Some(false));
    let secret = bytes(200_000, 77);
    let r = c
        .put_object()
        .bucket("enc")
        .key("by-default")
        .body(secret.clone().into())
        .send()
        .await
        .unwrap();
    assert_eq!(r.server_side_encryption(), Some(&aes));
    assert_eq!(sse_of(&c, "enc", "by-default").await, Some(aes.clone()));
    assert_eq!(get_bytes(&c, "enc", "by-default").await, secret);
    let r = c
        .copy_object()
        .bucket("enc")
        .key("copied")
        .copy_source("enc/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(r.server_side_encryption(), Some(&aes));
    assert_eq!(get_bytes(&c, "enc", "copied").await, b"plain");
    let up = c
        .create_multipart_upload()
        .bucket("enc")
        .key("multi")
        .send()
        .await
        .unwrap();
    assert_eq!(up.server_side_encryption(), Some(&aes));
    c.abort_multipart_upload()
        .bucket("enc")
        .key("multi")
        .upload_id(up.upload_id().unwrap())
        .send()
        .await
        .unwrap();
    // What a write asks for wins over the default.
    let r = c
        .put_object()
        .bucket("enc")
        .key("asked-kms")
        .server_side_encryption(kms.clone())
        .ssekms_key_id("testkey-1")
        .body(b"kms".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(r.server_side_encryption(), Some(&kms));

    // SSE-KMS by default, under a named key with a bucket key.
    c.put_bucket_encryption()
        .bucket("enc")
        .server_side_encryption_configuration(configuration(kms.clone(), Some("testkey-1"), true))
        .send()
        .await
        .unwrap();
    let r = c
        .put_object()
        .bucket("enc")
        .key("kms-default")
        .body(secret.clone().into())
        .send()
        .await
        .unwrap();
    assert_eq!(r.server_side_encryption(), Some(&kms));
    assert_eq!(r.ssekms_key_id(), Some("testkey-1"));
    assert_eq!(r.bucket_key_enabled(), Some(true));
    assert_eq!(get_bytes(&c, "enc", "kms-default").await, secret);

    // A default key the service does not have: accepted (as S3), but writes fail, storing
    // nothing.
    c.put_bucket_encryption()
        .bucket("enc")
        .server_side_encryption_configuration(configuration(kms.clone(), Some("nokey"), false))
        .send()
        .await
        .unwrap();
    let e = c
        .put_object()
        .bucket("enc")
        .key("refused")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (status(&e), code(&e).as_str()),
        (400, "KMS.NotFoundException")
    );
    let e = c
        .head_object()
        .bucket("enc")
        .key("refused")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 404);

    // Bad configurations: S3's errors, the stored one unchanged.
    let e = c
        .put_bucket_encryption()
        .bucket("enc")
        .server_side_encryption_configuration(configuration(aes.clone(), Some("testkey-1"), false))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidArgument");
    let e = c
        .put_bucket_encryption()
        .bucket("enc")
        .server_side_encryption_configuration(configuration("rot13".into(), None, false))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "MalformedXML");
    let got = c
        .get_bucket_encryption()
        .bucket("enc")
        .send()
        .await
        .unwrap();
    let rule = &got.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .kms_master_key_id(),
        Some("nokey")
    );

    // Deleted: back to 404 and plain writes.
    c.delete_bucket_encryption()
        .bucket("enc")
        .send()
        .await
        .unwrap();
    let e = c
        .get_bucket_encryption()
        .bucket("enc")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 404);
    c.put_object()
        .bucket("enc")
        .key("plain-again")
        .body(b"p".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(sse_of(&c, "enc", "plain-again").await, None);
    let e = c
        .get_bucket_encryption()
        .bucket("nobucket")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchBucket");

    // What the defaults encrypted is ciphertext at rest.
    let found = files_holding(&s.data(), &windows_of(&secret));
    assert!(found.is_empty(), "plaintext found at rest in {found:?}");
}

#[tokio::test]
async fn the_cluster_default_and_a_policy_that_requires_encryption() {
    let s = Server::start_with(&["--default-encryption", "sse-s3"]).await;
    let c = s.client();
    c.create_bucket().bucket("dflt").send().await.unwrap();
    let aes = ServerSideEncryption::Aes256;

    // No configuration: SSE-S3, as S3 does for every bucket.
    let got = c
        .get_bucket_encryption()
        .bucket("dflt")
        .send()
        .await
        .unwrap();
    let rule = &got.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm(),
        &aes
    );
    let r = c
        .put_object()
        .bucket("dflt")
        .key("k")
        .body(b"v".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(r.server_side_encryption(), Some(&aes));

    // AWS's example: deny uploads that do not ask for SSE-S3 in their headers.
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::dflt/*",
         "Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"AES256"}}},
        {"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::dflt/*",
         "Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}]}"#;
    c.put_bucket_policy()
        .bucket("dflt")
        .policy(policy)
        .send()
        .await
        .unwrap();
    let put = |asked: Option<ServerSideEncryption>| {
        c.put_object()
            .bucket("dflt")
            .key("p")
            .set_server_side_encryption(asked)
            .body(b"v".to_vec().into())
            .send()
    };
    assert_eq!(outcome(put(None).await), "AccessDenied");
    assert_eq!(
        outcome(put(Some(ServerSideEncryption::AwsKms)).await),
        "AccessDenied"
    );
    assert_eq!(outcome(put(Some(aes.clone())).await), "ok");
}
