//! Settings from flags, `COFFER_*` environment variables and the TOML file given by
//! `--config`, in that order of precedence, over defaults that make `coffer server` work with
//! no arguments. Unknown keys in the file are warned about, not refused.

use std::path::{Path, PathBuf};

use anyhow::Context;
use coffer_gateway::model::acl::Ownership;
use serde::Deserialize;

/// Flags shared by every role (each also settable in the config file and environment).
#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// TOML configuration file.
    #[arg(long, env = "COFFER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory; give it several times to use several drives (default ./data).
    #[arg(long, env = "COFFER_DATA", value_delimiter = ',')]
    pub data: Vec<PathBuf>,
    /// Lay the node over N drive folders under the data directory (drive1..driveN).
    #[arg(long, env = "COFFER_DRIVES")]
    pub drives: Option<usize>,
    /// S3 listen address (default 127.0.0.1:9000).
    #[arg(long, env = "COFFER_ADDRESS")]
    pub address: Option<String>,
    /// Region reported to clients (default us-east-1).
    #[arg(long, env = "COFFER_REGION")]
    pub region: Option<String>,
    /// Domain for virtual-host-style buckets (bucket.DOMAIN).
    #[arg(long, env = "COFFER_DOMAIN")]
    pub domain: Option<String>,
    /// Listen address of the website endpoint, which serves buckets that have a website
    /// configuration as static sites (default: none, not served).
    #[arg(long, env = "COFFER_WEBSITE_ADDRESS")]
    pub website_address: Option<String>,
    /// Domain of website hosts: BUCKET.s3-website.DOMAIN and BUCKET.s3-website-REGION.DOMAIN
    /// name bucket BUCKET; any other Host names the bucket of that name (a custom domain).
    #[arg(long, env = "COFFER_WEBSITE_DOMAIN")]
    pub website_domain: Option<String>,
    /// Internal RPC listen address (node; default 127.0.0.1:9100 for `coffer node`).
    #[arg(long, env = "COFFER_RPC_ADDRESS")]
    pub rpc_address: Option<String>,
    /// HTTP listen address of a node's health, readiness, metrics and admin API (default:
    /// none, not served).
    #[arg(long, env = "COFFER_ADMIN_ADDRESS")]
    pub admin_address: Option<String>,
    /// RPC address the other nodes and gateways reach this node at (default: the RPC listen
    /// address).
    #[arg(long, env = "COFFER_ADVERTISE")]
    pub advertise: Option<String>,
    /// On a node's first start, join the cluster through these RPC addresses (comma-separated
    /// host:port; a name that resolves to several addresses, as a headless Service's does,
    /// stands for each). The node whose own address comes first bootstraps a new cluster
    /// instead, when no node behind the list answers as a member for 5 s, so every node can be
    /// given the same list. Ignored on later starts.
    #[arg(long, env = "COFFER_JOIN", value_delimiter = ',')]
    pub join: Vec<String>,
    /// On a node's first start without --join, wait to be taken in by `coffer admin node add
    /// THIS_RPC_ADDRESS` instead of bootstrapping a new cluster (needs the cluster's secret).
    #[arg(long, env = "COFFER_AWAIT_ADMISSION")]
    pub await_admission: bool,
    /// Failure zone of this node; placement spreads each object's shards across zones.
    #[arg(long, env = "COFFER_ZONE")]
    pub zone: Option<String>,
    /// In Kubernetes: the zone is this label's value on the node the pod runs on (e.g.
    /// topology.kubernetes.io/zone), read from the API server with the pod's service account
    /// (needs NODE_NAME from the downward API and permission to get nodes). --zone wins.
    #[arg(long, env = "COFFER_ZONE_FROM_NODE_LABEL")]
    pub zone_from_node_label: Option<String>,
    /// A label of this node, KEY=VALUE (repeat, or comma-separated in COFFER_LABELS): a
    /// local tier's pool is the nodes whose labels match its own (`coffer admin tier add
    /// NAME --pool disk=large --profile 8+4`).
    #[arg(long = "label", env = "COFFER_LABELS", value_delimiter = ',')]
    pub labels: Vec<String>,
    /// Shards a write needs durable before it is acknowledged: `k+1` (default; at most all
    /// k+m) or `k`.
    #[arg(long, env = "COFFER_WRITE_QUORUM")]
    pub write_quorum: Option<String>,
    /// Seconds between scrub passes, which read back every shard on this node and rebuild
    /// missing or corrupt ones (default 86400; a pass also runs at start).
    #[arg(long, env = "COFFER_SCRUB_INTERVAL")]
    pub scrub_interval: Option<u64>,
    /// MiB per second a scrub pass reads at most (default 64; 0: unlimited).
    #[arg(long, env = "COFFER_SCRUB_RATE")]
    pub scrub_rate: Option<u64>,
    /// MiB of shards per second a node moves at most when the cluster rebalances after a node
    /// joined or began to drain (default 64; 0: unlimited). Each move counts at least 256 KiB.
    #[arg(long, env = "COFFER_REBALANCE_RATE")]
    pub rebalance_rate: Option<u64>,
    /// Percent of the time a node's rebalancer spends moving shards at most, 1 to 100
    /// (default 25): after a move that took t, it pauses t × (100 − duty) / duty, so the
    /// pauses grow when requests keep the machine busy.
    #[arg(long, env = "COFFER_REBALANCE_DUTY", value_name = "PERCENT")]
    pub rebalance_duty: Option<u8>,
    /// Object versions per second the lifecycle worker reads at most as it scans buckets with
    /// lifecycle rules (default 100000; 0: unlimited).
    #[arg(long, env = "COFFER_LIFECYCLE_SCAN_RATE")]
    pub lifecycle_scan_rate: Option<u64>,
    /// FOR TESTS ONLY: the lifecycle clock's day lasts this many seconds instead of 86400, so
    /// that rules of a few days act within seconds (expiry dates in headers follow it). Never
    /// set it on data you keep.
    #[arg(long, env = "COFFER_LIFECYCLE_DAY_SECONDS")]
    pub lifecycle_day_seconds: Option<u64>,
    /// Seconds a gateway batches a bucket's server access log records before it delivers them
    /// as one log object into the target bucket (default 300; a batch of 4 MiB goes at once).
    #[arg(long, env = "COFFER_ACCESS_LOG_FLUSH_SECONDS")]
    pub access_log_flush_seconds: Option<u64>,
    /// RPC addresses of the nodes a gateway starts from (comma-separated; it learns the
    /// others from the cluster map).
    #[arg(long, env = "COFFER_CLUSTER")]
    pub cluster: Option<String>,
    /// File holding the cluster secret (default DATA/cluster.secret; generated by a node).
    #[arg(long, env = "COFFER_CLUSTER_SECRET_FILE")]
    pub cluster_secret_file: Option<PathBuf>,
    /// File holding the key-encryption key of server-side encryption (64 hex digits; the
    /// environment variable COFFER_KEK may hold it instead). Default: derived from the cluster
    /// secret. Every node and gateway of a cluster needs the same one.
    #[arg(long, env = "COFFER_KEK_FILE")]
    pub kek_file: Option<PathBuf>,
    /// Take SSE-C customer keys over plain HTTP. S3 refuses them there (the key would cross
    /// the network in clear); allow it only behind a proxy that ends TLS, or for tests.
    #[arg(long, env = "COFFER_SSE_C_OVER_HTTP")]
    pub sse_c_over_http: bool,
    /// Serve S3 over HTTPS with this certificate chain (PEM; needs --tls-key). Read again on
    /// SIGHUP and when the file changes.
    #[arg(long, env = "COFFER_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "COFFER_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Addresses or networks (comma-separated, e.g. 10.0.0.0/8) of proxies that end TLS in
    /// front of the gateway: their `X-Forwarded-Proto: https` (or `Forwarded: proto=https`)
    /// counts as a secure connection (SSE-C keys, aws:SecureTransport). Nobody else's does.
    #[arg(long, env = "COFFER_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,
    /// SSE-KMS keys of the built-in key service to make at start when the cluster does not
    /// have them (comma-separated ids of A-Za-z0-9_.-, e.g. testkey-1). More are made with
    /// `coffer admin kms key create`.
    #[arg(long, env = "COFFER_KMS_KEYS", value_delimiter = ',')]
    pub kms_keys: Vec<String>,
    /// Encryption of writes that ask for none, in buckets without a default encryption
    /// configuration (PutBucketEncryption): `none` (default) or `sse-s3`.
    #[arg(long, env = "COFFER_DEFAULT_ENCRYPTION")]
    pub default_encryption: Option<String>,
    /// Node id (default 1), or `auto`: the ordinal that ends the host name, as a StatefulSet
    /// names its pods (coffer-node-2 is node 2).
    #[arg(long, env = "COFFER_NODE_ID")]
    pub node_id: Option<String>,
    /// Take the node id from the host name (the same as --node-id auto).
    #[arg(long, env = "COFFER_NODE_ID_FROM_HOSTNAME")]
    pub node_id_from_hostname: bool,
    /// HTTP worker threads (default: number of CPUs).
    #[arg(long, env = "COFFER_WORKERS")]
    pub workers: Option<usize>,
    /// Objects up to this many bytes are stored inline in metadata (default 65536).
    #[arg(long, env = "COFFER_INLINE_THRESHOLD")]
    pub inline_threshold: Option<u64>,
    /// Remove shard files no metadata knows (left by writes that died before their commit)
    /// once unmodified for this many seconds (default 3600).
    #[arg(long, env = "COFFER_ORPHAN_GRACE")]
    pub orphan_grace: Option<u64>,
    /// Object Ownership of buckets created without `x-amz-object-ownership`:
    /// BucketOwnerEnforced (default, as on S3: ACLs disabled), BucketOwnerPreferred or
    /// ObjectWriter (for tools that set ACLs without asking for it). Give every gateway of a
    /// cluster the same.
    #[arg(long, env = "COFFER_DEFAULT_OBJECT_OWNERSHIP")]
    pub default_object_ownership: Option<String>,
}

/// The config file's shape: every key optional, documented in `deploy/coffer.sample.toml`.
#[derive(Deserialize, Debug, Default)]
#[serde(default)]
struct FileConfig {
    data: Vec<PathBuf>,
    drives: Option<usize>,
    address: Option<String>,
    region: Option<String>,
    domain: Option<String>,
    website_address: Option<String>,
    website_domain: Option<String>,
    rpc_address: Option<String>,
    admin_address: Option<String>,
    advertise: Option<String>,
    join: Vec<String>,
    await_admission: Option<bool>,
    zone: Option<String>,
    zone_from_node_label: Option<String>,
    #[serde(default)]
    labels: Vec<String>,
    write_quorum: Option<String>,
    scrub_interval: Option<u64>,
    scrub_rate: Option<u64>,
    rebalance_rate: Option<u64>,
    rebalance_duty: Option<u8>,
    lifecycle_scan_rate: Option<u64>,
    lifecycle_day_seconds: Option<u64>,
    access_log_flush_seconds: Option<u64>,
    cluster: Option<String>,
    cluster_secret_file: Option<PathBuf>,
    kek_file: Option<PathBuf>,
    sse_c_over_http: Option<bool>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    trusted_proxies: Vec<String>,
    kms_keys: Vec<String>,
    default_encryption: Option<String>,
    node_id: Option<NodeIdValue>,
    node_id_from_hostname: Option<bool>,
    workers: Option<usize>,
    inline_threshold: Option<u64>,
    orphan_grace: Option<u64>,
    default_object_ownership: Option<String>,
    #[serde(flatten)]
    unknown: std::collections::BTreeMap<String, toml::Value>,
}

/// `node_id` in the config file: a number, or "auto".
#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum NodeIdValue {
    Number(u64),
    Text(String),
}

/// The node id: a number, or the host name's ordinal when `auto` (or asked by flag).
fn node_id(given: Option<String>, from_hostname: bool) -> anyhow::Result<u64> {
    let id = match given.as_deref().map(str::trim) {
        _ if from_hostname => crate::identity::node_id_from_hostname(),
        Some("auto") => crate::identity::node_id_from_hostname(),
        Some(n) => n
            .parse()
            .with_context(|| format!("node_id must be a number or auto, not {n:?}")),
        None => Ok(1),
    }?;
    // Placement names a remote tier with this node id (`coffer_proto::tier::REMOTE_NODE`).
    anyhow::ensure!(
        id != coffer_proto::tier::REMOTE_NODE,
        "node_id {id} is reserved"
    );
    Ok(id)
}

/// Resolved settings.
#[derive(Debug)]
pub struct Settings {
    /// Data directories as given (the first holds metadata and secrets).
    pub data: Vec<PathBuf>,
    /// Drive folders.
    pub drives: Vec<PathBuf>,
    /// S3 address.
    pub address: String,
    /// Region.
    pub region: String,
    /// Virtual-host domain.
    pub domain: Option<String>,
    /// Website endpoint address, if it is served.
    pub website_address: Option<String>,
    /// Website hosts' domain.
    pub website_domain: Option<String>,
    /// RPC address, if the node listens.
    pub rpc_address: Option<String>,
    /// Node HTTP (admin, health, metrics) address.
    pub admin_address: Option<String>,
    /// Advertised RPC address.
    pub advertise: Option<String>,
    /// Members to join through on the first start.
    pub join: Vec<String>,
    /// Wait for `coffer admin node add` on the first start instead of bootstrapping.
    pub await_admission: bool,
    /// Failure zone.
    pub zone: Option<String>,
    /// Kubernetes node label that gives the zone, when `zone` is not set.
    pub zone_from_node_label: Option<String>,
    /// This node's labels.
    pub labels: coffer_proto::tier::Labels,
    /// Shards beyond k a write needs durable (1 for `k+1`, 0 for `k`).
    pub quorum_margin: u8,
    /// Seconds between scrub passes.
    pub scrub_interval: u64,
    /// Scrub MiB/s (0: unlimited).
    pub scrub_rate: u64,
    /// Rebalance MiB/s per node (0: unlimited).
    pub rebalance_rate: u64,
    /// Percent of the time a rebalancer moves shards at most (1 to 100).
    pub rebalance_duty: u8,
    /// Object versions per second the lifecycle worker scans (0: unlimited).
    pub lifecycle_scan_rate: u64,
    /// Seconds in a day of the lifecycle clock (86400 but under the tests' knob).
    pub lifecycle_day_seconds: u64,
    /// Seconds a gateway batches access log records.
    pub access_log_flush_seconds: u64,
    /// Node RPC addresses for a gateway.
    pub cluster: Vec<String>,
    /// Cluster secret file.
    pub cluster_secret_file: PathBuf,
    /// Key-encryption key file (None: `COFFER_KEK`, or derived from the cluster secret).
    pub kek_file: Option<PathBuf>,
    /// Take SSE-C keys over plain HTTP.
    pub sse_c_over_http: bool,
    /// TLS certificate chain and key files of the S3 listener.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Proxies trusted to say a request came over TLS.
    pub trusted_proxies: Vec<coffer_gateway::tls::Network>,
    /// Key service keys made at start.
    pub kms_keys: Vec<String>,
    /// Encryption of writes that ask for none in buckets without a configuration.
    pub default_encryption: coffer_gateway::config::DefaultSse,
    /// Node id.
    pub node_id: u64,
    /// HTTP workers.
    pub workers: usize,
    /// Inline threshold.
    pub inline_threshold: u64,
    /// Orphan grace period in seconds.
    pub orphan_grace: u64,
    /// Object Ownership of new buckets that do not ask for one.
    pub default_ownership: Ownership,
}

/// The node's labels, checked.
fn labels(pairs: Vec<String>) -> anyhow::Result<coffer_proto::tier::Labels> {
    pairs
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| coffer_proto::tier::parse_label(p).with_context(|| format!("labels: {p:?}")))
        .collect()
}

/// The key service keys to make at start, checked.
fn kms_keys(ids: Vec<String>) -> anyhow::Result<Vec<String>> {
    let ids: Vec<String> = ids
        .into_iter()
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .collect();
    for id in &ids {
        anyhow::ensure!(
            coffer_proto::sse::valid_key_id(id),
            "kms_keys: {id:?} is not a key id (1 to 250 of A-Za-z0-9_.-)"
        );
    }
    Ok(ids)
}

impl Settings {
    /// Merge flags/env over the config file over defaults.
    pub fn load(a: Args) -> anyhow::Result<Self> {
        let file: FileConfig = match &a.config {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("read config {}", p.display()))?;
                toml::from_str(&text).with_context(|| format!("parse config {}", p.display()))?
            }
            None => FileConfig::default(),
        };
        for k in file.unknown.keys() {
            tracing::warn!(key = %k, "ignoring unknown configuration key");
        }
        let data = if !a.data.is_empty() {
            a.data
        } else if !file.data.is_empty() {
            file.data
        } else {
            vec![PathBuf::from("./data")]
        };
        let first = data
            .first()
            .cloned()
            .unwrap_or_else(|| PathBuf::from("./data"));
        let drives = match a.drives.or(file.drives) {
            Some(0) => anyhow::bail!("--drives must be at least 1"),
            Some(n) if n > 1 && data.len() > 1 => {
                anyhow::bail!("use either several --data folders or --drives, not both")
            }
            Some(n) if n > 1 => (1..=n).map(|i| first.join(format!("drive{i}"))).collect(),
            _ => data.clone(),
        };
        Ok(Settings {
            drives,
            address: a
                .address
                .or(file.address)
                .unwrap_or_else(|| "127.0.0.1:9000".into()),
            region: a
                .region
                .or(file.region)
                .unwrap_or_else(|| "us-east-1".into()),
            domain: a.domain.or(file.domain),
            website_address: a.website_address.or(file.website_address),
            website_domain: a.website_domain.or(file.website_domain),
            rpc_address: a.rpc_address.or(file.rpc_address),
            admin_address: a.admin_address.or(file.admin_address),
            advertise: a.advertise.or(file.advertise),
            join: if a.join.is_empty() { file.join } else { a.join }
                .into_iter()
                .map(|j| j.trim().to_owned())
                .filter(|j| !j.is_empty())
                .collect(),
            await_admission: a.await_admission || file.await_admission.unwrap_or(false),
            zone: a.zone.or(file.zone),
            zone_from_node_label: a
                .zone_from_node_label
                .or(file.zone_from_node_label)
                .filter(|l| !l.trim().is_empty()),
            labels: labels(if a.labels.is_empty() {
                file.labels
            } else {
                a.labels
            })?,
            quorum_margin: match a.write_quorum.or(file.write_quorum).as_deref() {
                None | Some("k+1") => 1,
                Some("k") => 0,
                Some(other) => anyhow::bail!("write_quorum must be k+1 or k, not {other:?}"),
            },
            scrub_interval: a.scrub_interval.or(file.scrub_interval).unwrap_or(86_400),
            scrub_rate: a.scrub_rate.or(file.scrub_rate).unwrap_or(64),
            rebalance_rate: a.rebalance_rate.or(file.rebalance_rate).unwrap_or(64),
            rebalance_duty: match a.rebalance_duty.or(file.rebalance_duty).unwrap_or(25) {
                d @ 1..=100 => d,
                d => anyhow::bail!("rebalance_duty must be a percent from 1 to 100, not {d}"),
            },
            lifecycle_scan_rate: a
                .lifecycle_scan_rate
                .or(file.lifecycle_scan_rate)
                .unwrap_or(100_000),
            lifecycle_day_seconds: match a.lifecycle_day_seconds.or(file.lifecycle_day_seconds) {
                None => 86_400,
                Some(0) => anyhow::bail!("lifecycle_day_seconds must be at least 1"),
                Some(n) => n,
            },
            access_log_flush_seconds: match a
                .access_log_flush_seconds
                .or(file.access_log_flush_seconds)
            {
                None => 300,
                Some(0) => anyhow::bail!("access_log_flush_seconds must be at least 1"),
                Some(n) => n,
            },
            cluster: a
                .cluster
                .or(file.cluster)
                .map(|c| {
                    c.split(',')
                        .map(|a| a.trim().to_owned())
                        .filter(|a| !a.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            cluster_secret_file: a
                .cluster_secret_file
                .or(file.cluster_secret_file)
                .unwrap_or_else(|| first.join("cluster.secret")),
            kek_file: a.kek_file.or(file.kek_file),
            sse_c_over_http: a.sse_c_over_http || file.sse_c_over_http.unwrap_or(false),
            tls: match (a.tls_cert.or(file.tls_cert), a.tls_key.or(file.tls_key)) {
                (Some(c), Some(k)) => Some((c, k)),
                (None, None) => None,
                _ => anyhow::bail!("tls_cert and tls_key go together: give both or neither"),
            },
            trusted_proxies: if a.trusted_proxies.is_empty() {
                file.trusted_proxies
            } else {
                a.trusted_proxies
            }
            .iter()
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                coffer_gateway::tls::Network::parse(p).with_context(|| {
                    format!("trusted_proxies: {p:?} is not an address or ADDRESS/PREFIX")
                })
            })
            .collect::<anyhow::Result<_>>()?,
            kms_keys: kms_keys(if a.kms_keys.is_empty() {
                file.kms_keys
            } else {
                a.kms_keys
            })?,
            default_encryption: match a.default_encryption.or(file.default_encryption) {
                None => coffer_gateway::config::DefaultSse::None,
                Some(d) => coffer_gateway::config::DefaultSse::parse(&d).with_context(|| {
                    format!("default_encryption must be none or sse-s3, not {d:?}")
                })?,
            },
            node_id: node_id(
                a.node_id.or(file.node_id.map(|v| match v {
                    NodeIdValue::Number(n) => n.to_string(),
                    NodeIdValue::Text(t) => t,
                })),
                a.node_id_from_hostname || file.node_id_from_hostname.unwrap_or(false),
            )?,
            workers: a
                .workers
                .or(file.workers)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
            inline_threshold: a
                .inline_threshold
                .or(file.inline_threshold)
                .unwrap_or(64 * 1024),
            orphan_grace: a.orphan_grace.or(file.orphan_grace).unwrap_or(3600),
            default_ownership: match a.default_object_ownership.or(file.default_object_ownership) {
                None => Ownership::BucketOwnerEnforced,
                Some(o) => Ownership::parse(&o).with_context(|| {
                    format!(
                        "default_object_ownership must be BucketOwnerEnforced, \
                         BucketOwnerPreferred or ObjectWriter, not {o:?}"
                    )
                })?,
            },
            data,
        })
    }

    /// The directory holding metadata and secrets.
    pub fn home(&self) -> &Path {
        self.data
            .first()
            .map_or(Path::new("./data"), PathBuf::as_path)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sample() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/coffer.sample.toml")
    }

    #[test]
    fn the_sample_config_has_only_known_keys() {
        let text = std::fs::read_to_string(sample()).unwrap();
        let file: FileConfig = toml::from_str(&text).unwrap();
        assert!(file.unknown.is_empty(), "{:?}", file.unknown.keys());
        let s = Settings::load(Args {
            config: Some(sample()),
            ..Args::default()
        })
        .unwrap();
        assert_eq!(s.default_ownership, Ownership::BucketOwnerEnforced);
    }

    #[test]
    fn node_id_is_a_number_or_from_the_host_name() {
        assert_eq!(node_id(None, false).unwrap(), 1);
        assert_eq!(node_id(Some("7".into()), false).unwrap(), 7);
        let e = node_id(Some("seven".into()), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("number or auto"), "{e}");
        // `auto` and the flag read the host name: whatever this machine's is, the answer is its
        // ordinal or an error that says what was expected.
        let host = crate::identity::hostname().unwrap();
        for (given, flag) in [(Some("auto".to_owned()), false), (None, true)] {
            match (node_id(given, flag), crate::identity::ordinal(&host)) {
                (Ok(id), Some(o)) => assert_eq!(id, o),
                (Err(e), None) => assert!(e.to_string().contains("-ORDINAL"), "{e}"),
                (got, want) => panic!("{host}: {got:?} but the ordinal is {want:?}"),
            }
        }
    }

    #[test]
    fn default_object_ownership_from_file_flag_or_default() {
        assert_eq!(
            Settings::load(Args::default()).unwrap().default_ownership,
            Ownership::BucketOwnerEnforced
        );
        let file = std::env::temp_dir().join(format!("coffer-config-{}.toml", std::process::id()));
        std::fs::write(&file, "default_object_ownership = \"ObjectWriter\"\n").unwrap();
        let from_file = Args {
            config: Some(file.clone()),
            ..Args::default()
        };
        assert_eq!(
            Settings::load(from_file).unwrap().default_ownership,
            Ownership::ObjectWriter
        );
        let flag_wins = Args {
            config: Some(file.clone()),
            default_object_ownership: Some("BucketOwnerPreferred".into()),
            ..Args::default()
        };
        assert_eq!(
            Settings::load(flag_wins).unwrap().default_ownership,
            Ownership::BucketOwnerPreferred
        );
        std::fs::remove_file(&file).unwrap();
        let wrong = Args {
            default_object_ownership: Some("objectwriter".into()),
            ..Args::default()
        };
        let e = Settings::load(wrong).unwrap_err().to_string();
        assert!(e.contains("default_object_ownership"), "{e}");
    }

    #[test]
    fn the_rebalance_duty_is_a_percent() {
        assert_eq!(Settings::load(Args::default()).unwrap().rebalance_duty, 25);
        let set = |d| {
            Settings::load(Args {
                rebalance_duty: Some(d),
                ..Args::default()
            })
        };
        assert_eq!(set(100).unwrap().rebalance_duty, 100);
        for wrong in [0, 101] {
            let e = set(wrong).unwrap_err().to_string();
            assert!(e.contains("rebalance_duty must be a percent"), "{e}");
        }
    }
}
