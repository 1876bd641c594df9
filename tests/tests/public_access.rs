//! Block Public Access: a bucket's settings (Put/Get/DeletePublicAccessBlock) and the
//! cluster-wide ones (`coffer admin public-access-block`), both in force: BlockPublicPolicy
//! refuses a public bucket policy, RestrictPublicBuckets makes one grant nothing to anonymous
//! callers.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use cluster_tests::{code, LocalCluster};

const PUBLIC_READ: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pab/*"}}"#;

fn settings(block_policy: bool, restrict: bool) -> PublicAccessBlockConfiguration {
    PublicAccessBlockConfiguration::builder()
        .block_public_policy(block_policy)
        .restrict_public_buckets(restrict)
        .build()
}

#[tokio::test]
async fn block_public_access() {
    tokio::time::timeout(Duration::from_secs(180), story())
        .await
        .expect("test timed out");
}

async fn story() {
    let cluster = LocalCluster::start(1, &[]).await;
    let c = cluster.client();
    let anonymous = || async {
        reqwest::get(format!("{}/pab/k", cluster.endpoint))
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    c.create_bucket().bucket("pab").send().await.unwrap();
    c.put_object()
        .bucket("pab")
        .key("k")
        .body(b"v".to_vec().into())
        .send()
        .await
        .unwrap();
    let none = c
        .get_public_access_block()
        .bucket("pab")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&none), "NoSuchPublicAccessBlockConfiguration");

    // BlockPublicPolicy: a public policy is refused.
    c.put_public_access_block()
        .bucket("pab")
        .public_access_block_configuration(settings(true, false))
        .send()
        .await
        .unwrap();
    let got = c
        .get_public_access_block()
        .bucket("pab")
        .send()
        .await
        .unwrap();
    let conf = got.public_access_block_configuration().unwrap();
    assert_eq!(conf.block_public_policy(), Some(true));
    assert_eq!(conf.restrict_public_buckets(), Some(false));
    let put = |doc: &'static str| c.put_bucket_policy().bucket("pab").policy(doc).send();
    assert_eq!(code(&put(PUBLIC_READ).await.unwrap_err()), "AccessDenied");

    // Without it, the policy goes in and anonymous readers get the object...
    c.delete_public_access_block()
        .bucket("pab")
        .send()
        .await
        .unwrap();
    put(PUBLIC_READ).await.unwrap();
    assert_eq!(anonymous().await, 200);
    // ...until RestrictPublicBuckets, of the bucket or of the whole cluster, says no.
    c.put_public_access_block()
        .bucket("pab")
        .public_access_block_configuration(settings(false, true))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous().await, 403);
    assert_eq!(
        c.get_object()
            .bucket("pab")
            .key("k")
            .send()
            .await
            .map(|_| "ok")
            .unwrap(),
        "ok",
        "the owner still reads"
    );
    c.delete_public_access_block()
        .bucket("pab")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous().await, 200);
    let set = cluster.admin_json(
        1,
        &["public-access-block", "set", "--restrict-public-buckets"],
    );
    assert_eq!(set["restrict_public_buckets"], true, "{set}");
    assert_eq!(anonymous().await, 403);
    let got = cluster.admin_json(1, &["public-access-block", "get"]);
    assert_eq!(got["restrict_public_buckets"], true, "{got}");
    assert_eq!(got["block_public_policy"], false, "{got}");
    cluster.admin_json(1, &["public-access-block", "delete"]);
    assert_eq!(anonymous().await, 200);
}
