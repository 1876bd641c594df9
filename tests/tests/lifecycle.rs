//! Lifecycle configuration: Put/Get/DeleteBucketLifecycleConfiguration through the SDK, the
//! older rule-level `Prefix` form through raw requests, S3's integrity and validation errors,
//! and nothing stored on a refusal.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleAndOperator, LifecycleRuleFilter,
    NoncurrentVersionExpiration, Tag, Transition, TransitionDefaultMinimumObjectSize,
    TransitionStorageClass,
};
use base64::Engine;
use cluster_tests::{code, signed, status, Server};
use md5::{Digest, Md5};

#[tokio::test]
async fn lifecycle_configuration_api() {
    tokio::time::timeout(Duration::from_secs(120), configuration_api())
        .await
        .expect("test timed out");
}

fn rules() -> BucketLifecycleConfiguration {
    BucketLifecycleConfiguration::builder()
        .rules(
            LifecycleRule::builder()
                .id("logs")
                .filter(LifecycleRuleFilter::builder().prefix("logs/").build())
                .status(ExpirationStatus::Enabled)
                .transitions(
                    Transition::builder()
                        .days(30)
                        .storage_class(TransitionStorageClass::StandardIa)
                        .build(),
                )
                .expiration(LifecycleExpiration::builder().days(365).build())
                .noncurrent_version_expiration(
                    NoncurrentVersionExpiration::builder()
                        .noncurrent_days(10)
                        .newer_noncurrent_versions(2)
                        .build(),
                )
                .abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder()
                        .days_after_initiation(7)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .rules(
            LifecycleRule::builder()
                .id("big-tagged")
                .filter(
                    LifecycleRuleFilter::builder()
                        .and(
                            LifecycleRuleAndOperator::builder()
                                .prefix("data/")
                                .tags(Tag::builder().key("class").value("tmp").build().unwrap())
                                .object_size_greater_than(1024)
                                .build(),
                        )
                        .build(),
                )
                .status(ExpirationStatus::Disabled)
                .expiration(LifecycleExpiration::builder().days(3).build())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

/// A raw PUT of a configuration document, with the Content-MD5 S3 asks for unless `md5` says
/// otherwise.
async fn put_raw(server: &Server, bucket: &str, body: &str, md5: Option<&str>) -> (u16, String) {
    let digest = base64::engine::general_purpose::STANDARD.encode(Md5::digest(body.as_bytes()));
    let md5 = md5.unwrap_or(&digest);
    let mut headers = vec![];
    if !md5.is_empty() {
        headers.push(("content-md5", md5));
    }
    let r = signed(
        reqwest::Method::PUT,
        &server.endpoint,
        &format!("/{bucket}?lifecycle"),
        &headers,
    )
    .body(body.to_owned())
    .send()
    .await
    .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn get_raw(server: &Server, bucket: &str) -> (u16, String) {
    let r = signed(
        reqwest::Method::GET,
        &server.endpoint,
        &format!("/{bucket}?lifecycle"),
        &[],
    )
    .send()
    .await
    .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn doc(rules: &str) -> String {
    format!(
        r#"<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{rules}</LifecycleConfiguration>"#
    )
}

async fn stored(
    c: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<
    aws_sdk_s3::operation::get_bucket_lifecycle_configuration::GetBucketLifecycleConfigurationOutput,
    aws_sdk_s3::error::SdkError<
        aws_sdk_s3::operation::get_bucket_lifecycle_configuration::GetBucketLifecycleConfigurationError,
    >,
>{
    c.get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
}

async fn configuration_api() {
    let server = Server::start().await;
    let c = server.client();
    c.create_bucket().bucket("lcy").send().await.unwrap();

    // None yet.
    let e = stored(&c, "lcy").await.unwrap_err();
    assert_eq!(
        (status(&e), code(&e).as_str()),
        (404, "NoSuchLifecycleConfiguration")
    );

    // Put through the SDK (which proves integrity with a flexible checksum) and read back.
    let put = c
        .put_bucket_lifecycle_configuration()
        .bucket("lcy")
        .lifecycle_configuration(rules())
        .transition_default_minimum_object_size(
            TransitionDefaultMinimumObjectSize::VariesByStorageClass,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        put.transition_default_minimum_object_size(),
        Some(&TransitionDefaultMinimumObjectSize::VariesByStorageClass)
    );
    let got = stored(&c, "lcy").await.unwrap();
    assert_eq!(
        got.transition_default_minimum_object_size(),
        Some(&TransitionDefaultMinimumObjectSize::VariesByStorageClass)
    );
    let want = rules();
    assert_eq!(got.rules(), want.rules());

    // Refusals store nothing: the rules above stay.
    let bad = [
        (
            doc("<Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule>"),
            400,
            "InvalidArgument",
        ),
        (
            doc("<Rule><ID>x</ID><Filter/><Status>Enabled</Status></Rule>"),
            400,
            "InvalidRequest",
        ),
        (
            doc("<Rule><ID>x</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>"),
            400,
            "MalformedXML",
        ),
        ("<LifecycleConfiguration><Rule>".to_owned(), 400, "MalformedXML"),
    ];
    for (body, want_status, want_code) in bad {
        let (st, text) = put_raw(&server, "lcy", &body, None).await;
        assert_eq!(st, want_status, "{body}: {text}");
        assert!(
            text.contains(&format!("<Code>{want_code}</Code>")),
            "{body}: {text}"
        );
        assert!(text.contains("<RequestId>"), "{text}");
    }
    // Integrity: no Content-MD5 nor checksum, or a wrong one.
    let good = doc("<Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>");
    let (st, text) = put_raw(&server, "lcy", &good, Some("")).await;
    assert_eq!(st, 400, "{text}");
    assert!(
        text.contains("Missing required header for this request: Content-MD5"),
        "{text}"
    );
    let (st, text) = put_raw(&server, "lcy", &good, Some("1B2M2Y8AsgTpgAmY7PhCfg==")).await;
    assert_eq!(
        (st, text.contains("<Code>BadDigest</Code>")),
        (400, true),
        "{text}"
    );
    let still = stored(&c, "lcy").await.unwrap();
    assert_eq!(still.rules(), want.rules());

    // The older form, a rule-level Prefix, comes back as it was given; a rule without an ID
    // gets one.
    let old = doc(
        "<Rule><ID>old</ID><Prefix>tmp/</Prefix><Status>Enabled</Status>\
         <Expiration><Date>2031-01-01T00:00:00Z</Date></Expiration></Rule>\
         <Rule><Filter><Prefix>x/</Prefix></Filter><Status>Enabled</Status>\
         <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>",
    );
    let (st, text) = put_raw(&server, "lcy", &old, None).await;
    assert_eq!(st, 200, "{text}");
    let (st, text) = get_raw(&server, "lcy").await;
    assert_eq!(st, 200);
    assert!(
        text.contains("<Rule><ID>old</ID><Prefix>tmp/</Prefix><Status>Enabled</Status><Expiration><Date>2031-01-01T00:00:00.000Z</Date></Expiration></Rule>"),
        "{text}"
    );
    let got = stored(&c, "lcy").await.unwrap();
    // The default minimum size when the header was not given.
    assert_eq!(
        got.transition_default_minimum_object_size(),
        Some(&TransitionDefaultMinimumObjectSize::AllStorageClasses128K)
    );
    let generated = got.rules()[1].id().unwrap();
    assert!(
        !generated.is_empty() && generated.len() <= 255,
        "{generated}"
    );
    assert_eq!(
        got.rules()[1]
            .expiration()
            .unwrap()
            .expired_object_delete_marker(),
        Some(true)
    );

    // Delete: 204, then none; deleting again is still 204.
    for _ in 0..2 {
        c.delete_bucket_lifecycle()
            .bucket("lcy")
            .send()
            .await
            .unwrap();
    }
    let e = stored(&c, "lcy").await.unwrap_err();
    assert_eq!(code(&e), "NoSuchLifecycleConfiguration");

    // A bucket that does not exist.
    let e = stored(&c, "nope").await.unwrap_err();
    assert_eq!(code(&e), "NoSuchBucket");
}

#[tokio::test]
async fn objects_tell_when_their_rules_expire_them() {
    tokio::time::timeout(Duration::from_secs(120), expiration_headers())
        .await
        .expect("test timed out");
}

/// What `x-amz-expiration` says of an object written at `written` (seconds) under a rule of
/// `days` days: S3's clock, rounded up to the next midnight UTC.
fn expected(written: i64, days: i64, rule: &str) -> String {
    let t = written + days * 86_400;
    let due = if t % 86_400 == 0 {
        t
    } else {
        (t / 86_400 + 1) * 86_400
    };
    let date = chrono::DateTime::from_timestamp(due, 0)
        .unwrap()
        .format("%a, %d %b %Y %H:%M:%S GMT");
    format!("expiry-date=\"{date}\", rule-id=\"{rule}\"")
}

async fn write(
    c: &aws_sdk_s3::Client,
    key: &str,
    tagging: Option<&str>,
) -> aws_sdk_s3::operation::put_object::PutObjectOutput {
    c.put_object()
        .bucket("exp")
        .key(key)
        .set_tagging(tagging.map(str::to_owned))
        .body(key.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap()
}

/// HEAD of `key`: its `x-amz-expiration`, and when it was written (seconds).
async fn head(c: &aws_sdk_s3::Client, key: &str) -> (Option<String>, i64) {
    let h = c.head_object().bucket("exp").key(key).send().await.unwrap();
    (
        h.expiration().map(str::to_owned),
        h.last_modified().unwrap().secs(),
    )
}

async fn expiration_headers() {
    let server = Server::start().await;
    let c = server.client();
    c.create_bucket().bucket("exp").send().await.unwrap();
    let rule = |id: &str, filter: LifecycleRuleFilter, days: i32, on: bool| {
        LifecycleRule::builder()
            .id(id)
            .filter(filter)
            .status(if on {
                ExpirationStatus::Enabled
            } else {
                ExpirationStatus::Disabled
            })
            .expiration(LifecycleExpiration::builder().days(days).build())
            .build()
            .unwrap()
    };
    let prefix = |p: &str| LifecycleRuleFilter::builder().prefix(p).build();
    let conf = BucketLifecycleConfiguration::builder()
        .rules(rule("logs-30", prefix("logs/"), 30, true))
        .rules(rule("logs-7", prefix("logs/"), 7, true))
        .rules(rule("off", prefix("tmp/"), 1, false))
        .rules(rule(
            "tagged",
            LifecycleRuleFilter::builder()
                .tag(Tag::builder().key("class").value("tmp").build().unwrap())
                .build(),
            2,
            true,
        ))
        .build()
        .unwrap();
    // Before any rule: no header.
    assert_eq!(write(&c, "logs/a", None).await.expiration(), None);
    c.put_bucket_lifecycle_configuration()
        .bucket("exp")
        .lifecycle_configuration(conf)
        .send()
        .await
        .unwrap();

    // PUT, HEAD and GET: the earliest of the rules that select it.
    let put = write(&c, "logs/b", None).await;
    let (expiry, at) = head(&c, "logs/b").await;
    let want = expected(at, 7, "logs-7");
    assert_eq!(put.expiration(), Some(want.as_str()));
    assert_eq!(expiry.as_deref(), Some(want.as_str()));
    let get = c
        .get_object()
        .bucket("exp")
        .key("logs/b")
        .send()
        .await
        .unwrap();
    assert_eq!(get.expiration(), Some(want.as_str()));
    // An object written before the rules: counted from its own creation.
    let (expiry, at) = head(&c, "logs/a").await;
    assert_eq!(expiry, Some(expected(at, 7, "logs-7")));

    // No rule, or a disabled one: no header.
    for key in ["other/c", "tmp/c"] {
        assert_eq!(write(&c, key, None).await.expiration(), None, "{key}");
    }

    // A tag filter: only the tagged object.
    let put = write(&c, "other/t", Some("class=tmp")).await;
    let (expiry, at) = head(&c, "other/t").await;
    let want = expected(at, 2, "tagged");
    assert_eq!(put.expiration(), Some(want.as_str()));
    assert_eq!(expiry.as_deref(), Some(want.as_str()));

    // Copy and CompleteMultipartUpload.
    let copy = c
        .copy_object()
        .bucket("exp")
        .key("logs/copy")
        .copy_source("exp/other/c")
        .send()
        .await
        .unwrap();
    let (_, at) = head(&c, "logs/copy").await;
    assert_eq!(copy.expiration(), Some(expected(at, 7, "logs-7").as_str()));
    let up = c
        .create_multipart_upload()
        .bucket("exp")
        .key("logs/mp")
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap();
    let part = c
        .upload_part()
        .bucket("exp")
        .key("logs/mp")
        .upload_id(id)
        .part_number(1)
        .body(b"part".to_vec().into())
        .send()
        .await
        .unwrap();
    let done = c
        .complete_multipart_upload()
        .bucket("exp")
        .key("logs/mp")
        .upload_id(id)
        .multipart_upload(cluster_tests::completed(&[(
            1,
            part.e_tag().unwrap().to_owned(),
        )]))
        .send()
        .await
        .unwrap();
    let (_, at) = head(&c, "logs/mp").await;
    assert_eq!(done.expiration(), Some(expected(at, 7, "logs-7").as_str()));

    // Rules deleted: no header any more (this gateway reads them again at once).
    c.delete_bucket_lifecycle()
        .bucket("exp")
        .send()
        .await
        .unwrap();
    assert_eq!(head(&c, "logs/b").await.0, None);
}
