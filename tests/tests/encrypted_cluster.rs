//! Encryption across a cluster: three `coffer node` processes and a gateway under a continuous
//! PUT/GET load into a bucket whose default encryption is SSE-KMS. The key is rotated twice
//! during the load; a node is killed with -9 and comes back; a shard is corrupted and the
//! scrubber rebuilds it; a fourth node joins and shards move onto it. Every acknowledged object
//! reads back byte for byte throughout, and no shard file on any node (the rebuilt and the
//! moved ones included) holds a window of any object's plaintext: healing and rebalancing move
//! ciphertext only.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use cluster_tests::load::{Load, Phase};
use cluster_tests::{await_writes, files_holding, windows_of, LocalCluster};

/// Object sizes of the load: inline, one stripe and a bit, two stripes and a bit.
const SIZES: &[usize] = &[3000, (1 << 20) + 17, (2 << 20) + 5];

#[tokio::test]
async fn an_encrypted_cluster_survives_node_loss_healing_rebalancing_and_rotation() {
    tokio::time::timeout(Duration::from_secs(600), story())
        .await
        .expect("test timed out");
}

/// Poll `coffer admin heal status` until at least `n` shards were rebuilt.
async fn await_repairs(cluster: &LocalCluster, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let heal = cluster.admin_json(1, &["heal", "status"]);
        if heal["total"]["shards_repaired"].as_u64() >= Some(n) {
            return;
        }
        assert!(Instant::now() < deadline, "no repair: {heal}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn story() {
    let flags = ["--scrub-interval", "1", "--kms-keys", "cluster-key"];
    let mut cluster = LocalCluster::start(3, &flags).await;
    let c = cluster.client();
    c.create_bucket().bucket("enc").send().await.unwrap();
    c.put_bucket_encryption()
        .bucket("enc")
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::AwsKms)
                                .kms_master_key_id("cluster-key")
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let load = Load::start(c.clone(), "enc", 2, 2, SIZES);
    load.progress(10, 60).await;

    // Rotation during the load: new objects take the new material, older ones stay readable.
    for generation in 1..=2 {
        let r = cluster.admin_json(2, &["kms", "key", "rotate", "cluster-key"]);
        assert_eq!(r["generation"], generation, "{r}");
        load.progress(8, 60).await;
    }

    // Node loss: with 2+1 and a write quorum of k+1, writes with shards are refused while a
    // node is down (inline ones go through); every acknowledged object reads back.
    load.set_phase(Phase::Transition);
    cluster.nodes[2].kill9();
    tokio::time::sleep(Duration::from_secs(2)).await;
    load.set_phase(Phase::WritesRefused);
    load.progress(6, 60).await;
    load.set_phase(Phase::Transition);
    cluster.nodes[2].restart();
    await_writes(&c, "enc", 60).await;
    load.set_phase(Phase::Steady);
    load.progress(6, 60).await;

    // A corrupted shard: the scrubber rebuilds it (from ciphertext, into ciphertext).
    let victim = cluster
        .shard_files(1)
        .into_iter()
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 200_000))
        .expect("a shard of a stripe-sized object on node 1");
    let mut bytes = std::fs::read(&victim).unwrap();
    for b in &mut bytes[100_000..100_032] {
        *b ^= 0x5a;
    }
    std::fs::write(&victim, &bytes).unwrap();
    await_repairs(&cluster, 1).await;

    // A fourth node joins; shards move onto it.
    let four = cluster.add_node().await;
    let deadline = Instant::now() + Duration::from_secs(120);
    while cluster.shard_files(four).is_empty() {
        assert!(Instant::now() < deadline, "nothing moved to node {four}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    load.progress(6, 60).await;

    let (report, acked) = load.stop().await;
    println!("encrypted cluster: {report}");
    assert_eq!(report.failures, 0, "{report}: {:?}", report.errors);
    assert!(report.puts >= 30, "{report}");
    // Everything acknowledged reads back, and nothing of it is anywhere in clear.
    let mut needles = Vec::new();
    for o in &acked {
        let body = o.body();
        let got = c
            .get_object()
            .bucket("enc")
            .key(&o.key)
            .send()
            .await
            .unwrap();
        assert_eq!(got.ssekms_key_id(), Some("cluster-key"));
        let got = got.body.collect().await.unwrap().into_bytes();
        assert!(got.as_ref() == body.as_slice(), "{} differs", o.key);
        needles.extend(windows_of(&body));
    }
    let found = files_holding(cluster.dir.path(), &needles);
    assert!(found.is_empty(), "plaintext at rest in {found:?}");
}
