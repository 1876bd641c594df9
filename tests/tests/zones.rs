//! Failure zones: six nodes in three zones (`--zone`), blobs of 2+1. Each blob puts one shard
//! in each zone, so losing a whole zone (both its nodes) loses one shard of every blob and
//! every object still reads back.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::time::Duration;

use cluster_tests::{bytes, get_bytes, LocalCluster};

const ZONES: [&str; 6] = ["a", "a", "b", "b", "c", "c"];

#[tokio::test]
async fn a_whole_zone_can_be_lost() {
    tokio::time::timeout(Duration::from_secs(300), zones())
        .await
        .expect("test timed out");
}

async fn zones() {
    let mut cluster = LocalCluster::start_each(6, &[], |i| {
        vec!["--zone".to_owned(), ZONES[i - 1].to_owned()]
    })
    .await;
    // Three shards over six nodes: without zones, two of them would often share a zone.
    cluster.admin_json(1, &["storage-class", "set", "STANDARD", "2+1"]);
    let c = cluster.client();
    c.create_bucket().bucket("zoned").send().await.unwrap();
    let n = 16u64;
    for i in 0..n {
        c.put_object()
            .bucket("zoned")
            .key(format!("o{i}"))
            .body(bytes((1 << 20) + 7, i).into())
            .send()
            .await
            .unwrap();
    }

    // Every blob: three shard files, one per zone.
    let mut zones_of: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (i, zone) in ZONES.iter().enumerate() {
        for f in cluster.shard_files(i + 1) {
            let blob = f.file_stem().unwrap().to_string_lossy().into_owned();
            zones_of.entry(blob).or_default().push(zone);
        }
    }
    assert_eq!(zones_of.len(), n as usize, "{zones_of:?}");
    for (blob, zones) in &mut zones_of {
        zones.sort_unstable();
        assert_eq!(zones, &["a", "b", "c"], "blob {blob}");
    }

    // Zone b goes away: both its nodes.
    cluster.nodes[2].kill9();
    cluster.nodes[3].kill9();
    for i in 0..n {
        let key = format!("o{i}");
        assert_eq!(
            get_bytes(&c, "zoned", &key).await,
            bytes((1 << 20) + 7, i),
            "{key}"
        );
    }
    println!(
        "zones: {n} blobs of 2+1 over 6 nodes in 3 zones, one shard per zone each; with zone b \
         (nodes 3 and 4) down, all {n} objects read back intact"
    );
}
