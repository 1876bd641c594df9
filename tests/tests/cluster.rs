//! A cluster of three `coffer node` processes behind one gateway: shards spread over the
//! nodes, reads survive a killed node, writes below the write quorum are refused and leave
//! nothing behind, and a killed Raft leader is replaced.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use cluster_tests::{bytes, status, LocalCluster};

/// GET an object's bytes; a failure shows every process's log.
async fn read(cluster: &LocalCluster, c: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    let got = async {
        let o = c.get_object().bucket(bucket).key(key).send().await?;
        Ok::<_, Box<dyn std::error::Error>>(o.body.collect().await?.into_bytes().to_vec())
    };
    match got.await {
        Ok(b) => b,
        Err(e) => panic!("GET {bucket}/{key}: {e:?}\n{}", cluster.logs()),
    }
}

#[tokio::test]
async fn three_node_cluster() {
    // A hang is a failure, not a stuck CI run.
    tokio::time::timeout(Duration::from_secs(300), three_nodes())
        .await
        .expect("test timed out");
}

async fn three_nodes() {
    let mut cluster = LocalCluster::start(3, &[]).await;
    let c = cluster.client();
    c.create_bucket().bucket("spread").send().await.unwrap();

    // 2+1 over three nodes: a 3 MiB object is three stripes, and every node holds one shard
    // file of it.
    let big = bytes(3 << 20, 1);
    c.put_object()
        .bucket("spread")
        .key("big")
        .body(big.clone().into())
        .send()
        .await
        .unwrap();
    for i in 1..=3 {
        let files = cluster.shard_files(i);
        assert_eq!(files.len(), 1, "node {i} shard files: {files:?}");
    }
    assert_eq!(read(&cluster, &c, "spread", "big").await, big);
    let small = bytes(1000, 2);
    c.put_object()
        .bucket("spread")
        .key("small")
        .body(small.clone().into())
        .send()
        .await
        .unwrap();

    // The admin API: three voters, one leader, every node answering with its drives.
    let map = cluster.admin_json(2, &["cluster", "status"]);
    let nodes = map["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "{map}");
    assert!(map["leader"].as_u64().is_some(), "{map}");
    for n in nodes {
        assert_eq!(n["role"], "voter", "{n}");
        assert_eq!(n["status"]["drives"].as_array().unwrap().len(), 1, "{n}");
        assert!(
            n["status"]["drives"][0]["total_bytes"].as_u64().unwrap() > 0,
            "{n}"
        );
    }
    // Concurrent reads share the leader's read-index rounds (quorum heartbeats); with three
    // voters none skips them.
    let leader = map["leader"].as_u64().unwrap() as usize;
    const READS: &str = "coffer_read_index_reads_total";
    const ROUNDS: &str = "coffer_read_index_rounds_total";
    let (reads0, rounds0) = (
        cluster.metric(leader, READS).await,
        cluster.metric(leader, ROUNDS).await,
    );
    let heads: Vec<_> = (0..64)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.head_object().bucket("spread").key("small").send().await })
        })
        .collect();
    for h in heads {
        assert_eq!(h.await.unwrap().unwrap().content_length(), Some(1000));
    }
    let reads = cluster.metric(leader, READS).await - reads0;
    let rounds = cluster.metric(leader, ROUNDS).await - rounds0;
    assert!(reads >= 64, "{reads} reads");
    assert!(rounds < reads, "{reads} reads took {rounds} rounds");
    assert!(
        rounds >= 1,
        "three voters: {reads} reads took no read-index round"
    );
    println!("64 concurrent HEADs: {reads} linearizable reads in {rounds} read-index rounds");

    // Unsigned or wrongly signed admin requests are refused.
    let url = format!("http://{}/admin/v1/cluster", cluster.admin[0]);
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let date = chrono::Utc::now().timestamp().to_string();
    let forged = coffer_proto::admin::sign(b"not the secret", "GET", "/admin/v1/cluster", 0);
    let r = reqwest::Client::new()
        .get(&url)
        .header("x-coffer-date", &date)
        .header("authorization", format!("Coffer-Admin {forged}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let health = reqwest::get(format!("http://{}/ready", cluster.admin[2]))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);

    // Node 3 down: every read still returns the right bytes, rebuilt from the other two.
    cluster.nodes[2].kill9();
    let map = cluster.admin_json(1, &["cluster", "status"]);
    let down: Vec<u64> = map["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["status"].is_null())
        .map(|n| n["id"].as_u64().unwrap())
        .collect();
    assert_eq!(down, [3], "{map}");
    assert_eq!(read(&cluster, &c, "spread", "big").await, big);
    let part = c
        .get_object()
        .bucket("spread")
        .key("big")
        .range("bytes=1048570-2097160")
        .send()
        .await
        .unwrap();
    let got = part.body.collect().await.unwrap().into_bytes();
    assert_eq!(&got[..], &big[1048570..=2097160]);
    assert_eq!(read(&cluster, &c, "spread", "small").await, small);

    // A large write needs k + 1 = 3 durable shards: refused with 503, and nothing visible.
    let refused = c
        .put_object()
        .bucket("spread")
        .key("refused")
        .body(bytes(2 << 20, 3).into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&refused), 503, "{refused:?}");
    let head = c.head_object().bucket("spread").key("refused").send().await;
    assert_eq!(status(&head.unwrap_err()), 404);
    // Metadata-only writes (inline objects) need only the Raft majority.
    c.put_object()
        .bucket("spread")
        .key("inline-while-down")
        .body(small.clone().into())
        .send()
        .await
        .unwrap();

    // Node 3 back: large writes work again.
    cluster.nodes[2].restart();
    let back = bytes(2 << 20, 4);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = c
            .put_object()
            .bucket("spread")
            .key("after")
            .body(back.clone().into())
            .send()
            .await;
        match r {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline && status(&e) == 503 => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("PUT after restart: {e:?}\n{}", cluster.nodes[2].log()),
        }
    }
    assert_eq!(read(&cluster, &c, "spread", "after").await, back);

    // Kill the leader (node 1 bootstrapped the cluster and leads unless an election moved
    // it; the test finds out from the logs of the others being elected).
    let killed = Instant::now();
    cluster.nodes[0].kill9();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let r = c
            .put_object()
            .bucket("spread")
            .key("after-failover")
            .body(small.clone().into())
            .send()
            .await;
        match r {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("no write after the leader died: {e:?}"),
        }
    }
    println!(
        "leader failover: first successful write {:.2} s after kill -9 ({attempts} attempts)",
        killed.elapsed().as_secs_f64()
    );
    assert_eq!(read(&cluster, &c, "spread", "after-failover").await, small);
    assert_eq!(read(&cluster, &c, "spread", "big").await, big);
    assert_eq!(
        read(&cluster, &c, "spread", "inline-while-down").await,
        small
    );
    let listed = c.list_objects_v2().bucket("spread").send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(
        keys,
        [
            "after",
            "after-failover",
            "big",
            "inline-while-down",
            "small"
        ]
    );
}

#[tokio::test]
async fn healing_restores_every_shard() {
    tokio::time::timeout(Duration::from_secs(300), healing())
        .await
        .expect("test timed out");
}

/// Wait until `path` holds exactly `want` (the heal worker or the scrubber rewrote it).
async fn wait_for_file(path: &std::path::Path, want: &[u8], what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::fs::read(path).is_ok_and(|got| got == want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: {} not restored", path.display());
}

/// Poll `coffer admin heal status` until `done` holds of it (all nodes answering).
async fn wait_for_repairs(cluster: &LocalCluster, done: impl Fn(&serde_json::Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let heal = cluster.admin_json(1, &["heal", "status"]);
        if heal["nodes_answered"] == 3 && done(&heal) {
            assert!(heal["total"]["passes"].as_u64().unwrap() >= 1, "{heal}");
            return;
        }
        assert!(Instant::now() < deadline, "{heal}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn healing() {
    let flags = ["--scrub-interval", "1", "--write-quorum", "k"];
    let mut cluster = LocalCluster::start(3, &flags).await;
    let c = cluster.client();
    c.create_bucket().bucket("heal").send().await.unwrap();
    let big = bytes(3 << 20, 5);
    c.put_object()
        .bucket("heal")
        .key("big")
        .body(big.clone().into())
        .send()
        .await
        .unwrap();
    let shard = |i: usize| {
        let files = cluster.shard_files(i);
        assert_eq!(files.len(), 1, "node {i}: {files:?}");
        let bytes = std::fs::read(&files[0]).unwrap();
        (files[0].clone(), bytes)
    };
    let (path2, orig2) = shard(2);
    let (path1, orig1) = shard(1);

    // A deleted shard: the read that meets it rebuilds it, byte for byte.
    std::fs::remove_file(&path2).unwrap();
    assert_eq!(read(&cluster, &c, "heal", "big").await, big);
    wait_for_file(&path2, &orig2, "deleted shard (read repair)").await;

    // Flipped bytes: the scrubber finds them without any read.
    let mut bad = orig1.clone();
    for b in &mut bad[100_000..100_016] {
        *b ^= 0xff;
    }
    std::fs::write(&path1, &bad).unwrap();
    wait_for_file(&path1, &orig1, "corrupt shard (scrubber)").await;
    // `coffer admin heal status` counts both rebuilds.
    wait_for_repairs(&cluster, |h| {
        h["total"]["shards_repaired"].as_u64() >= Some(2)
    })
    .await;

    // With --write-quorum k, a write goes through with node 3 down; once node 3 is back, its
    // first scrub pass fills in the shard it missed.
    cluster.nodes[2].kill9();
    let later = bytes(2 << 20, 6);
    c.put_object()
        .bucket("heal")
        .key("later")
        .body(later.clone().into())
        .send()
        .await
        .unwrap();
    assert_eq!(cluster.shard_files(3).len(), 1);
    cluster.nodes[2].restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    while cluster.shard_files(3).len() < 2 {
        assert!(
            Instant::now() < deadline,
            "node 3 did not heal:\n{}",
            cluster.nodes[2].log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Node 3's own counters (they count from its start) show its first pass's rebuild; the
    // rename is durable, and counted, just after the file appears.
    wait_for_repairs(&cluster, |h| {
        h["per_node"][2]["heal"]["shards_repaired"].as_u64() >= Some(1)
    })
    .await;
    // Every node now holds one shard of each object, and reads need no repair.
    for i in 1..=3 {
        assert_eq!(cluster.shard_files(i).len(), 2, "node {i}");
    }
    cluster.nodes[0].kill9();
    assert_eq!(read(&cluster, &c, "heal", "later").await, later);
    assert_eq!(read(&cluster, &c, "heal", "big").await, big);
}

#[tokio::test]
async fn every_process_killed_at_once() {
    tokio::time::timeout(Duration::from_secs(300), crash_all())
        .await
        .expect("test timed out");
}

/// kill -9 every node and the gateway in the middle of a stream of PUTs, start them all
/// again: every acknowledged object reads back intact.
async fn crash_all() {
    let mut cluster = LocalCluster::start(3, &[]).await;
    let c = cluster.client();
    c.create_bucket().bucket("crash").send().await.unwrap();
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    // Eight writers at once, so that the leader batches their writes into shared entries.
    let writers: Vec<_> = (0..8u64)
        .map(|w| {
            let (c, acked) = (c.clone(), acked.clone());
            tokio::spawn(async move {
                for i in (w..).step_by(8) {
                    // Alternate inline objects and 1.5 MiB ones (two stripes on three nodes).
                    let len = if (i / 8) % 2 == 0 { 3000 } else { 3 << 19 };
                    let r = c
                        .put_object()
                        .bucket("crash")
                        .key(format!("obj-{i}"))
                        .body(bytes(len, i).into())
                        .send()
                        .await;
                    match r {
                        Ok(_) => acked.lock().unwrap().push((i, len)),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.kill_all();
    for w in writers {
        let _ = w.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 4,
        "only {} PUTs before the crash",
        acked.len()
    );
    cluster.restart_all(2).await;
    cluster.wait_listing(&c, "crash").await;
    for (i, len) in &acked {
        let key = format!("obj-{i}");
        assert_eq!(
            read(&cluster, &c, "crash", &key).await,
            bytes(*len, *i),
            "{key}"
        );
    }
    println!(
        "every process killed at once: {} acknowledged objects intact",
        acked.len()
    );
}

#[tokio::test]
async fn node_add_admits_a_waiting_node() {
    tokio::time::timeout(Duration::from_secs(300), admission())
        .await
        .expect("test timed out");
}

/// A node started with `--await-admission` stays out of the cluster until `coffer admin node
/// add`; a wrong address or a clashing id is refused; once in, it takes shards and comes back
/// after a kill -9 with the same flags.
async fn admission() {
    let mut cluster = LocalCluster::start(3, &[]).await;
    let c = cluster.client();
    c.create_bucket().bucket("admit").send().await.unwrap();
    // Twelve 2+1 blobs: over four nodes, rendezvous hashing wants a shard of a given blob on
    // node 4 three times in four, so some shards must move there (all twelve staying put has
    // a chance of 1 in 16 million).
    let before = bytes(1 << 20, 7);
    for i in 0..12 {
        c.put_object()
            .bucket("admit")
            .key(format!("before{i}"))
            .body(before.clone().into())
            .send()
            .await
            .unwrap();
    }

    let four = cluster.add_standby_node().await;
    let ready = format!("http://{}/ready", cluster.admin[four - 1]);
    assert_eq!(reqwest::get(&ready).await.unwrap().status().as_u16(), 503);
    let map = cluster.admin_json(1, &["cluster", "status"]);
    assert_eq!(map["nodes"].as_array().unwrap().len(), 3, "{map}");

    // Nothing answers there: refused, and nothing changes.
    let nobody = format!("127.0.0.1:{}", cluster_tests::free_port());
    let out = cluster.admin_output(1, &["node", "add", &nobody]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("502"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A waiting node whose id is a member's: refused with 409.
    let clash_rpc = format!("127.0.0.1:{}", cluster_tests::free_port());
    let clash_dir = cluster
        .dir
        .path()
        .join("clash")
        .to_string_lossy()
        .into_owned();
    let secret = cluster.dir.path().join("cluster.secret");
    let mut clash = cluster_tests::Process::spawn(
        &[
            "node",
            "--node-id",
            "2",
            "--data",
            &clash_dir,
            "--rpc-address",
            &clash_rpc,
            "--cluster-secret-file",
            &secret.to_string_lossy(),
            "--await-admission",
        ],
        &[],
        &cluster.dir.path().join("clash.log"),
    );
    cluster_tests::wait_for_log(&clash, "waiting to be admitted", 60).await;
    let out = cluster.admin_output(1, &["node", "add", &clash_rpc]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("409") && err.contains("already taken"),
        "{err}"
    );
    clash.kill9();
    let map = cluster.admin_json(1, &["cluster", "status"]);
    assert_eq!(map["nodes"].as_array().unwrap().len(), 3, "{map}");

    // Admitted through a follower (forwarded to the leader): a learner, ready, in the map.
    let added = cluster.admin_json(2, &["node", "add", &cluster.rpc[four - 1]]);
    assert_eq!(added["id"], four as u64, "{added}");
    assert_eq!(added["rpc_addr"], cluster.rpc[four - 1].as_str(), "{added}");
    cluster_tests::wait_for_log(&cluster.nodes[four - 1], "Coffer node 4 ready", 60).await;
    // The process is up; ready once its own Raft state names a leader and itself a member,
    // which the admission's log entry brings a moment later.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let status = reqwest::get(&ready).await.unwrap().status().as_u16();
        if status == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "node 4 not ready 30 s after admission: {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let map = cluster.admin_json(1, &["cluster", "status"]);
    let roles: Vec<(u64, String)> = map["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["id"].as_u64().unwrap(),
                n["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(roles.contains(&(4, "learner".to_owned())), "{map}");
    assert_eq!(roles.len(), 4, "{map}");

    // It takes part in placement: shards of old blobs move to it.
    let deadline = Instant::now() + Duration::from_secs(60);
    while cluster.shard_files(four).is_empty() {
        assert!(
            Instant::now() < deadline,
            "no shard reached node 4\n{}",
            cluster.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // kill -9 and a restart with the same flags (--await-admission included): it is a member
    // already, so it comes back without waiting for another `node add`.
    cluster.nodes[four - 1].restart();
    cluster_tests::wait_for_log_count(&cluster.nodes[four - 1], "Coffer node 4 ready", 2, 60).await;
    let log = cluster.nodes[four - 1].log();
    assert_eq!(log.matches("waiting to be admitted").count(), 1, "{log}");
    for i in 0..12 {
        assert_eq!(
            read(&cluster, &c, "admit", &format!("before{i}")).await,
            before
        );
    }
    let after = bytes(5 << 20, 8);
    c.put_object()
        .bucket("admit")
        .key("after")
        .body(after.clone().into())
        .send()
        .await
        .unwrap();
    assert_eq!(read(&cluster, &c, "admit", "after").await, after);
    println!(
        "node add: node 4 waited, was refused for a wrong address and a clashing id, then \
         admitted as a learner and took {} shard files",
        cluster.shard_files(four).len()
    );
}
