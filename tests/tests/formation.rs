//! A cluster that forms by itself, as a StatefulSet's pods do: every node gets the same
//! arguments (`--node-id auto` from a `NAME-ORDINAL` host name, the same `--join` list with
//! node 0 first), whatever order they start in. Node 0 bootstraps only when no other node
//! answers as a member; a node whose volume was lost (node 0 included) rejoins and is healed;
//! a removed node learns it and stops serving; a leader that is told to step down hands
//! leadership away and is promoted again.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cluster_tests::{
    client_for, free_port, get_bytes, put_all, wait_for_log, wait_for_log_count, Process,
    ACCESS_KEY, SECRET_KEY,
};

/// Nodes started as a StatefulSet's pods would be, with a gateway over them.
struct Pods {
    dir: tempfile::TempDir,
    rpc: Vec<String>,
    admin: Vec<String>,
    nodes: Vec<Option<Process>>,
    /// Drives per node.
    drives: usize,
}

impl Pods {
    fn new(n: usize) -> Pods {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("secret"),
            "0123456789abcdef0123456789abcdef",
        )
        .unwrap();
        Pods {
            rpc: (0..n)
                .map(|_| format!("127.0.0.1:{}", free_port()))
                .collect(),
            admin: (0..n)
                .map(|_| format!("127.0.0.1:{}", free_port()))
                .collect(),
            nodes: (0..n).map(|_| None).collect(),
            drives: 1,
            dir,
        }
    }

    fn data(&self, ordinal: usize) -> PathBuf {
        self.dir.path().join(format!("coffer-node-{ordinal}"))
    }

    /// Start pod `ordinal` (its host name is coffer-node-ORDINAL); every pod gets the same
    /// join list, node 0 first.
    fn start(&mut self, ordinal: usize) {
        let host = format!("coffer-node-{ordinal}");
        let data = self.data(ordinal).to_string_lossy().into_owned();
        let secret = self
            .dir
            .path()
            .join("secret")
            .to_string_lossy()
            .into_owned();
        let join = self.rpc.join(",");
        let drives = self.drives.to_string();
        let p = Process::spawn(
            &[
                "node",
                "--drives",
                &drives,
                "--node-id",
                "auto",
                "--data",
                &data,
                "--rpc-address",
                &self.rpc[ordinal],
                "--advertise",
                &self.rpc[ordinal],
                "--admin-address",
                &self.admin[ordinal],
                "--join",
                &join,
                "--cluster-secret-file",
                &secret,
                "--scrub-interval",
                "2",
            ],
            &[("HOSTNAME", host.as_str())],
            &self.dir.path().join(format!("{host}.log")),
        );
        self.nodes[ordinal] = Some(p);
    }

    /// Start every pod at once and wait until each says it is ready.
    async fn start_all(&mut self) {
        for o in 0..self.nodes.len() {
            self.start(o);
        }
        for o in 0..self.nodes.len() {
            self.ready(o, 1).await;
        }
    }

    fn node(&self, ordinal: usize) -> &Process {
        self.nodes[ordinal].as_ref().unwrap()
    }

    async fn ready(&self, ordinal: usize, starts: usize) {
        let p = self.node(ordinal);
        wait_for_log_count(p, &format!("Coffer node {ordinal} ready"), starts, 90).await;
    }

    fn gateway(&self) -> (Process, String) {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let g = Process::spawn(
            &[
                "gateway",
                "--cluster",
                &self.rpc.join(","),
                "--cluster-secret-file",
                &self.dir.path().join("secret").to_string_lossy(),
                "--data",
                &self.dir.path().join("gateway").to_string_lossy(),
                "--address",
                &addr,
            ],
            &[
                ("COFFER_ACCESS_KEY_ID", ACCESS_KEY),
                ("COFFER_SECRET_ACCESS_KEY", SECRET_KEY),
            ],
            &self.dir.path().join("gateway.log"),
        );
        (g, format!("http://{addr}"))
    }

    /// `coffer admin --json ARGS` against pod `ordinal`.
    fn admin(&self, ordinal: usize, args: &[&str]) -> serde_json::Value {
        let out = std::process::Command::new(cluster_tests::coffer_bin())
            .args(["admin", "--json", "--node", &self.admin[ordinal]])
            .arg("--cluster-secret-file")
            .arg(self.dir.path().join("secret"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "coffer admin {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// (leader, voters, learners) as pod `ordinal` sees them.
    fn raft(&self, ordinal: usize) -> (Option<u64>, Vec<u64>, Vec<u64>) {
        let s = self.admin(ordinal, &["cluster", "status"]);
        let ids = |role: &str| -> Vec<u64> {
            s["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["role"] == role)
                .map(|n| n["id"].as_u64().unwrap())
                .collect()
        };
        (s["leader"].as_u64(), ids("voter"), ids("learner"))
    }

    /// Wait until every running pod sees the same leader and `voters` voters.
    async fn one_cluster(&self, running: &[usize], voters: usize) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let seen: Vec<_> = running.iter().map(|o| self.raft(*o)).collect();
            let leaders: Vec<_> = seen.iter().map(|s| s.0).collect();
            if let Some(Some(l)) = leaders.first() {
                if leaders.iter().all(|x| *x == Some(*l))
                    && seen.iter().all(|s| s.1.len() == voters)
                {
                    return *l;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no single cluster: {seen:?}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    fn logs(&self) -> String {
        let mut out = String::new();
        for (o, p) in self.nodes.iter().enumerate() {
            if let Some(p) = p {
                out.push_str(&format!("---- coffer-node-{o}\n{}", tail(&p.log(), 40)));
            }
        }
        out
    }

    fn bootstrapped(&self, ordinal: usize) -> usize {
        self.node(ordinal)
            .log()
            .matches("bootstrapping a new cluster")
            .count()
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n") + "\n"
}

async fn ready_http(admin: &str) -> (u16, String) {
    let r = reqwest::get(format!("http://{admin}/ready")).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn shard_files(dir: &Path) -> usize {
    fn walk(d: &Path) -> usize {
        std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| {
                if e.path().is_dir() {
                    walk(&e.path())
                } else {
                    1
                }
            })
            .sum()
    }
    walk(&dir.join("shards"))
}

#[tokio::test]
async fn all_pods_at_once_form_one_cluster() {
    let mut pods = Pods::new(3);
    pods.start_all().await;
    let first = pods.one_cluster(&[0, 1, 2], 3).await;
    assert_eq!(pods.bootstrapped(0), 1, "{}", pods.logs());
    assert_eq!(pods.bootstrapped(1) + pods.bootstrapped(2), 0);
    // The leader steps down (no learner to take its seat): another leads, and it is taken
    // back and promoted, three voters again.
    let r = pods.admin(usize::try_from(first).unwrap(), &["node", "step-down"]);
    assert_eq!(r["stepped_down"], true, "{r}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = pods.one_cluster(&[0, 1, 2], 3).await;
        if now != first {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{first} still leads\n{}",
            pods.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The ids are the ordinals.
    let ids: Vec<u64> = pods.admin(1, &["cluster", "status"])["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [0, 1, 2]);
}

#[tokio::test]
async fn node_zero_last_still_forms_one_cluster() {
    let mut pods = Pods::new(3);
    pods.start(2);
    pods.start(1);
    // They wait for a member: nobody but node 0 may bootstrap.
    tokio::time::sleep(Duration::from_secs(4)).await;
    for o in [1, 2] {
        let (code, _) = ready_http(&pods.admin[o]).await;
        assert_eq!(code, 503, "node {o} is ready without a cluster");
    }
    pods.start(0);
    for o in 0..3 {
        pods.ready(o, 1).await;
    }
    pods.one_cluster(&[0, 1, 2], 3).await;
    assert_eq!(pods.bootstrapped(0), 1);
}

/// A volume lost: a node restarted on an empty data folder rejoins as the same member (its
/// shards rebuilt by its scrubber); node 0 restarted on an empty folder joins the cluster
/// rather than bootstrapping a second one.
#[tokio::test]
async fn a_node_that_lost_its_volume_rejoins_and_is_healed() {
    let mut pods = Pods::new(3);
    pods.start_all().await;
    pods.one_cluster(&[0, 1, 2], 3).await;
    let (_gateway, endpoint) = pods.gateway();
    let c = client_for(&endpoint, ACCESS_KEY, SECRET_KEY);
    let deadline = Instant::now() + Duration::from_secs(30);
    while c.create_bucket().bucket("lost").send().await.is_err() {
        assert!(Instant::now() < deadline, "no bucket");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let bodies: Vec<Vec<u8>> = (0..6u8)
        .map(|i| vec![i; 300_000 + usize::from(i)])
        .collect();
    let objects = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| (format!("k{i}"), b.clone()));
    put_all(&c, "lost", objects, 2).await;
    let before = shard_files(&pods.data(2));
    assert!(before >= 6, "node 2 holds {before} shard files");

    for lost in [2, 0] {
        pods.nodes[lost].as_mut().unwrap().kill9();
        std::fs::remove_dir_all(pods.data(lost)).unwrap();
        pods.nodes[lost].as_mut().unwrap().restart();
        pods.ready(lost, 2).await;
        let log = pods.node(lost).log();
        assert!(log.contains("joined the cluster"), "{}", pods.logs());
        pods.one_cluster(&[0, 1, 2], 3).await;
        // Its scrubber rebuilds every shard placement gives it, and it is not ready until
        // then: once /ready says so, the shards are all back.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (code, body) = ready_http(&pods.admin[lost]).await;
            if code == 200 {
                break;
            }
            assert!(
                ["not ready: joining", "not ready: healing"].contains(&body.as_str()),
                "{body}"
            );
            assert!(
                Instant::now() < deadline,
                "node {lost} not ready\n{}",
                pods.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let now = shard_files(&pods.data(lost));
        assert!(
            now >= before,
            "node {lost} ready with {now} of {before} shard files\n{}",
            pods.logs()
        );
        assert!(pods
            .node(lost)
            .log()
            .contains("every shard placed on this node is here"));
    }
    assert_eq!(pods.bootstrapped(0), 1, "node 0 bootstrapped again");
    // Both nodes that were wiped, and one more down: everything reads from what was healed.
    pods.nodes[1].as_mut().unwrap().kill9();
    for (i, b) in bodies.iter().enumerate() {
        let got = get_bytes(&c, "lost", &format!("k{i}")).await;
        assert!(got == b[..], "k{i} differs");
    }
}

#[tokio::test]
async fn a_removed_node_stops_serving_and_a_leader_steps_down() {
    let mut pods = Pods::new(4);
    // Two drives each: four nodes' blobs (2+2) still fit on the three others' six drives.
    pods.drives = 2;
    pods.start_all().await;
    let leader = pods.one_cluster(&[0, 1, 2, 3], 3).await;
    let leader = usize::try_from(leader).unwrap();

    // The leader hands leadership away: another node leads, and it is a voter again soon.
    let r = pods.admin(leader, &["node", "step-down"]);
    assert_eq!(r["stepped_down"], true, "{r}");
    // Another node leads, and the old leader is back as a learner (a caught-up learner took
    // its voter seat), taken back by the new leader.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (now, _, learners) = pods.raft(leader);
        if now.is_some_and(|l| l != leader as u64) && learners.contains(&(leader as u64)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after the step-down: leader {now:?}, learners {learners:?}\n{}",
            pods.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    pods.one_cluster(&[0, 1, 2, 3], 3).await;
    let follower = (0..4).find(|o| Some(*o as u64) != pods.raft(0).0).unwrap();
    let r = pods.admin(follower, &["node", "step-down"]);
    assert_eq!(r["stepped_down"], false, "{r}");

    // Node 3 is drained and removed; it learns it and serves nothing more, even restarted.
    let out = std::process::Command::new(cluster_tests::coffer_bin())
        .args(["admin", "--node", &pods.admin[0], "--cluster-secret-file"])
        .arg(pods.dir.path().join("secret"))
        .args(["node", "remove", "3", "--wait"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("has left the cluster"),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, body) = ready_http(&pods.admin[3]).await;
        if code == 503 && body.contains("removed") {
            break;
        }
        assert!(Instant::now() < deadline, "{code} {body}\n{}", pods.logs());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(pods.node(3).log().contains("removed from the cluster"));
    pods.nodes[3].as_mut().unwrap().restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(format!("http://{}/ready", pods.admin[3])).await {
            let code = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            if code == 503 && body.contains("removed") {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the restarted removed node\n{}",
            pods.logs()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let left = pods.one_cluster(&[0, 1, 2], 3).await;
    assert!(left < 3);
    let ids: Vec<u64> = pods.admin(0, &["cluster", "status"])["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [0, 1, 2], "the removed node registered again");
    wait_for_log(pods.node(3), "removed from the cluster", 5).await;
}
