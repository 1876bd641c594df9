//! Version ids on reads, as S3 tells them apart: `null` names the version every object has
//! until versioning is enabled; a malformed id is 400 InvalidArgument; a well-formed id (24
//! lowercase hex digits, `coffer_proto::version_id`) that names no version of the key is 404
//! NoSuchVersion, on GET, HEAD, GetObjectAttributes, the tagging and ACL reads, and a copy's
//! source.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use aws_sdk_s3::types::ObjectAttributes;
use cluster_tests::{code, signed, status, Server};

/// A well-formed id of a version that was never written.
const UNKNOWN: &str = "fffffffffffffff0fffffffe";
/// Not a version id: S3's own id shape, which Coffer never makes.
const MALFORMED: &str = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrH";

#[tokio::test]
async fn reads_tell_malformed_ids_from_unknown_ones() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("vids").send().await.unwrap();
    c.put_object()
        .bucket("vids")
        .key("k")
        .body(b"data".to_vec().into())
        .send()
        .await
        .unwrap();

    let get = |v: &'static str| c.get_object().bucket("vids").key("k").version_id(v).send();
    assert!(get("null").await.is_ok());
    let e = get(UNKNOWN).await.unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (404, "NoSuchVersion"));
    let e = get(MALFORMED).await.unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (400, "InvalidArgument"));

    // The error document names the key and the version asked for.
    let r = signed(
        reqwest::Method::GET,
        &s.endpoint,
        &format!("/vids/k?versionId={UNKNOWN}"),
        &[],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 404);
    let body = r.text().await.unwrap();
    for part in [
        "<Code>NoSuchVersion</Code>".to_owned(),
        "<Key>k</Key>".to_owned(),
        format!("<VersionId>{UNKNOWN}</VersionId>"),
    ] {
        assert!(body.contains(&part), "{body}");
    }

    let head = |v: &'static str| c.head_object().bucket("vids").key("k").version_id(v).send();
    assert!(head("null").await.is_ok());
    assert_eq!(status(&head(UNKNOWN).await.unwrap_err()), 404);
    assert_eq!(status(&head(MALFORMED).await.unwrap_err()), 400);

    let attrs = c
        .get_object_attributes()
        .bucket("vids")
        .key("k")
        .version_id(UNKNOWN)
        .object_attributes(ObjectAttributes::ObjectSize)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&attrs), "NoSuchVersion");
    let tags = c
        .get_object_tagging()
        .bucket("vids")
        .key("k")
        .version_id(UNKNOWN)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&tags), "NoSuchVersion");
    let acl = c
        .get_object_acl()
        .bucket("vids")
        .key("k")
        .version_id(MALFORMED)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&acl), "InvalidArgument");

    let copy = |v: &'static str| {
        c.copy_object()
            .bucket("vids")
            .key("copy")
            .copy_source(format!("vids/k?versionId={v}"))
            .send()
    };
    assert_eq!(code(&copy(UNKNOWN).await.unwrap_err()), "NoSuchVersion");
    assert_eq!(code(&copy(MALFORMED).await.unwrap_err()), "InvalidArgument");
    copy("null").await.unwrap();
}
