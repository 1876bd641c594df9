//! Authorization, evaluated once per request before its handler runs, with AWS's logic: an
//! explicit Deny in any policy that applies wins; otherwise an Allow from an identity policy or
//! the bucket policy, or being the root key or the bucket's owner, lets the request through;
//! otherwise it is implicitly denied. The root key and the bucket owner may always manage the
//! bucket policy, so that no policy locks them out.
//!
//! - [`context`]: the condition keys of a request.
//! - [`cache`]: parsed policies by document, so a request does not parse JSON.

pub mod cache;
pub mod context;

use std::sync::Arc;

use coffer_proto::iam::AuthzFacts;
use coffer_proto::policy::{Caller, Context, Decision, Policy, PolicyKind, Request};
use coffer_proto::types::{BucketInfo, PublicAccessBlock};

use tracing::warn;

use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::router::{Endpoint, Target};

/// The owner id of an IAM user (what buckets record as their owner).
pub fn user_owner(name: &str) -> String {
    format!("arn:aws:iam:::user/{name}")
}

/// Everything one request is authorized against.
pub struct Authz {
    /// The caller.
    pub caller: Caller,
    /// The caller's owner id: the root access key id, or [`user_owner`]; empty for anonymous.
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
    /// The condition keys.
    pub context: Context,
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
        Authz {
            caller,
            owner,
            identity,
            bucket: facts.bucket,
            bucket_policy,
            broken,
            public_access,
            context,
        }
    }

    fn is_root(&self) -> bool {
        matches!(self.caller, Caller::Root { .. })
    }

    /// Whether `action` on `resource` (an ARN or `*`) of the addressed bucket is allowed;
    /// `manages_policy` for the bucket policy's own operations.
    pub fn allows(&self, action: &str, resource: &str, manages_policy: bool) -> bool {
        let policy = self.bucket_policy.as_deref();
        let restrict = self.public_access.restrict_public_buckets;
        let bucket = self.bucket.as_ref();
        self.allows_in(bucket, policy, restrict, action, resource, manages_policy)
    }

    /// [`Authz::allows`] for a resource of `bucket`, whose policy is `bucket_policy`;
    /// `restrict`: RestrictPublicBuckets is in force there.
    fn allows_in(
        &self,
        bucket: Option<&BucketInfo>,
        bucket_policy: Option<&Policy>,
        restrict: bool,
        action: &str,
        resource: &str,
        manages_policy: bool,
    ) -> bool {
        let owns = !self.owner.is_empty() && bucket.is_some_and(|b| b.owner == self.owner);
        let privileged = self.is_root() || owns;
        if privileged && manages_policy {
            return true;
        }
        if self.broken {
            return false;
        }
        let req = Request {
            caller: &self.caller,
            action,
            resource,
            context: &self.context,
        };
        let mut decision = Decision::NotApplicable;
        for p in &self.identity {
            decision = decision.and(p.evaluate(&req));
        }
        if let Some(p) = bucket_policy {
            let said = p.evaluate(&req);
            // RestrictPublicBuckets: a public policy grants nothing to anonymous callers (its
            // denials still count).
            let ignored = said == Decision::Allow
                && restrict
                && self.caller == Caller::Anonymous
                && p.is_public();
            if !ignored {
                decision = decision.and(said);
            }
        }
        match decision {
            Decision::Deny => false,
            Decision::Allow => true,
            Decision::NotApplicable => privileged,
        }
    }

    /// Check that the caller may read the copy source `key` of `bucket` (s3:GetObject).
    /// `facts` are the source bucket's when it is not the addressed one.
    pub fn check_copy_source(
        &self,
        bucket: &str,
        key: &str,
        facts: Option<AuthzFacts>,
        cache: &cache::PolicyCache,
    ) -> S3Result<()> {
        let resource = Self::arn(bucket, Target::Object(key));
        let allowed = match facts {
            None => self.allows("s3:GetObject", &resource, false),
            // A source bucket that does not exist: the handler answers NoSuchBucket.
            Some(AuthzFacts { bucket: None, .. }) => true,
            Some(AuthzFacts {
                bucket: Some(b),
                bucket_policy,
                bucket_public_access_block,
                cluster_public_access_block,
                ..
            }) => {
                let restrict = PublicAccessBlock::decode(bucket_public_access_block.as_deref())
                    .or(PublicAccessBlock::decode(
                        cluster_public_access_block.as_deref(),
                    ))
                    .restrict_public_buckets;
                let policy = match bucket_policy {
                    Some(doc) => match cache.get(&doc, &PolicyKind::Bucket(b.name.clone())) {
                        Ok(p) => Some(p),
                        Err(e) => {
                            warn!(policy = b.name, "a stored policy does not parse: {e}");
                            return Err(S3Error::new(S3ErrorCode::AccessDenied));
                        }
                    },
                    None => None,
                };
                let policy = policy.as_deref();
                self.allows_in(Some(&b), policy, restrict, "s3:GetObject", &resource, false)
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(S3Error::new(S3ErrorCode::AccessDenied))
        }
    }

    /// Whether `action` on object `key` of `bucket` is allowed (the per-key checks of
    /// DeleteObjects).
    pub fn allows_object(&self, bucket: &str, action: &str, key: &str) -> bool {
        self.allows(action, &Self::arn(bucket, Target::Object(key)), false)
    }

    /// The ARN of `target` in bucket `bucket`.
    pub fn arn(bucket: &str, target: Target<'_>) -> String {
        match target {
            Target::Account => "*".to_owned(),
            Target::Bucket => format!("arn:aws:s3:::{bucket}"),
            Target::Object(key) => format!("arn:aws:s3:::{bucket}/{key}"),
        }
    }

    /// Check `endpoint` on `bucket`: AccessDenied unless allowed. A request to a bucket that
    /// does not exist passes (its handler answers NoSuchBucket, as S3 does for everyone).
    pub fn check(&self, endpoint: &Endpoint, bucket: &str) -> S3Result<()> {
        let Some((action, target)) = endpoint.action() else {
            // What is not built yet answers NotImplemented, but only to a signed caller.
            return match (endpoint, &self.caller) {
                (Endpoint::NotImplemented(_), Caller::Anonymous) => {
                    Err(S3Error::new(S3ErrorCode::AccessDenied))
                }
                _ => Ok(()),
            };
        };
        let needs_bucket = !matches!(endpoint, Endpoint::CreateBucket | Endpoint::ListBuckets);
        if needs_bucket && self.bucket.is_none() {
            return Ok(());
        }
        if self.allows(
            action,
            &Self::arn(bucket, target),
            endpoint.manages_policy(),
        ) {
            Ok(())
        } else {
            Err(S3Error::new(S3ErrorCode::AccessDenied))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use coffer_proto::types::Versioning;

    fn bucket(owner: &str) -> BucketInfo {
        BucketInfo {
            id: 1,
            name: "b".into(),
            created_ms: 0,
            owner: owner.into(),
            location: String::new(),
            versioning: Versioning::Unversioned,
        }
    }

    fn authz(caller: Caller, owner: &str, identity: &[&str], policy: Option<&str>) -> Authz {
        let facts = AuthzFacts {
            identity_policies: identity
                .iter()
                .map(|d| ("user/x/p".to_owned(), (*d).to_owned()))
                .collect(),
            bucket: Some(bucket("arn:aws:iam:::user/owner")),
            bucket_policy: policy.map(str::to_owned),
            ..AuthzFacts::default()
        };
        Authz::new(
            caller,
            owner.into(),
            facts,
            Context::default(),
            &cache::PolicyCache::default(),
        )
    }

    fn user(name: &str) -> Caller {
        Caller::User {
            name: name.into(),
            user_id: format!("AIDA{name}"),
            canonical_id: String::new(),
        }
    }

    const DENY_ALL: &str = r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}}"#;
    const READ: &str =
        r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#;

    fn get() -> Endpoint {
        Endpoint::GetObject { key: "k".into() }
    }

    #[test]
    fn who_may_do_what() {
        let denied = |a: &Authz, e: &Endpoint| a.check(e, "b").is_err();
        let root = || Caller::Root {
            canonical_id: String::new(),
        };
        // The root key: everything, unless a bucket policy denies; policy management always.
        let r = authz(root(), "ROOT", &[], None);
        assert!(!denied(&r, &get()));
        let r = authz(root(), "ROOT", &[], Some(DENY_ALL));
        assert!(denied(&r, &get()));
        assert!(!denied(&r, &Endpoint::DeleteBucketPolicy));
        // The bucket owner likewise.
        let o = authz(user("owner"), "arn:aws:iam:::user/owner", &[], None);
        assert!(!denied(&o, &get()) && !denied(&o, &Endpoint::PutBucketPolicy));
        // Another user: only what an identity policy allows, and never past a Deny.
        let u = authz(user("u"), "arn:aws:iam:::user/u", &[], None);
        assert!(denied(&u, &get()));
        let u = authz(user("u"), "arn:aws:iam:::user/u", &[READ], None);
        assert!(!denied(&u, &get()));
        assert!(denied(&u, &Endpoint::PutObject { key: "k".into() }));
        assert!(denied(&u, &Endpoint::PutBucketPolicy));
        let u = authz(user("u"), "arn:aws:iam:::user/u", &[READ], Some(DENY_ALL));
        assert!(denied(&u, &get()));
        // Anonymous: nothing without a policy for "*"; not even an answer of NotImplemented.
        let a = authz(Caller::Anonymous, "", &[], None);
        assert!(denied(&a, &get()));
        assert!(denied(&a, &Endpoint::NotImplemented("acl")));
        // A stored policy that no longer parses denies everything but policy management.
        let b = authz(user("owner"), "arn:aws:iam:::user/owner", &[], Some("{"));
        assert!(denied(&b, &get()));
        assert!(!denied(&b, &Endpoint::DeleteBucketPolicy));
    }
}
