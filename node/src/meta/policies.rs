//! Groups, identity policies and bucket configuration documents in the state machine, and the
//! one read that authorizing a request needs ([`authorization`]). Documents are validated by
//! whoever sends the command (the gateway, the admin API) and stored as sent.

use crate::meta::store::Batch;
use coffer_proto::iam::{AuthzFacts, GroupRecord, PolicyOwner};
use coffer_proto::meta::{BucketConfigKind, MetaCommand, MetaOk};
use coffer_proto::types::{BucketInfo, Versioning};
use coffer_proto::ProtoError;

use super::format::encode;
use super::iam;
use super::store::{MetaStore, StoreError, CF_BUCKETS, CF_BUCKET_CONF, CF_GROUPS, CF_POLICIES};

fn tagged(tag: u8, parts: &[&str]) -> Vec<u8> {
    let mut k = vec![tag];
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            k.push(0);
        }
        k.extend_from_slice(p.as_bytes());
    }
    k
}

/// `tag name 0x00`: the prefix of everything under one name.
fn under(tag: u8, name: &str) -> Vec<u8> {
    let mut k = tagged(tag, &[name]);
    k.push(0);
    k
}

/// The bucket id cluster-wide documents are kept under: bucket ids are Raft log indexes,
/// which start at 1, so no bucket has it.
const CLUSTER: u64 = 0;

fn config_key(bucket_id: u64, kind: BucketConfigKind) -> Vec<u8> {
    let mut k = bucket_id.to_be_bytes().to_vec();
    k.push(match kind {
        BucketConfigKind::Policy => 1,
        BucketConfigKind::Cors => 2,
        BucketConfigKind::PublicAccessBlock => 3,
        BucketConfigKind::Acl => 4,
        BucketConfigKind::OwnershipControls => 5,
        BucketConfigKind::ObjectLock => 6,
        BucketConfigKind::Encryption => 7,
        BucketConfigKind::Website => 8,
        BucketConfigKind::Lifecycle => 9,
        BucketConfigKind::LifecycleWorker => 10,
        BucketConfigKind::Logging => 11,
        BucketConfigKind::Tiers => 12,
        BucketConfigKind::NodeLabels => 13,
    });
    k
}

/// The `kind` document of bucket `bucket_id`.
pub fn bucket_doc(
    store: &MetaStore,
    bucket_id: u64,
    kind: BucketConfigKind,
) -> Result<Option<String>, StoreError> {
    store.get(CF_BUCKET_CONF, &config_key(bucket_id, kind))
}

fn policy_prefix(owner: &PolicyOwner) -> Vec<u8> {
    match owner {
        PolicyOwner::User(u) => under(b'u', u),
        PolicyOwner::Group(g) => under(b'g', g),
    }
}

fn no_entity(what: &str, name: &str) -> ProtoError {
    ProtoError::NoSuchEntity(format!("The {what} with name {name} cannot be found."))
}

/// The names after `prefix` of the keys under it.
fn suffixes(store: &MetaStore, cf: &'static str, prefix: &[u8]) -> Result<Vec<String>, StoreError> {
    Ok(store
        .scan_prefix::<()>(cf, prefix, usize::MAX)?
        .into_iter()
        .map(|(k, ())| String::from_utf8_lossy(k.get(prefix.len()..).unwrap_or(&[])).into_owned())
        .collect())
}

/// Apply a group, policy or bucket configuration command; `None` for any other command.
pub fn apply(
    store: &MetaStore,
    batch: &mut Batch,
    cmd: &MetaCommand,
) -> Result<Option<Result<MetaOk, ProtoError>>, StoreError> {
    let result = match cmd {
        MetaCommand::SetBucketConfig {
            bucket,
            kind,
            value,
        } => match store.get::<BucketInfo>(CF_BUCKETS, bucket.as_bytes())? {
            None => Err(ProtoError::NoSuchBucket),
            Some(b) if *kind == BucketConfigKind::ObjectLock
                && (value.is_none() || b.versioning != Versioning::Enabled) =>
            {
                Err(ProtoError::InvalidBucketState(
                    "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration, \
                     and Object Lock cannot be turned off"
                        .into(),
                ))
            }
            Some(b) => {
                match value {
                    Some(v) => batch.put(CF_BUCKET_CONF, config_key(b.id, *kind), encode(v)),
                    None => batch.delete(CF_BUCKET_CONF, config_key(b.id, *kind)),
                }
                Ok(MetaOk::Done)
            }
        },
        MetaCommand::SetClusterConfig { kind, value } => {
            match value {
                Some(v) => batch.put(CF_BUCKET_CONF, config_key(CLUSTER, *kind), encode(v)),
                None => batch.delete(CF_BUCKET_CONF, config_key(CLUSTER, *kind)),
            }
            Ok(MetaOk::Done)
        }
        MetaCommand::ReplaceClusterConfig {
            kind,
            previous,
            value,
        } => {
            if cluster_config(store, *kind)? != *previous {
                Err(ProtoError::PreconditionFailed)
            } else {
                match value {
                    Some(v) => batch.put(CF_BUCKET_CONF, config_key(CLUSTER, *kind), encode(v)),
                    None => batch.delete(CF_BUCKET_CONF, config_key(CLUSTER, *kind)),
                }
                Ok(MetaOk::Done)
            }
        }
        MetaCommand::CreateGroup(g) => {
            if !coffer_proto::iam::valid_user_name(&g.name) {
                Err(ProtoError::ValidationError(format!(
                    "group name {:?} must be 1 to 64 of A-Za-z0-9+=,.@_-",
                    g.name
                )))
            } else if group(store, &g.name)?.is_some() {
                Err(ProtoError::EntityAlreadyExists(format!(
                    "Group with name {} already exists.",
                    g.name
                )))
            } else {
                batch.put(CF_GROUPS, tagged(b'g', &[&g.name]), encode(g));
                Ok(MetaOk::Done)
            }
        }
        MetaCommand::DeleteGroup { name } => {
            if group(store, name)?.is_none() {
                Err(no_entity("group", name))
            } else if store.any_with_prefix(CF_GROUPS, &under(b'm', name))?
                || store.any_with_prefix(CF_POLICIES, &under(b'g', name))?
            {
                Err(ProtoError::DeleteConflict(
                    "Cannot delete entity, must remove users and policies from group first.".into(),
                ))
            } else {
                batch.delete(CF_GROUPS, tagged(b'g', &[name]));
                Ok(MetaOk::Done)
            }
        }
        MetaCommand::SetGroupMember {
            group: g,
            user,
            member,
        } => {
            if group(store, g)?.is_none() {
                Err(no_entity("group", g))
            } else if iam::user(store, user)?.is_none() {
                Err(no_entity("user", user))
            } else {
                let (m, u) = (tagged(b'm', &[g, user]), tagged(b'u', &[user, g]));
                if *member {
                    batch.put(CF_GROUPS, m, encode(&()));
                    batch.put(CF_GROUPS, u, encode(&()));
                } else {
                    batch.delete(CF_GROUPS, m);
                    batch.delete(CF_GROUPS, u);
                }
                Ok(MetaOk::Done)
            }
        }
        MetaCommand::SetIdentityPolicy {
            owner,
            name,
            document,
        } => {
            let missing = match owner {
                PolicyOwner::User(u) => {
                    iam::user(store, u)?.is_none().then(|| no_entity("user", u))
                }
                PolicyOwner::Group(g) => group(store, g)?.is_none().then(|| no_entity("group", g)),
            };
            let mut key = policy_prefix(owner);
            key.extend_from_slice(name.as_bytes());
            match (missing, document) {
                (Some(e), _) => Err(e),
                (None, Some(doc)) => {
                    batch.put(CF_POLICIES, key, encode(doc));
                    Ok(MetaOk::Done)
                }
                (None, None) if store.get::<String>(CF_POLICIES, &key)?.is_none() => {
                    Err(ProtoError::NoSuchEntity(format!(
                        "The policy with name {name} cannot be found."
                    )))
                }
                (None, None) => {
                    batch.delete(CF_POLICIES, key);
                    Ok(MetaOk::Done)
                }
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(result))
}

/// Whether deleting user `name` must wait: it still has policies or belongs to groups.
pub fn user_in_use(store: &MetaStore, name: &str) -> Result<bool, StoreError> {
    Ok(store.any_with_prefix(CF_POLICIES, &under(b'u', name))?
        || store.any_with_prefix(CF_GROUPS, &under(b'u', name))?)
}

/// Stage `configs` as the documents of the new bucket `bucket_id`.
pub fn put_bucket_configs(
    batch: &mut Batch,
    bucket_id: u64,
    configs: &[(BucketConfigKind, String)],
) {
    for (kind, doc) in configs {
        batch.put(CF_BUCKET_CONF, config_key(bucket_id, *kind), encode(doc));
    }
}

/// Whether bucket `bucket_id` has Object Lock enabled.
pub fn object_lock(store: &MetaStore, bucket_id: u64) -> Result<Option<String>, StoreError> {
    store.get(
        CF_BUCKET_CONF,
        &config_key(bucket_id, BucketConfigKind::ObjectLock),
    )
}

/// Stage the removal of a deleted bucket's configuration documents.
pub fn forget_bucket(
    store: &MetaStore,
    batch: &mut Batch,
    bucket_id: u64,
) -> Result<(), StoreError> {
    for (k, _) in
        store.scan_prefix::<String>(CF_BUCKET_CONF, &bucket_id.to_be_bytes(), usize::MAX)?
    {
        batch.delete(CF_BUCKET_CONF, k);
    }
    Ok(())
}

/// A group by name.
pub fn group(store: &MetaStore, name: &str) -> Result<Option<GroupRecord>, StoreError> {
    store.get(CF_GROUPS, &tagged(b'g', &[name]))
}

/// Every group.
pub fn groups(store: &MetaStore) -> Result<Vec<GroupRecord>, StoreError> {
    Ok(store
        .scan_prefix::<GroupRecord>(CF_GROUPS, b"g", usize::MAX)?
        .into_iter()
        .map(|(_, g)| g)
        .collect())
}

/// A group's members' names.
pub fn members(store: &MetaStore, name: &str) -> Result<Vec<String>, StoreError> {
    suffixes(store, CF_GROUPS, &under(b'm', name))
}

/// The groups a user belongs to.
pub fn groups_of(store: &MetaStore, user: &str) -> Result<Vec<GroupRecord>, StoreError> {
    let mut out = Vec::new();
    for g in suffixes(store, CF_GROUPS, &under(b'u', user))? {
        out.extend(group(store, &g)?);
    }
    Ok(out)
}

/// The inline policies of a user or group: (name, document).
pub fn identity_policies(
    store: &MetaStore,
    owner: &PolicyOwner,
) -> Result<Vec<(String, String)>, StoreError> {
    let prefix = policy_prefix(owner);
    Ok(store
        .scan_prefix::<String>(CF_POLICIES, &prefix, usize::MAX)?
        .into_iter()
        .map(|(k, doc)| {
            (
                String::from_utf8_lossy(k.get(prefix.len()..).unwrap_or(&[])).into_owned(),
                doc,
            )
        })
        .collect())
}

/// One configuration document of a bucket (the outer `None`: no such bucket).
pub fn bucket_config(
    store: &MetaStore,
    bucket: &str,
    kind: BucketConfigKind,
) -> Result<Option<Option<String>>, StoreError> {
    match store.get::<BucketInfo>(CF_BUCKETS, bucket.as_bytes())? {
        None => Ok(None),
        Some(b) => Ok(Some(store.get(CF_BUCKET_CONF, &config_key(b.id, kind))?)),
    }
}

/// A cluster-wide document.
pub fn cluster_config(
    store: &MetaStore,
    kind: BucketConfigKind,
) -> Result<Option<String>, StoreError> {
    store.get(CF_BUCKET_CONF, &config_key(CLUSTER, kind))
}

/// Everything authorizing a request signed with `access_key` (None: root or anonymous) on
/// `bucket` needs.
pub fn authorization(
    store: &MetaStore,
    access_key: Option<&str>,
    bucket: Option<&str>,
) -> Result<AuthzFacts, StoreError> {
    let mut facts = AuthzFacts::default();
    if let Some(ak) = access_key {
        facts.key = iam::key(store, ak)?;
        if let Some(k) = &facts.key {
            facts.user = iam::user(store, &k.user)?;
        }
        if let Some(u) = &facts.user {
            for (name, doc) in identity_policies(store, &PolicyOwner::User(u.name.clone()))? {
                facts
                    .identity_policies
                    .push((format!("user/{}/{name}", u.name), doc));
            }
            for g in groups_of(store, &u.name)? {
                for (name, doc) in identity_policies(store, &PolicyOwner::Group(g.name.clone()))? {
                    facts
                        .identity_policies
                        .push((format!("group/{}/{name}", g.name), doc));
                }
            }
        }
    }
    facts.cluster_public_access_block = cluster_config(store, BucketConfigKind::PublicAccessBlock)?;
    if let Some(name) = bucket {
        facts.bucket = store.get(CF_BUCKETS, name.as_bytes())?;
        if let Some(b) = &facts.bucket {
            let doc = |kind| store.get::<String>(CF_BUCKET_CONF, &config_key(b.id, kind));
            facts.bucket_policy = doc(BucketConfigKind::Policy)?;
            facts.bucket_cors = doc(BucketConfigKind::Cors)?;
            facts.bucket_public_access_block = doc(BucketConfigKind::PublicAccessBlock)?;
            facts.bucket_acl = doc(BucketConfigKind::Acl)?;
            facts.bucket_ownership = doc(BucketConfigKind::OwnershipControls)?;
        }
    }
    Ok(facts)
}
