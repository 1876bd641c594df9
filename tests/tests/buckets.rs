//! Buckets: create (naming rules, LocationConstraint), head, list, delete, location.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use cluster_tests::{code, status, Server};

#[tokio::test]
async fn bucket_life_cycle() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("life").send().await.unwrap();
    // Re-creating your own bucket in us-east-1 answers 200, as S3 does.
    c.create_bucket().bucket("life").send().await.unwrap();
    c.head_bucket().bucket("life").send().await.unwrap();
    let names: Vec<String> = c
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    assert_eq!(names, ["life"]);
    let loc = c.get_bucket_location().bucket("life").send().await.unwrap();
    assert!(
        loc.location_constraint().is_none()
            || loc.location_constraint().map(|l| l.as_str()) == Some("")
    );
    c.put_object()
        .bucket("life")
        .key("k")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    let e = c.delete_bucket().bucket("life").send().await.unwrap_err();
    assert_eq!(code(&e), "BucketNotEmpty");
    assert_eq!(status(&e), 409);
    c.delete_object()
        .bucket("life")
        .key("k")
        .send()
        .await
        .unwrap();
    c.delete_bucket().bucket("life").send().await.unwrap();
    let e = c.head_bucket().bucket("life").send().await.unwrap_err();
    assert_eq!(status(&e), 404);
    let e = c.delete_bucket().bucket("life").send().await.unwrap_err();
    assert_eq!(code(&e), "NoSuchBucket");
}

#[tokio::test]
async fn bucket_names_and_locations_are_checked() {
    let s = Server::start().await;
    let c = s.client();
    for bad in [
        "ab",
        "a..b",
        "192.168.0.1",
        "-abc",
        "xn--abc",
        &"a".repeat(64),
    ] {
        let e = c.create_bucket().bucket(bad).send().await.unwrap_err();
        assert_eq!(code(&e), "InvalidBucketName", "{bad}");
    }
    let conf = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::EuWest1)
        .build();
    let e = c
        .create_bucket()
        .bucket("elsewhere")
        .create_bucket_configuration(conf)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "IllegalLocationConstraintException");
    let e = c
        .list_objects_v2()
        .bucket("missing-bucket")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchBucket");
}
