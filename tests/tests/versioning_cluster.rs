//! Versioned writes and deletes on a three-node cluster while its Raft leader is killed: every
//! acknowledged version (and delete marker) is listed once with its own bytes, and once the
//! killed node is back, every node holds the same metadata state (`coffer admin state-digest`).

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::types::BucketVersioningStatus;
use cluster_tests::cluster::LocalCluster;
use cluster_tests::set_versioning;
use tokio::sync::Mutex;

/// What an acknowledged write made: (key, version id) -> its bytes (None: a delete marker).
type Acked = BTreeMap<(String, String), Option<Vec<u8>>>;

async fn writer(c: aws_sdk_s3::Client, w: usize, ops: usize, acked: Arc<Mutex<Acked>>) -> usize {
    let mut failed = 0;
    for i in 0..ops {
        let key = format!("k{}", (w + i) % 4);
        if i % 5 == 4 {
            match c.delete_object().bucket("vc-bucket").key(&key).send().await {
                Ok(d) => {
                    assert_eq!(d.delete_marker(), Some(true));
                    let id = d.version_id().unwrap().to_owned();
                    acked.lock().await.insert((key, id), None);
                }
                Err(_) => failed += 1,
            }
        } else {
            let body = format!("writer {w} op {i}").into_bytes();
            match c
                .put_object()
                .bucket("vc-bucket")
                .key(&key)
                .body(body.clone().into())
                .send()
                .await
            {
                Ok(r) => {
                    let id = r.version_id().unwrap().to_owned();
                    let old = acked.lock().await.insert((key, id), Some(body));
                    assert!(old.is_none(), "a version id answered twice");
                }
                Err(_) => failed += 1,
            }
        }
    }
    failed
}

fn leader(cluster: &LocalCluster, via: usize) -> usize {
    cluster.admin_json(via, &["cluster", "status"])["leader"]
        .as_u64()
        .unwrap() as usize
}

#[tokio::test]
async fn versions_survive_a_leader_kill_and_every_node_agrees() {
    let mut cluster = LocalCluster::start(3, &[]).await;
    let c = cluster.client();
    c.create_bucket().bucket("vc-bucket").send().await.unwrap();
    set_versioning(&c, "vc-bucket", BucketVersioningStatus::Enabled).await;
    let acked = Arc::new(Mutex::new(Acked::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| tokio::spawn(writer(c.clone(), w, 60, acked.clone())))
        .collect();
    // Kill the leader once the writes are under way.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().await.len() < 40 {
        assert!(Instant::now() < deadline, "no writes acknowledged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let killed = leader(&cluster, 1);
    cluster.nodes[killed - 1].kill9();
    let mut failed = 0;
    for w in writers {
        failed += w.await.unwrap();
    }
    let acked = acked.lock().await.clone();
    println!(
        "leader {killed} killed: {} versions and markers acknowledged, {failed} writes failed",
        acked.len()
    );
    assert!(
        acked.len() > 100,
        "too few writes went through the failover"
    );

    // Every acknowledged version is listed exactly once, as a version or a marker as written.
    let mut listed = BTreeMap::new();
    let (mut km, mut vm) = (None, None);
    loop {
        let r = c
            .list_object_versions()
            .bucket("vc-bucket")
            .max_keys(37)
            .set_key_marker(km)
            .set_version_id_marker(vm)
            .send()
            .await
            .unwrap();
        for v in r.versions() {
            let k = (
                v.key().unwrap().to_owned(),
                v.version_id().unwrap().to_owned(),
            );
            assert!(listed.insert(k, false).is_none(), "listed twice");
        }
        for m in r.delete_markers() {
            let k = (
                m.key().unwrap().to_owned(),
                m.version_id().unwrap().to_owned(),
            );
            assert!(listed.insert(k, true).is_none(), "listed twice");
        }
        if !r.is_truncated().unwrap() {
            break;
        }
        km = r.next_key_marker().map(str::to_owned);
        vm = r.next_version_id_marker().map(str::to_owned);
    }
    for ((key, id), body) in &acked {
        let marker = listed.get(&(key.clone(), id.clone()));
        assert_eq!(
            marker,
            Some(&body.is_none()),
            "{key} {id} acknowledged, not listed"
        );
        if let Some(body) = body {
            let got = c
                .get_object()
                .bucket("vc-bucket")
                .key(key)
                .version_id(id)
                .send()
                .await
                .unwrap()
                .body
                .collect()
                .await
                .unwrap()
                .into_bytes();
            assert_eq!(&got[..], &body[..], "{key} {id}");
        }
    }
    // One latest per key.
    let keys: BTreeSet<&String> = listed.keys().map(|(k, _)| k).collect();
    assert_eq!(keys.len(), 4);

    // The killed node comes back and catches up: every node's state is the same.
    cluster.nodes[killed - 1].restart();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let digests: Vec<(u64, String)> = (1..=3)
            .filter_map(|i| {
                let out = cluster.admin_output(i, &["state-digest"]);
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
                Some((v["applied"].as_u64()?, v["digest"].as_str()?.to_owned()))
            })
            .collect();
        if digests.len() == 3 && digests.iter().all(|d| d == &digests[0]) {
            println!("all three nodes at index {} agree", digests[0].0);
            break;
        }
        assert!(Instant::now() < deadline, "nodes disagree: {digests:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
