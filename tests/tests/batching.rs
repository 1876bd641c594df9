//! Concurrent writes to a three-node cluster share Raft log entries: each still gets its own
//! answer (a conditional PUT race has exactly one winner), buckets created at once stay apart,
//! every node applies the batches alike, and they are replayed intact after every process is
//! killed.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use cluster_tests::{bytes, code, get_bytes, put_all, LocalCluster};
use futures::StreamExt;

/// Each node's last applied Raft index, by node id.
fn applied(cluster: &LocalCluster) -> Vec<(u64, u64)> {
    let map = cluster.admin_json(1, &["cluster", "status"]);
    let mut out: Vec<(u64, u64)> = map["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["id"].as_u64().unwrap(),
                n["status"]["raft"]["last_applied"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    out.sort_unstable();
    out
}

/// Wait until every node has applied the same index; return it.
async fn settled(cluster: &LocalCluster) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let a = applied(cluster);
        if a.len() == 3 && a.iter().all(|(_, i)| *i == a[0].1) {
            return a[0].1;
        }
        assert!(Instant::now() < deadline, "nodes did not converge: {a:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn concurrent_writes_share_raft_entries() {
    tokio::time::timeout(Duration::from_secs(300), share_entries())
        .await
        .expect("test timed out");
}

const OBJECTS: usize = 400;
const RACERS: usize = 32;

async fn share_entries() {
    let mut cluster = LocalCluster::start(3, &[]).await;
    let c = cluster.client();
    c.create_bucket().bucket("batch").send().await.unwrap();
    let before = settled(&cluster).await;

    // 32 PUTs of one key with If-None-Match: * at once: exactly one is created.
    let race: Vec<Result<(), String>> = futures::stream::iter(0..RACERS)
        .map(|i| {
            let c = c.clone();
            async move {
                c.put_object()
                    .bucket("batch")
                    .key("race")
                    .if_none_match("*")
                    .body(bytes(2000, i as u64).into())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e))
            }
        })
        .buffer_unordered(RACERS)
        .collect()
        .await;
    let won: Vec<_> = race.iter().filter(|r| r.is_ok()).collect();
    assert_eq!(won.len(), 1, "{race:?}");
    assert!(
        race.iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| e == "PreconditionFailed"),
        "{race:?}"
    );

    // 400 small PUTs, 32 at a time.
    let objects = (0..OBJECTS).map(|i| (format!("k{i}"), bytes(1000 + i, i as u64)));
    put_all(&c, "batch", objects, 32).await;
    let after = settled(&cluster).await;
    let entries = after - before;
    let writes = (OBJECTS + RACERS) as u64;
    println!("{writes} concurrent writes took {entries} Raft entries");
    assert!(
        entries < writes,
        "{writes} concurrent writes took {entries} Raft entries: none were batched"
    );

    let check = |c: aws_sdk_s3::Client| async move {
        for i in (0..OBJECTS).step_by(7).chain([OBJECTS - 1]) {
            assert_eq!(
                get_bytes(&c, "batch", &format!("k{i}")).await,
                bytes(1000 + i, i as u64),
                "k{i}"
            );
        }
        let listed = c
            .list_objects_v2()
            .bucket("batch")
            .prefix("k")
            .send()
            .await
            .unwrap();
        assert_eq!(listed.key_count(), Some(OBJECTS as i32));
    };
    check(c.clone()).await;

    // Buckets created at once stay apart (a bucket's id is its creation's log index, so
    // CreateBucket never shares an entry): one key in each holds that bucket's own bytes.
    let names: Vec<String> = (0..16).map(|i| format!("apart-{i}")).collect();
    futures::future::join_all(names.iter().map(|b| c.create_bucket().bucket(b).send()))
        .await
        .into_iter()
        .for_each(|r| {
            r.unwrap();
        });
    futures::future::join_all(names.iter().enumerate().map(|(i, b)| {
        c.put_object()
            .bucket(b)
            .key("same")
            .body(bytes(100, 1000 + i as u64).into())
            .send()
    }))
    .await
    .into_iter()
    .for_each(|r| {
        r.unwrap();
    });
    for (i, b) in names.iter().enumerate() {
        assert_eq!(
            get_bytes(&c, b, "same").await,
            bytes(100, 1000 + i as u64),
            "{b}"
        );
    }

    // Every node replays the batched entries from its log.
    cluster.kill_all();
    cluster.restart_all(2).await;
    cluster.wait_listing(&c, "batch").await;
    assert!(settled(&cluster).await >= after);
    check(c).await;
}
