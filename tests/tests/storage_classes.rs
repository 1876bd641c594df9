//! Erasure profiles per storage class on a four-node cluster (default 2+2): set with
//! `coffer admin storage-class`, they decide how many shards, on how many nodes, a blob of
//! that class gets, for PUT, multipart parts and copies.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_s3::types::StorageClass;
use cluster_tests::{bytes, completed, get_bytes, upload_parts, LocalCluster};

#[tokio::test]
async fn storage_classes_choose_the_erasure_profile() {
    tokio::time::timeout(Duration::from_secs(300), classes())
        .await
        .expect("test timed out");
}

/// The shard files that appear on the nodes while `f` runs, and on how many nodes.
async fn new_shards<F: std::future::Future<Output = ()>>(
    cluster: &LocalCluster,
    f: F,
) -> (usize, usize) {
    let (nodes, files) = cluster.new_shards(f).await;
    (files, nodes.len())
}

async fn classes() {
    let cluster = LocalCluster::start(4, &[]).await;
    let c = cluster.client();
    c.create_bucket().bucket("cls").send().await.unwrap();
    let body = bytes(3 << 20, 1);
    let put = |key: &'static str, class: Option<StorageClass>| {
        let (c, body) = (c.clone(), body.clone());
        async move {
            c.put_object()
                .bucket("cls")
                .key(key)
                .set_storage_class(class)
                .body(body.into())
                .send()
                .await
                .unwrap();
        }
    };

    let listed = cluster.admin_json(1, &["storage-class", "list"]);
    assert_eq!(listed["default"]["k"], 2, "{listed}");
    assert_eq!(listed["default"]["m"], 2, "{listed}");
    assert_eq!(listed["classes"].as_array().unwrap().len(), 0, "{listed}");

    // Classes without a profile use the default, 2+2: four shards on four nodes.
    assert_eq!(new_shards(&cluster, put("std", None)).await, (4, 4));
    assert_eq!(
        new_shards(&cluster, put("rr0", Some(StorageClass::ReducedRedundancy))).await,
        (4, 4)
    );

    // Profiles per class, set through a follower.
    cluster.admin_json(2, &["storage-class", "set", "REDUCED_REDUNDANCY", "2+1"]);
    cluster.admin_json(3, &["storage-class", "set", "ONEZONE_IA", "1+1"]);
    // Wider than the cluster, or not a class: refused.
    let out = cluster.admin_output(1, &["storage-class", "set", "STANDARD", "4+2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("409"), "{err}");
    let out = cluster.admin_output(1, &["storage-class", "set", "NO_SUCH_CLASS", "2+1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("400"), "{err}");
    let out = cluster.admin_output(1, &["storage-class", "set", "STANDARD", "0+2"]);
    assert!(!out.status.success());
    let listed = cluster.admin_json(4, &["storage-class", "list"]);
    let mut got: Vec<(String, u64, u64)> = listed["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["k"].as_u64().unwrap(),
                c["m"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("ONEZONE_IA".to_owned(), 1, 1),
            ("REDUCED_REDUNDANCY".to_owned(), 2, 1)
        ]
    );

    // PUT: the class's profile.
    assert_eq!(
        new_shards(&cluster, put("rr", Some(StorageClass::ReducedRedundancy))).await,
        (3, 3)
    );
    assert_eq!(
        new_shards(&cluster, put("oz", Some(StorageClass::OnezoneIa))).await,
        (2, 2)
    );
    assert_eq!(new_shards(&cluster, put("std2", None)).await, (4, 4));

    // Multipart: every part has the upload's class.
    let (p1, p2) = (bytes(5 << 20, 2), bytes(1 << 20, 3));
    let up = c
        .create_multipart_upload()
        .bucket("cls")
        .key("mpu")
        .storage_class(StorageClass::OnezoneIa)
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap().to_owned();
    let mut parts = Vec::new();
    let shards = new_shards(&cluster, async {
        parts = upload_parts(&c, "cls", "mpu", &id, &[p1.clone(), p2.clone()]).await;
    })
    .await;
    assert_eq!(shards.0, 4, "two parts of two shards each");
    c.complete_multipart_upload()
        .bucket("cls")
        .key("mpu")
        .upload_id(&id)
        .multipart_upload(completed(&parts))
        .send()
        .await
        .unwrap();

    // Copies: the class named in the copy, STANDARD without one (as on S3).
    let copy = |dst: &'static str, class: Option<StorageClass>| {
        let c = c.clone();
        async move {
            c.copy_object()
                .bucket("cls")
                .key(dst)
                .copy_source("cls/oz")
                .set_storage_class(class)
                .send()
                .await
                .unwrap();
        }
    };
    assert_eq!(new_shards(&cluster, copy("oz-copy", None)).await, (4, 4));
    assert_eq!(
        new_shards(
            &cluster,
            copy("oz-rr", Some(StorageClass::ReducedRedundancy))
        )
        .await,
        (3, 3)
    );
    let head = |key: &'static str| {
        let c = c.clone();
        async move {
            c.head_object()
                .bucket("cls")
                .key(key)
                .send()
                .await
                .unwrap()
                .storage_class()
                .cloned()
        }
    };
    assert_eq!(head("oz").await, Some(StorageClass::OnezoneIa));
    assert_eq!(head("oz-copy").await, None, "STANDARD is not reported");
    assert_eq!(head("oz-rr").await, Some(StorageClass::ReducedRedundancy));

    // Back to the default.
    cluster.admin_json(1, &["storage-class", "reset", "REDUCED_REDUNDANCY"]);
    assert_eq!(
        new_shards(&cluster, put("rr2", Some(StorageClass::ReducedRedundancy))).await,
        (4, 4)
    );

    // Every object reads back, whatever its profile.
    for key in ["std", "rr0", "rr", "oz", "std2", "oz-copy", "oz-rr", "rr2"] {
        assert_eq!(get_bytes(&c, "cls", key).await, body, "{key}");
    }
    let mut whole = p1;
    whole.extend_from_slice(&p2);
    assert_eq!(get_bytes(&c, "cls", "mpu").await, whole);
    println!(
        "storage classes on 4 nodes: STANDARD 2+2 (default), REDUCED_REDUNDANCY 2+1, \
         ONEZONE_IA 1+1 for PUT, parts and copies; 409 for 4+2, 400 for an unknown class"
    );
}
