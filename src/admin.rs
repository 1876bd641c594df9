//! `coffer admin`: asks a node's admin API (see `coffer_proto::admin`) and prints the answer.

use std::path::PathBuf;

use anyhow::Context;
use coffer_proto::admin::{self, ClusterStatus};

use crate::secrets;

/// Where the admin API is and how to sign for it.
#[derive(clap::Args, Debug)]
pub struct AdminArgs {
    /// A node's admin HTTP address (its --admin-address).
    #[arg(long, env = "COFFER_ADMIN_NODE", default_value = "127.0.0.1:9200")]
    pub node: String,
    /// File holding the cluster secret (or COFFER_CLUSTER_SECRET).
    #[arg(
        long,
        env = "COFFER_CLUSTER_SECRET_FILE",
        default_value = "./data/cluster.secret"
    )]
    pub cluster_secret_file: PathBuf,
    /// Print the raw JSON answer.
    #[arg(long)]
    pub json: bool,
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// What to ask.
#[derive(clap::Subcommand, Debug)]
pub enum AdminCommand {
    /// The cluster: status of every node.
    Cluster {
        #[command(subcommand)]
        what: StatusOnly,
    },
    /// Healing: what the scrubbers and heal workers did.
    Heal {
        #[command(subcommand)]
        what: StatusOnly,
    },
    /// Rebalancing: draining nodes, misplaced blobs, shards moved.
    Rebalance {
        #[command(subcommand)]
        what: StatusOnly,
    },
    /// The lifecycle worker: which gateway runs it, where its pass is, what it did.
    Lifecycle {
        #[command(subcommand)]
        what: StatusOnly,
    },
    /// IAM users.
    User {
        #[command(subcommand)]
        what: UserCommand,
    },
    /// Users' access keys.
    Key {
        #[command(subcommand)]
        what: KeyCommand,
    },
    /// IAM groups and their members.
    Group {
        #[command(subcommand)]
        what: crate::admin_policy::GroupCommand,
    },
    /// Identity policies (IAM JSON documents) attached to users and groups.
    Policy {
        #[command(subcommand)]
        what: crate::admin_policy::PolicyCommand,
    },
    /// Cluster-wide Block Public Access settings.
    PublicAccessBlock {
        #[command(subcommand)]
        what: crate::admin_policy::PublicAccessCommand,
    },
    /// The built-in key service's SSE-KMS keys.
    Kms {
        #[command(subcommand)]
        what: crate::admin_kms::KmsCommand,
    },
    /// Tiers: local pools and remote S3 buckets that storage classes write to.
    Tier {
        #[command(subcommand)]
        what: crate::admin_tier::TierCommand,
    },
    /// Erasure profiles per storage class.
    StorageClass {
        #[command(subcommand)]
        what: ClassCommand,
    },
    /// Build a Raft snapshot of the node's metadata now (each node snapshots on its own
    /// schedule; this one does it at once, e.g. before an upgrade).
    Snapshot,
    /// This node's last applied Raft index and a SHA-256 of its metadata state: every node
    /// that applied the same index has the same digest.
    StateDigest,
    /// Membership. Nodes join with `coffer node --join ADDR`, or start with
    /// `--await-admission` and are taken in with `node add`.
    Node {
        #[command(subcommand)]
        what: NodeCommand,
    },
}

/// `user ...`.
#[derive(clap::Subcommand, Debug)]
pub enum UserCommand {
    /// Create an IAM user (ARN arn:aws:iam:::user/NAME).
    Create {
        /// User name: 1 to 64 of A-Za-z0-9+=,.@_-.
        name: String,
    },
    /// Every user.
    List,
    /// Delete a user (its access keys must be deleted first).
    Delete {
        /// User name.
        name: String,
    },
}

/// `key ...`.
#[derive(clap::Subcommand, Debug)]
pub enum KeyCommand {
    /// Create an access key for a user (at most two each); the secret is shown only now.
    Create {
        /// User name.
        user: String,
    },
    /// A user's access keys (ids and status, never secrets).
    List {
        /// User name.
        user: String,
    },
    /// Make a key Inactive: it authenticates nothing until enabled again.
    Disable {
        /// Access key id.
        id: String,
    },
    /// Make a key Active again.
    Enable {
        /// Access key id.
        id: String,
    },
    /// Delete a key.
    Delete {
        /// Access key id.
        id: String,
    },
}

/// `storage-class ...`.
#[derive(clap::Subcommand, Debug)]
pub enum ClassCommand {
    /// The default erasure profile and each storage class's.
    List,
    /// Give a storage class (as in x-amz-storage-class) its own erasure profile, for blobs
    /// written from now on, e.g. `storage-class set REDUCED_REDUNDANCY 2+1`.
    Set {
        /// Storage class name, e.g. STANDARD, REDUCED_REDUNDANCY, STANDARD_IA.
        name: String,
        /// K+M: data and parity shards, on K+M distinct nodes.
        profile: String,
    },
    /// Return a storage class to the default profile.
    Reset {
        /// Storage class name.
        name: String,
    },
}

/// `node ...`.
#[derive(clap::Subcommand, Debug)]
pub enum NodeCommand {
    /// Take in a node started with `coffer node --await-admission`: it joins as a learner,
    /// becomes a voter while the cluster has fewer than it calls for, and shards move to it.
    Add {
        /// The new node's RPC address (its --advertise or --rpc-address), HOST:PORT.
        rpc_addr: String,
    },
    /// Drain a node: nothing new goes to it, its shards move to the others, and once none is
    /// left it leaves the Raft membership and the cluster map (then stop its process).
    Remove {
        /// Node id.
        id: u64,
        /// Wait until the node has left the cluster, printing the drain's progress.
        #[arg(long)]
        wait: bool,
    },
    /// Hand Raft leadership away if the node asked (--node) leads, before it is stopped (the
    /// Helm chart's preStop runs it): it becomes a learner and the voters elect another
    /// leader at once; it is promoted again once it is back.
    StepDown,
}

/// `status`.
#[derive(clap::Subcommand, Debug)]
pub enum StatusOnly {
    /// Show the status.
    Status,
}

/// A name or id as one path segment: signed as sent, so only characters that need no
/// percent-encoding (user names may hold `+=,.@_-`).
pub fn path_part(s: &str) -> anyhow::Result<&str> {
    anyhow::ensure!(
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)),
        "{s:?}: only A-Za-z0-9+=,.@_- are allowed"
    );
    Ok(s)
}

async fn call(
    a: &AdminArgs,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
) -> anyhow::Result<serde_json::Value> {
    let secret = secrets::cluster_secret(&a.cluster_secret_file, false)?;
    let date = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let sig = admin::sign(&secret, method, path, date);
    let url = format!("http://{}{path}", a.node);
    let method = reqwest::Method::from_bytes(method.as_bytes())?;
    let mut request = reqwest::Client::new().request(method.clone(), &url);
    if let Some(body) = body {
        request = request.body(body);
    }
    let resp = request
        .header("x-coffer-date", date.to_string())
        .header("authorization", format!("Coffer-Admin {sig}"))
        // Admitting a node waits for it to catch up with the Raft log.
        .timeout(std::time::Duration::from_secs(90))
        .send()
        .await
        .with_context(|| format!("{method} {url}"))?;
    let status = resp.status();
    let body = resp.text().await?;
    anyhow::ensure!(status.is_success(), "{url}: {status}: {}", body.trim());
    serde_json::from_str(&body).with_context(|| format!("{url}: not JSON"))
}

fn gib(b: u64) -> String {
    format!("{:.1}", b as f64 / f64::from(1u32 << 30))
}

fn print_cluster(s: &ClusterStatus) {
    let leader = s.leader.map_or("none".to_owned(), |l| l.to_string());
    println!(
        "leader: node {leader}   term: {}   nodes: {}",
        s.term,
        s.nodes.len()
    );
    println!(
        "{:>4}  {:<22} {:<8} {:<8} {:<10} {:>6} {:>10} {:>10}  {:<10} {:<10} labels",
        "id",
        "rpc address",
        "role",
        "health",
        "applied",
        "drives",
        "total GiB",
        "free GiB",
        "zone",
        "pool"
    );
    for n in &s.nodes {
        let (health, applied, drives, total, free) = match &n.status {
            Some(st) => {
                let ok = st.drives.iter().all(|d| d.ok);
                (
                    if ok { "ok" } else { "degraded" },
                    st.raft
                        .last_applied
                        .map_or("-".to_owned(), |i| i.to_string()),
                    st.drives.len().to_string(),
                    gib(st.drives.iter().map(|d| d.total_bytes).sum()),
                    gib(st.drives.iter().map(|d| d.free_bytes).sum()),
                )
            }
            None => ("down", "-".into(), "-".into(), "-".into(), "-".into()),
        };
        let labels: Vec<String> = n.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "{:>4}  {:<22} {:<8} {:<8} {:<10} {:>6} {:>10} {:>10}  {:<10} {:<10} {}",
            n.id,
            n.rpc_addr,
            n.role,
            health,
            applied,
            drives,
            total,
            free,
            n.zone.as_deref().unwrap_or("-"),
            n.pool.as_deref().unwrap_or("default"),
            if labels.is_empty() {
                "-".to_owned()
            } else {
                labels.join(",")
            }
        );
    }
    for (class, tier) in &s.classes {
        println!("storage class {class} -> tier {tier}");
    }
}

/// Run one admin command.
pub async fn run(a: AdminArgs) -> anyhow::Result<()> {
    use crate::admin_policy::{group_call, policy_call, print, public_access_call};
    let (method, path, body) = match &a.command {
        AdminCommand::Group { what } => group_call(what)?,
        AdminCommand::Policy { what } => policy_call(what)?,
        AdminCommand::PublicAccessBlock { what } => public_access_call(what),
        AdminCommand::Kms { what } => crate::admin_kms::kms_call(what)?,
        AdminCommand::Tier { what } => crate::admin_tier::tier_call(what)?,
        _ => {
            let (m, p) = request(&a.command)?;
            (m, p, None)
        }
    };
    let value = call(&a, method, &path, body).await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    match &a.command {
        AdminCommand::Group { what } => print(&value, Some(what), None),
        AdminCommand::Policy { what } => print(&value, None, Some(what)),
        AdminCommand::Kms { what } => crate::admin_kms::print(&value, what),
        AdminCommand::Tier { .. } => crate::admin_tier::print(&value),
        _ => print_answer(&a.command, &path, value)?,
    }
    if let AdminCommand::Node {
        what: NodeCommand::Remove { id, wait: true },
    } = &a.command
    {
        wait_removed(&a, *id).await?;
    }
    Ok(())
}

/// The method and path of a command without a body.
fn request(command: &AdminCommand) -> anyhow::Result<(&'static str, String)> {
    Ok(match command {
        AdminCommand::Group { .. }
        | AdminCommand::Policy { .. }
        | AdminCommand::PublicAccessBlock { .. }
        | AdminCommand::Kms { .. }
        | AdminCommand::Tier { .. } => {
            anyhow::bail!(
                "group, policy, public-access-block, kms and tier commands are built in their modules"
            )
        }
        AdminCommand::Cluster { .. } => ("GET", "/admin/v1/cluster".to_owned()),
        AdminCommand::Heal { .. } => ("GET", "/admin/v1/heal".to_owned()),
        AdminCommand::Rebalance { .. } => ("GET", "/admin/v1/rebalance".to_owned()),
        AdminCommand::Lifecycle { .. } => ("GET", "/admin/v1/lifecycle".to_owned()),
        AdminCommand::Snapshot => ("POST", "/admin/v1/snapshot".to_owned()),
        AdminCommand::StateDigest => ("GET", "/admin/v1/state-digest".to_owned()),
        AdminCommand::Node {
            what: NodeCommand::Remove { id, .. },
        } => ("POST", format!("/admin/v1/nodes/{id}/drain")),
        AdminCommand::Node {
            what: NodeCommand::StepDown,
        } => ("POST", "/admin/v1/step-down".to_owned()),
        AdminCommand::StorageClass {
            what: ClassCommand::List,
        } => ("GET", "/admin/v1/storage-classes".to_owned()),
        AdminCommand::User { what } => match what {
            UserCommand::Create { name } => {
                ("POST", format!("/admin/v1/users/{}", path_part(name)?))
            }
            UserCommand::List => ("GET", "/admin/v1/users".to_owned()),
            UserCommand::Delete { name } => {
                ("DELETE", format!("/admin/v1/users/{}", path_part(name)?))
            }
        },
        AdminCommand::Key { what } => match what {
            KeyCommand::Create { user } => {
                ("POST", format!("/admin/v1/users/{}/keys", path_part(user)?))
            }
            KeyCommand::List { user } => {
                ("GET", format!("/admin/v1/users/{}/keys", path_part(user)?))
            }
            KeyCommand::Disable { id } => {
                ("POST", format!("/admin/v1/keys/{}/disable", path_part(id)?))
            }
            KeyCommand::Enable { id } => {
                ("POST", format!("/admin/v1/keys/{}/enable", path_part(id)?))
            }
            KeyCommand::Delete { id } => ("DELETE", format!("/admin/v1/keys/{}", path_part(id)?)),
        },
        AdminCommand::StorageClass {
            what: ClassCommand::Set { name, profile },
        } => {
            let (k, m) = profile
                .split_once('+')
                .and_then(|(k, m)| {
                    Some((k.trim().parse::<u8>().ok()?, m.trim().parse::<u8>().ok()?))
                })
                .with_context(|| format!("{profile:?} is not K+M, e.g. 4+2"))?;
            anyhow::ensure!(
                name.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{name:?} is not a storage class name"
            );
            ("POST", format!("/admin/v1/storage-classes/{name}/{k}/{m}"))
        }
        AdminCommand::StorageClass {
            what: ClassCommand::Reset { name },
        } => {
            anyhow::ensure!(
                name.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{name:?} is not a storage class name"
            );
            ("DELETE", format!("/admin/v1/storage-classes/{name}"))
        }
        AdminCommand::Node {
            what: NodeCommand::Add { rpc_addr },
        } => {
            // Signed as sent: the address goes into the path unencoded.
            anyhow::ensure!(
                !rpc_addr.is_empty()
                    && rpc_addr
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c)),
                "{rpc_addr:?} is not a HOST:PORT address"
            );
            ("POST", format!("/admin/v1/nodes/add/{rpc_addr}"))
        }
    })
}

/// Print the answer to a command for people.
fn print_answer(
    command: &AdminCommand,
    path: &str,
    value: serde_json::Value,
) -> anyhow::Result<()> {
    match command {
        AdminCommand::Group { .. }
        | AdminCommand::Policy { .. }
        | AdminCommand::PublicAccessBlock { .. }
        | AdminCommand::Kms { .. }
        | AdminCommand::Tier { .. } => println!("{value}"),
        AdminCommand::User {
            what: UserCommand::List,
        } => {
            for u in value.as_array().into_iter().flatten() {
                println!(
                    "{}  {}  {}",
                    u["name"].as_str().unwrap_or("?"),
                    u["user_id"].as_str().unwrap_or("?"),
                    u["arn"].as_str().unwrap_or("?")
                );
            }
        }
        AdminCommand::Key {
            what: KeyCommand::List { .. },
        } => {
            for k in value.as_array().into_iter().flatten() {
                println!(
                    "{}  {}",
                    k["access_key_id"].as_str().unwrap_or("?"),
                    k["status"].as_str().unwrap_or("?")
                );
            }
        }
        AdminCommand::Key {
            what: KeyCommand::Create { .. },
        } => {
            println!(
                "Access key id:      {}",
                value["access_key_id"].as_str().unwrap_or("?")
            );
            println!(
                "Secret access key:  {}",
                value["secret_access_key"].as_str().unwrap_or("?")
            );
            println!("(shown only this once)");
        }
        AdminCommand::User { .. } | AdminCommand::Key { .. } => {
            println!("{value}");
        }
        AdminCommand::Cluster { .. } => {
            let s: ClusterStatus = serde_json::from_value(value)
                .with_context(|| format!("{path}: unexpected answer"))?;
            print_cluster(&s);
        }
        AdminCommand::Heal { .. } => {
            let t = &value["total"];
            let n = |k: &str| t[k].as_u64().unwrap_or(0);
            let up = n("uptime_secs").max(1);
            println!(
                "nodes answered: {} of {}",
                value["nodes_answered"], value["nodes"]
            );
            println!(
                "scrubbed: {} blobs, {} MiB in {} passes ({:.1} MiB/s since start)",
                n("blobs_checked"),
                n("bytes_scrubbed") >> 20,
                n("passes"),
                n("bytes_scrubbed") as f64 / up as f64 / 1048576.0
            );
            println!(
                "repaired: {} shards, {} MiB; failed rebuilds: {}",
                n("shards_repaired"),
                n("bytes_repaired") >> 20,
                n("repair_failures")
            );
        }
        AdminCommand::Rebalance { .. } => {
            let n = |k: &str| value[k].as_u64().unwrap_or(0);
            println!(
                "nodes answered: {} of {}; draining: {}",
                value["nodes_answered"], value["nodes"], value["draining"]
            );
            println!(
                "misplaced blobs at the last passes: {}; moved: {} shards, {} MiB; failed moves: {}",
                n("misplaced"),
                n("shards_moved"),
                n("bytes_moved") >> 20,
                n("move_failures")
            );
        }
        AdminCommand::Lifecycle { .. } => print_lifecycle(&value),
        AdminCommand::StorageClass {
            what: ClassCommand::List,
        } => {
            let d = &value["default"];
            println!("default (by cluster size): {}+{}", d["k"], d["m"]);
            for c in value["classes"].as_array().into_iter().flatten() {
                println!(
                    "{}: {}+{}",
                    c["name"].as_str().unwrap_or("?"),
                    c["k"],
                    c["m"]
                );
            }
        }
        AdminCommand::StorageClass {
            what: ClassCommand::Set { .. },
        } => {
            println!(
                "{}: {}+{} for blobs written from now on",
                value["name"].as_str().unwrap_or("?"),
                value["k"],
                value["m"]
            );
        }
        AdminCommand::StorageClass {
            what: ClassCommand::Reset { .. },
        } => {
            println!(
                "{}: back to the default profile",
                value["name"].as_str().unwrap_or("?")
            );
        }
        AdminCommand::Snapshot => {
            println!(
                "node {}: snapshot at log index {}",
                value["node"], value["snapshot_index"]
            );
        }
        AdminCommand::StateDigest => {
            println!(
                "node {}: applied {}, state {}",
                value["node"],
                value["applied"],
                value["digest"].as_str().unwrap_or("?")
            );
        }
        AdminCommand::Node {
            what: NodeCommand::Add { .. },
        } => {
            println!(
                "node {} at {} admitted: shards move to it in the background (follow with \
                 `coffer admin rebalance status`)",
                value["id"],
                value["rpc_addr"].as_str().unwrap_or("?")
            );
        }
        AdminCommand::Node {
            what: NodeCommand::Remove { .. },
        } => {
            println!(
                "node {} is draining: its shards move to the other nodes, then it leaves the \
                 cluster (follow with `coffer admin rebalance status`)",
                value["draining"]
            );
        }
        AdminCommand::Node {
            what: NodeCommand::StepDown,
        } => {
            if value["stepped_down"].as_bool() == Some(true) {
                println!("node {}: leadership handed away", value["node"]);
            } else {
                println!(
                    "node {}: not the leader, nothing to hand away",
                    value["node"]
                );
            }
        }
    }
    Ok(())
}

/// `coffer admin lifecycle status`, for people.
fn print_lifecycle(value: &serde_json::Value) {
    let Some(holder) = value["holder"].as_str() else {
        println!("the lifecycle worker has not run yet (no gateway took its lease)");
        return;
    };
    let ms = |v: &serde_json::Value| v.as_i64().unwrap_or(0);
    let age = |t: i64| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        (now - t) as f64 / 1000.0
    };
    let counts = |t: &serde_json::Value| {
        let n = |k: &str| t[k].as_u64().unwrap_or(0);
        format!(
            "{} versions scanned, {} expired, {} noncurrent removed, {} delete markers removed, \
             {} uploads aborted, {} transitioned ({} bytes moved), {} kept by Object Lock, \
             {} failed",
            n("scanned"),
            n("expired"),
            n("noncurrent_removed"),
            n("markers_removed"),
            n("uploads_aborted"),
            n("transitioned"),
            n("bytes_transitioned"),
            n("locked"),
            n("failed")
        )
    };
    let until = ms(&value["until_ms"]);
    if age(until) > 0.0 {
        println!(
            "worker: none (the lease of {holder} ran out {:.0} s ago)",
            age(until)
        );
    } else {
        println!("worker: gateway {holder}");
    }
    println!(
        "passes completed: {}",
        value["passes"].as_u64().unwrap_or(0)
    );
    match value["cursor"].as_object() {
        Some(c) => println!(
            "pass under way for {:.0} s, at bucket {:?} after key {}: {}",
            age(ms(&value["pass_started_ms"])),
            c.get("bucket").and_then(|b| b.as_str()).unwrap_or(""),
            c.get("key")
                .and_then(|k| k.as_str())
                .map_or("(start)".to_owned(), |k| format!("{k:?}")),
            counts(&value["pass"])
        ),
        None => println!("between passes"),
    }
    if value["last_pass"].is_object() {
        println!(
            "last pass: ended {:.0} s ago, took {:.1} s: {}",
            age(ms(&value["last_pass_ended_ms"])),
            ms(&value["last_pass_ms"]) as f64 / 1000.0,
            counts(&value["last_pass"])
        );
        println!(
            "backlog (due, failed at the last pass): {}",
            value["last_pass"]["failed"].as_u64().unwrap_or(0)
        );
    }
    println!("in all: {}", counts(&value["total"]));
    if let Some(e) = value["last_error"].as_str() {
        println!("last error: {e}");
    }
}

/// After `node remove ID --wait`: poll until node `id` has left the cluster map, printing
/// the drain's progress every 10 s.
async fn wait_removed(a: &AdminArgs, id: u64) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut said = std::time::Instant::now();
    loop {
        let cluster: ClusterStatus =
            serde_json::from_value(call(a, "GET", "/admin/v1/cluster", None).await?)?;
        if !cluster.nodes.iter().any(|n| n.id == id) {
            println!(
                "node {id} has left the cluster ({:.0} s): stop it and remove its volume",
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        if said.elapsed() >= std::time::Duration::from_secs(10) {
            let r = call(a, "GET", "/admin/v1/rebalance", None).await?;
            println!(
                "node {id} still draining: {} blobs misplaced, {} shards moved ({} MiB)",
                r["misplaced"],
                r["shards_moved"],
                r["bytes_moved"].as_u64().unwrap_or(0) >> 20
            );
            said = std::time::Instant::now();
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}
