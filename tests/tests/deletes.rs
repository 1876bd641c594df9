//! Deletes that name a condition or a version: DeleteObject with If-Match and versionId,
//! DeleteObjects with per-key ETags and version ids. Each removes only what it names.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use cluster_tests::{code, status, Server};

#[tokio::test]
async fn conditional_and_versioned_deletes_remove_only_what_they_name() {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("del").send().await.unwrap();
    let put = |key: &'static str, data: &'static [u8]| {
        c.put_object()
            .bucket("del")
            .key(key)
            .body(data.to_vec().into())
            .send()
    };
    let exists = |key: &'static str| {
        let c = &c;
        async move { c.head_object().bucket("del").key(key).send().await.is_ok() }
    };
    let etag = put("k", b"one").await.unwrap().e_tag().unwrap().to_owned();

    // If-Match with another ETag: 412, and the object stays.
    let e = c
        .delete_object()
        .bucket("del")
        .key("k")
        .if_match("\"0123456789abcdef0123456789abcdef\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (412, "PreconditionFailed"));
    assert!(exists("k").await);
    // A versionId other than "null" names no version: refused, the object stays.
    let e = c
        .delete_object()
        .bucket("del")
        .key("k")
        .version_id("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrH")
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (400, "InvalidArgument"));
    assert!(exists("k").await);
    // Its own ETag deletes it; If-Match on a missing key is NoSuchKey.
    c.delete_object()
        .bucket("del")
        .key("k")
        .if_match(&etag)
        .send()
        .await
        .unwrap();
    assert!(!exists("k").await);
    let e = c
        .delete_object()
        .bucket("del")
        .key("k")
        .if_match("*")
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (404, "NoSuchKey"));
    // versionId=null is the version every object has here.
    put("n", b"n").await.unwrap();
    c.delete_object()
        .bucket("del")
        .key("n")
        .version_id("null")
        .send()
        .await
        .unwrap();
    assert!(!exists("n").await);

    // DeleteObjects: each <ETag> and <VersionId> is honoured per key.
    let a = put("a", b"a").await.unwrap().e_tag().unwrap().to_owned();
    put("b", b"b").await.unwrap();
    put("v", b"v").await.unwrap();
    put("p", b"p").await.unwrap();
    let id = |key: &str| ObjectIdentifier::builder().key(key);
    let r = c
        .delete_objects()
        .bucket("del")
        .delete(
            Delete::builder()
                .objects(id("a").e_tag(&a).build().unwrap())
                .objects(
                    id("b")
                        .e_tag("\"ffffffffffffffffffffffffffffffff\"")
                        .build()
                        .unwrap(),
                )
                .objects(id("gone").e_tag("*").build().unwrap())
                .objects(id("v").version_id("someotherversion").build().unwrap())
                .objects(id("p").build().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let mut deleted: Vec<_> = r.deleted().iter().filter_map(|d| d.key()).collect();
    deleted.sort();
    assert_eq!(deleted, ["a", "p"]);
    let mut errors: Vec<_> = r
        .errors()
        .iter()
        .map(|e| (e.key().unwrap(), e.code().unwrap()))
        .collect();
    errors.sort();
    assert_eq!(
        errors,
        [
            ("b", "PreconditionFailed"),
            ("gone", "NoSuchKey"),
            ("v", "NoSuchVersion")
        ]
    );
    assert!(!exists("a").await && !exists("p").await);
    assert!(exists("b").await && exists("v").await);
}
