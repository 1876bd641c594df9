//! POST Object: HTML form uploads signed with a SigV4 policy document. Each case builds the
//! multipart/form-data body by hand (as a browser would send it) and asserts the status and
//! S3 error code, and that a refused form stores nothing.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use base64::Engine;
use cluster_tests::{client_for, code, hmac_sha256, signing_key, LocalCluster};

#[tokio::test]
async fn post_object_forms() {
    tokio::time::timeout(Duration::from_secs(240), story())
        .await
        .expect("test timed out");
}

/// Form fields, in order.
type Fields = Vec<(&'static str, String)>;

const BOUNDARY: &str = "----cofferformboundary7MA4YWxkTrZu0gW";

/// A multipart/form-data body of `fields`, then the file.
fn form(fields: &[(&str, String)], filename: &str, file: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    b.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            .as_bytes(),
    );
    b.extend_from_slice(file);
    b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    b
}

/// The signed fields of a policy (conditions as JSON) for `access_key`/`secret`, expiring
/// `ttl_secs` from now (negative: already expired).
fn signed_fields(
    access_key: &str,
    secret: &str,
    conditions: &str,
    ttl_secs: i64,
) -> Vec<(&'static str, String)> {
    let now = chrono::Utc::now();
    let date = now.format("%Y%m%d").to_string();
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let credential = format!("{access_key}/{date}/us-east-1/s3/aws4_request");
    let expiration = (now + chrono::Duration::seconds(ttl_secs))
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let doc = format!(
        r#"{{"expiration":"{expiration}","conditions":[{conditions},
            {{"x-amz-credential":"{credential}"}},{{"x-amz-algorithm":"AWS4-HMAC-SHA256"}},
            {{"x-amz-date":"{amz_date}"}}]}}"#
    );
    let policy = base64::engine::general_purpose::STANDARD.encode(doc);
    let signature = hex::encode(hmac_sha256(&signing_key(secret, &date), &policy));
    vec![
        ("x-amz-credential", credential),
        ("x-amz-algorithm", "AWS4-HMAC-SHA256".into()),
        ("x-amz-date", amz_date),
        ("policy", policy),
        ("x-amz-signature", signature),
    ]
}

struct Answer {
    status: u16,
    location: String,
    body: String,
}

async fn post(endpoint: &str, bucket: &str, body: Vec<u8>) -> Answer {
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{endpoint}/{bucket}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Answer {
        status,
        location,
        body: r.text().await.unwrap(),
    }
}

fn has_code(a: &Answer, code: &str) -> bool {
    a.body.contains(&format!("<Code>{code}</Code>"))
}

const UPLOADS: &str = r#"{"bucket":"forms"},["starts-with","$key","uploads/"],
    ["content-length-range",1,65536],["starts-with","$Content-Type","image/"],
    {"success_action_status":"201"}"#;

async fn story() {
    let cluster = LocalCluster::start(1, &["--kms-keys", "testkey-1"]).await;
    let ep = cluster.endpoint.clone();
    let root = cluster.client();
    root.create_bucket().bucket("forms").send().await.unwrap();
    let (ak, sk) = (cluster_tests::ACCESS_KEY, cluster_tests::SECRET_KEY);
    let picture = cluster_tests::bytes(40_000, 7);
    let with = |mut f: Vec<(&'static str, String)>, extra: &[(&'static str, &str)]| {
        for (k, v) in extra {
            f.push((k, (*v).to_owned()));
        }
        f
    };
    let base = [
        ("key", "uploads/${filename}"),
        ("Content-Type", "image/png"),
        ("success_action_status", "201"),
    ];

    // A signed form within its policy: 201 with a PostResponse, and the object is there
    // under the file's name, with the form's Content-Type.
    let fields = with(signed_fields(ak, sk, UPLOADS, 300), &base);
    let a = post(&ep, "forms", form(&fields, "cat.png", &picture)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert!(a.body.contains("<Key>uploads/cat.png</Key>"), "{}", a.body);
    assert!(
        a.location.ends_with("/forms/uploads/cat.png"),
        "{}",
        a.location
    );
    // A form without a checksum field gets the default one, as a PUT does.
    let got = root
        .get_object()
        .bucket("forms")
        .key("uploads/cat.png")
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.checksum_type(),
        Some(&aws_sdk_s3::types::ChecksumType::FullObject)
    );
    assert!(got.checksum_crc64_nvme().is_some());
    assert_eq!(got.content_type(), Some("image/png"));
    let back = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(back.as_ref(), picture.as_slice());

    // A form that asks for SSE-S3 stores the file encrypted.
    let fields = with(
        signed_fields(
            ak,
            sk,
            &format!(r#"{UPLOADS},{{"x-amz-server-side-encryption":"AES256"}}"#),
            300,
        ),
        &[
            ("key", "uploads/sealed.png"),
            ("Content-Type", "image/png"),
            ("success_action_status", "201"),
            ("x-amz-server-side-encryption", "AES256"),
        ],
    );
    let a = post(&ep, "forms", form(&fields, "sealed.png", &picture)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let got = root
        .get_object()
        .bucket("forms")
        .key("uploads/sealed.png")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.server_side_encryption(),
        Some(&aws_sdk_s3::types::ServerSideEncryption::Aes256)
    );
    let back = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(back.as_ref(), picture.as_slice());

    // A form that asks for SSE-KMS under a named key: stored under that key. One naming a
    // key the key service does not have is refused, and nothing is stored.
    let kms_form = |key: &str, kms_key: &str| {
        with(
            signed_fields(
                ak,
                sk,
                &format!(
                    r#"{UPLOADS},{{"x-amz-server-side-encryption":"aws:kms"}},
                    {{"x-amz-server-side-encryption-aws-kms-key-id":"{kms_key}"}}"#
                ),
                300,
            ),
            &[
                ("key", key),
                ("Content-Type", "image/png"),
                ("success_action_status", "201"),
                ("x-amz-server-side-encryption", "aws:kms"),
                ("x-amz-server-side-encryption-aws-kms-key-id", kms_key),
            ],
        )
    };
    let fields = kms_form("uploads/kms.png", "testkey-1");
    let a = post(&ep, "forms", form(&fields, "kms.png", &picture)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let got = root
        .get_object()
        .bucket("forms")
        .key("uploads/kms.png")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.server_side_encryption(),
        Some(&aws_sdk_s3::types::ServerSideEncryption::AwsKms)
    );
    assert_eq!(got.ssekms_key_id(), Some("testkey-1"));
    let back = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(back.as_ref(), picture.as_slice());
    let fields = kms_form("uploads/nokey.png", "no-such-key");
    let a = post(&ep, "forms", form(&fields, "nokey.png", &picture)).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(has_code(&a, "KMS.NotFoundException"), "{}", a.body);
    let e = root
        .head_object()
        .bucket("forms")
        .key("uploads/nokey.png")
        .send()
        .await
        .unwrap_err();
    assert_eq!(cluster_tests::status(&e), 404, "nothing stored: {e:?}");

    // A form may set the object's website redirect, as a PUT's header does.
    let fields = with(
        signed_fields(
            ak,
            sk,
            &format!(r#"{UPLOADS},{{"x-amz-website-redirect-location":"/moved.html"}}"#),
            300,
        ),
        &[
            ("key", "uploads/moved.png"),
            ("Content-Type", "image/png"),
            ("success_action_status", "201"),
            ("x-amz-website-redirect-location", "/moved.html"),
        ],
    );
    let a = post(&ep, "forms", form(&fields, "moved.png", &picture)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let h = root
        .head_object()
        .bucket("forms")
        .key("uploads/moved.png")
        .send()
        .await
        .unwrap();
    assert_eq!(h.website_redirect_location(), Some("/moved.html"));

    // success_action_redirect: a 303 to the page, with bucket, key and ETag.
    let redirect = r#"{"bucket":"forms"},["starts-with","$key","uploads/"],
        ["starts-with","$success_action_redirect","http://127.0.0.1/"]"#;
    let fields = with(
        signed_fields(ak, sk, redirect, 300),
        &[
            ("key", "uploads/r.bin"),
            ("success_action_redirect", "http://127.0.0.1/done?x=1"),
        ],
    );
    let a = post(&ep, "forms", form(&fields, "r.bin", b"redirected")).await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert!(
        a.location
            .starts_with("http://127.0.0.1/done?x=1&bucket=forms&key=uploads%2Fr.bin&etag="),
        "{}",
        a.location
    );
    // No status asked: 204.
    let plain = r#"{"bucket":"forms"},["starts-with","$key",""]"#;
    let fields = with(signed_fields(ak, sk, plain, 300), &[("key", "plain.txt")]);
    assert_eq!(
        post(&ep, "forms", form(&fields, "p", b"p")).await.status,
        204
    );

    // Refusals, each with S3's status and code; none stores anything.
    let mut bad_sig = with(signed_fields(ak, sk, UPLOADS, 300), &base);
    bad_sig[4].1 = "0".repeat(64);
    let mut tampered = with(signed_fields(ak, sk, UPLOADS, 300), &base);
    tampered[3].1 = base64::engine::general_purpose::STANDARD
        .encode(r#"{"expiration":"2099-01-01T00:00:00Z","conditions":[]}"#);
    let cases: Vec<(&str, Fields, Vec<u8>, u16, &str)> = vec![
        (
            "a key outside the policy",
            with(
                signed_fields(ak, sk, UPLOADS, 300),
                &[
                    ("key", "elsewhere/x"),
                    ("Content-Type", "image/png"),
                    ("success_action_status", "201"),
                ],
            ),
            picture.clone(),
            403,
            "AccessDenied",
        ),
        (
            "a Content-Type the policy does not allow",
            with(
                signed_fields(ak, sk, UPLOADS, 300),
                &[
                    ("key", "uploads/x.txt"),
                    ("Content-Type", "text/html"),
                    ("success_action_status", "201"),
                ],
            ),
            picture.clone(),
            403,
            "AccessDenied",
        ),
        (
            "a field the policy does not name",
            with(
                with(signed_fields(ak, sk, UPLOADS, 300), &base),
                &[("x-amz-meta-extra", "1")],
            ),
            picture.clone(),
            403,
            "AccessDenied",
        ),
        (
            "an expired policy",
            with(signed_fields(ak, sk, UPLOADS, -60), &base),
            picture.clone(),
            403,
            "AccessDenied",
        ),
        (
            "a wrong signature",
            bad_sig,
            picture.clone(),
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "a swapped policy",
            tampered,
            picture.clone(),
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "a file over content-length-range",
            with(signed_fields(ak, sk, UPLOADS, 300), &base),
            vec![1; 70_000],
            400,
            "EntityTooLarge",
        ),
        (
            "an empty file under content-length-range",
            with(signed_fields(ak, sk, UPLOADS, 300), &base),
            Vec::new(),
            400,
            "EntityTooSmall",
        ),
        (
            "an unknown key",
            with(
                signed_fields("AKIANOSUCHKEY0000000", sk, UPLOADS, 300),
                &base,
            ),
            picture.clone(),
            403,
            "InvalidAccessKeyId",
        ),
        (
            "DSSE-KMS, which is not built",
            with(
                signed_fields(
                    ak,
                    sk,
                    &format!(r#"{UPLOADS},{{"x-amz-server-side-encryption":"aws:kms:dsse"}}"#),
                    300,
                ),
                &[
                    ("key", "uploads/refused.png"),
                    ("Content-Type", "image/png"),
                    ("success_action_status", "201"),
                    ("x-amz-server-side-encryption", "aws:kms:dsse"),
                ],
            ),
            picture.clone(),
            501,
            "NotImplemented",
        ),
        (
            "no key field",
            signed_fields(ak, sk, UPLOADS, 300),
            picture.clone(),
            400,
            "InvalidArgument",
        ),
    ];
    for (what, fields, file, status, want) in cases {
        let a = post(&ep, "forms", form(&fields, "refused.png", &file)).await;
        assert_eq!(a.status, status, "{what}: {}", a.body);
        assert!(has_code(&a, want), "{what}: {}", a.body);
    }
    for key in ["uploads/refused.png", "elsewhere/x"] {
        let r = root.head_object().bucket("forms").key(key).send().await;
        assert!(r.is_err(), "{key} was stored");
    }

    // Not a form, and no file.
    let r = reqwest::Client::new()
        .post(format!("{ep}/forms"))
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 412);
    let mut no_file = Vec::new();
    no_file.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--{BOUNDARY}--\r\n").as_bytes(),
    );
    let a = post(&ep, "forms", no_file).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(has_code(&a, "InvalidArgument"), "{}", a.body);

    // Unsigned forms are anonymous: refused until a bucket policy lets anyone write.
    let anon = form(&[("key", "anon/a.txt".into())], "a.txt", b"anonymous");
    let a = post(&ep, "forms", anon.clone()).await;
    assert_eq!(a.status, 403, "{}", a.body);
    root.put_bucket_policy()
        .bucket("forms")
        .policy(r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::forms/anon/*"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(post(&ep, "forms", anon).await.status, 204);
    let outside = form(&[("key", "other.txt".into())], "o", b"o");
    assert_eq!(post(&ep, "forms", outside).await.status, 403);

    // An IAM user's form: its policies decide.
    let (uak, usk) = cluster.create_user("poster");
    let (uak, usk) = (uak.as_str(), usk.as_str());
    let user_form = || {
        let f = with(
            signed_fields(uak, usk, plain, 300),
            &[("key", "by-user.txt")],
        );
        form(&f, "u", b"user")
    };
    let a = post(&ep, "forms", user_form()).await;
    assert!(
        a.status == 403 && has_code(&a, "AccessDenied"),
        "{}",
        a.body
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("put.json");
    std::fs::write(
        &f,
        r#"{"Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::forms/*"}}"#,
    )
    .unwrap();
    let f = f.to_string_lossy().into_owned();
    let out = cluster.admin_output(1, &["policy", "attach", "--user", "poster", "put", &f]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(post(&ep, "forms", user_form()).await.status, 204);
    let user = client_for(&ep, uak, usk);
    let denied = user
        .get_object()
        .bucket("forms")
        .key("by-user.txt")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&denied), "AccessDenied", "writing is not reading");

    // For policies a form's fields are its headers: a bucket policy that demands
    // x-amz-acl = private sees the form's acl field.
    root.put_bucket_policy()
        .bucket("forms")
        .policy(r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::forms/*","Condition":{"StringNotEquals":{"s3:x-amz-acl":"private"}}}}"#)
        .send()
        .await
        .unwrap();
    let acl_conditions =
        r#"{"bucket":"forms"},["starts-with","$key",""],["starts-with","$acl",""]"#;
    let acl_form = |acl: Option<&'static str>| {
        let mut extra = vec![("key", "acl.txt")];
        extra.extend(acl.map(|a| ("acl", a)));
        form(
            &with(signed_fields(ak, sk, acl_conditions, 300), &extra),
            "a",
            b"a",
        )
    };
    let a = post(&ep, "forms", acl_form(None)).await;
    assert!(
        a.status == 403 && has_code(&a, "AccessDenied"),
        "{}",
        a.body
    );
    assert_eq!(
        post(&ep, "forms", acl_form(Some("private"))).await.status,
        204
    );
}

/// The fields of a form signed with Signature Version 2: the base64 HMAC-SHA1 of the policy.
fn v2_fields(access_key: &str, secret: &str, conditions: &str, ttl_secs: i64) -> Fields {
    use hmac::Mac;
    let expiration = (chrono::Utc::now() + chrono::Duration::seconds(ttl_secs))
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let doc = format!(r#"{{"expiration":"{expiration}","conditions":[{conditions}]}}"#);
    let policy = base64::engine::general_purpose::STANDARD.encode(doc);
    let mut m = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(policy.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes());
    vec![
        ("AWSAccessKeyId", access_key.to_owned()),
        ("policy", policy),
        ("signature", signature),
    ]
}

#[tokio::test]
async fn post_object_forms_signed_with_signature_version_2() {
    let s = cluster_tests::Server::start().await;
    let ep = s.endpoint.clone();
    let c = s.client();
    c.create_bucket().bucket("forms2").send().await.unwrap();
    let (ak, sk) = (cluster_tests::ACCESS_KEY, cluster_tests::SECRET_KEY);
    let with = |mut f: Fields, extra: &[(&'static str, &str)]| {
        for (k, v) in extra {
            f.push((k, (*v).to_owned()));
        }
        f
    };
    // Condition names are field names in any case (`$Key`, `Content-Type`); values are exact.
    let conditions = r#"{"bucket":"forms2"},["starts-with","$Key","v2/"],
        ["content-length-range",1,1000],{"Content-Type":"text/plain"},
        {"success_action_status":"201"},["starts-with","$tagging",""],
        ["starts-with","$x-amz-checksum-crc32",""]"#;
    let tagging = "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>";
    let body = b"a form signed the old way";
    let crc = base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(body).to_be_bytes());
    let base = [
        ("key", "v2/${filename}"),
        ("Content-Type", "text/plain"),
        ("success_action_status", "201"),
        ("tagging", tagging),
        ("x-amz-checksum-crc32", crc.as_str()),
    ];
    let fields = with(v2_fields(ak, sk, conditions, 300), &base);
    let a = post(&ep, "forms2", form(&fields, "old.txt", body)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert!(a.body.contains("<Key>v2/old.txt</Key>"), "{}", a.body);
    let got = c
        .get_object()
        .bucket("forms2")
        .key("v2/old.txt")
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(got.checksum_crc32(), Some(crc.as_str()));
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        body
    );
    let tags = c
        .get_object_tagging()
        .bucket("forms2")
        .key("v2/old.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tag_set().len(), 1);
    assert_eq!(tags.tag_set()[0].key(), "k");

    // Refusals, each with S3's status and code; none stores anything.
    let drop_field = |name: &str| -> Fields {
        let mut f = with(v2_fields(ak, sk, conditions, 300), &base);
        f.retain(|(k, _)| *k != name);
        f
    };
    let mut bad_sig = with(v2_fields(ak, sk, conditions, 300), &base);
    bad_sig[2].1 = base64::engine::general_purpose::STANDARD.encode([0u8; 20]);
    let wrong_crc = base64::engine::general_purpose::STANDARD.encode([1u8; 4]);
    // (what, fields, file, status, code, what the answer says)
    type Case<'a> = (&'a str, Fields, &'a [u8], u16, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            "no signature",
            drop_field("signature"),
            body,
            400,
            "InvalidArgument",
            "Signature",
        ),
        (
            "no access key",
            drop_field("AWSAccessKeyId"),
            body,
            400,
            "InvalidArgument",
            "AWSAccessKeyId",
        ),
        (
            "no policy",
            drop_field("policy"),
            body,
            400,
            "InvalidArgument",
            "Policy",
        ),
        (
            "a wrong signature",
            bad_sig,
            body,
            403,
            "SignatureDoesNotMatch",
            "",
        ),
        (
            "an unknown key",
            with(
                v2_fields("AKIANOSUCHKEY0000000", sk, conditions, 300),
                &base,
            ),
            body,
            403,
            "InvalidAccessKeyId",
            "",
        ),
        (
            "an expired policy",
            with(v2_fields(ak, sk, conditions, -60), &base),
            body,
            403,
            "AccessDenied",
            "Policy expired",
        ),
        (
            "a condition on a value's case",
            with(
                v2_fields(ak, sk, conditions, 300),
                &[
                    ("key", "v2/case.txt"),
                    ("Content-Type", "TEXT/PLAIN"),
                    ("success_action_status", "201"),
                    ("tagging", tagging),
                    ("x-amz-checksum-crc32", crc.as_str()),
                ],
            ),
            body,
            403,
            "AccessDenied",
            "text/plain",
        ),
        (
            "a field no condition names",
            with(
                with(v2_fields(ak, sk, conditions, 300), &base),
                &[("x-amz-meta-extra", "1")],
            ),
            body,
            403,
            "AccessDenied",
            "Extra input fields",
        ),
        (
            "a file over content-length-range",
            with(v2_fields(ak, sk, conditions, 300), &base),
            &[b'x'; 1001],
            400,
            "EntityTooLarge",
            "",
        ),
        (
            "a checksum the file does not have",
            with(
                v2_fields(ak, sk, conditions, 300),
                &[
                    ("key", "v2/refused.txt"),
                    ("Content-Type", "text/plain"),
                    ("success_action_status", "201"),
                    ("tagging", tagging),
                    ("x-amz-checksum-crc32", wrong_crc.as_str()),
                ],
            ),
            body,
            400,
            "BadDigest",
            "",
        ),
    ];
    for (what, fields, file, status, code, says) in cases {
        let a = post(&ep, "forms2", form(&fields, "refused.txt", file)).await;
        assert_eq!(a.status, status, "{what}: {}", a.body);
        assert!(has_code(&a, code), "{what}: {}", a.body);
        assert!(a.body.contains(says), "{what}: {}", a.body);
    }
    let listed = c.list_objects_v2().bucket("forms2").send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["v2/old.txt"], "refused forms stored nothing");
}
