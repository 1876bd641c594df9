//! Listing: v1 and v2, prefixes, delimiters, markers, continuation tokens, start-after,
//! max-keys and encoding-type=url.

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
