//! Listing: v1 and v2, prefixes, delimiters, markers, continuation tokens, start-after,
//! max-keys and encoding-type=url; ListObjectVersions, and emptying a bucket by its versions.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use aws_sdk_s3::types::EncodingType;
use cluster_tests::{code, Server};

#[tokio::test]
async fn list_v2_pages_and_folds() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("lsb").send().await.unwrap();
    let keys = ["a", "b/1", "b/2", "b/3/x", "c d", "c/e", "z"];
    for k in keys {
        c.put_object()
            .bucket("lsb")
            .key(k)
            .body(b"x".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let r = c
        .list_objects_v2()
        .bucket("lsb")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let got: Vec<_> = r.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(got, ["a", "c d", "z"]);
    let cps: Vec<_> = r
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(cps, ["b/", "c/"]);
    assert_eq!(r.key_count(), Some(5));
    let r = c
        .list_objects_v2()
        .bucket("lsb")
        .prefix("b/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    assert_eq!(r.contents().len(), 2);
    assert_eq!(r.common_prefixes().len(), 1);

    let mut all = Vec::new();
    let mut token = None;
    loop {
        let r = c
            .list_objects_v2()
            .bucket("lsb")
            .max_keys(2)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        all.extend(
            r.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        if !r.is_truncated().unwrap_or(false) {
            break;
        }
        token = r.next_continuation_token().map(str::to_owned);
    }
    assert_eq!(all, keys);
    let r = c
        .list_objects_v2()
        .bucket("lsb")
        .start_after("b/3/x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.contents().first().and_then(|o| o.key()), Some("c d"));
    let r = c
        .list_objects_v2()
        .bucket("lsb")
        .fetch_owner(true)
        .max_keys(1)
        .send()
        .await
        .unwrap();
    assert!(r.contents().first().and_then(|o| o.owner()).is_some());
    let r = c
        .list_objects_v2()
        .bucket("lsb")
        .prefix("c")
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    // Keys come back URL-encoded (the Rust SDK leaves them so; boto3 decodes them).
    let got: Vec<_> = r.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(got, ["c%20d", "c/e"]);
    let e = c
        .list_objects_v2()
        .bucket("lsb")
        .continuation_token("!!!")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidArgument");
}

#[tokio::test]
async fn list_v1_markers() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("v1b").send().await.unwrap();
    for i in 0..15 {
        c.put_object()
            .bucket("v1b")
            .key(format!("k{i:02}"))
            .body(b"x".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let r = c
        .list_objects()
        .bucket("v1b")
        .max_keys(10)
        .send()
        .await
        .unwrap();
    assert_eq!(r.contents().len(), 10);
    assert_eq!(r.is_truncated(), Some(true));
    let r = c
        .list_objects()
        .bucket("v1b")
        .marker("k09")
        .send()
        .await
        .unwrap();
    assert_eq!(r.contents().first().and_then(|o| o.key()), Some("k10"));
    assert_eq!(r.contents().len(), 5);
    assert!(r
        .contents()
        .first()
        .and_then(|o| o.last_modified())
        .is_some());
    let r = c
        .list_objects()
        .bucket("v1b")
        .max_keys(3)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    assert_eq!(r.next_marker(), Some("k02"));
}

#[tokio::test]
async fn versions_list_each_key_once_as_its_null_version() {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("lvb").send().await.unwrap();
    let keys = ["a", "b/1", "b/2", "c", "d"];
    for k in keys {
        c.put_object()
            .bucket("lvb")
            .key(k)
            .body(k.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
    }
    // Folded by a delimiter.
    let r = c
        .list_object_versions()
        .bucket("lvb")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let got: Vec<_> = r.versions().iter().filter_map(|v| v.key()).collect();
    assert_eq!(got, ["a", "c", "d"]);
    assert_eq!(r.common_prefixes()[0].prefix(), Some("b/"));
    for v in r.versions() {
        assert_eq!(v.version_id(), Some("null"));
        assert_eq!(v.is_latest(), Some(true));
        assert_eq!(v.size(), Some(v.key().unwrap().len() as i64));
        assert!(v.e_tag().is_some() && v.owner().is_some());
    }
    assert!(r.delete_markers().is_empty());
    // Pages of two, each continuing from the last page's markers.
    let (mut seen, mut key_marker, mut version_marker) = (Vec::new(), None, None);
    loop {
        let r = c
            .list_object_versions()
            .bucket("lvb")
            .max_keys(2)
            .set_key_marker(key_marker)
            .set_version_id_marker(version_marker)
            .send()
            .await
            .unwrap();
        seen.extend(
            r.versions()
                .iter()
                .filter_map(|v| v.key().map(str::to_owned)),
        );
        if r.is_truncated() != Some(true) {
            break;
        }
        assert_eq!(r.next_version_id_marker(), Some("null"));
        key_marker = r.next_key_marker().map(str::to_owned);
        version_marker = r.next_version_id_marker().map(str::to_owned);
    }
    assert_eq!(seen, keys);
    // A version marker needs a key marker, and must name a version.
    let e = c
        .list_object_versions()
        .bucket("lvb")
        .version_id_marker("null")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidArgument");
    let e = c
        .list_object_versions()
        .bucket("lvb")
        .key_marker("a")
        .version_id_marker("nosuchversion")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidArgument");

    // Emptying the bucket by its versions, as cleanup tools do, leaves it deletable.
    let r = c.list_object_versions().bucket("lvb").send().await.unwrap();
    let mut delete = Delete::builder();
    for v in r.versions() {
        delete = delete.objects(
            ObjectIdentifier::builder()
                .key(v.key().unwrap())
                .set_version_id(v.version_id().map(str::to_owned))
                .build()
                .unwrap(),
        );
    }
    let d = c
        .delete_objects()
        .bucket("lvb")
        .delete(delete.build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(d.deleted().len(), keys.len());
    assert!(d.errors().is_empty());
    c.delete_bucket().bucket("lvb").send().await.unwrap();
}
