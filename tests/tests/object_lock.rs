//! Object Lock is not built yet: a bucket cannot be created with it, and a write that asks
//! to lock its object is refused as S3 refuses it in a bucket without Object Lock. Nothing
//! refused is created.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use aws_sdk_s3::primitives::DateTime;
use aws_sdk_s3::types::{ObjectLockLegalHoldStatus, ObjectLockMode};
use cluster_tests::{code, status, Server};

#[tokio::test]
async fn object_lock_is_refused_not_ignored() {
    let s = Server::start().await;
    let c = s.client();
    let e = c
        .create_bucket()
        .bucket("locked")
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (501, "NotImplemented"));
    let e = c.head_bucket().bucket("locked").send().await.unwrap_err();
    assert_eq!(status(&e), 404);

    c.create_bucket().bucket("plain").send().await.unwrap();
    let until = DateTime::from_secs(4_102_444_800); // 2100-01-01
    let e = c
        .put_object()
        .bucket("plain")
        .key("held")
        .object_lock_mode(ObjectLockMode::Compliance)
        .object_lock_retain_until_date(until)
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
    let e = c
        .head_object()
        .bucket("plain")
        .key("held")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 404);
}
