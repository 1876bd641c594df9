//! IAM policy documents, as identity policies (attached to users and groups) and bucket policies
//! use them: the typed model, [`Policy::parse`] with AWS's validation (a refusal names the exact
//! reason, which S3 returns as MalformedPolicy), and [`Policy::evaluate`] of one request.
//! Pure code: no I/O, so the gateway (which enforces) and the node (whose admin API stores
//! identity policies) share one parser.

pub mod actions;
pub mod condition;
mod document;
pub mod wildcard;

use std::collections::HashMap;

pub use condition::Condition;
pub use document::{PolicyKind, MAX_BUCKET_POLICY_BYTES, MAX_IDENTITY_POLICY_CHARS};

/// Why a policy document was refused (the text S3 and IAM return with MalformedPolicy).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

/// The outcome of one policy for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// No statement applies.
    NotApplicable,
    /// A statement allows.
    Allow,
    /// A statement explicitly denies (wins over every allow).
    Deny,
}

impl Decision {
    /// The combination of two outcomes: Deny wins, then Allow.
    pub fn and(self, other: Decision) -> Decision {
        match (self, other) {
            (Decision::Deny, _) | (_, Decision::Deny) => Decision::Deny,
            (Decision::Allow, _) | (_, Decision::Allow) => Decision::Allow,
            _ => Decision::NotApplicable,
        }
    }
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Allow.
    Allow,
    /// Deny.
    Deny,
}

/// A list of patterns, or (the `Not...` form) everything but them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patterns {
    /// The patterns as written.
    pub items: Vec<String>,
    /// `NotAction` / `NotResource` / `NotPrincipal`.
    pub negated: bool,
}

/// Who a bucket policy statement names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalPattern {
    /// `"*"` or `{"AWS": "*"}`: everyone, anonymous callers included.
    Everyone,
    /// An IAM ARN: `arn:aws:iam:::user/NAME` or `arn:aws:iam:::root` (the root key).
    Arn(String),
    /// `{"CanonicalUser": ID}`.
    CanonicalUser(String),
    /// `{"Service": ...}` or `{"Federated": ...}`: matches only the cluster's own services
    /// ([`Caller::Service`]), such as the server access log's delivery.
    Other(String),
}

/// The `Principal` or `NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principals {
    /// The principals named.
    pub items: Vec<PrincipalPattern>,
    /// `NotPrincipal`.
    pub negated: bool,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Sid, if given.
    pub sid: Option<String>,
    /// Effect.
    pub effect: Effect,
    /// Principal (bucket policies only).
    pub principal: Option<Principals>,
    /// Action or NotAction.
    pub action: Patterns,
    /// Resource or NotResource.
    pub resource: Patterns,
    /// Conditions, all of which must hold.
    pub conditions: Vec<Condition>,
}

/// A parsed and validated policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Version: `2012-10-17` (policy variables are substituted) or `2008-10-17` (not).
    pub version: String,
    /// Id, if given.
    pub id: Option<String>,
    /// Statements.
    pub statements: Vec<Statement>,
}

/// The caller, as policies see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No signature.
    Anonymous,
    /// The cluster's root key (the account's root user).
    Root {
        /// Its canonical user id.
        canonical_id: String,
    },
    /// An IAM user.
    User {
        /// Name.
        name: String,
        /// Stable id (AIDA...).
        user_id: String,
        /// Its canonical user id.
        canonical_id: String,
    },
    /// A service of the cluster itself, by its AWS service principal name (the access log's
    /// delivery is `logging.s3.amazonaws.com`): never a request's caller, only asked about.
    Service {
        /// `logging.s3.amazonaws.com`.
        name: String,
    },
}

impl Caller {
    /// The ARN a policy names this caller by (None for anonymous).
    pub fn arn(&self) -> Option<String> {
        match self {
            Caller::Anonymous | Caller::Service { .. } => None,
            Caller::Root { .. } => Some("arn:aws:iam:::root".to_owned()),
            Caller::User { name, .. } => Some(format!("arn:aws:iam:::user/{name}")),
        }
    }

    fn canonical_id(&self) -> Option<&str> {
        match self {
            Caller::Anonymous | Caller::Service { .. } => None,
            Caller::Root { canonical_id } | Caller::User { canonical_id, .. } => Some(canonical_id),
        }
    }

    fn matches(&self, p: &PrincipalPattern) -> bool {
        match p {
            PrincipalPattern::Everyone => true,
            PrincipalPattern::Arn(arn) => self.arn().as_deref() == Some(arn.as_str()),
            PrincipalPattern::CanonicalUser(id) => self.canonical_id() == Some(id.as_str()),
            PrincipalPattern::Other(service) => {
                matches!(self, Caller::Service { name } if name == service)
            }
        }
    }
}

/// The request context: condition keys (case-insensitive names) with their values.
#[derive(Debug, Clone, Default)]
pub struct Context {
    keys: HashMap<String, Vec<String>>,
}

impl Context {
    /// Set a single-valued key.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.keys
            .insert(key.to_ascii_lowercase(), vec![value.into()]);
    }

    /// Add a value to a (possibly multi-valued) key.
    pub fn add(&mut self, key: &str, value: impl Into<String>) {
        self.keys
            .entry(key.to_ascii_lowercase())
            .or_default()
            .push(value.into());
    }

    /// The values of a key (None when absent).
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.keys.get(&key.to_ascii_lowercase()).map(Vec::as_slice)
    }
}

/// One request to authorize.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// Who asks.
    pub caller: &'a Caller,
    /// `s3:GetObject`, ...
    pub action: &'a str,
    /// `arn:aws:s3:::bucket/key`, `arn:aws:s3:::bucket` or `*`.
    pub resource: &'a str,
    /// Condition keys.
    pub context: &'a Context,
}

impl Policy {
    /// Parse and validate a policy document of `kind`.
    pub fn parse(text: &str, kind: &PolicyKind) -> Result<Policy, PolicyError> {
        document::parse(text, kind)
    }

    /// What this policy says about `req`.
    pub fn evaluate(&self, req: &Request<'_>) -> Decision {
        let mut out = Decision::NotApplicable;
        for s in &self.statements {
            if self.applies(s, req) {
                match s.effect {
                    Effect::Deny => return Decision::Deny,
                    Effect::Allow => out = Decision::Allow,
                }
            }
        }
        out
    }

    /// Whether this policy allows anyone at all (a Principal `*` in an unconditioned Allow
    /// statement): what GetBucketPolicyStatus calls public, and Block Public Access refuses.
    pub fn is_public(&self) -> bool {
        self.statements.iter().any(|s| {
            s.effect == Effect::Allow
                && s.conditions.is_empty()
                && s.principal
                    .as_ref()
                    .is_some_and(|p| !p.negated && p.items.contains(&PrincipalPattern::Everyone))
        })
    }

    /// Whether a condition names a key starting with `prefix` (lower case), such as
    /// `s3:existingobjecttag/`: the caller must then supply those keys.
    pub fn uses_key_prefix(&self, prefix: &str) -> bool {
        self.statements.iter().any(|s| {
            s.conditions
                .iter()
                .any(|c| c.key.to_ascii_lowercase().starts_with(prefix))
        })
    }

    fn applies(&self, s: &Statement, req: &Request<'_>) -> bool {
        if let Some(p) = &s.principal {
            let named = p.items.iter().any(|i| req.caller.matches(i));
            if named == p.negated {
                return false;
            }
        }
        let action = s
            .action
            .items
            .iter()
            .any(|a| wildcard::matches_ignore_case(a, req.action));
        if action == s.action.negated {
            return false;
        }
        let vars = self.version == document::VERSION_2012;
        let resource = s.resource.items.iter().any(|r| {
            let pattern = if vars {
                substitute(r, req.context)
            } else {
                Some(r.clone())
            };
            pattern.is_some_and(|p| wildcard::matches(&p, req.resource))
        });
        if resource == s.resource.negated {
            return false;
        }
        // A key this server cannot evaluate counts against the caller: such an Allow never
        // applies, such a Deny always does (when the rest of it does).
        s.conditions.iter().all(|c| {
            if c.unevaluated() {
                s.effect == Effect::Deny
            } else {
                c.holds(req.context, vars)
            }
        })
    }
}

/// Replace the policy variables `${key}` in `text` by the context's values (`${*}`, `${?}` and
/// `${$}` stand for the characters themselves, so they stay literal in a pattern). None when a
/// variable's key is absent: the element then matches nothing.
pub fn substitute(text: &str, ctx: &Context) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(rest.get(..start)?);
        let after = rest.get(start + 2..)?;
        let Some(end) = after.find('}') else {
            out.push_str(rest.get(start..)?);
            return Some(out);
        };
        let name = after.get(..end)?;
        match name {
            // The escapes for the characters themselves. Patterns have no escape syntax, so in
            // a Resource a `${*}` still acts as a wildcard afterwards (a known limit).
            "*" | "?" | "$" => out.push_str(name),
            _ => out.push_str(ctx.get(name)?.first()?),
        }
        rest = after.get(end + 1..)?;
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests;
