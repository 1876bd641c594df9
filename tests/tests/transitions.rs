//! Lifecycle transitions to a local tier, end to end on six nodes whose lifecycle day lasts two
//! seconds: nodes 4-6 (`--label disk=large`) are tier `big`'s pool, which GLACIER_IR maps to.
//! A rule moves `cold/` objects there the day after they were written: their shards leave
//! nodes 1-3 for nodes 4-6 (the old ones are deleted), they read back byte for byte (an
//! SSE-S3 object and a multipart one too), HEAD and listings name their new class, objects
//! under 128 KiB and outside the prefix stay, and `coffer admin lifecycle status` counts the
//! moves. A noncurrent version moves by its own rule, keeping the current one where it is.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketVersioningStatus, ExpirationStatus, LifecycleRule,
    LifecycleRuleFilter, NoncurrentVersionTransition, ServerSideEncryption, StorageClass,
    Transition, TransitionStorageClass,
};
use cluster_tests::{bytes, get_bytes, set_versioning, upload_and_complete, LocalCluster};

#[tokio::test]
async fn lifecycle_moves_objects_to_a_local_tier() {
    tokio::time::timeout(Duration::from_secs(300), transitions())
        .await
        .expect("test timed out");
}

async fn class_of(c: &aws_sdk_s3::Client, bucket: &str, key: &str) -> StorageClass {
    let h = c
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    h.storage_class().cloned().unwrap_or(StorageClass::Standard)
}

/// Make `rule` the lifecycle configuration of `bucket`.
async fn set_rule(c: &aws_sdk_s3::Client, bucket: &str, rule: LifecycleRule) {
    let conf = BucketLifecycleConfiguration::builder()
        .rules(rule)
        .build()
        .unwrap();
    c.put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(conf)
        .send()
        .await
        .unwrap();
}

/// Shard files on nodes 1-3 and on nodes 4-6.
fn spread(cluster: &LocalCluster) -> (usize, usize) {
    let n = |r: std::ops::RangeInclusive<usize>| r.map(|i| cluster.shard_files(i).len()).sum();
    (n(1..=3), n(4..=6))
}

async fn transitions() {
    let cluster = LocalCluster::start_with_gateway(
        6,
        &[],
        |i| {
            if i >= 4 {
                vec!["--label".into(), "disk=large".into()]
            } else {
                Vec::new()
            }
        },
        &["--lifecycle-day-seconds", "2"],
    )
    .await;
    cluster.wait_labels("disk=large", &[4, 5, 6]).await;
    let t = cluster.admin_json(
        1,
        &[
            "tier",
            "add",
            "big",
            "--pool",
            "disk=large",
            "--profile",
            "2+1",
            "--class",
            "GLACIER_IR",
        ],
    );
    assert_eq!(t["tiers"][0]["nodes"], serde_json::json!([4, 5, 6]), "{t}");

    let c = cluster.client();
    c.create_bucket().bucket("life").send().await.unwrap();
    let big = bytes(1 << 20, 7);
    let put = |key: &'static str, body: Vec<u8>, sse: bool| {
        let c = c.clone();
        async move {
            let mut p = c
                .put_object()
                .bucket("life")
                .key(key)
                .body(ByteStream::from(body));
            if sse {
                p = p.server_side_encryption(ServerSideEncryption::Aes256);
            }
            p.send().await.unwrap();
        }
    };
    put("cold/a", big.clone(), false).await;
    put("cold/enc", big.clone(), true).await;
    put("cold/small", bytes(100 << 10, 8), false).await;
    put("hot/x", big.clone(), false).await;
    let multi = bytes(11 << 20, 9);
    let up = c
        .create_multipart_upload()
        .bucket("life")
        .key("cold/multi")
        .send()
        .await
        .unwrap();
    let parts: Vec<Vec<u8>> = multi.chunks(5 << 20).map(<[u8]>::to_vec).collect();
    upload_and_complete(&c, "life", "cold/multi", up.upload_id().unwrap(), &parts).await;
    // Seven blobs of 2+1 (a, enc, small, x and multi's three parts) on nodes 1-3.
    assert_eq!(spread(&cluster), (21, 0));

    let rule = LifecycleRule::builder()
        .id("to-big")
        .filter(LifecycleRuleFilter::builder().prefix("cold/").build())
        .status(ExpirationStatus::Enabled)
        .transitions(
            Transition::builder()
                .days(1)
                .storage_class(TransitionStorageClass::GlacierIr)
                .build(),
        )
        .build()
        .unwrap();
    set_rule(&c, "life", rule).await;

    // Due at the second day boundary after the writes: a few seconds.
    let deadline = Instant::now() + Duration::from_secs(60);
    for key in ["cold/a", "cold/enc", "cold/multi"] {
        while class_of(&c, "life", key).await != StorageClass::GlacierIr {
            assert!(
                Instant::now() < deadline,
                "{key} did not move:\n{}",
                cluster.logs()
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    assert_eq!(get_bytes(&c, "life", "cold/a").await, big);
    assert_eq!(get_bytes(&c, "life", "cold/enc").await, big);
    assert_eq!(get_bytes(&c, "life", "cold/multi").await, multi);
    let ranged = c
        .get_object()
        .bucket("life")
        .key("cold/multi")
        .range("bytes=5242000-5243000")
        .send()
        .await
        .unwrap();
    let got = ranged.body.collect().await.unwrap().into_bytes();
    assert_eq!(&got[..], &multi[5_242_000..=5_243_000]);
    assert_eq!(
        class_of(&c, "life", "cold/small").await,
        StorageClass::Standard
    );
    assert_eq!(class_of(&c, "life", "hot/x").await, StorageClass::Standard);
    let listed = c.list_objects_v2().bucket("life").send().await.unwrap();
    let classes: Vec<(String, String)> = listed
        .contents()
        .iter()
        .map(|o| {
            let class = o
                .storage_class()
                .map_or("-".into(), |s| s.as_str().to_owned());
            (o.key().unwrap().to_owned(), class)
        })
        .collect();
    assert!(
        classes.contains(&("cold/a".into(), "GLACIER_IR".into())),
        "{classes:?}"
    );
    assert!(
        classes.contains(&("cold/small".into(), "STANDARD".into())),
        "{classes:?}"
    );

    // The moved objects' shards are on nodes 4-6 alone (a, enc and multi's three parts: 15
    // files); nodes 1-3 keep those of hot/x and cold/small once the old ones are deleted.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (low, high) = spread(&cluster);
        if (low, high) == (6, 15) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "shards on nodes 1-3, 4-6: {low}, {high}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let status = cluster.admin_json(1, &["lifecycle", "status"]);
    let moved = |t: &serde_json::Value| t["transitioned"].as_u64().unwrap_or(0);
    assert!(
        moved(&status["total"]) + moved(&status["pass"]) >= 3,
        "{status}"
    );

    // A versioned bucket: the noncurrent version moves, the current one stays.
    c.create_bucket().bucket("vers").send().await.unwrap();
    set_versioning(&c, "vers", BucketVersioningStatus::Enabled).await;
    let old = bytes(300 << 10, 10);
    let v1 = c
        .put_object()
        .bucket("vers")
        .key("doc")
        .body(ByteStream::from(old.clone()))
        .send()
        .await
        .unwrap();
    c.put_object()
        .bucket("vers")
        .key("doc")
        .body(ByteStream::from(big.clone()))
        .send()
        .await
        .unwrap();
    let rule = LifecycleRule::builder()
        .id("old-to-big")
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .status(ExpirationStatus::Enabled)
        .noncurrent_version_transitions(
            NoncurrentVersionTransition::builder()
                .noncurrent_days(1)
                .storage_class(TransitionStorageClass::GlacierIr)
                .build(),
        )
        .build()
        .unwrap();
    set_rule(&c, "vers", rule).await;
    let v1 = v1.version_id().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let h = c
            .head_object()
            .bucket("vers")
            .key("doc")
            .version_id(&v1)
            .send()
            .await
            .unwrap();
        if h.storage_class() == Some(&StorageClass::GlacierIr) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the noncurrent version did not move"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(class_of(&c, "vers", "doc").await, StorageClass::Standard);
    let got = c
        .get_object()
        .bucket("vers")
        .key("doc")
        .version_id(&v1)
        .send()
        .await
        .unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().to_vec(), old);
    assert_eq!(get_bytes(&c, "vers", "doc").await, big);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_mid_transition_loses_nothing_and_leaves_no_duplicate() {
    tokio::time::timeout(Duration::from_secs(300), killed_mid_transition())
        .await
        .expect("test timed out");
}

/// Storage classes of every object of `bucket`, by key.
async fn classes(c: &aws_sdk_s3::Client, bucket: &str) -> Vec<(String, String)> {
    let listed = c.list_objects_v2().bucket(bucket).send().await.unwrap();
    listed
        .contents()
        .iter()
        .map(|o| {
            let class = o.storage_class().map_or("-", |s| s.as_str());
            (o.key().unwrap().to_owned(), class.to_owned())
        })
        .collect()
}

/// Two gateways over six nodes move 40 objects of 2 MiB to tier `big`. Once some have moved, the gateway holding the worker's lease and node 2 (which
/// copies blobs too, and holds old shards) die by kill -9; node 2 comes back. The other
/// gateway finishes the pass: every object reads back byte for byte in its new class, and
/// once the orphan sweep and the delete queue have run, each blob has exactly its three shards
/// on nodes 4-6 and none is left on nodes 1-3.
async fn killed_mid_transition() {
    let gateway_flags = ["--lifecycle-day-seconds", "2", "--lifecycle-scan-rate", "8"];
    let mut cluster = LocalCluster::start_with_gateway(
        6,
        &["--orphan-grace", "3"],
        |i| {
            if i >= 4 {
                vec!["--label".into(), "disk=large".into()]
            } else {
                Vec::new()
            }
        },
        &gateway_flags,
    )
    .await;
    let (mut second, second_endpoint) = cluster.add_gateway("gateway2", &gateway_flags).await;
    cluster.wait_labels("disk=large", &[4, 5, 6]).await;
    cluster.admin_json(
        1,
        &[
            "tier",
            "add",
            "big",
            "--pool",
            "disk=large",
            "--profile",
            "2+1",
            "--class",
            "GLACIER_IR",
        ],
    );
    let c = cluster.client();
    c.create_bucket().bucket("many").send().await.unwrap();
    const N: usize = 40;
    let bodies: Vec<Vec<u8>> = (0..N).map(|i| bytes(2 << 20, 100 + i as u64)).collect();
    for (i, body) in bodies.iter().enumerate() {
        c.put_object()
            .bucket("many")
            .key(format!("k{i:03}"))
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(spread(&cluster), (3 * N, 0));
    let rule = LifecycleRule::builder()
        .id("all-to-big")
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .status(ExpirationStatus::Enabled)
        .transitions(
            Transition::builder()
                .days(1)
                .storage_class(TransitionStorageClass::GlacierIr)
                .build(),
        )
        .build()
        .unwrap();
    set_rule(&c, "many", rule).await;

    // The worker's gateway is the lease holder; the copies are under way once shards appear
    // on nodes 4-6.
    let deadline = Instant::now() + Duration::from_secs(90);
    let holder = loop {
        let s = cluster.admin_json(1, &["lifecycle", "status"]);
        if let Some(h) = s["holder"].as_str() {
            break h.to_owned();
        }
        assert!(Instant::now() < deadline, "no lifecycle worker: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let copied = loop {
        let (_, high) = spread(&cluster);
        if high > 0 {
            assert!(high < 3 * N, "all copies were made already");
            break high;
        }
        assert!(Instant::now() < deadline, "no copy was made");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let first_holds = cluster.gateway.log().contains(&holder);
    if first_holds {
        cluster.gateway.kill9();
    } else {
        second.kill9();
    }
    cluster.nodes[1].kill9();
    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster.nodes[1].restart();
    let c = if first_holds {
        cluster_tests::client_for(
            &second_endpoint,
            cluster_tests::ACCESS_KEY,
            cluster_tests::SECRET_KEY,
        )
    } else {
        c
    };
    println!(
        "killed the worker's gateway and node 2 with {copied} of {} shard files copied",
        3 * N
    );

    // The survivor takes the lease and moves the rest.
    let deadline = Instant::now() + Duration::from_secs(150);
    loop {
        let all = classes(&c, "many").await;
        let left = all
            .iter()
            .filter(|(_, class)| class != "GLACIER_IR")
            .count();
        if all.len() == N && left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left} of {} objects not moved: {}",
            all.len(),
            cluster.admin_json(1, &["lifecycle", "status"])
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for (i, body) in bodies.iter().enumerate() {
        let got = get_bytes(&c, "many", &format!("k{i:03}")).await;
        assert!(got == *body, "k{i:03} reads back different bytes");
    }

    // One copy of each blob: the old shards deleted, copies that lost their swap swept.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (low, high) = spread(&cluster);
        if (low, high) == (0, 3 * N) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "shard files on nodes 1-3, 4-6: {low}, {high} (want 0, {})",
            3 * N
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let status = cluster.admin_json(1, &["lifecycle", "status"]);
    println!(
        "all {N} objects moved and read back; {} shard files on nodes 4-6, none on 1-3; \
         lifecycle status: {status}",
        3 * N
    );
}
