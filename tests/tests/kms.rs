//! SSE-KMS with the built-in key service, through a node, a gateway, the AWS SDK and
//! `coffer admin kms key`: keys made from the configuration and the CLI; writes that name a
//! key (by id, alias or ARN), or none (`aws/s3`), with an encryption context and the bucket-key
//! flag, echoed as S3 echoes them; an unknown key refused with nothing stored; a disabled key
//! makes its objects unreadable (and unwritable) until enabled again; rotation keeps older
//! objects readable; `kms:` actions in IAM policies decide who may use a key; no plaintext at
//! rest.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use base64::Engine;
use cluster_tests::{
    bytes, client_for, code, files_holding, get_bytes, status, windows_of, LocalCluster,
};
use md5::Digest;

/// How long a gateway may use a key's document before it reads it again, and a margin.
const KEY_FRESH: Duration = Duration::from_millis(2500);

#[tokio::test]
async fn sse_kms_with_the_built_in_key_service() {
    tokio::time::timeout(Duration::from_secs(300), story())
        .await
        .expect("test timed out");
}

async fn story() {
    let cluster = LocalCluster::start(1, &["--kms-keys", "testkey-1"]).await;
    let admin = |args: &[&str]| cluster.admin_json(1, args);
    let refused = |args: &[&str]| {
        let out = cluster.admin_output(1, args);
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let c = cluster.client();
    c.create_bucket().bucket("kms").send().await.unwrap();
    let kms = ServerSideEncryption::AwsKms;

    // The configured key exists; more are made with the CLI; ids are checked.
    let keys = admin(&["kms", "key", "list"]);
    assert_eq!(keys.as_array().unwrap().len(), 1, "{keys}");
    assert_eq!(keys[0]["id"], "testkey-1");
    assert_eq!(keys[0]["enabled"], true);
    assert_eq!(keys[0]["generation"], 0);
    let k2 = admin(&[
        "kms",
        "key",
        "create",
        "testkey-2",
        "--description",
        "second",
    ]);
    assert_eq!(
        (&k2["id"], &k2["description"]),
        (&"testkey-2".into(), &"second".into())
    );
    assert!(refused(&["kms", "key", "create", "testkey-2"]).contains("409"));
    assert!(refused(&["kms", "key", "create", "no/slash"]).contains("not a key id"));
    assert!(refused(&["kms", "key", "describe", "nokey"]).contains("404"));
    assert!(refused(&["kms", "key", "disable", "nokey"]).contains("404"));

    // Writes that name a key: by id, alias and ARN, inline and across stripes.
    let mut secrets = Vec::new();
    for (key, named, len) in [
        ("inline", "testkey-1", 1000),
        ("stripes", "alias/testkey-1", 3 * 1024 * 1024 + 5),
        (
            "arn",
            "arn:aws:kms:us-east-1:123456789012:key/testkey-2",
            70_000,
        ),
    ] {
        let data = bytes(len, len as u64);
        let r = c
            .put_object()
            .bucket("kms")
            .key(key)
            .server_side_encryption(kms.clone())
            .ssekms_key_id(named)
            .body(data.clone().into())
            .send()
            .await
            .unwrap();
        let id = named.rsplit('/').next().unwrap();
        assert_eq!(r.server_side_encryption(), Some(&kms), "{key}");
        assert_eq!(r.ssekms_key_id(), Some(id), "{key}");
        // The default encryption context, echoed: the object's ARN.
        let context = base64::engine::general_purpose::STANDARD
            .decode(r.ssekms_encryption_context().unwrap())
            .unwrap();
        let context: serde_json::Value = serde_json::from_slice(&context).unwrap();
        assert_eq!(context["aws:s3:arn"], format!("arn:aws:s3:::kms/{key}"));
        // The ETag of an SSE-KMS object is not the MD5 of its bytes, as on S3.
        let md5 = hex::encode(md5::Md5::digest(&data));
        let etag = r.e_tag().unwrap().trim_matches('"').to_owned();
        assert_eq!(etag.len(), 32);
        assert_ne!(etag, md5, "{key}");
        assert_eq!(get_bytes(&c, "kms", key).await, data, "{key}");
        let head = c.head_object().bucket("kms").key(key).send().await.unwrap();
        assert_eq!(head.server_side_encryption(), Some(&kms));
        assert_eq!(head.ssekms_key_id(), Some(id));
        assert_eq!(head.e_tag(), r.e_tag());
        secrets.push(data);
    }
    // A range opens only its packages and reads back exactly.
    let r = c
        .get_object()
        .bucket("kms")
        .key("stripes")
        .range("bytes=65530-1048600")
        .send()
        .await
        .unwrap();
    assert_eq!(r.ssekms_key_id(), Some("testkey-1"));
    let got = r.body.collect().await.unwrap().into_bytes();
    assert_eq!(&got[..], &secrets[1][65_530..=1_048_600]);

    // No key named: the default key, aws/s3, made on first use; a context and a bucket key.
    let context = base64::engine::general_purpose::STANDARD.encode(r#"{"project":"x"}"#);
    let r = c
        .put_object()
        .bucket("kms")
        .key("default")
        .server_side_encryption(kms.clone())
        .ssekms_encryption_context(&context)
        .bucket_key_enabled(true)
        .body(b"default key".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(r.ssekms_key_id(), Some("aws/s3"));
    assert_eq!(r.ssekms_encryption_context(), Some(context.as_str()));
    assert_eq!(r.bucket_key_enabled(), Some(true));
    let head = c
        .head_object()
        .bucket("kms")
        .key("default")
        .send()
        .await
        .unwrap();
    assert_eq!(head.bucket_key_enabled(), Some(true));
    assert_eq!(get_bytes(&c, "kms", "default").await, b"default key");
    let listed = admin(&["kms", "key", "list"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == "aws/s3"),
        "{listed}"
    );

    // A key that does not exist, and a context that is not one: S3's 400s, nothing stored.
    let e = c
        .put_object()
        .bucket("kms")
        .key("nokey")
        .server_side_encryption(kms.clone())
        .ssekms_key_id("no-such-key")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (status(&e), code(&e).as_str()),
        (400, "KMS.NotFoundException")
    );
    let e = c
        .put_object()
        .bucket("kms")
        .key("nokey")
        .server_side_encryption(kms.clone())
        .ssekms_encryption_context("bm90IGpzb24=")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (400, "InvalidArgument"));
    let e = c
        .head_object()
        .bucket("kms")
        .key("nokey")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 404);

    // Multipart under a key: parts sealed with the upload's data key.
    let up = c
        .create_multipart_upload()
        .bucket("kms")
        .key("multi")
        .server_side_encryption(kms.clone())
        .ssekms_key_id("testkey-2")
        .send()
        .await
        .unwrap();
    assert_eq!(up.ssekms_key_id(), Some("testkey-2"));
    let upload_id = up.upload_id().unwrap();
    let parts = [bytes(5 << 20, 11), bytes(12_345, 12)];
    let mut done = Vec::new();
    for (n, p) in (1..).zip(&parts) {
        let r = c
            .upload_part()
            .bucket("kms")
            .key("multi")
            .upload_id(upload_id)
            .part_number(n)
            .body(p.clone().into())
            .send()
            .await
            .unwrap();
        assert_eq!(r.ssekms_key_id(), Some("testkey-2"));
        assert_ne!(
            r.e_tag().unwrap().trim_matches('"'),
            hex::encode(md5::Md5::digest(p))
        );
        done.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(r.e_tag().unwrap())
                .build(),
        );
    }
    let r = c
        .complete_multipart_upload()
        .bucket("kms")
        .key("multi")
        .upload_id(upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.ssekms_key_id(), Some("testkey-2"));
    let whole = parts.concat();
    assert_eq!(get_bytes(&c, "kms", "multi").await, whole);
    secrets.push(whole);

    // Copies: out of SSE-KMS into SSE-S3, and in place onto another key.
    let r = c
        .copy_object()
        .bucket("kms")
        .key("copied")
        .copy_source("kms/inline")
        .server_side_encryption(ServerSideEncryption::Aes256)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
    assert_eq!(get_bytes(&c, "kms", "copied").await, secrets[0]);
    let r = c
        .copy_object()
        .bucket("kms")
        .key("inline")
        .copy_source("kms/inline")
        .server_side_encryption(kms.clone())
        .ssekms_key_id("testkey-2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.ssekms_key_id(), Some("testkey-2"));
    assert_eq!(get_bytes(&c, "kms", "inline").await, secrets[0]);

    // A disabled key: its objects cannot be read (HEAD still answers) or written until it is
    // enabled again.
    let d = admin(&["kms", "key", "disable", "testkey-1"]);
    assert_eq!(d["enabled"], false);
    tokio::time::sleep(KEY_FRESH).await;
    let e = c
        .get_object()
        .bucket("kms")
        .key("stripes")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (status(&e), code(&e).as_str()),
        (400, "KMS.DisabledException")
    );
    c.head_object()
        .bucket("kms")
        .key("stripes")
        .send()
        .await
        .unwrap();
    let e = c
        .put_object()
        .bucket("kms")
        .key("while-disabled")
        .server_side_encryption(kms.clone())
        .ssekms_key_id("testkey-1")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "KMS.DisabledException");
    // Objects under other keys are not affected.
    assert_eq!(get_bytes(&c, "kms", "arn").await, secrets[2]);
    admin(&["kms", "key", "enable", "testkey-1"]);
    tokio::time::sleep(KEY_FRESH).await;
    assert_eq!(get_bytes(&c, "kms", "stripes").await, secrets[1]);

    // Rotation: new material for new objects; the older objects stay readable.
    let r = admin(&["kms", "key", "rotate", "testkey-1"]);
    assert_eq!(r["generation"], 1);
    assert_eq!(
        admin(&["kms", "key", "describe", "testkey-1"])["generation"],
        1
    );
    tokio::time::sleep(KEY_FRESH).await;
    c.put_object()
        .bucket("kms")
        .key("after-rotation")
        .server_side_encryption(kms.clone())
        .ssekms_key_id("testkey-1")
        .body(b"rotated".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&c, "kms", "after-rotation").await, b"rotated");
    assert_eq!(get_bytes(&c, "kms", "stripes").await, secrets[1]);

    // `kms:` actions in IAM policies: a user allowed S3 but not the key may not use it;
    // the default key needs no grant; an explicit Deny of kms:Decrypt stops reads.
    let (ak, sk) = cluster.create_user("alice");
    let alice = client_for(&cluster.endpoint, &ak, &sk);
    let dir = tempfile::tempdir().unwrap();
    let attach = |name: &str, doc: &str| {
        let f = dir.path().join(format!("{name}.json"));
        std::fs::write(&f, doc).unwrap();
        let f = f.to_string_lossy().into_owned();
        admin(&["policy", "attach", "--user", "alice", name, &f]);
    };
    attach(
        "s3",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*",
            "Resource":["arn:aws:s3:::kms","arn:aws:s3:::kms/*"]}]}"#,
    );
    let put_as = |key: &'static str, named: Option<&'static str>| {
        let alice = alice.clone();
        let kms = kms.clone();
        async move {
            alice
                .put_object()
                .bucket("kms")
                .key(key)
                .server_side_encryption(kms)
                .set_ssekms_key_id(named.map(str::to_owned))
                .body(b"alice".to_vec().into())
                .send()
                .await
                .map(drop)
                .map_err(|e| code(&e))
        }
    };
    assert_eq!(
        put_as("a1", Some("testkey-1")).await,
        Err("AccessDenied".to_owned())
    );
    assert_eq!(put_as("a2", None).await, Ok(()));
    attach(
        "kms",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Action":["kms:GenerateDataKey","kms:Decrypt"],
            "Resource":"arn:aws:kms:*:*:key/testkey-1"}]}"#,
    );
    assert_eq!(put_as("a1", Some("testkey-1")).await, Ok(()));
    assert_eq!(get_bytes(&alice, "kms", "a1").await, b"alice");
    // testkey-2 is still not hers to read.
    let e = alice
        .get_object()
        .bucket("kms")
        .key("arn")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    attach(
        "deny",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Decrypt",
            "Resource":"*"}]}"#,
    );
    let e = alice
        .get_object()
        .bucket("kms")
        .key("a2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");

    // No plaintext anywhere at rest: shard files, RocksDB's tables and logs.
    let needles: Vec<Vec<u8>> = secrets.iter().flat_map(|s| windows_of(s)).collect();
    let found = files_holding(cluster.dir.path(), &needles);
    assert!(found.is_empty(), "plaintext found at rest in {found:?}");
}
