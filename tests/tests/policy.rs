//! Who may do what, through identity policies (on users and groups, with `coffer admin
//! policy|group`) and bucket policies (PutBucketPolicy): a matrix of principal × action ×
//! resource × condition driven by SDK clients holding different users' keys and by anonymous
//! HTTP, each case asserting allow or the exact error.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_s3::Client;
use cluster_tests::{code, outcome, LocalCluster};

#[tokio::test]
async fn identity_and_bucket_policies() {
    tokio::time::timeout(Duration::from_secs(300), policies())
        .await
        .expect("test timed out");
}

async fn get(c: &Client, bucket: &str, key: &str) -> String {
    outcome(c.get_object().bucket(bucket).key(key).send().await)
}

async fn put(c: &Client, bucket: &str, key: &str) -> String {
    let body = b"data".to_vec().into();
    outcome(
        c.put_object()
            .bucket(bucket)
            .key(key)
            .body(body)
            .send()
            .await,
    )
}

async fn list(c: &Client, bucket: &str, prefix: &str) -> String {
    outcome(
        c.list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .send()
            .await,
    )
}

/// The status of an anonymous GET.
async fn anonymous_get(endpoint: &str, path: &str) -> u16 {
    reqwest::get(format!("{endpoint}/{path}"))
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn put_policy(c: &Client, bucket: &str, doc: &str) -> Result<(), String> {
    c.put_bucket_policy()
        .bucket(bucket)
        .policy(doc)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            let msg = e
                .as_service_error()
                .and_then(|s| aws_sdk_s3::error::ProvideErrorMetadata::message(s))
                .unwrap_or_default()
                .to_owned();
            format!("{}: {msg}", code(&e))
        })
}

/// Presigned PUT, GET, UploadPart and DELETE URLs made with `owner`'s key on its bucket
/// alice-1 work; one past its expiry, and the same URLs made with `other`'s key, do not.
async fn presigned_as(owner: &Client, other: &Client) {
    use aws_sdk_s3::presigning::PresigningConfig;
    let cfg = || PresigningConfig::expires_in(Duration::from_secs(300)).unwrap();
    let http = reqwest::Client::new();
    let status =
        |r: reqwest::RequestBuilder| async move { r.send().await.unwrap().status().as_u16() };
    for (c, want) in [(owner, 200), (other, 403)] {
        let put = c
            .put_object()
            .bucket("alice-1")
            .key("pre")
            .presigned(cfg())
            .await
            .unwrap();
        let get = c
            .get_object()
            .bucket("alice-1")
            .key("pre")
            .presigned(cfg())
            .await
            .unwrap();
        assert_eq!(status(http.put(put.uri()).body("presigned")).await, want);
        assert_eq!(status(http.get(get.uri())).await, want);
    }
    let up = owner
        .create_multipart_upload()
        .bucket("alice-1")
        .key("mp")
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap();
    let part = owner
        .upload_part()
        .bucket("alice-1")
        .key("mp")
        .upload_id(id)
        .part_number(1)
        .presigned(cfg())
        .await
        .unwrap();
    let r = http.put(part.uri()).body("part one").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let done = aws_sdk_s3::types::CompletedMultipartUpload::builder()
        .parts(
            aws_sdk_s3::types::CompletedPart::builder()
                .part_number(1)
                .e_tag(etag)
                .build(),
        )
        .build();
    owner
        .complete_multipart_upload()
        .bucket("alice-1")
        .key("mp")
        .upload_id(id)
        .multipart_upload(done)
        .send()
        .await
        .unwrap();
    assert_eq!(get(owner, "alice-1", "mp").await, "ok");
    let expired = PresigningConfig::builder()
        .start_time(std::time::SystemTime::now() - Duration::from_secs(3600))
        .expires_in(Duration::from_secs(60))
        .build()
        .unwrap();
    let old = owner
        .get_object()
        .bucket("alice-1")
        .key("mp")
        .presigned(expired)
        .await
        .unwrap();
    let r = http.get(old.uri()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("Request has expired"));
    for (c, want) in [(other, 403), (owner, 204)] {
        let del = c
            .delete_object()
            .bucket("alice-1")
            .key("mp")
            .presigned(cfg())
            .await
            .unwrap();
        assert_eq!(status(http.delete(del.uri())).await, want);
    }
    assert_eq!(get(owner, "alice-1", "mp").await, "NoSuchKey");
}

async fn policies() {
    let cluster = LocalCluster::start(1, &[]).await;
    let ep = cluster.endpoint.clone();
    let root = cluster.client();
    let admin = |args: &[&str]| cluster.admin_json(1, args);
    let dir = tempfile::tempdir().unwrap();
    let attach = |to: &str, who: &str, name: &str, doc: &str| {
        let f = dir.path().join(format!("{name}.json"));
        std::fs::write(&f, doc).unwrap();
        let f = f.to_string_lossy().into_owned();
        cluster.admin_output(1, &["policy", "attach", to, who, name, &f])
    };
    let alice = cluster.user_client("alice");
    let bob = cluster.user_client("bob");
    for b in ["shared", "home"] {
        root.create_bucket().bucket(b).send().await.unwrap();
    }
    for k in ["pub/a.txt", "pub/secret.txt", "priv/b.txt"] {
        assert_eq!(put(&root, "shared", k).await, "ok");
    }

    // Without policies: users are denied; a missing bucket is NoSuchBucket to everyone.
    assert_eq!(get(&alice, "shared", "pub/a.txt").await, "AccessDenied");
    assert_eq!(put(&bob, "shared", "x").await, "AccessDenied");
    assert_eq!(get(&bob, "nosuchbucket", "x").await, "NoSuchBucket");
    assert_eq!(anonymous_get(&ep, "shared/pub/a.txt").await, 403);

    // Identity policies: alice may create and use buckets named alice-*, and her own home.
    let out = attach(
        "--user",
        "alice",
        "own",
        r#"{"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::alice-*","arn:aws:s3:::alice-*/*"]},
          {"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"},
          {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::home",
           "Condition":{"StringLike":{"s3:prefix":"${aws:username}/*"}}}]}"#,
    );
    assert!(out.status.success(), "{out:?}");
    assert!(alice.create_bucket().bucket("alice-1").send().await.is_ok());
    assert_eq!(put(&alice, "alice-1", "k").await, "ok");
    assert_eq!(get(&alice, "alice-1", "k").await, "ok");
    let denied = alice
        .create_bucket()
        .bucket("bob-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&denied), "AccessDenied");
    assert_eq!(get(&bob, "alice-1", "k").await, "AccessDenied");
    assert_eq!(put(&alice, "home", "alice/notes").await, "ok");
    assert_eq!(put(&alice, "home", "bob/notes").await, "AccessDenied");
    assert_eq!(list(&alice, "home", "alice/").await, "ok");
    assert_eq!(list(&alice, "home", "bob/").await, "AccessDenied");

    // Presigned URLs of a user carry the user's permissions, for every operation.
    presigned_as(&alice, &bob).await;

    // A malformed identity policy is refused with the reason.
    let out = attach(
        "--user",
        "bob",
        "bad",
        r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObjekt","Resource":"*"}}"#,
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Policy has invalid action: s3:GetObjekt"),
        "{out:?}"
    );

    // Group policies reach the group's members.
    admin(&["group", "create", "readers"]);
    admin(&["group", "add-user", "readers", "bob"]);
    let out = attach(
        "--group",
        "readers",
        "read",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}}"#,
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(get(&bob, "shared", "pub/a.txt").await, "ok");
    assert_eq!(get(&bob, "shared", "priv/b.txt").await, "ok");
    assert_eq!(put(&bob, "shared", "x").await, "AccessDenied");
    let group = admin(&["group", "show", "readers"]);
    assert_eq!(group["members"], serde_json::json!(["bob"]));

    // Bucket policy: public read of pub/, an explicit deny that beats bob's group allow, and
    // a write for alice only from this machine's addresses.
    let bad = put_policy(
        &root,
        "shared",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}}"#,
    )
    .await;
    assert_eq!(
        bad.unwrap_err(),
        "MalformedPolicy: Policy has invalid resource: arn:aws:s3:::other/*"
    );
    let doc = r#"{"Version":"2012-10-17","Statement":[
      {"Sid":"public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/pub/*"},
      {"Sid":"secret","Effect":"Deny","Principal":{"AWS":"arn:aws:iam:::user/bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/pub/secret*"},
      {"Sid":"local","Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/alice"]},"Action":"s3:PutObject","Resource":"arn:aws:s3:::shared/uploads/*",
       "Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}},
      {"Sid":"remote","Effect":"Allow","Principal":{"AWS":"arn:aws:iam:::user/alice"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::shared/remote/*",
       "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
    put_policy(&root, "shared", doc).await.unwrap();
    let got = root
        .get_bucket_policy()
        .bucket("shared")
        .send()
        .await
        .unwrap();
    assert_eq!(got.policy(), Some(doc));
    let status = root
        .get_bucket_policy_status()
        .bucket("shared")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status.policy_status().and_then(|s| s.is_public()),
        Some(true)
    );

    assert_eq!(anonymous_get(&ep, "shared/pub/a.txt").await, 200);
    assert_eq!(anonymous_get(&ep, "shared/priv/b.txt").await, 403);
    assert_eq!(get(&alice, "shared", "pub/a.txt").await, "ok");
    assert_eq!(get(&bob, "shared", "pub/secret.txt").await, "AccessDenied");
    assert_eq!(get(&bob, "shared", "pub/a.txt").await, "ok");
    assert_eq!(put(&alice, "shared", "uploads/1").await, "ok");
    assert_eq!(put(&alice, "shared", "remote/1").await, "AccessDenied");
    assert_eq!(put(&bob, "shared", "uploads/2").await, "AccessDenied");

    // A copy needs s3:GetObject on its source, in the source bucket's policy too.
    let copy = |src: &'static str| {
        alice
            .copy_object()
            .bucket("alice-1")
            .key("copy")
            .copy_source(src)
            .send()
    };
    assert!(copy("shared/pub/a.txt").await.is_ok());
    assert_eq!(
        code(&copy("shared/priv/b.txt").await.unwrap_err()),
        "AccessDenied"
    );

    // DeleteObjects checks each key: bob may delete none of them.
    let ids: Vec<_> = ["pub/a.txt", "uploads/1"]
        .iter()
        .map(|k| {
            aws_sdk_s3::types::ObjectIdentifier::builder()
                .key(*k)
                .build()
                .unwrap()
        })
        .collect();
    let del = aws_sdk_s3::types::Delete::builder()
        .set_objects(Some(ids))
        .build()
        .unwrap();
    let out = bob
        .delete_objects()
        .bucket("shared")
        .delete(del)
        .send()
        .await
        .unwrap();
    assert!(out.deleted().is_empty());
    assert_eq!(out.errors().len(), 2);
    assert!(out
        .errors()
        .iter()
        .all(|e| e.code() == Some("AccessDenied")));
    assert_eq!(get(&root, "shared", "pub/a.txt").await, "ok");

    // Even the root key obeys an explicit Deny, but may always remove the policy.
    put_policy(
        &root,
        "shared",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::shared","arn:aws:s3:::shared/*"]}}"#,
    )
    .await
    .unwrap();
    assert_eq!(get(&root, "shared", "pub/a.txt").await, "AccessDenied");
    assert_eq!(list(&root, "shared", "").await, "AccessDenied");
    root.delete_bucket_policy()
        .bucket("shared")
        .send()
        .await
        .unwrap();
    assert_eq!(get(&root, "shared", "pub/a.txt").await, "ok");
    let none = root
        .get_bucket_policy()
        .bucket("shared")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&none), "NoSuchBucketPolicy");
    assert_eq!(anonymous_get(&ep, "shared/pub/a.txt").await, 403);

    // Users may not manage a bucket policy of a bucket they do not own.
    let e = put_policy(
        &bob,
        "shared",
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}}"#,
    )
    .await;
    assert!(e.unwrap_err().starts_with("AccessDenied"));

    // Detaching takes the permission away; a user with policies or groups cannot be deleted.
    let listed = admin(&["policy", "list", "--user", "alice"]);
    assert_eq!(listed[0]["name"], "own", "{listed}");
    admin(&["policy", "detach", "--user", "alice", "own"]);
    assert_eq!(put(&alice, "home", "alice/notes").await, "AccessDenied");
    // The owner of a bucket (its creator) may still use it: no policy needs to name it.
    assert_eq!(put(&alice, "alice-1", "k2").await, "ok");
    assert_eq!(get(&bob, "alice-1", "k2").await, "AccessDenied");
    let out = cluster.admin_output(1, &["group", "delete", "readers"]);
    assert!(!out.status.success());
    admin(&["group", "remove-user", "readers", "bob"]);
    assert_eq!(get(&bob, "shared", "pub/a.txt").await, "AccessDenied");
}

/// Condition keys of SSE-C, SSE-KMS, Object Lock and conditional writes are accepted, as AWS
/// accepts them, and a policy that denies writes without SSE-C denies a plain PUT.
#[tokio::test]
async fn policies_with_every_documented_condition_key_are_accepted() {
    let s = cluster_tests::Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("keys").send().await.unwrap();
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"ssec","Effect":"Deny","Principal":"*","Action":"s3:PutObject",
         "Resource":"arn:aws:s3:::keys/secret/*",
         "Condition":{"Null":{"s3:x-amz-server-side-encryption-customer-algorithm":"true"}}},
        {"Sid":"kms","Effect":"Deny","Principal":"*","Action":"s3:PutObject",
         "Resource":"arn:aws:s3:::keys/kms/*",
         "Condition":{"StringNotEqualsIfExists":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"arn:aws:kms:us-east-1:111122223333:key/k"}}},
        {"Sid":"lock","Effect":"Deny","Principal":"*","Action":"s3:PutObject",
         "Resource":"arn:aws:s3:::keys/locked/*",
         "Condition":{"NumericGreaterThan":{"s3:object-lock-remaining-retention-days":"30"}}},
        {"Sid":"create","Effect":"Deny","Principal":"*","Action":"s3:PutObject",
         "Resource":"arn:aws:s3:::keys/once/*",
         "Condition":{"Null":{"s3:if-none-match":"true"}}}
    ]}"#;
    c.put_bucket_policy()
        .bucket("keys")
        .policy(policy)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutBucketPolicy: {e:?}"));
    let put = |key: &'static str, if_none_match: Option<&'static str>| {
        c.put_object()
            .bucket("keys")
            .key(key)
            .set_if_none_match(if_none_match.map(Into::into))
            .body(b"x".to_vec().into())
            .send()
    };
    assert_eq!(outcome(put("secret/a", None).await), "AccessDenied");
    assert_eq!(outcome(put("once/a", None).await), "AccessDenied");
    assert_eq!(outcome(put("once/a", Some("*")).await), "ok");
    assert_eq!(outcome(put("plain", None).await), "ok");
}
