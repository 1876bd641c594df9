//! Object tagging: tags given with PutObject, CopyObject (COPY and REPLACE) and multipart
//! uploads, Put/Get/DeleteObjectTagging with S3's validation, and policies that decide on
//! `s3:ExistingObjectTag/<key>`.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_s3::types::{Tag, Tagging, TaggingDirective};
use aws_sdk_s3::Client;
use cluster_tests::{outcome, signed, LocalCluster};

#[tokio::test]
async fn object_tags_and_policies_on_them() {
    tokio::time::timeout(Duration::from_secs(240), story())
        .await
        .expect("test timed out");
}

/// The tags of `key`, after checking that GET and HEAD count them (`x-amz-tagging-count`, sent
/// only for an object that has tags).
async fn tags(c: &Client, endpoint: &str, key: &str) -> Vec<(String, String)> {
    let t = c
        .get_object_tagging()
        .bucket("tags")
        .key(key)
        .send()
        .await
        .unwrap();
    let count = (!t.tag_set().is_empty()).then_some(t.tag_set().len() as i32);
    let get = c.get_object().bucket("tags").key(key).send().await.unwrap();
    assert_eq!(get.tag_count(), count, "GET {key}");
    let head = signed(
        reqwest::Method::HEAD,
        endpoint,
        &format!("/tags/{key}"),
        &[],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(head.status(), 200);
    let header = head.headers().get("x-amz-tagging-count");
    let header = header.map(|h| h.to_str().unwrap().parse::<i32>().unwrap());
    assert_eq!(header, count, "HEAD {key}");
    t.tag_set()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

fn set(pairs: &[(&str, &str)]) -> Tagging {
    let mut b = Tagging::builder();
    for (k, v) in pairs {
        b = b.tag_set(Tag::builder().key(*k).value(*v).build().unwrap());
    }
    b.build().unwrap()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn put(c: &Client, key: &str, tagging: Option<&str>) -> String {
    let r = c
        .put_object()
        .bucket("tags")
        .key(key)
        .set_tagging(tagging.map(str::to_owned))
        .body(b"data".to_vec().into())
        .send()
        .await;
    outcome(r)
}

async fn story() {
    let cluster = LocalCluster::start(1, &[]).await;
    let root = cluster.client();
    let ep = &cluster.endpoint;
    root.create_bucket().bucket("tags").send().await.unwrap();

    // Tags with the object, then replaced, then removed.
    assert_eq!(put(&root, "red", Some("team=red&note=a%20b")).await, "ok");
    assert_eq!(
        tags(&root, ep, "red").await,
        pairs(&[("team", "red"), ("note", "a b")])
    );
    let put_tags = |key: &'static str, t: Tagging| {
        root.put_object_tagging()
            .bucket("tags")
            .key(key)
            .tagging(t)
            .send()
    };
    put_tags("red", set(&[("team", "red")])).await.unwrap();
    assert_eq!(tags(&root, ep, "red").await, pairs(&[("team", "red")]));
    assert_eq!(put(&root, "blue", Some("team=blue")).await, "ok");
    root.delete_object_tagging()
        .bucket("tags")
        .key("blue")
        .send()
        .await
        .unwrap();
    assert!(tags(&root, ep, "blue").await.is_empty());
    // A new version starts without the old one's tags.
    assert_eq!(put(&root, "red2", Some("team=red")).await, "ok");
    assert_eq!(put(&root, "red2", None).await, "ok");
    assert!(tags(&root, ep, "red2").await.is_empty());

    // S3's refusals.
    let eleven: Vec<(String, String)> = (0..11).map(|i| (format!("k{i}"), "v".into())).collect();
    let eleven: Vec<(&str, &str)> = eleven
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let cases = [
        (set(&eleven), "InvalidTag"),
        (set(&[("a", "1"), ("a", "2")]), "InvalidTag"),
        (set(&[("aws:reserved", "1")]), "InvalidTag"),
    ];
    for (t, want) in cases {
        assert_eq!(outcome(put_tags("red", t).await), want);
    }
    assert_eq!(put(&root, "x", Some("a=1&a=2")).await, "InvalidTag");
    let missing = root
        .get_object_tagging()
        .bucket("tags")
        .key("nope")
        .send()
        .await;
    assert_eq!(outcome(missing), "NoSuchKey");

    // Copies keep the source's tags unless they replace them; uploads give theirs.
    root.copy_object()
        .bucket("tags")
        .key("copy")
        .copy_source("tags/red")
        .send()
        .await
        .unwrap();
    assert_eq!(tags(&root, ep, "copy").await, pairs(&[("team", "red")]));
    root.copy_object()
        .bucket("tags")
        .key("copy2")
        .copy_source("tags/red")
        .tagging_directive(TaggingDirective::Replace)
        .tagging("team=green")
        .send()
        .await
        .unwrap();
    assert_eq!(tags(&root, ep, "copy2").await, pairs(&[("team", "green")]));
    let up = root
        .create_multipart_upload()
        .bucket("tags")
        .key("mp")
        .tagging("team=red")
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap();
    cluster_tests::upload_and_complete(&root, "tags", "mp", id, &[b"part".to_vec()]).await;
    assert_eq!(tags(&root, ep, "mp").await, pairs(&[("team", "red")]));

    // Policies on s3:ExistingObjectTag: alice reads what is tagged team=red.
    let alice = cluster.user_client("alice");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("red.json");
    std::fs::write(
        &f,
        r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::tags/*",
           "Condition":{"StringEquals":{"s3:ExistingObjectTag/team":"red"}}}}"#,
    )
    .unwrap();
    let f = f.to_string_lossy().into_owned();
    let out = cluster.admin_output(1, &["policy", "attach", "--user", "alice", "red", &f]);
    assert!(out.status.success(), "{out:?}");
    let get = |c: Client, key: &'static str| async move {
        outcome(c.get_object().bucket("tags").key(key).send().await)
    };
    assert_eq!(get(alice.clone(), "red").await, "ok");
    assert_eq!(get(alice.clone(), "mp").await, "ok");
    // Only a caller who may read the tags is told how many there are.
    let o = alice.get_object().bucket("tags").key("red").send().await;
    assert_eq!(
        o.unwrap().tag_count(),
        None,
        "alice may not GetObjectTagging"
    );
    assert_eq!(get(alice.clone(), "blue").await, "AccessDenied");
    assert_eq!(get(alice.clone(), "copy2").await, "AccessDenied");
    put_tags("blue", set(&[("team", "red")])).await.unwrap();
    assert_eq!(
        get(alice.clone(), "blue").await,
        "ok",
        "the new tags count at once"
    );
    // A bucket policy's Deny on a tag holds even for the root key.
    root.put_bucket_policy()
        .bucket("tags")
        .policy(
            r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::tags/*",
               "Condition":{"StringEquals":{"s3:ExistingObjectTag/secret":"yes"}}}}"#,
        )
        .send()
        .await
        .unwrap();
    put_tags("red", set(&[("team", "red"), ("secret", "yes")]))
        .await
        .unwrap();
    assert_eq!(get(root.clone(), "red").await, "AccessDenied");
    assert_eq!(get(alice.clone(), "red").await, "AccessDenied");
    assert_eq!(get(root.clone(), "blue").await, "ok");
}
