//! Shrinking a cluster of one drive per node below its blobs' width: five nodes write 3+2
//! blobs, then shrink to four (each blob keeps two shards on one node) and to three under a
//! PUT/GET load; a node that holds two shards of many blobs is killed with -9 and every
//! object still reads back; a shrink to two, which 2+1 blobs would not survive, is refused
//! with 409; and nodes joining again spread the doubled shards out.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cluster_tests::load::{Load, Obj};
use cluster_tests::LocalCluster;

/// Object sizes: one stripe and a bit, two stripes and a bit (blobs, not inline).
const SIZES: &[usize] = &[(1 << 20) + 17, (2 << 20) + 5];

/// Blob id → shard index → node, from the shard files of `nodes` (files being written left
/// out).
fn shards(cluster: &LocalCluster, nodes: &[usize]) -> HashMap<String, HashMap<usize, usize>> {
    let mut out: HashMap<String, HashMap<usize, usize>> = HashMap::new();
    for &i in nodes {
        for p in cluster.shard_files(i) {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let Some((id, idx)) = name.split_once('.') else {
                continue;
            };
            let Ok(idx) = idx.parse() else { continue };
            out.entry(id.to_owned()).or_default().insert(idx, i);
        }
    }
    out
}

/// Ids of the nodes in the cluster map, as node `via` sees it.
fn members(cluster: &LocalCluster, via: usize) -> Vec<usize> {
    let map = cluster.admin_json(via, &["cluster", "status"]);
    let mut ids: Vec<usize> = map["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_u64().unwrap() as usize)
        .collect();
    ids.sort_unstable();
    ids
}

fn leader(cluster: &LocalCluster, via: usize) -> usize {
    cluster.admin_json(via, &["cluster", "status"])["leader"]
        .as_u64()
        .unwrap() as usize
}

/// `node remove out` through node `via`, then wait until `out` has left the cluster map.
async fn remove(cluster: &LocalCluster, via: usize, out: usize) -> f64 {
    let started = Instant::now();
    let r = cluster.admin_json(via, &["node", "remove", &out.to_string()]);
    assert_eq!(r["draining"], out as u64, "{r}");
    let deadline = Instant::now() + Duration::from_secs(180);
    while members(cluster, via).contains(&out) {
        assert!(
            Instant::now() < deadline,
            "node {out} was not removed: {}",
            cluster.admin_json(via, &["rebalance", "status"])
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    started.elapsed().as_secs_f64()
}

/// Wait until every 3+2 blob has its five shards on `nodes`, no node holding more than
/// `per_node` of them; returns the number of blobs with two shards on one node.
async fn await_spread(cluster: &LocalCluster, nodes: &[usize], per_node: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let index = shards(cluster, nodes);
        let wide: Vec<_> = index.values().filter(|s| s.len() >= 5).collect();
        let bad = index.iter().filter(|(_, s)| s.len() >= 5).find(|(_, s)| {
            let mut per: HashMap<usize, usize> = HashMap::new();
            for n in s.values() {
                *per.entry(*n).or_default() += 1;
            }
            (0..5).any(|i| !s.contains_key(&i))
                || s.len() != 5
                || per.values().any(|&c| c > per_node)
        });
        if bad.is_none() && !wide.is_empty() {
            return wide
                .iter()
                .filter(|s| {
                    let mut on: Vec<usize> = s.values().copied().collect();
                    on.sort_unstable();
                    on.dedup();
                    on.len() < 5
                })
                .count();
        }
        assert!(
            Instant::now() < deadline,
            "blobs not spread over {nodes:?} at most {per_node} a node: {bad:?}\n{}",
            cluster.admin_json(nodes[0], &["rebalance", "status"])
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn verify(cluster: &LocalCluster, c: &aws_sdk_s3::Client, objs: &[Obj]) {
    for o in objs {
        let got = async {
            let r = c.get_object().bucket("shrink").key(&o.key).send().await?;
            Ok::<_, Box<dyn std::error::Error>>(r.body.collect().await?.into_bytes())
        };
        match got.await {
            Ok(b) => assert!(b[..] == o.body()[..], "{}: wrong bytes", o.key),
            Err(e) => panic!("GET {}: {e:?}\n{}", o.key, cluster.logs()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_drive_nodes_shrink_below_the_blob_width() {
    tokio::time::timeout(Duration::from_secs(900), shrink())
        .await
        .expect("test timed out");
}

async fn shrink() {
    let mut cluster = LocalCluster::start(5, &["--rebalance-rate", "0"]).await;
    let classes = cluster.admin_json(1, &["storage-class", "list"]);
    assert_eq!(
        (
            classes["default"]["k"].as_u64(),
            classes["default"]["m"].as_u64()
        ),
        (Some(3), Some(2)),
        "{classes}"
    );
    let c = cluster.client();
    c.create_bucket().bucket("shrink").send().await.unwrap();
    let load = Load::start(c.clone(), "shrink", 2, 2, SIZES);
    load.progress(30, 60).await;

    // 5 → 4, under load: each 3+2 blob keeps two shards on one of the four nodes.
    let out = (2..=5).rev().find(|&i| i != leader(&cluster, 1)).unwrap();
    let took = remove(&cluster, 1, out).await;
    let four: Vec<usize> = (1..=5).filter(|&i| i != out).collect();
    load.progress(10, 60).await;
    load.pause_writes().await;
    let doubled = await_spread(&cluster, &four, 2).await;
    let left = cluster.shard_files(out);
    println!(
        "node {out} drained and removed in {took:.1} s; {doubled} 3+2 blobs keep two shards on \
         one of the four nodes left; {} files left on node {out}",
        left.len()
    );
    assert!(doubled > 0);
    assert!(left.is_empty(), "{left:?}");
    cluster.nodes[out - 1].kill9();

    // The node that holds two shards of the most blobs is lost: every object reads back.
    let index = shards(&cluster, &four);
    let mut twice: HashMap<usize, usize> = HashMap::new();
    for s in index.values().filter(|s| s.len() == 5) {
        let mut per: HashMap<usize, usize> = HashMap::new();
        for n in s.values() {
            *per.entry(*n).or_default() += 1;
        }
        for (n, k) in per {
            if k == 2 {
                *twice.entry(n).or_default() += 1;
            }
        }
    }
    let lead = leader(&cluster, four[0]);
    let (victim, blobs) = twice
        .iter()
        .filter(|(n, _)| **n != lead)
        .max_by_key(|(_, k)| **k)
        .map(|(n, k)| (*n, *k))
        .unwrap();
    cluster.nodes[victim - 1].kill9();
    verify(&cluster, &c, &load.acked()).await;
    println!(
        "node {victim}, with two shards of {blobs} blobs, killed: all {} acknowledged objects \
         read back",
        load.acked().len()
    );
    cluster.nodes[victim - 1].restart();
    cluster_tests::wait_for_log(
        &cluster.nodes[victim - 1],
        &format!("Coffer node {victim} ready"),
        60,
    )
    .await;
    load.resume_writes();
    load.progress(10, 60).await;

    // 4 → 3, under load: 3+2 blobs keep two shards on each of two nodes. The node drained is
    // the one just killed and restarted, unless it leads.
    let lead = leader(&cluster, four[0]);
    let out2 = if victim != lead {
        victim
    } else {
        four.iter().rev().copied().find(|&i| i != lead).unwrap()
    };
    let took = remove(&cluster, lead, out2).await;
    let three: Vec<usize> = four.iter().copied().filter(|&i| i != out2).collect();
    load.progress(10, 60).await;
    load.pause_writes().await;
    let doubled = await_spread(&cluster, &three, 2).await;
    println!("node {out2} drained and removed in {took:.1} s; {doubled} blobs doubled up");
    cluster.nodes[out2 - 1].kill9();
    load.resume_writes();

    // 3 → 2 is refused: 2+1 blobs would keep two shards on one drive.
    let victim = three.iter().copied().find(|&i| i != lead).unwrap();
    let refused = cluster.admin_output(lead, &["node", "remove", &victim.to_string()]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    assert!(
        said.contains("409") && said.contains("2 drives would be left"),
        "{said}"
    );
    assert_eq!(members(&cluster, lead), three);

    // Two nodes join: the doubled shards spread out again, one per node over five.
    let mut grown = three.clone();
    for _ in 0..2 {
        grown.push(cluster.add_node().await);
    }
    load.progress(10, 60).await;
    load.pause_writes().await;
    let doubled = await_spread(&cluster, &grown, 1).await;
    println!(
        "nodes {:?} joined: every 3+2 blob on five distinct nodes again",
        &grown[3..]
    );
    assert_eq!(doubled, 0);
    let (report, acked) = load.stop().await;
    println!("load: {report}");
    assert_eq!(report.failures, 0, "{:#?}", report.errors);
    verify(&cluster, &c, &acked).await;
    println!("all {} acknowledged objects read back", acked.len());
}
