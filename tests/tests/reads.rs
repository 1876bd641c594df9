//! Linearizable reads: a node that is the only voter confirms its leadership once per term and
//! then reads its state machine directly; with more voters every read takes a read-index round
//! (shared by reads that arrive together). Either way a read sees every write acknowledged
//! before it, also right after every process was killed and restarted.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use cluster_tests::{get_bytes, LocalCluster};

/// (linearizable reads, read-index rounds) so far on node `i`.
async fn read_counts(cluster: &LocalCluster, i: usize) -> (u64, u64) {
    (
        cluster.metric(i, "coffer_read_index_reads_total").await,
        cluster.metric(i, "coffer_read_index_rounds_total").await,
    )
}

/// Write `key` = `value` and read it back at once through the gateway.
async fn write_then_read(c: &aws_sdk_s3::Client, key: &str, value: &str) {
    c.put_object()
        .bucket("reads")
        .key(key)
        .body(value.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(c, "reads", key).await, value.as_bytes(), "{key}");
}

/// 32 clients at once, each overwriting its own key and reading it back, 5 times.
async fn concurrent_writes_and_reads(c: &aws_sdk_s3::Client, round: &str) {
    let tasks: Vec<_> = (0..32)
        .map(|t| {
            let c = c.clone();
            let round = round.to_owned();
            tokio::spawn(async move {
                for n in 0..5 {
                    write_then_read(&c, &format!("k{t}"), &format!("{round}-{t}-{n}")).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sole_voter_reads_without_rounds_and_still_sees_every_acknowledged_write() {
    let mut cluster = LocalCluster::start(1, &[]).await;
    let c = cluster.client();
    c.create_bucket().bucket("reads").send().await.unwrap();
    write_then_read(&c, "first", "1").await;

    // Leading alone, with its term confirmed: reads take no rounds.
    let (reads0, rounds0) = read_counts(&cluster, 1).await;
    assert!(rounds0 >= 1, "the first read of the term takes a round");
    concurrent_writes_and_reads(&c, "a").await;
    let (reads1, rounds1) = read_counts(&cluster, 1).await;
    assert!(
        reads1 - reads0 >= 320,
        "{} reads (each request reads)",
        reads1 - reads0
    );
    assert_eq!(
        rounds1,
        rounds0,
        "{} reads took {} rounds",
        reads1 - reads0,
        rounds1 - rounds0
    );

    // kill -9 and restart: the new term is confirmed by a round before reads skip them, and
    // that round waits for the log's replay, so the last acknowledged writes are all there.
    cluster.kill_all();
    cluster.restart_all(2).await;
    for t in 0..32 {
        assert_eq!(
            get_bytes(&c, "reads", &format!("k{t}")).await,
            format!("a-{t}-4").as_bytes()
        );
    }
    let (_, rounds) = read_counts(&cluster, 1).await;
    assert!(
        rounds >= 1,
        "the restarted node confirmed its term with a round"
    );
    concurrent_writes_and_reads(&c, "b").await;
    assert_eq!(read_counts(&cluster, 1).await.1, rounds);

    // Two more nodes make three voters: from then on every read needs a round again.
    cluster.add_node().await;
    cluster.add_node().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let map = cluster.admin_json(1, &["cluster", "status"]);
        let voters = map["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["role"] == "voter")
            .count();
        if voters == 3 {
            break;
        }
        assert!(Instant::now() < deadline, "no three voters: {map}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let leader = cluster.admin_json(1, &["cluster", "status"])["leader"]
        .as_u64()
        .unwrap() as usize;
    let (reads0, rounds0) = read_counts(&cluster, leader).await;
    concurrent_writes_and_reads(&c, "c").await;
    let (reads1, rounds1) = read_counts(&cluster, leader).await;
    assert!(reads1 - reads0 >= 320, "{} reads", reads1 - reads0);
    assert!(
        rounds1 > rounds0,
        "three voters: {} reads took no round",
        reads1 - reads0
    );
}
