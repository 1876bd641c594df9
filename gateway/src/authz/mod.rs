//! Authorization, evaluated once per request before its handler runs, with AWS's logic: an
//! explicit Deny in any policy that applies wins; otherwise an Allow from an identity policy,
//! the bucket policy or an ACL grant, or being the root key or the resource's owner, lets the
//! request through; otherwise it is implicitly denied. The root key and the bucket owner may
//! always manage the bucket policy, so that no policy locks them out.
//!
//! ACLs count only in buckets whose Object Ownership is not BucketOwnerEnforced. There, the
//! object's own ACL and owner decide reading it and its ACL; and a policy with an
//! `s3:ExistingObjectTag/<k>` condition needs the object's tags. Both need the object's
//! record, so [`Authz::check`] then answers with a [`Pending`] check that [`Authz::settle`]
//! finishes once that record is read.
//!
//! - [`context`]: the condition keys of a request.
//! - [`cache`]: parsed policies by document, so a request does not parse JSON.
//! - [`acl`]: ACLs, canned ACLs and Object Ownership.

pub mod cache;
pub mod context;

use std::sync::Arc;

use coffer_proto::iam::AuthzFacts;
use coffer_proto::meta::ObjectFacts;
use coffer_proto::policy::{Caller, Context, Decision, Policy, PolicyKind, Request};
use coffer_proto::types::{BucketInfo, PublicAccessBlock};

use tracing::warn;

use crate::model::acl::{Acl, Ownership, Permission};
use crate::model::owner::owner_id;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::router::{Endpoint, Target};

/// Everything one request is authorized against.
pub struct Authz {
    /// The caller.
    pub caller: Caller,
    /// The caller's owner id: the root access key id, or [`crate::model::owner::user_owner`]; empty for anonymous.
    pub owner: String,
    identity: Vec<Arc<Policy>>,
    /// The addressed bucket, if it exists.
    pub bucket: Option<BucketInfo>,
    bucket_policy: Option<Arc<Policy>>,
    /// A stored policy no longer parses: nothing is allowed but managing the bucket policy
    /// (an unreadable Deny must not turn into an allow).
    broken: bool,
    /// The Block Public Access settings in force for the addressed bucket.
    pub public_access: PublicAccessBlock,
    /// The addressed bucket's Object Ownership.
    pub ownership: Ownership,
    /// The addressed bucket's ACL.
    pub bucket_acl: Acl,
    /// The condition keys.
    pub context: Context,
    /// The addressed bucket's default encryption document.
    pub bucket_encryption: Option<String>,
}

/// A check that object `key` of bucket `bucket_id` decides: its owner and ACL, or its tags
/// in a policy's conditions.
#[derive(Debug, Clone)]
pub struct Pending {
    /// Bucket id.
    pub bucket_id: u64,
    /// Key.
    pub key: String,
    action: String,
    resource: String,
    manages_policy: bool,
    /// Where the object is when it is not in the addressed bucket (a copy source).
    source: Option<Arc<Source>>,
}

/// What the policies, ACLs and ownership say of one request.
#[derive(Debug, Clone)]
enum Verdict {
    Allow,
    Deny,
    /// The object's record decides.
    Ask(Pending),
}

/// Another bucket than the addressed one (a copy source's), as authorization needs it.
#[derive(Debug)]
struct Source {
    bucket: BucketInfo,
    policy: Option<Arc<Policy>>,
    public_access: PublicAccessBlock,
    ownership: Ownership,
}

/// Where a resource is, for [`Authz::verdict`].
struct Place<'a> {
    bucket: Option<&'a BucketInfo>,
    policy: Option<&'a Policy>,
    public_access: PublicAccessBlock,
    ownership: Ownership,
    acl: &'a Acl,
    /// The key, for an action on an object.
    key: Option<&'a str>,
    source: Option<&'a Arc<Source>>,
}

/// What is known of the object a request acts on.
#[derive(Clone, Copy)]
enum Known<'a> {
    /// Not read (yet).
    Unknown,
    /// Read: there is no such key.
    Missing,
    /// Read.
    Found(&'a ObjectFacts),
}

/// The condition keys `s3:ExistingObjectTag/<k>` of a stored tag set.
const EXISTING_TAG: &str = "s3:existingobjecttag/";

fn denied() -> S3Error {
    S3Error::new(S3ErrorCode::AccessDenied)
}

impl Authz {
    /// The authorization of `caller` (owner id `owner`) from the metadata's `facts`.
    pub fn new(
        caller: Caller,
        owner: String,
        facts: AuthzFacts,
        context: Context,
        cache: &cache::PolicyCache,
    ) -> Authz {
        let mut broken = false;
        let mut parsed = |doc: &str, kind: &PolicyKind, from: &str| match cache.get(doc, kind) {
            Ok(p) => Some(p),
            Err(e) => {
                // It parsed when it was stored: only a change of the rules can cause this.
                warn!(policy = from, "a stored policy does not parse: {e}");
                broken = true;
                None
            }
        };
        let identity = facts
            .identity_policies
            .iter()
            .filter_map(|(from, doc)| parsed(doc, &PolicyKind::Identity, from))
            .collect();
        let bucket_policy = match (&facts.bucket, &facts.bucket_policy) {
            (Some(b), Some(doc)) => parsed(doc, &PolicyKind::Bucket(b.name.clone()), &b.name),
            _ => None,
        };
        let cluster = PublicAccessBlock::decode(facts.cluster_public_access_block.as_deref());
        let public_access =
            PublicAccessBlock::decode(facts.bucket_public_access_block.as_deref()).or(cluster);
        let ownership = Ownership::from_stored(facts.bucket_ownership.as_deref());
        let bucket_owner = facts.bucket.as_ref().map(|b| owner_id(&b.owner));
        let bucket_acl = match &bucket_owner {
            Some(id) => Acl::decode(facts.bucket_acl.as_deref(), id),
            None => Acl::default(),
        };
        Authz {
            caller,
            owner,
            identity,
            bucket: facts.bucket,
            bucket_policy,
            broken,
            public_access,
            ownership,
            bucket_acl,
            context,
            bucket_encryption: facts.bucket_encryption,
        }
    }

    /// Who the caller's writes are recorded as owned by: its owner id, or for an anonymous
    /// caller the bucket's owner.
    pub fn writer(&self) -> String {
        match (&self.caller, &self.bucket) {
            (Caller::Anonymous, Some(b)) => b.owner.clone(),
            _ => self.owner.clone(),
        }
    }

    /// The caller's canonical user id (None: anonymous).
    pub fn canonical_id(&self) -> Option<&str> {
        match &self.caller {
            Caller::Anonymous | Caller::Service { .. } => None,
            Caller::Root { canonical_id } | Caller::User { canonical_id, .. } => Some(canonical_id),
        }
    }

    fn here<'a>(&'a self, key: Option<&'a str>) -> Place<'a> {
        Place {
            bucket: self.bucket.as_ref(),
            policy: self.bucket_policy.as_deref(),
            public_access: self.public_access,
            ownership: self.ownership,
            acl: &self.bucket_acl,
            key,
            source: None,
        }
    }

    fn is_root(&self) -> bool {
        matches!(self.caller, Caller::Root { .. })
    }

    /// Whether `action` on `resource` (an ARN or `*`) of the addressed bucket is allowed;
    /// `manages_policy` for the bucket policy's own operations. (For the actions this is
    /// asked of, IAM's and deleting objects, an object's record has no say.)
    pub fn allows(&self, action: &str, resource: &str, manages_policy: bool) -> bool {
        let place = self.here(None);
        let v = self.verdict(&place, action, resource, manages_policy, Known::Unknown);
        matches!(v, Verdict::Allow)
    }

    /// Whether the caller may use the key service's key `key_arn` for `action`
    /// (`kms:GenerateDataKey` to write, `kms:Decrypt` to read), as a key policy that lets the
    /// account's IAM policies decide: the root key may; otherwise an identity policy's
    /// explicit Deny refuses and its Allow lets it. `managed`: the service's default key
    /// (`aws/s3`), which, as AWS's managed key, every caller the S3 request is allowed to
    /// may use unless denied.
    pub fn allows_kms(&self, action: &str, key_arn: &str, managed: bool) -> bool {
        if self.is_root() {
            return true;
        }
        if self.broken {
            return false;
        }
        let req = Request {
            caller: &self.caller,
            action,
            resource: key_arn,
            context: &self.context,
        };
        let mut decision = Decision::NotApplicable;
        for p in &self.identity {
            decision = decision.and(p.evaluate(&req));
        }
        match decision {
            Decision::Deny => false,
            Decision::Allow => true,
            Decision::NotApplicable => managed,
        }
    }

    /// Whether a policy that applies at `place` has conditions on the object's tags.
    fn needs_tags(&self, place: &Place<'_>) -> bool {
        place.key.is_some()
            && self
                .identity
                .iter()
                .map(|p| &**p)
                .chain(place.policy)
                .any(|p| p.uses_key_prefix(EXISTING_TAG))
    }

    fn ask(&self, place: &Place<'_>, action: &str, resource: &str, manages: bool) -> Verdict {
        match (place.bucket, place.key) {
            (Some(b), Some(key)) => Verdict::Ask(Pending {
                bucket_id: b.id,
                key: key.to_owned(),
                action: action.to_owned(),
                resource: resource.to_owned(),
                manages_policy: manages,
                source: place.source.cloned(),
            }),
            // Without a bucket there is no object to read: the handler answers NoSuchBucket.
            _ => Verdict::Allow,
        }
    }

    /// What the policies, the ACLs and ownership say of `action` on `resource` at `place`,
    /// knowing `object` of the object it acts on.
    fn verdict(
        &self,
        place: &Place<'_>,
        action: &str,
        resource: &str,
        manages_policy: bool,
        object: Known<'_>,
    ) -> Verdict {
        let owns = !self.owner.is_empty() && place.bucket.is_some_and(|b| b.owner == self.owner);
        let privileged = self.is_root() || owns;
        if privileged && manages_policy {
            return Verdict::Allow;
        }
        if self.broken {
            return Verdict::Deny;
        }
        // The object's tags are condition keys when a policy asks for them.
        let with_tags;
        let context = match (self.needs_tags(place), object) {
            (true, Known::Unknown) => return self.ask(place, action, resource, manages_policy),
            (true, Known::Found(f)) => {
                let mut c = self.context.clone();
                for (k, v) in crate::model::tags::decode(f.tags.as_deref()) {
                    c.set(&format!("{EXISTING_TAG}{k}"), v);
                }
                with_tags = c;
                &with_tags
            }
            _ => &self.context,
        };
        let req = Request {
            caller: &self.caller,
            action,
            resource,
            context,
        };
        let mut decision = Decision::NotApplicable;
        for p in &self.identity {
            decision = decision.and(p.evaluate(&req));
        }
        if let Some(p) = place.policy {
            let said = p.evaluate(&req);
            // RestrictPublicBuckets: a public policy grants nothing to anonymous callers (its
            // denials still count).
            let ignored = said == Decision::Allow
                && place.public_access.restrict_public_buckets
                && self.caller == Caller::Anonymous
                && p.is_public();
            if !ignored {
                decision = decision.and(said);
            }
        }
        match decision {
            Decision::Deny => return Verdict::Deny,
            Decision::Allow => return Verdict::Allow,
            Decision::NotApplicable if self.is_root() => return Verdict::Allow,
            Decision::NotApplicable => {}
        }
        let ignore_public = place.public_access.ignore_public_acls;
        let yes = |allowed: bool| {
            if allowed {
                Verdict::Allow
            } else {
                Verdict::Deny
            }
        };
        if place.ownership.acls_enabled() {
            if let (Some(_), Some(permission)) = (place.key, Permission::for_action(action, true)) {
                // The object's owner and ACL decide; the bucket owner learns of a missing key.
                return match object {
                    Known::Unknown => self.ask(place, action, resource, manages_policy),
                    Known::Missing => yes(owns),
                    Known::Found(f) => {
                        let owner = owner_id(&f.owner);
                        let caller = self.canonical_id();
                        yes(caller == Some(owner.as_str())
                            || Acl::decode(f.acl.as_deref(), &owner).allows(
                                caller,
                                permission,
                                ignore_public,
                            ))
                    }
                };
            }
            if let Some(p) = Permission::for_action(action, false) {
                if place.acl.allows(self.canonical_id(), p, ignore_public) {
                    return Verdict::Allow;
                }
            }
        }
        yes(owns)
    }

    /// Finish a [`Pending`] check with the object's record (None: the key does not exist).
    pub fn settle(&self, pending: &Pending, found: Option<&ObjectFacts>) -> S3Result<()> {
        let no_acl = Acl::default();
        let place = match &pending.source {
            None => self.here(Some(&pending.key)),
            Some(s) => s.place(&pending.key, &no_acl),
        };
        let known = found.map_or(Known::Missing, Known::Found);
        let (action, resource) = (pending.action.as_str(), pending.resource.as_str());
        match self.verdict(&place, action, resource, pending.manages_policy, known) {
            Verdict::Allow => Ok(()),
            _ => Err(denied()),
        }
    }

    /// Check that the caller may read the copy source `key` of `bucket` (s3:GetObject).
    /// `facts` are the source bucket's when it is not the addressed one. Some: the source
    /// object's record decides.
    pub fn check_copy_source(
        &self,
        bucket: &str,
        key: &str,
        facts: Option<AuthzFacts>,
        cache: &cache::PolicyCache,
        version_named: bool,
    ) -> S3Result<Option<Pending>> {
        let resource = Self::arn(bucket, Target::Object(key));
        let action = if version_named {
            "s3:GetObjectVersion"
        } else {
            "s3:GetObject"
        };
        let verdict = match facts {
            None => {
                let place = self.here(Some(key));
                self.verdict(&place, action, &resource, false, Known::Unknown)
            }
            // A source bucket that does not exist: the handler answers NoSuchBucket.
            Some(AuthzFacts { bucket: None, .. }) => Verdict::Allow,
            Some(AuthzFacts {
                bucket: Some(b),
                bucket_policy,
                bucket_public_access_block,
                cluster_public_access_block,
                bucket_ownership,
                ..
            }) => {
                let public_access =
                    PublicAccessBlock::decode(bucket_public_access_block.as_deref()).or(
                        PublicAccessBlock::decode(cluster_public_access_block.as_deref()),
                    );
                let policy = match bucket_policy {
                    Some(doc) => match cache.get(&doc, &PolicyKind::Bucket(b.name.clone())) {
                        Ok(p) => Some(p),
                        Err(e) => {
                            warn!(policy = b.name, "a stored policy does not parse: {e}");
                            return Err(denied());
                        }
                    },
                    None => None,
                };
                let source = Arc::new(Source {
                    bucket: b,
                    policy,
                    public_access,
                    ownership: Ownership::from_stored(bucket_ownership.as_deref()),
                });
                // Reading an object is not a bucket ACL's to grant: its ACL is not needed.
                let no_acl = Acl::default();
                let place = source.place(key, &no_acl);
                let place = Place {
                    source: Some(&source),
                    ..place
                };
                self.verdict(&place, action, &resource, false, Known::Unknown)
            }
        };
        Self::outcome(verdict)
    }

    fn outcome(verdict: Verdict) -> S3Result<Option<Pending>> {
        match verdict {
            Verdict::Allow => Ok(None),
            Verdict::Deny => Err(denied()),
            Verdict::Ask(p) => Ok(Some(p)),
        }
    }

    /// Whether `action` on object `key` of `bucket` is allowed by policy and ownership (the
    /// per-key checks of DeleteObjects, and the read a conditional delete makes).
    pub fn allows_object(&self, bucket: &str, action: &str, key: &str) -> bool {
        let place = self.here(Some(key));
        let resource = Self::arn(bucket, Target::Object(key));
        // The object's ACL is not read (deleting is not an ACL's to grant); a condition on
        // its tags is not met.
        let v = self.verdict(&place, action, &resource, false, Known::Missing);
        matches!(v, Verdict::Allow)
    }

    /// The ARN of `target` in bucket `bucket`.
    pub fn arn(bucket: &str, target: Target<'_>) -> String {
        match target {
            Target::Account => "*".to_owned(),
            Target::Bucket => format!("arn:aws:s3:::{bucket}"),
            Target::Object(key) => format!("arn:aws:s3:::{bucket}/{key}"),
        }
    }

    /// Check `endpoint` on `bucket`: AccessDenied unless allowed; Some when the object's ACL
    /// decides ([`Authz::settle`]). A request to a bucket that does not exist passes (its
    /// handler answers NoSuchBucket, as S3 does for everyone).
    /// `version_named`: the request names an object version (`versionId`), which S3 checks
    /// as the action's version form (`s3:GetObjectVersion`, ...).
    pub fn check(
        &self,
        endpoint: &Endpoint,
        bucket: &str,
        version_named: bool,
    ) -> S3Result<Option<Pending>> {
        let Some((action, target)) = endpoint.action() else {
            // What is not built yet answers NotImplemented, but only to a signed caller.
            return match (endpoint, &self.caller) {
                (Endpoint::NotImplemented(_), Caller::Anonymous) => Err(denied()),
                _ => Ok(None),
            };
        };
        let needs_bucket = !matches!(endpoint, Endpoint::CreateBucket | Endpoint::ListBuckets);
        if needs_bucket && self.bucket.is_none() {
            return Ok(None);
        }
        let key = match target {
            Target::Object(k) => Some(k),
            _ => None,
        };
        let action = if version_named {
            version_action(action)
        } else {
            action
        };
        let resource = Self::arn(bucket, target);
        let place = self.here(key);
        let manages = endpoint.manages_policy();
        Self::outcome(self.verdict(&place, action, &resource, manages, Known::Unknown))
    }
}

/// The action S3 checks for `action` on a version named by id.
fn version_action(action: &'static str) -> &'static str {
    match action {
        "s3:GetObject" => "s3:GetObjectVersion",
        "s3:DeleteObject" => "s3:DeleteObjectVersion",
        "s3:GetObjectAcl" => "s3:GetObjectVersionAcl",
        "s3:PutObjectAcl" => "s3:PutObjectVersionAcl",
        "s3:GetObjectTagging" => "s3:GetObjectVersionTagging",
        "s3:PutObjectTagging" => "s3:PutObjectVersionTagging",
        "s3:DeleteObjectTagging" => "s3:DeleteObjectVersionTagging",
        "s3:GetObjectAttributes" => "s3:GetObjectVersionAttributes",
        other => other,
    }
}

impl Source {
    fn place<'a>(&'a self, key: &'a str, acl: &'a Acl) -> Place<'a> {
        Place {
            bucket: Some(&self.bucket),
            policy: self.policy.as_deref(),
            public_access: self.public_access,
            ownership: self.ownership,
            acl,
            key: Some(key),
            source: None,
        }
    }
}

#[cfg(test)]
mod tests;
