//! Object Lock through a real server and the AWS SDK: a bucket created with it is versioned
//! and stays so; default retention; retention and legal holds set by headers and by the
//! retention and legal-hold calls; what a lock refuses (deleting the version, shortening a
//! COMPLIANCE retention) and what it allows (a delete marker, a governance bypass by a caller
//! allowed to); and a write that asks for a lock in a bucket without Object Lock is refused,
//! storing nothing.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use aws_sdk_s3::primitives::DateTime;
use aws_sdk_s3::types::{
    BucketVersioningStatus, DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled,
    ObjectLockLegalHold, ObjectLockLegalHoldStatus, ObjectLockMode, ObjectLockRetention,
    ObjectLockRetentionMode, ObjectLockRule, VersioningConfiguration,
};
use cluster_tests::{code, set_versioning, signed, status, Server};

/// 2100-01-01.
fn far() -> DateTime {
    DateTime::from_secs(4_102_444_800)
}

#[tokio::test]
async fn a_lock_is_refused_where_the_bucket_has_none() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("plain").send().await.unwrap();
    let e = c
        .put_object()
        .bucket("plain")
        .key("held")
        .object_lock_mode(ObjectLockMode::Compliance)
        .object_lock_retain_until_date(far())
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (400, "InvalidRequest"));
    let e = c
        .create_multipart_upload()
        .bucket("plain")
        .key("held")
        .object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequest");
    let e = c.head_object().bucket("plain").key("held").send().await;
    assert_eq!(status(&e.unwrap_err()), 404);
    let e = c
        .get_object_lock_configuration()
        .bucket("plain")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ObjectLockConfigurationNotFoundError");
    // Turning it on needs versioning Enabled first.
    let config = ObjectLockConfiguration::builder()
        .object_lock_enabled(ObjectLockEnabled::Enabled)
        .build();
    let put_config = || {
        c.put_object_lock_configuration()
            .bucket("plain")
            .object_lock_configuration(config.clone())
            .send()
    };
    let e = put_config().await.unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (409, "InvalidBucketState"));
    set_versioning(&c, "plain", BucketVersioningStatus::Enabled).await;
    put_config().await.unwrap();
    let got = c
        .get_object_lock_configuration()
        .bucket("plain")
        .send()
        .await
        .unwrap();
    let got = got.object_lock_configuration().unwrap();
    assert_eq!(got.object_lock_enabled(), Some(&ObjectLockEnabled::Enabled));
}

#[tokio::test]
async fn locked_versions_cannot_be_removed() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket()
        .bucket("vault")
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    let v = c
        .get_bucket_versioning()
        .bucket("vault")
        .send()
        .await
        .unwrap();
    assert_eq!(v.status(), Some(&BucketVersioningStatus::Enabled));
    // A locked bucket cannot be suspended.
    let e = c
        .put_bucket_versioning()
        .bucket("vault")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (409, "InvalidBucketState"));

    // COMPLIANCE by headers (the SDK sends a checksum with them).
    let comp = c
        .put_object()
        .bucket("vault")
        .key("k")
        .object_lock_mode(ObjectLockMode::Compliance)
        .object_lock_retain_until_date(far())
        .body(b"kept".to_vec().into())
        .send()
        .await
        .unwrap()
        .version_id
        .unwrap();
    let r = c
        .get_object_retention()
        .bucket("vault")
        .key("k")
        .version_id(&comp)
        .send()
        .await
        .unwrap();
    let r = r.retention().unwrap();
    assert_eq!(r.mode(), Some(&ObjectLockRetentionMode::Compliance));
    assert_eq!(r.retain_until_date(), Some(&far()));
    let e = c
        .delete_object()
        .bucket("vault")
        .key("k")
        .version_id(&comp)
        .bypass_governance_retention(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (403, "AccessDenied"));
    // Shortening it is refused; extending it is not.
    let shorter = ObjectLockRetention::builder()
        .mode(ObjectLockRetentionMode::Compliance)
        .retain_until_date(DateTime::from_secs(4_000_000_000))
        .build();
    let e = c
        .put_object_retention()
        .bucket("vault")
        .key("k")
        .version_id(&comp)
        .retention(shorter)
        .bypass_governance_retention(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    let longer = ObjectLockRetention::builder()
        .mode(ObjectLockRetentionMode::Compliance)
        .retain_until_date(DateTime::from_secs(4_200_000_000))
        .build();
    c.put_object_retention()
        .bucket("vault")
        .key("k")
        .version_id(&comp)
        .retention(longer)
        .send()
        .await
        .unwrap();
    // GET and HEAD show the lock to a caller who may read it.
    let h = c
        .head_object()
        .bucket("vault")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(h.object_lock_mode(), Some(&ObjectLockMode::Compliance));
    assert_eq!(
        h.object_lock_retain_until_date(),
        Some(&DateTime::from_secs(4_200_000_000))
    );
    assert_eq!(
        h.object_lock_legal_hold_status(),
        Some(&ObjectLockLegalHoldStatus::Off)
    );

    // A delete marker can still be placed; the version stays readable by id.
    let d = c
        .delete_object()
        .bucket("vault")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(d.delete_marker(), Some(true));
    let o = c
        .get_object()
        .bucket("vault")
        .key("k")
        .version_id(&comp)
        .send()
        .await
        .unwrap();
    assert_eq!(&o.body.collect().await.unwrap().into_bytes()[..], b"kept");

    // A legal hold: no delete until it is released.
    let held = c
        .put_object()
        .bucket("vault")
        .key("h")
        .body(b"held".to_vec().into())
        .send()
        .await
        .unwrap()
        .version_id
        .unwrap();
    let hold = |on: bool| {
        let status = if on {
            ObjectLockLegalHoldStatus::On
        } else {
            ObjectLockLegalHoldStatus::Off
        };
        c.put_object_legal_hold()
            .bucket("vault")
            .key("h")
            .version_id(&held)
            .legal_hold(ObjectLockLegalHold::builder().status(status).build())
            .send()
    };
    hold(true).await.unwrap();
    let o = c
        .get_object()
        .bucket("vault")
        .key("h")
        .version_id(&held)
        .send()
        .await
        .unwrap();
    assert_eq!(
        o.object_lock_legal_hold_status(),
        Some(&ObjectLockLegalHoldStatus::On)
    );
    assert_eq!(o.object_lock_mode(), None, "a hold is not a retention");
    let got = c
        .get_object_legal_hold()
        .bucket("vault")
        .key("h")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.legal_hold().unwrap().status(),
        Some(&ObjectLockLegalHoldStatus::On)
    );
    let del = || {
        c.delete_object()
            .bucket("vault")
            .key("h")
            .version_id(&held)
            .send()
    };
    assert_eq!(code(&del().await.unwrap_err()), "AccessDenied");
    hold(false).await.unwrap();
    del().await.unwrap();
    // No retention on it: GetObjectRetention says so.
    let free = c
        .put_object()
        .bucket("vault")
        .key("f")
        .body(b"f".to_vec().into())
        .send()
        .await
        .unwrap();
    assert!(free.version_id.is_some());
    let e = c
        .get_object_retention()
        .bucket("vault")
        .key("f")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchObjectLockConfiguration");
}

#[tokio::test]
async fn default_retention_and_the_governance_bypass() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket()
        .bucket("gov")
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    let config = ObjectLockConfiguration::builder()
        .object_lock_enabled(ObjectLockEnabled::Enabled)
        .rule(
            ObjectLockRule::builder()
                .default_retention(
                    DefaultRetention::builder()
                        .mode(ObjectLockRetentionMode::Governance)
                        .days(1)
                        .build(),
                )
                .build(),
        )
        .build();
    c.put_object_lock_configuration()
        .bucket("gov")
        .object_lock_configuration(config)
        .send()
        .await
        .unwrap();
    let got = c
        .get_object_lock_configuration()
        .bucket("gov")
        .send()
        .await
        .unwrap();
    let rule = got.object_lock_configuration().unwrap().rule().unwrap();
    assert_eq!(rule.default_retention().unwrap().days(), Some(1));
    // A write without lock headers gets a day of GOVERNANCE.
    let v = c
        .put_object()
        .bucket("gov")
        .key("k")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap()
        .version_id
        .unwrap();
    let r = c
        .get_object_retention()
        .bucket("gov")
        .key("k")
        .version_id(&v)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.retention().unwrap().mode(),
        Some(&ObjectLockRetentionMode::Governance)
    );
    let del = |bypass: bool| {
        c.delete_object()
            .bucket("gov")
            .key("k")
            .version_id(&v)
            .bypass_governance_retention(bypass)
            .send()
    };
    assert_eq!(code(&del(false).await.unwrap_err()), "AccessDenied");
    // An anonymous reader allowed only s3:GetObject reads the object but not its lock.
    c.put_bucket_policy()
        .bucket("gov")
        .policy(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::gov/*"}}"#)
        .send()
        .await
        .unwrap();
    let r = reqwest::get(format!("{}/gov/k", s.endpoint)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        !r.headers()
            .keys()
            .any(|k| k.as_str().starts_with("x-amz-object-lock")),
        "{:?}",
        r.headers()
    );
    let h = c.head_object().bucket("gov").key("k").send().await.unwrap();
    assert_eq!(h.object_lock_mode(), Some(&ObjectLockMode::Governance));
    // The root user may bypass governance when it asks to.
    del(true).await.unwrap();

    // Bad input: a half-given lock, a past date, an unknown mode.
    let r = signed(
        reqwest::Method::PUT,
        &s.endpoint,
        "/gov/bad",
        &[
            ("x-amz-object-lock-mode", "GOVERNANCE"),
            ("content-md5", "+63p42o/NtPWdsG4CEUd1w=="),
        ],
    )
    .body("z")
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("InvalidArgument"));
    let r = signed(
        reqwest::Method::PUT,
        &s.endpoint,
        "/gov/bad",
        &[
            ("x-amz-object-lock-mode", "GOVERNANCE"),
            (
                "x-amz-object-lock-retain-until-date",
                "2001-01-01T00:00:00Z",
            ),
            ("content-md5", "+63p42o/NtPWdsG4CEUd1w=="),
        ],
    )
    .body("z")
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    // Lock headers without Content-MD5 or a checksum.
    let r = signed(
        reqwest::Method::PUT,
        &s.endpoint,
        "/gov/bad",
        &[
            ("x-amz-object-lock-mode", "GOVERNANCE"),
            (
                "x-amz-object-lock-retain-until-date",
                "2100-01-01T00:00:00Z",
            ),
        ],
    )
    .body("z")
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Content-MD5"));
    let e = c.head_object().bucket("gov").key("bad").send().await;
    assert_eq!(status(&e.unwrap_err()), 404, "nothing refused was stored");
}
