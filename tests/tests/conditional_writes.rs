//! Conditional writes as S3 has them, each checked atomically with its write: `If-None-Match`
//! with `*` or an ETag, `If-Match`, both together, on PutObject, CopyObject (the destination)
//! and CompleteMultipartUpload; DeleteObject with `x-amz-if-match-last-modified-time` and
//! `x-amz-if-match-size`, and DeleteObjects with `<LastModifiedTime>` and `<Size>`.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use aws_smithy_types::DateTime;
use cluster_tests::{bytes, code, completion, outcome, status, upload_parts, Server};

async fn read(c: &aws_sdk_s3::Client, key: &str) -> Vec<u8> {
    let o = c
        .get_object()
        .bucket("cond-w")
        .key(key)
        .send()
        .await
        .unwrap();
    o.body.collect().await.unwrap().into_bytes().to_vec()
}

#[tokio::test]
async fn put_and_copy_with_etag_conditions_alone_and_together() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("cond-w").send().await.unwrap();
    let put = |body: &'static [u8], if_match: Option<&str>, if_none_match: Option<&str>| {
        c.put_object()
            .bucket("cond-w")
            .key("k")
            .body(body.to_vec().into())
            .set_if_match(if_match.map(Into::into))
            .set_if_none_match(if_none_match.map(Into::into))
            .send()
    };
    let other = "\"0123456789abcdef0123456789abcdef\"";
    // On a missing key, If-None-Match with an ETag holds.
    let one = put(b"one", None, Some(other)).await.unwrap();
    let etag = one.e_tag().unwrap().to_owned();
    // If-None-Match with the current ETag: 412, the object unchanged.
    let e = put(b"two", None, Some(&etag)).await.unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (412, "PreconditionFailed"));
    assert_eq!(read(&c, "k").await, b"one");
    // Both together: each must hold.
    let e = put(b"two", Some(&etag), Some(&etag)).await.unwrap_err();
    assert_eq!(code(&e), "PreconditionFailed");
    let e = put(b"two", Some(other), Some(other)).await.unwrap_err();
    assert_eq!(code(&e), "PreconditionFailed");
    let e = put(b"two", Some(&etag), Some("*")).await.unwrap_err();
    assert_eq!(code(&e), "PreconditionFailed");
    let two = put(b"two", Some(&etag), Some(other)).await.unwrap();
    assert_eq!(read(&c, "k").await, b"two");
    // If-Match on a missing key: NoSuchKey, whatever If-None-Match says.
    let e = c
        .put_object()
        .bucket("cond-w")
        .key("missing")
        .body(b"x".to_vec().into())
        .if_match("*")
        .if_none_match(other)
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (404, "NoSuchKey"));

    // CopyObject: the conditions are on the destination.
    c.put_object()
        .bucket("cond-w")
        .key("src")
        .body(b"copied".to_vec().into())
        .send()
        .await
        .unwrap();
    let copy = |if_match: Option<&str>, if_none_match: Option<&str>| {
        c.copy_object()
            .bucket("cond-w")
            .key("k")
            .copy_source("cond-w/src")
            .set_if_match(if_match.map(Into::into))
            .set_if_none_match(if_none_match.map(Into::into))
            .send()
    };
    assert_eq!(outcome(copy(None, Some("*")).await), "PreconditionFailed");
    assert_eq!(outcome(copy(None, two.e_tag()).await), "PreconditionFailed");
    assert_eq!(outcome(copy(Some(other), None).await), "PreconditionFailed");
    assert_eq!(read(&c, "k").await, b"two");
    assert_eq!(outcome(copy(two.e_tag(), Some(other)).await), "ok");
    assert_eq!(read(&c, "k").await, b"copied");
}

#[tokio::test]
async fn complete_multipart_upload_with_conditions() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("cond-w").send().await.unwrap();
    let first = c
        .put_object()
        .bucket("cond-w")
        .key("k")
        .body(b"first".to_vec().into())
        .send()
        .await
        .unwrap();
    let upload = || async {
        let up = c
            .create_multipart_upload()
            .bucket("cond-w")
            .key("k")
            .send()
            .await
            .unwrap();
        let id = up.upload_id().unwrap().to_owned();
        let parts = upload_parts(&c, "cond-w", "k", &id, &[bytes(1000, 7)]).await;
        (id, parts)
    };
    let complete = |id: String, parts: Vec<(i32, String)>, m: Option<&str>, n: Option<&str>| {
        completion(&c, "cond-w", "k", &id, &parts)
            .set_if_match(m.map(Into::into))
            .set_if_none_match(n.map(Into::into))
            .send()
    };
    let (id, parts) = upload().await;
    let e = complete(id.clone(), parts.clone(), None, Some("*"))
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (412, "PreconditionFailed"));
    let e = complete(id.clone(), parts.clone(), None, first.e_tag())
        .await
        .unwrap_err();
    assert_eq!(code(&e), "PreconditionFailed");
    let e = complete(id.clone(), parts.clone(), Some("\"nope\""), None)
        .await
        .unwrap_err();
    assert_eq!(code(&e), "PreconditionFailed");
    assert_eq!(read(&c, "k").await, b"first");
    // The refused completions left the upload in progress: the right condition completes it.
    complete(id, parts, first.e_tag(), Some("\"nope\""))
        .await
        .unwrap();
    assert_eq!(read(&c, "k").await, bytes(1000, 7));
}

#[tokio::test]
async fn deletes_conditional_on_time_and_size() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("cond-w").send().await.unwrap();
    for key in ["k", "a", "b"] {
        c.put_object()
            .bucket("cond-w")
            .key(key)
            .body(b"12345".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let head = c
        .head_object()
        .bucket("cond-w")
        .key("k")
        .send()
        .await
        .unwrap();
    let modified = *head.last_modified().unwrap();
    let earlier = DateTime::from_secs(modified.secs() - 3600);
    let delete = |time: Option<DateTime>, size: Option<i64>| {
        c.delete_object()
            .bucket("cond-w")
            .key("k")
            .set_if_match_last_modified_time(time)
            .set_if_match_size(size)
            .send()
    };
    let e = delete(Some(earlier), None).await.unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (412, "PreconditionFailed"));
    let e = delete(None, Some(4)).await.unwrap_err();
    assert_eq!(code(&e), "PreconditionFailed");
    let e = delete(Some(modified), Some(6)).await.unwrap_err();
    assert_eq!(code(&e), "PreconditionFailed");
    assert_eq!(read(&c, "k").await, b"12345");
    delete(Some(modified), Some(5)).await.unwrap();
    let e = delete(None, Some(5)).await.unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (404, "NoSuchKey"));

    // DeleteObjects: per key.
    let a = c
        .head_object()
        .bucket("cond-w")
        .key("a")
        .send()
        .await
        .unwrap();
    let a_modified = *a.last_modified().unwrap();
    let id = |key: &str| ObjectIdentifier::builder().key(key);
    let r = c
        .delete_objects()
        .bucket("cond-w")
        .delete(
            Delete::builder()
                .objects(
                    id("a")
                        .size(5)
                        .last_modified_time(a_modified)
                        .build()
                        .unwrap(),
                )
                .objects(id("b").size(9).build().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let deleted: Vec<_> = r.deleted().iter().filter_map(|d| d.key()).collect();
    assert_eq!(deleted, ["a"], "{r:?}");
    let errors: Vec<_> = r
        .errors()
        .iter()
        .map(|e| (e.key().unwrap(), e.code().unwrap()))
        .collect();
    assert_eq!(errors, [("b", "PreconditionFailed")]);
    assert_eq!(read(&c, "b").await, b"12345");
}
