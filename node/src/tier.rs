//! Tiers on a node: the admin changes (`coffer admin tier ...`) and the node's own labels.
//! Both documents ([`Tiers`], [`NodeLabels`]) change by compare-and-set
//! (`MetaCommand::ReplaceClusterConfig` from the document as the leader has it), tried again
//! when another change came first. A remote tier's secret access key is sealed here, under
//! the node's key-encryption key, before it enters the metadata.

use coffer_proto::api::ClusterApiExt as _;
use coffer_proto::meta::{BucketConfigKind, MetaCommand};
use coffer_proto::tier::{seal_secret, NodeLabels, RemoteTier, Tier, TierError, TierKind, Tiers};
use coffer_proto::{ClusterApi as _, ProtoError};
use serde::Deserialize;
use serde_json::json;
use tracing::info;

use crate::cluster::Node;

/// How many times a change is tried against concurrent changes.
const TRIES: usize = 8;

fn proto(e: TierError) -> ProtoError {
    match e {
        TierError::Invalid(s) => ProtoError::ValidationError(s),
        TierError::NoSuchTier(_) => ProtoError::NoSuchEntity(e.to_string()),
        TierError::Exists(_) => ProtoError::EntityAlreadyExists(e.to_string()),
        TierError::InUse(s) => ProtoError::DeleteConflict(s),
    }
}

/// Replace cluster document `kind` with what `change` makes of it (None: leave it), by
/// compare-and-set; the new document.
async fn replace<T>(
    node: &Node,
    kind: BucketConfigKind,
    mut change: impl FnMut(Option<&str>) -> Result<Option<(String, T)>, ProtoError>,
) -> Result<Option<T>, ProtoError> {
    for _ in 0..TRIES {
        let previous = node.cluster_config(kind).await?;
        let Some((value, out)) = change(previous.as_deref())? else {
            return Ok(None);
        };
        let cmd = MetaCommand::ReplaceClusterConfig {
            kind,
            previous,
            value: Some(value),
        };
        match node.meta_write(cmd).await {
            Ok(_) => return Ok(Some(out)),
            Err(ProtoError::PreconditionFailed) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ProtoError::Internal(format!(
        "the {kind:?} document kept changing: tried {TRIES} times"
    )))
}

/// Publish this node's labels (`--label`) in the node labels document, unless it already
/// holds them.
pub async fn publish_labels(node: &Node) -> Result<(), ProtoError> {
    let (id, want) = (node.config.id, node.config.labels.clone());
    let holds = |l: &NodeLabels| l.nodes.get(&id).unwrap_or(&Default::default()) == &want;
    if holds(&node.peers().labels()) {
        return Ok(());
    }
    let done = replace(node, BucketConfigKind::NodeLabels, |doc| {
        let mut l = NodeLabels::decode(doc).map_err(proto)?;
        if holds(&l) {
            return Ok(None);
        }
        if want.is_empty() {
            l.nodes.remove(&id);
        } else {
            l.nodes.insert(id, want.clone());
        }
        Ok(Some((l.encode(), ())))
    })
    .await?;
    if done.is_some() {
        info!(node = id, labels = ?want, "labels published");
    }
    Ok(())
}

/// A tier as `coffer admin tier add` sends it.
#[derive(Debug, Deserialize)]
pub struct AddTier {
    /// Name.
    pub name: String,
    /// Local: the pool's labels (KEY=VALUE each).
    #[serde(default)]
    pub pool: Vec<String>,
    /// Local: the erasure profile, k+m.
    #[serde(default)]
    pub profile: Option<String>,
    /// Remote: the endpoint URL.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Remote: the bucket.
    #[serde(default)]
    pub bucket: Option<String>,
    /// Remote: the key prefix.
    #[serde(default)]
    pub prefix: String,
    /// Remote: the signing region.
    #[serde(default)]
    pub region: Option<String>,
    /// Remote: the access key id.
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// Remote: the secret access key (sealed before it is stored).
    #[serde(default)]
    pub secret_access_key: Option<String>,
    /// Storage classes that write to it from now on.
    #[serde(default)]
    pub classes: Vec<String>,
}

/// `k+m` as a profile.
pub fn parse_profile(s: &str) -> Result<(u8, u8), ProtoError> {
    let bad = || ProtoError::ValidationError(format!("{s:?} is not an erasure profile (k+m)"));
    let (k, m) = s.split_once('+').ok_or_else(bad)?;
    Ok((
        k.trim().parse().map_err(|_| bad())?,
        m.trim().parse().map_err(|_| bad())?,
    ))
}

impl AddTier {
    /// The tier's kind, its secret sealed under `kek`.
    fn kind(&self, node: &Node) -> Result<TierKind, ProtoError> {
        let invalid = |s: &str| ProtoError::ValidationError(s.into());
        match (&self.endpoint, self.pool.is_empty()) {
            (None, false) => {
                let pool = self
                    .pool
                    .iter()
                    .map(|l| coffer_proto::tier::parse_label(l))
                    .collect::<Result<_, _>>()
                    .map_err(proto)?;
                let profile = self
                    .profile
                    .as_deref()
                    .ok_or_else(|| invalid("a local tier needs --profile k+m"))?;
                let (k, m) = parse_profile(profile)?;
                Ok(TierKind::Local { pool, k, m })
            }
            (Some(endpoint), true) => {
                let secret = self
                    .secret_access_key
                    .as_deref()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| invalid("a remote tier needs a secret access key"))?;
                let kek = node.config.kek.as_ref().ok_or_else(|| {
                    invalid("this node was given no key-encryption key to seal the secret with")
                })?;
                Ok(TierKind::Remote(RemoteTier {
                    endpoint: endpoint.trim_end_matches('/').to_owned(),
                    bucket: self.bucket.clone().unwrap_or_default(),
                    prefix: self.prefix.clone(),
                    region: self.region.clone().unwrap_or_else(|| "us-east-1".into()),
                    access_key_id: self.access_key_id.clone().unwrap_or_default(),
                    sealed_secret: seal_secret(kek, &self.name, secret),
                }))
            }
            _ => Err(invalid(
                "a tier is either local (--pool and --profile) or remote (--endpoint ...)",
            )),
        }
    }
}

/// Add a tier; the tiers as they now are.
pub async fn add(node: &Node, req: &AddTier) -> Result<Tiers, ProtoError> {
    let kind = req.kind(node)?;
    let out = replace(node, BucketConfigKind::Tiers, |doc| {
        let mut t = Tiers::decode(doc).map_err(proto)?;
        t.add(&req.name, kind.clone(), &req.classes)
            .map_err(proto)?;
        if members(node, &t, None).is_empty() {
            return Err(ProtoError::ValidationError(format!(
                "tier {:?} would take every node: the default pool, where STANDARD is written, \
                 would have none",
                req.name
            )));
        }
        Ok(Some((t.encode(), t)))
    })
    .await?;
    let t = out.ok_or_else(|| ProtoError::Internal("the tier was not added".into()))?;
    info!(tier = %req.name, "tier added");
    Ok(t)
}

/// Remove tier `name`; the tiers as they now are. Refused while a storage class writes to
/// it. A local tier's nodes return to the default pool with the blobs they hold, which stay
/// readable where they are.
pub async fn remove(node: &Node, name: &str) -> Result<Tiers, ProtoError> {
    if let Some(t) = get(node).await?.get(name) {
        let held = blobs_on(node, t.id).await?;
        if held > 0 {
            return Err(ProtoError::DeleteConflict(format!(
                "{held} blobs of objects are stored on tier {name:?}: remove it once they are \
                 deleted or moved"
            )));
        }
    }
    let out = replace(node, BucketConfigKind::Tiers, |doc| {
        let mut t = Tiers::decode(doc).map_err(proto)?;
        t.remove(name).map_err(proto)?;
        Ok(Some((t.encode(), t)))
    })
    .await?;
    let t = out.ok_or_else(|| ProtoError::Internal("the tier was not removed".into()))?;
    info!(tier = %name, "tier removed");
    Ok(t)
}

/// How many blobs of this node's metadata are on remote tier `tier`: one pass over it.
async fn blobs_on(node: &Node, tier: u32) -> Result<u64, ProtoError> {
    let store = node.meta_store().clone();
    let scan = tokio::task::spawn_blocking(move || {
        let (mut held, mut cursor) = (0, None);
        loop {
            let (page, next) =
                crate::meta::query::blob_records_page(&store, cursor.as_ref(), 4096)?;
            held += page
                .iter()
                .filter(|(_, b)| crate::remote_tier::tier_of(b) == Some(tier))
                .count() as u64;
            match next {
                Some(c) => cursor = Some(c),
                None => return Ok::<u64, crate::meta::store::StoreError>(held),
            }
        }
    });
    scan.await
        .map_err(|e| ProtoError::Internal(e.to_string()))?
        .map_err(|e| ProtoError::Internal(e.to_string()))
}

/// Make storage class `class` write to tier `tier` (None: the default pool).
pub async fn map_class(node: &Node, class: &str, tier: Option<&str>) -> Result<Tiers, ProtoError> {
    let out = replace(node, BucketConfigKind::Tiers, |doc| {
        let mut t = Tiers::decode(doc).map_err(proto)?;
        t.map_class(class, tier).map_err(proto)?;
        Ok(Some((t.encode(), t)))
    })
    .await?;
    out.ok_or_else(|| ProtoError::Internal("the class was not mapped".into()))
}

/// The tiers as the leader has them.
pub async fn get(node: &Node) -> Result<Tiers, ProtoError> {
    let doc = node.cluster_config(BucketConfigKind::Tiers).await?;
    Tiers::decode(doc.as_deref()).map_err(proto)
}

/// The nodes of the cluster map in a pool: a tier's, or the default pool (None).
fn members(node: &Node, tiers: &Tiers, tier: Option<&Tier>) -> Vec<u64> {
    let labels = node.peers().labels();
    let of: Vec<_> = node
        .peers()
        .nodes()
        .iter()
        .map(|n| (n.id, labels.of(n.id)))
        .collect();
    let members = tiers.pool_members(tier, of.iter().map(|(id, l)| (*id, l)));
    members.into_iter().collect()
}

/// A tier as the admin API shows it: never its sealed secret.
fn tier_json(t: &Tier, members: &[u64]) -> serde_json::Value {
    match &t.kind {
        TierKind::Local { pool, k, m } => json!({
            "name": t.name, "id": t.id, "kind": "local",
            "pool": pool.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
            "k": k, "m": m, "nodes": members,
        }),
        TierKind::Remote(r) => json!({
            "name": t.name, "id": t.id, "kind": "remote", "endpoint": r.endpoint,
            "bucket": r.bucket, "prefix": r.prefix, "region": r.region,
            "access_key_id": r.access_key_id,
        }),
    }
}

/// The tiers, which nodes each local pool (and the default pool) holds now, and which
/// storage class writes where, as the admin API and cluster status show them.
pub fn describe(node: &Node, tiers: &Tiers) -> serde_json::Value {
    let with = |t: Option<&Tier>| members(node, tiers, t);
    json!({
        "tiers": tiers.tiers.iter().map(|t| tier_json(t, &with(Some(t)))).collect::<Vec<_>>(),
        "default_pool": with(None),
        "classes": tiers.classes,
    })
}
