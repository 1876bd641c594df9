//! [`LocalCluster`]: separate `coffer node` processes and a `coffer gateway` over them, on
//! free loopback ports, with the admin CLI pointed at any node.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{
    client_for, coffer_bin, free_port, wait_for_log, wait_for_log_count, Process, ACCESS_KEY,
    SECRET_KEY,
};

/// Separate `coffer node` processes (node 1 bootstraps, the others join through it) and one
/// `coffer gateway` over all of them, on free loopback ports.
pub struct LocalCluster {
    /// Node processes; `nodes[i]` is node id `i + 1`.
    pub nodes: Vec<Process>,
    /// The gateway.
    pub gateway: Process,
    /// `http://127.0.0.1:PORT` of the gateway.
    pub endpoint: String,
    /// RPC addresses, by node.
    pub rpc: Vec<String>,
    /// Admin HTTP addresses, by node.
    pub admin: Vec<String>,
    /// State of every process (removed on drop).
    pub dir: tempfile::TempDir,
    /// Flags every node was started with.
    flags: Vec<String>,
}

impl LocalCluster {
    /// Start `n` nodes with `node_flags` added to each, then the gateway.
    pub async fn start(n: usize, node_flags: &[&str]) -> Self {
        Self::start_each(n, node_flags, |_| Vec::new()).await
    }

    /// Start `n` nodes with `node_flags` added to each and `own(i)` to node `i`, then the
    /// gateway.
    pub async fn start_each(
        n: usize,
        node_flags: &[&str],
        own: impl Fn(usize) -> Vec<String>,
    ) -> Self {
        Self::start_with_gateway(n, node_flags, own, &[]).await
    }

    /// [`LocalCluster::start_each`], with `gateway_flags` added to the gateway's.
    pub async fn start_with_gateway(
        n: usize,
        node_flags: &[&str],
        own: impl Fn(usize) -> Vec<String>,
        gateway_flags: &[&str],
    ) -> Self {
        let mut dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        // COFFER_TEST_KEEP=1 keeps the cluster's state and logs for a post-mortem.
        if std::env::var_os("COFFER_TEST_KEEP").is_some() {
            dir.disable_cleanup(true);
            eprintln!("cluster state kept in {}", dir.path().display());
        }
        let secret = dir.path().join("cluster.secret");
        std::fs::write(&secret, "0123456789abcdef0123456789abcdef")
            .unwrap_or_else(|e| panic!("secret: {e}"));
        let rpc: Vec<String> = (0..n)
            .map(|_| format!("127.0.0.1:{}", free_port()))
            .collect();
        let admin: Vec<String> = (0..n)
            .map(|_| format!("127.0.0.1:{}", free_port()))
            .collect();
        let mut nodes = Vec::new();
        for (i, a) in (1..=n).zip(&admin) {
            let extra = own(i);
            let mut flags = vec!["--admin-address", a.as_str()];
            flags.extend_from_slice(node_flags);
            flags.extend(extra.iter().map(String::as_str));
            let p = Self::spawn_node(dir.path(), &rpc, i, true, &flags);
            wait_for_log(&p, &format!("Coffer node {i} ready"), 60).await;
            nodes.push(p);
        }
        let (gateway, addr) = Self::spawn_gateway(dir.path(), &rpc, "gateway", gateway_flags);
        wait_for_log(&gateway, "S3 gateway listening", 30).await;
        LocalCluster {
            nodes,
            gateway,
            endpoint: format!("http://{addr}"),
            rpc,
            admin,
            dir,
            flags: node_flags.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    /// Start one more node (id `nodes.len() + 1`), joining through node 1, with the flags
    /// the others have; returns its id once it is ready.
    pub async fn add_node(&mut self) -> usize {
        let i = self.spawn_extra(true);
        wait_for_log(&self.nodes[i - 1], &format!("Coffer node {i} ready"), 60).await;
        i
    }

    /// Start one more node (id `nodes.len() + 1`) with `--await-admission` and the flags the
    /// others have; returns its id once it waits for `coffer admin node add`.
    pub async fn add_standby_node(&mut self) -> usize {
        let i = self.spawn_extra(false);
        wait_for_log(&self.nodes[i - 1], "waiting to be admitted", 60).await;
        i
    }

    fn spawn_extra(&mut self, join: bool) -> usize {
        let i = self.nodes.len() + 1;
        self.rpc.push(format!("127.0.0.1:{}", free_port()));
        self.admin.push(format!("127.0.0.1:{}", free_port()));
        let a = self.admin[i - 1].clone();
        let mut flags = vec!["--admin-address", a.as_str()];
        if !join {
            flags.push("--await-admission");
        }
        flags.extend(self.flags.iter().map(String::as_str));
        let p = Self::spawn_node(self.dir.path(), &self.rpc, i, join, &flags);
        self.nodes.push(p);
        i
    }

    /// kill -9 every node and the gateway at once.
    pub fn kill_all(&mut self) {
        for n in &mut self.nodes {
            n.kill9();
        }
        self.gateway.kill9();
    }

    /// Start every node and the gateway again (after [`LocalCluster::kill_all`]); returns
    /// once each says it is ready for the `starts`-th time.
    pub async fn restart_all(&mut self, starts: usize) {
        for n in &mut self.nodes {
            n.restart();
        }
        self.gateway.restart();
        for (i, n) in self.nodes.iter().enumerate() {
            wait_for_log_count(n, &format!("Coffer node {} ready", i + 1), starts, 60).await;
        }
        wait_for_log_count(&self.gateway, "S3 gateway listening", starts, 30).await;
    }

    /// The value of counter or gauge `name` in node `i`'s `/metrics`.
    pub async fn metric(&self, i: usize, name: &str) -> u64 {
        let url = format!("http://{}/metrics", self.admin[i - 1]);
        let text = reqwest::get(&url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"))
            .text()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
    }

    /// Create IAM user `name` with one access key (through node 1's admin API): its
    /// (access key id, secret).
    pub fn create_user(&self, name: &str) -> (String, String) {
        self.admin_json(1, &["user", "create", name]);
        let k = self.admin_json(1, &["key", "create", name]);
        let field = |f: &str| k[f].as_str().unwrap_or_default().to_owned();
        (field("access_key_id"), field("secret_access_key"))
    }

    /// A client holding the key of a new IAM user `name`.
    pub fn user_client(&self, name: &str) -> aws_sdk_s3::Client {
        let (ak, sk) = self.create_user(name);
        client_for(&self.endpoint, &ak, &sk)
    }

    /// After a restart: wait (up to 30 s) until `bucket` can be listed again.
    pub async fn wait_listing(&self, c: &aws_sdk_s3::Client, bucket: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while c.list_objects_v2().bucket(bucket).send().await.is_err() {
            assert!(
                Instant::now() < deadline,
                "no listing after the restart\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Run `coffer admin --node <node i's admin address> ARGS... --json` and parse its output.
    pub fn admin_json(&self, i: usize, args: &[&str]) -> serde_json::Value {
        let out = self.admin_output(i, args);
        assert!(
            out.status.success(),
            "coffer admin {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("admin output: {e}"))
    }

    /// Run `coffer admin --node <node i's admin address> ARGS... --json`, whatever it answers.
    pub fn admin_output(&self, i: usize, args: &[&str]) -> std::process::Output {
        let node = self
            .admin
            .get(i - 1)
            .unwrap_or_else(|| panic!("no node {i}"));
        let sf = self.dir.path().join("cluster.secret");
        Command::new(coffer_bin())
            .args(["admin", "--json", "--node", node, "--cluster-secret-file"])
            .arg(&sf)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("coffer admin: {e}"))
    }

    /// Start one more gateway over the nodes, named `name` (its data folder and log), with
    /// `flags` added; returns it and its S3 endpoint once it listens.
    pub async fn add_gateway(&self, name: &str, flags: &[&str]) -> (Process, String) {
        let (p, addr) = Self::spawn_gateway(self.dir.path(), &self.rpc, name, flags);
        wait_for_log(&p, "S3 gateway listening", 30).await;
        (p, format!("http://{addr}"))
    }

    fn spawn_gateway(dir: &Path, rpc: &[String], name: &str, flags: &[&str]) -> (Process, String) {
        let sf = dir.join("cluster.secret").to_string_lossy().into_owned();
        let gd = dir.join(name).to_string_lossy().into_owned();
        let addr = format!("127.0.0.1:{}", free_port());
        let all = rpc.join(",");
        let mut args = vec![
            "gateway",
            "--cluster",
            &all,
            "--cluster-secret-file",
            &sf,
            "--data",
            &gd,
            "--address",
            &addr,
        ];
        args.extend_from_slice(flags);
        let p = Process::spawn(
            &args,
            &[
                ("COFFER_ACCESS_KEY_ID", ACCESS_KEY),
                ("COFFER_SECRET_ACCESS_KEY", SECRET_KEY),
            ],
            &dir.join(format!("{name}.log")),
        );
        (p, addr)
    }

    fn spawn_node(dir: &Path, rpc: &[String], i: usize, join: bool, flags: &[&str]) -> Process {
        let data = dir.join(format!("node{i}")).to_string_lossy().into_owned();
        let sf = dir.join("cluster.secret").to_string_lossy().into_owned();
        let id = i.to_string();
        let own = rpc
            .get(i - 1)
            .unwrap_or_else(|| panic!("no address for node {i}"));
        let mut args = vec![
            "node",
            "--node-id",
            &id,
            "--data",
            &data,
            "--rpc-address",
            own,
            "--cluster-secret-file",
            &sf,
        ];
        if let (true, Some(seed)) = (join && i > 1, rpc.first()) {
            args.extend_from_slice(&["--join", seed]);
        }
        args.extend_from_slice(flags);
        Process::spawn(&args, &[], &dir.join(format!("node{i}.log")))
    }

    /// A client of the gateway with the test key.
    pub fn client(&self) -> aws_sdk_s3::Client {
        client_for(&self.endpoint, ACCESS_KEY, SECRET_KEY)
    }

    /// Every process's log, for a failure message.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for (i, n) in self.nodes.iter().enumerate() {
            out.push_str(&format!("---- node {}\n{}", i + 1, n.log()));
        }
        out.push_str(&format!("---- gateway\n{}", self.gateway.log()));
        out
    }

    /// The data folder of node `i` (1-based).
    pub fn node_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("node{i}"))
    }

    /// Which nodes (1-based) got new shard files while `f` ran, and how many files in all.
    pub async fn new_shards<F: std::future::Future<Output = ()>>(
        &self,
        f: F,
    ) -> (std::collections::BTreeSet<usize>, usize) {
        let all = || -> std::collections::BTreeSet<PathBuf> {
            (1..=self.nodes.len())
                .flat_map(|i| self.shard_files(i))
                .collect()
        };
        let before = all();
        f.await;
        let (mut nodes, mut files) = (std::collections::BTreeSet::new(), 0);
        for i in 1..=self.nodes.len() {
            let new = self
                .shard_files(i)
                .into_iter()
                .filter(|p| !before.contains(p))
                .count();
            if new > 0 {
                nodes.insert(i);
            }
            files += new;
        }
        (nodes, files)
    }

    /// Wait until the nodes `labelled` (and no others) show `label` (KEY=VALUE) in `coffer
    /// admin cluster status`: each node publishes its labels once it is in the cluster map.
    pub async fn wait_labels(&self, label: &str, labelled: &[u64]) {
        let (key, value) = label.split_once('=').unwrap_or((label, ""));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.admin_json(1, &["cluster", "status"]);
            let got: Vec<u64> = s["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|n| n["labels"][key] == value)
                .filter_map(|n| n["id"].as_u64())
                .collect();
            if got == labelled {
                return;
            }
            assert!(Instant::now() < deadline, "labels not published: {s}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Every shard file under node `i`'s data folder.
    pub fn shard_files(&self, i: usize) -> Vec<PathBuf> {
        fn walk(d: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.node_dir(i).join("shards"), &mut out);
        out
    }
}
