//! `coffer admin tier ...`: local pools and remote S3 buckets that storage classes write to,
//! through the admin API.

use std::path::PathBuf;

use anyhow::Context as _;

/// `tier ...`.
#[derive(clap::Subcommand, Debug)]
pub enum TierCommand {
    /// Add a tier: a local pool (--pool and --profile) or a remote S3 bucket (--endpoint,
    /// --bucket, --access-key-id and the secret from --secret-access-key-file or
    /// COFFER_TIER_SECRET_ACCESS_KEY). E.g. `tier add big --pool disk=large --profile 8+4
    /// --class STANDARD_IA`.
    Add {
        /// Tier name (1 to 63 of a-z, 0-9 and '-').
        name: String,
        /// Local: a label the pool's nodes have (KEY=VALUE; repeat for several, all must
        /// match). A node is in the pool of the first tier whose labels it has.
        #[arg(long = "pool")]
        pool: Vec<String>,
        /// Local: the pool's erasure profile, k+m (e.g. 8+4).
        #[arg(long)]
        profile: Option<String>,
        /// Remote: the S3 endpoint URL, e.g. https://s3.eu-west-1.amazonaws.com.
        #[arg(long)]
        endpoint: Option<String>,
        /// Remote: the bucket.
        #[arg(long)]
        bucket: Option<String>,
        /// Remote: the key prefix of the objects written there.
        #[arg(long, default_value = "")]
        prefix: String,
        /// Remote: the signing region.
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// Remote: the access key id.
        #[arg(long)]
        access_key_id: Option<String>,
        /// Remote: a file holding the secret access key (else the environment variable
        /// COFFER_TIER_SECRET_ACCESS_KEY). It is stored sealed under the cluster's
        /// key-encryption key.
        #[arg(long)]
        secret_access_key_file: Option<PathBuf>,
        /// Storage classes that write to this tier from now on (repeat for several).
        #[arg(long = "class")]
        classes: Vec<String>,
    },
    /// Every tier, the nodes of each pool and which class writes where.
    List,
    /// Remove a tier no storage class writes to.
    Remove {
        /// Tier name.
        name: String,
    },
    /// Make a storage class write to a tier, or with --default to the default pool.
    Class {
        /// Storage class, e.g. STANDARD_IA.
        class: String,
        /// Tier name.
        #[arg(required_unless_present = "default")]
        tier: Option<String>,
        /// Back to the default pool.
        #[arg(long, conflicts_with = "tier")]
        default: bool,
    },
}

fn path_part(s: &str) -> anyhow::Result<&str> {
    anyhow::ensure!(
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{s:?} is not a tier or storage class name"
    );
    Ok(s)
}

/// The method, path and body of a `tier` command.
pub fn tier_call(what: &TierCommand) -> anyhow::Result<(&'static str, String, Option<Vec<u8>>)> {
    Ok(match what {
        TierCommand::Add {
            name,
            pool,
            profile,
            endpoint,
            bucket,
            prefix,
            region,
            access_key_id,
            secret_access_key_file,
            classes,
        } => {
            let secret = match (endpoint, secret_access_key_file) {
                (None, _) => None,
                (Some(_), Some(f)) => Some(
                    std::fs::read_to_string(f)
                        .with_context(|| format!("reading {}", f.display()))?
                        .trim()
                        .to_owned(),
                ),
                (Some(_), None) => Some(std::env::var("COFFER_TIER_SECRET_ACCESS_KEY").context(
                    "a remote tier needs --secret-access-key-file or COFFER_TIER_SECRET_ACCESS_KEY",
                )?),
            };
            let body = serde_json::json!({
                "name": name, "pool": pool, "profile": profile, "endpoint": endpoint,
                "bucket": bucket, "prefix": prefix, "region": region,
                "access_key_id": access_key_id, "secret_access_key": secret, "classes": classes,
            });
            (
                "POST",
                "/admin/v1/tiers".to_owned(),
                Some(serde_json::to_vec(&body)?),
            )
        }
        TierCommand::List => ("GET", "/admin/v1/tiers".to_owned(), None),
        TierCommand::Remove { name } => (
            "DELETE",
            format!("/admin/v1/tiers/{}", path_part(name)?),
            None,
        ),
        TierCommand::Class {
            class,
            tier: Some(t),
            default: false,
        } => (
            "PUT",
            format!(
                "/admin/v1/tiers/classes/{}/{}",
                path_part(class)?,
                path_part(t)?
            ),
            None,
        ),
        TierCommand::Class { class, .. } => (
            "DELETE",
            format!("/admin/v1/tiers/classes/{}", path_part(class)?),
            None,
        ),
    })
}

/// Print the tiers as the admin API describes them.
pub fn print(value: &serde_json::Value) {
    let nodes = |v: &serde_json::Value| -> String {
        let ids: Vec<String> = v
            .as_array()
            .into_iter()
            .flatten()
            .map(ToString::to_string)
            .collect();
        if ids.is_empty() {
            "none".to_owned()
        } else {
            ids.join(",")
        }
    };
    for t in value["tiers"].as_array().into_iter().flatten() {
        let name = t["name"].as_str().unwrap_or("?");
        match t["kind"].as_str() {
            Some("local") => {
                let pool: Vec<&str> = t["pool"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.as_str())
                    .collect();
                println!(
                    "{name}  local  pool {}  {}+{}  nodes {}",
                    pool.join(","),
                    t["k"],
                    t["m"],
                    nodes(&t["nodes"])
                );
            }
            _ => println!(
                "{name}  remote  {}  bucket {}  prefix {:?}  region {}  key {}",
                t["endpoint"].as_str().unwrap_or("?"),
                t["bucket"].as_str().unwrap_or("?"),
                t["prefix"].as_str().unwrap_or(""),
                t["region"].as_str().unwrap_or("?"),
                t["access_key_id"].as_str().unwrap_or("?"),
            ),
        }
    }
    println!("default pool: nodes {}", nodes(&value["default_pool"]));
    for (class, tier) in value["classes"].as_object().into_iter().flatten() {
        println!(
            "storage class {class} -> tier {}",
            tier.as_str().unwrap_or("?")
        );
    }
}
