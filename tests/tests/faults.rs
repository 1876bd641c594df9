//! Fault tests on six `coffer node` processes with 4+2 erasure coding, under a continuous
//! PUT/GET load through the gateway with the AWS SDK: nodes killed with -9 (one, then two),
//! a wiped drive, flipped bytes in shard files, a killed Raft leader. Each prints what it
//! checked; a failure is a request that should have succeeded and did not, an acknowledged
//! write that was refused by quorum, or a wrong byte.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cluster_tests::load::{Load, LoadReport, Obj, Phase};
use cluster_tests::{await_writes, status, wait_for_log, LocalCluster};

/// Object sizes of the load: inline, one stripe and a bit, three stripes and a bit.
const SIZES: &[usize] = &[3000, (1 << 20) + 17, (3 << 20) + 5];

/// The six-node tests share two cores: run them one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The Raft leader's id and the learners' ids, from `coffer admin cluster status` on node `via`.
fn roles(cluster: &LocalCluster, via: usize) -> (usize, Vec<usize>) {
    let map = cluster.admin_json(via, &["cluster", "status"]);
    let leader = map["leader"].as_u64().unwrap() as usize;
    let learners = map["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["role"] == "learner")
        .map(|n| n["id"].as_u64().unwrap() as usize)
        .collect();
    (leader, learners)
}

/// Every shard file of node `i` (path → bytes), leaving out files still being written.
fn snapshot(cluster: &LocalCluster, i: usize) -> HashMap<PathBuf, Vec<u8>> {
    cluster
        .shard_files(i)
        .into_iter()
        .filter(|p| p.extension().is_none_or(|e| e != "tmp"))
        .filter_map(|p| Some((p.clone(), std::fs::read(&p).ok()?)))
        .collect()
}

/// Blob id → (shard index, node) of every shard file found on `nodes`.
fn shard_index(cluster: &LocalCluster, nodes: &[usize]) -> HashMap<String, Vec<(usize, usize)>> {
    let mut out: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
    for &i in nodes {
        for p in snapshot(cluster, i).keys() {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let (id, idx) = name.split_once('.').unwrap();
            out.entry(id.to_owned())
                .or_default()
                .push((idx.parse().unwrap(), i));
        }
    }
    out
}

/// Wait until every blob on `nodes` has all its shards (`widths`: the k + m of the layouts
/// in use), once each, on distinct nodes (writes must be paused); returns the number of blobs.
async fn await_complete(cluster: &LocalCluster, nodes: &[usize], widths: &[usize]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let index = shard_index(cluster, nodes);
        let incomplete: Vec<_> = index
            .iter()
            .filter(|(_, v)| {
                let mut idx: Vec<usize> = v.iter().map(|(i, _)| *i).collect();
                let mut on: Vec<usize> = v.iter().map(|(_, n)| *n).collect();
                idx.sort_unstable();
                on.sort_unstable();
                on.dedup();
                let complete = widths.iter().any(|&w| idx == (0..w).collect::<Vec<_>>());
                !complete || on.len() != v.len()
            })
            .collect();
        if incomplete.is_empty() {
            return index.len();
        }
        assert!(
            Instant::now() < deadline,
            "{} blobs incomplete, e.g. {:?}\n{}",
            incomplete.len(),
            incomplete.first(),
            cluster.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Read back every object: each must be there with the right bytes.
async fn verify_all(cluster: &LocalCluster, c: &aws_sdk_s3::Client, bucket: &str, objs: &[Obj]) {
    for o in objs {
        let got = async {
            let r = c.get_object().bucket(bucket).key(&o.key).send().await?;
            Ok::<_, Box<dyn std::error::Error>>(r.body.collect().await?.into_bytes())
        };
        match got.await {
            Ok(b) => assert!(b[..] == o.body()[..], "{}: wrong bytes", o.key),
            Err(e) => panic!("GET {}: {e:?}\n{}", o.key, cluster.logs()),
        }
    }
}

/// Poll heal status until node `id`'s scrubber has finished `passes` passes since it started.
async fn await_scrub_passes(cluster: &LocalCluster, via: usize, ids: &[usize], passes: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let heal = cluster.admin_json(via, &["heal", "status"]);
        let done = ids.iter().all(|id| {
            heal["per_node"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["id"].as_u64() == Some(*id as u64))
                .and_then(|n| n["heal"]["passes"].as_u64())
                .is_some_and(|p| p >= passes)
        });
        if done {
            return;
        }
        assert!(Instant::now() < deadline, "scrub passes: {heal}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn assert_clean(what: &str, r: &LoadReport) {
    println!("{what}: {r}");
    assert_eq!(r.failures, 0, "{what}: {:#?}", r.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn six_nodes_lose_two_at_write_quorum_k_plus_1() {
    let _one = ONE_AT_A_TIME.lock().await;
    tokio::time::timeout(Duration::from_secs(600), lose_two())
        .await
        .expect("test timed out");
}

/// Kill one node (everything goes on), then a second (large writes refused, reads go on),
/// wipe the second one's drive, bring both back: healing restores every shard byte for byte.
/// Then flip bytes in shard files under load, and kill the leader.
async fn lose_two() {
    let mut cluster = LocalCluster::start(6, &["--scrub-interval", "2"]).await;
    let c = cluster.client();
    c.create_bucket().bucket("load").send().await.unwrap();
    let (leader, learners) = roles(&cluster, 1);
    assert_eq!(learners.len(), 1, "six nodes: five voters and a learner");
    let a = learners[0];
    let b = (1..=6).find(|&i| i != leader && i != a).unwrap();
    println!("leader {leader}; killing node {a} (learner), then node {b} (voter)");

    let load = Load::start(c.clone(), "load", 2, 2, SIZES);
    load.progress(6, 60).await;

    // One node down: reads and writes go on, no failure allowed. (Writers hold off for the
    // instant of the kill: a PUT whose coordinating node dies leaves shards that nothing
    // references on the others until the orphan sweep's grace has passed, and the checks
    // below compare shard files with what the metadata references.)
    load.pause_writes().await;
    cluster.nodes[a - 1].kill9();
    load.resume_writes();
    load.progress(10, 60).await;
    assert_clean(&format!("node {a} down"), &load.report());

    // Two down: objects with shards need k + 1 = 5 durable shards and are refused; inline
    // objects (a Raft commit) and every read go on.
    // (Writers pause for the snapshot, so that every shard file in it belongs to an
    // acknowledged object.)
    load.pause_writes().await;
    let before_b = snapshot(&cluster, b);
    load.set_phase(Phase::Transition);
    cluster.nodes[b - 1].kill9();
    load.resume_writes();
    tokio::time::sleep(Duration::from_secs(3)).await;
    load.set_phase(Phase::WritesRefused);
    let refused = load.report().refused;
    load.progress(6, 90).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while load.report().refused < refused + 2 {
        assert!(Instant::now() < deadline, "no refusal: {}", load.report());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_clean(&format!("nodes {a} and {b} down"), &load.report());

    // Node b's drive is replaced by an empty one; both come back and heal.
    std::fs::remove_dir_all(cluster.node_dir(b).join("shards")).unwrap();
    let heal_bytes: usize = before_b.values().map(Vec::len).sum();
    load.set_phase(Phase::Transition);
    let restarted = Instant::now();
    cluster.nodes[a - 1].restart();
    cluster.nodes[b - 1].restart();
    await_writes(&c, "load", 60).await;
    load.set_phase(Phase::Steady);
    for (path, bytes) in &before_b {
        let deadline = Instant::now() + Duration::from_secs(120);
        while std::fs::read(path).ok().as_ref() != Some(bytes) {
            if Instant::now() > deadline {
                let now = std::fs::read(path);
                let diff = now
                    .as_ref()
                    .ok()
                    .and_then(|n| n.iter().zip(bytes).position(|(x, y)| x != y));
                panic!(
                    "{} not restored: now {:?} bytes, {} before, first difference at {diff:?}\n{}",
                    path.display(),
                    now.map(|n| n.len()),
                    bytes.len(),
                    cluster.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let secs = restarted.elapsed().as_secs_f64();
    println!(
        "wiped node {b}: {} shard files ({:.1} MiB) rebuilt byte for byte {secs:.1} s after the \
         restart ({:.1} MiB/s, under load)",
        before_b.len(),
        heal_bytes as f64 / 1048576.0,
        heal_bytes as f64 / 1048576.0 / secs
    );
    // Shard by shard: with writes held, every blob on disk has its six shards, once each.
    load.pause_writes().await;
    let blobs = await_complete(&cluster, &[1, 2, 3, 4, 5, 6], &[6]).await;
    load.resume_writes();
    println!(
        "healed: all {blobs} blobs on disk have their 6 shards (nodes {a} and {b} included), \
         {:.1} s after the restart",
        restarted.elapsed().as_secs_f64()
    );
    load.progress(6, 60).await;
    assert_clean(&format!("nodes {a} and {b} back"), &load.report());

    // Flipped bytes in shard files on every node (three per node, of 18 distinct blobs, so
    // each keeps 5 good shards): reads stay right, the scrubber puts back every file as it was.
    let mut flipped = Vec::new();
    let mut hit = std::collections::HashSet::new();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    load.pause_writes().await;
    for i in 1..=6 {
        let files = snapshot(&cluster, i);
        let mut paths: Vec<&PathBuf> = files.keys().collect();
        paths.sort();
        let fresh = paths.into_iter().filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            hit.insert(name.split_once('.').unwrap().0.to_owned())
        });
        for p in fresh.filter(|p| files[*p].len() > 64).take(3) {
            let orig = &files[p];
            let mut bad = orig.clone();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = 32 + (x as usize) % (bad.len() - 48);
            for byte in &mut bad[at..at + 16] {
                *byte ^= 0xa5;
            }
            std::fs::write(p, &bad).unwrap();
            flipped.push((p.clone(), orig.clone()));
        }
    }
    load.resume_writes();
    let started = Instant::now();
    for (path, orig) in &flipped {
        let deadline = Instant::now() + Duration::from_secs(120);
        while std::fs::read(path).ok().as_ref() != Some(orig) {
            assert!(Instant::now() < deadline, "{} not repaired", path.display());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    println!(
        "flipped 16 bytes in {} shard files over 6 nodes: all repaired within {:.1} s",
        flipped.len(),
        started.elapsed().as_secs_f64()
    );
    load.progress(6, 60).await;
    assert_clean("after flipped bytes", &load.report());

    // The leader dies: another takes over and writes resume.
    let (leader, _) = roles(&cluster, a);
    let via = (1..=6).find(|&i| i != leader).unwrap();
    // A probe without SDK retries polls for the first write that succeeds.
    let probe = aws_sdk_s3::Client::from_conf(
        c.config()
            .to_builder()
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
            .build(),
    );
    load.set_phase(Phase::Transition);
    let killed = Instant::now();
    cluster.nodes[leader - 1].kill9();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let r = probe
            .put_object()
            .bucket("load")
            .key(format!("failover-{attempts}"))
            .body(cluster_tests::bytes(1 << 20, 5).into())
            .send()
            .await;
        if r.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "no write after the leader died");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failover = killed.elapsed();
    let (new_leader, _) = roles(&cluster, via);
    println!(
        "leader {leader} killed: node {new_leader} leads; first acknowledged 1 MiB PUT {:.2} s \
         later ({attempts} attempts)",
        failover.as_secs_f64()
    );
    assert_ne!(new_leader, leader);
    tokio::time::sleep(Duration::from_secs(2)).await;
    load.set_phase(Phase::Steady);
    load.progress(6, 60).await;
    cluster.nodes[leader - 1].restart();

    let (report, acked) = load.stop().await;
    assert_clean("six nodes, 4+2, k+1", &report);
    verify_all(&cluster, &c, "load", &acked).await;
    println!(
        "all {} acknowledged objects read back intact; failures = 0",
        acked.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn six_nodes_lose_two_at_write_quorum_k() {
    let _one = ONE_AT_A_TIME.lock().await;
    tokio::time::timeout(Duration::from_secs(600), quorum_k())
        .await
        .expect("test timed out");
}

/// With `--write-quorum k`, writes go on with two nodes down; when they return, healing fills
/// in every shard they missed. Proof: two other nodes then die, and every object (whose six
/// shards are on six nodes) still reads back, which needs the healed shards.
async fn quorum_k() {
    let flags = ["--scrub-interval", "2", "--write-quorum", "k"];
    let mut cluster = LocalCluster::start(6, &flags).await;
    let c = cluster.client();
    c.create_bucket().bucket("load").send().await.unwrap();
    let (leader, _) = roles(&cluster, 1);
    let others: Vec<usize> = (1..=6).filter(|&i| i != leader).collect();
    let (a, b) = (others[0], others[1]);

    let load = Load::start(c.clone(), "load", 2, 2, SIZES);
    load.progress(6, 60).await;
    load.set_phase(Phase::Transition);
    cluster.nodes[a - 1].kill9();
    cluster.nodes[b - 1].kill9();
    tokio::time::sleep(Duration::from_secs(3)).await;
    load.set_phase(Phase::Steady);
    let missed_from = load.report().puts;
    load.progress(10, 90).await;
    assert_clean(&format!("nodes {a} and {b} down, quorum k"), &load.report());
    let missed = load.report().puts - missed_from;

    load.set_phase(Phase::Transition);
    cluster.nodes[a - 1].restart();
    cluster.nodes[b - 1].restart();
    await_writes(&c, "load", 60).await;
    load.set_phase(Phase::Steady);
    load.progress(6, 60).await;
    let (report, acked) = load.stop().await;
    assert_clean("six nodes, 4+2, k", &report);

    // Two full scrub passes on each returned node: the first may have begun while the other
    // was still starting.
    await_scrub_passes(&cluster, leader, &[a, b], 2).await;
    let heal = cluster.admin_json(leader, &["heal", "status"]);
    println!(
        "healing after the restart: {} shards repaired ({} MiB), {} repair failures",
        heal["total"]["shards_repaired"],
        heal["total"]["bytes_repaired"].as_u64().unwrap_or(0) >> 20,
        heal["total"]["repair_failures"]
    );
    let (c1, c2) = (others[2], others[3]);
    cluster.nodes[c1 - 1].kill9();
    cluster.nodes[c2 - 1].kill9();
    verify_all(&cluster, &c, "load", &acked).await;
    let refused = c
        .put_object()
        .bucket("load")
        .key("refused")
        .body(cluster_tests::bytes(2 << 20, 7).into())
        .send()
        .await;
    // Quorum k = 4 of the 4 nodes left: writes still go through.
    if let Err(e) = &refused {
        panic!("PUT with four nodes at quorum k: {} {e:?}", status(e));
    }
    println!(
        "{missed} objects written with nodes {a} and {b} down; after healing, with nodes {c1} \
         and {c2} down, all {} acknowledged objects read back intact; failures = 0",
        acked.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seventh_node_in_one_node_out() {
    let _one = ONE_AT_A_TIME.lock().await;
    tokio::time::timeout(Duration::from_secs(600), rebalance())
        .await
        .expect("test timed out");
}

/// Poll `coffer admin rebalance status` until every node of `ids` has finished a pass over
/// `active` active nodes that found nothing to move; returns the answer.
async fn await_balanced(
    cluster: &LocalCluster,
    via: usize,
    ids: &[usize],
    active: u64,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let r = cluster.admin_json(via, &["rebalance", "status"]);
        let settled = ids.iter().all(|&id| {
            r["per_node"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["id"].as_u64() == Some(id as u64))
                .is_some_and(|n| n["balanced_over"] == active && n["misplaced"] == 0)
        });
        if settled {
            return r;
        }
        assert!(Instant::now() < deadline, "rebalancing did not settle: {r}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Six nodes under load; a seventh joins and shards move onto it; then one node is drained
/// (`coffer admin node remove`) and leaves; nothing is lost and no blob is left short.
async fn rebalance() {
    let mut cluster = LocalCluster::start(6, &["--scrub-interval", "1"]).await;
    let c = cluster.client();
    c.create_bucket().bucket("load").send().await.unwrap();
    let load = Load::start(c.clone(), "load", 2, 2, SIZES);
    load.progress(20, 60).await;

    // A seventh node, started to wait for `coffer admin node add`: blobs stay 4+2, and each
    // moves one shard where rendezvous hashing over seven nodes now puts it.
    let seven = cluster.add_standby_node().await;
    let started = Instant::now();
    let added = cluster.admin_json(1, &["node", "add", &cluster.rpc[seven - 1]]);
    assert_eq!(added["id"], seven as u64, "{added}");
    wait_for_log(
        &cluster.nodes[seven - 1],
        &format!("Coffer node {seven} ready"),
        60,
    )
    .await;
    load.progress(6, 60).await;
    let r = await_balanced(&cluster, 1, &[1, 2, 3, 4, 5, 6, 7], 7).await;
    let moved_mib = r["bytes_moved"].as_u64().unwrap() as f64 / 1048576.0;
    println!(
        "node {seven} added (`coffer admin node add`): {} shards ({moved_mib:.1} MiB) moved, \
         settled {:.1} s after the command, under load",
        r["shards_moved"],
        started.elapsed().as_secs_f64()
    );
    assert!(r["shards_moved"].as_u64().unwrap() > 0, "{r}");
    assert!(!cluster.shard_files(seven).is_empty());
    load.pause_writes().await;
    let all: Vec<usize> = (1..=7).collect();
    let blobs = await_complete(&cluster, &all, &[6, 7]).await;
    load.resume_writes();
    println!("after the join: all {blobs} blobs complete, one shard per node");
    assert_clean("seventh node joined", &load.report());

    // Drain a node that is not the leader.
    let (leader, _) = roles(&cluster, 1);
    let out = (2..=6).find(|&i| i != leader).unwrap();
    let started = Instant::now();
    let r = cluster.admin_json(leader, &["node", "remove", &out.to_string()]);
    assert_eq!(r["draining"], out as u64, "{r}");
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let map = cluster.admin_json(leader, &["cluster", "status"]);
        let ids: Vec<u64> = map["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_u64().unwrap())
            .collect();
        if !ids.contains(&(out as u64)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node {out} was not removed: {}",
            cluster.admin_json(leader, &["rebalance", "status"])
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let removed_after = started.elapsed().as_secs_f64();
    let rest: Vec<usize> = all.iter().copied().filter(|&i| i != out).collect();
    let r = await_balanced(&cluster, leader, &rest, 6).await;
    load.pause_writes().await;
    let blobs = await_complete(&cluster, &rest, &[5, 6, 7]).await;
    // Old copies are deleted once the new ones are recorded.
    let left = cluster.shard_files(out);
    load.resume_writes();
    println!(
        "node {out} drained and removed {removed_after:.1} s after `node remove`: {} shards \
         moved in all; all {blobs} blobs complete on the six others; {} files left on it",
        r["shards_moved"],
        left.len()
    );
    assert!(left.is_empty(), "{left:?}");
    cluster.nodes[out - 1].kill9();
    load.progress(10, 60).await;

    // With the removed node gone and two more nodes down, every object still reads back.
    let (report, acked) = load.stop().await;
    assert_clean("seventh node in, one node out", &report);
    let (leader, _) = roles(&cluster, leader);
    let down: Vec<usize> = rest
        .iter()
        .copied()
        .filter(|&i| i != leader)
        .take(2)
        .collect();
    for &d in &down {
        cluster.nodes[d - 1].kill9();
    }
    verify_all(&cluster, &c, "load", &acked).await;
    println!(
        "with node {out} removed and nodes {down:?} down, all {} acknowledged objects read back \
         intact; failures = 0",
        acked.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_process_killed_at_once_under_load() {
    let _one = ONE_AT_A_TIME.lock().await;
    tokio::time::timeout(Duration::from_secs(600), kill_all())
        .await
        .expect("test timed out");
}

/// Six nodes with 4+2 and the gateway, under load: kill -9 all seven processes at once, start
/// them again, and read back every acknowledged object; then the load carries on.
async fn kill_all() {
    let mut cluster = LocalCluster::start(6, &[]).await;
    let c = cluster.client();
    c.create_bucket().bucket("load").send().await.unwrap();
    let load = Load::start(c.clone(), "load", 2, 2, SIZES);
    load.progress(30, 60).await;
    assert_clean("before the crash", &load.report());
    load.set_phase(Phase::Transition);
    cluster.kill_all();
    let (report, acked) = load.stop().await;
    assert_clean("before and during the crash", &report);

    cluster.restart_all(2).await;
    await_writes(&c, "load", 60).await;
    verify_all(&cluster, &c, "load", &acked).await;
    println!(
        "all 7 processes killed at once and restarted: all {} acknowledged objects read back \
         intact; failures = 0",
        acked.len()
    );
    let load = Load::start(c.clone(), "load", 2, 2, SIZES);
    load.progress(20, 60).await;
    let (report, _) = load.stop().await;
    assert_clean("after the restart", &report);
}
