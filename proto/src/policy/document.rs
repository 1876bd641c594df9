//! Parsing a policy document's JSON into [`Policy`], with the checks AWS makes before it stores
//! one. Every refusal says exactly what is wrong, in AWS's words where AWS has them.

use serde_json::{Map, Value};

use super::actions::{self, ResourceKind};
use super::condition::Condition;
use super::{
    wildcard, Effect, Patterns, Policy, PolicyError, PrincipalPattern, Principals, Statement,
};

/// The version whose policies substitute `${...}` variables.
pub const VERSION_2012: &str = "2012-10-17";
/// The older version (variables are literal text).
const VERSION_2008: &str = "2008-10-17";

/// A bucket policy's largest size (S3: 20 KB).
pub const MAX_BUCKET_POLICY_BYTES: usize = 20 * 1024;
/// An identity policy's largest size, not counting white space (IAM's limit for a managed
/// policy; inline policies share it here).
pub const MAX_IDENTITY_POLICY_CHARS: usize = 6144;

/// What a document is for: the rules differ.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// The bucket policy of `bucket`: every statement names a Principal and resources of this
    /// bucket, and only S3 actions.
    Bucket(String),
    /// A policy of a user or group: no Principal.
    Identity,
}

fn err<T>(msg: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError(msg.into()))
}

/// Parse and validate.
pub fn parse(text: &str, kind: &PolicyKind) -> Result<Policy, PolicyError> {
    match kind {
        PolicyKind::Bucket(_) if text.len() > MAX_BUCKET_POLICY_BYTES => {
            return err("Policies must be less than 20 KB");
        }
        PolicyKind::Identity
            if text.chars().filter(|c| !c.is_whitespace()).count() > MAX_IDENTITY_POLICY_CHARS =>
        {
            return err(format!(
                "Cannot exceed quota for PolicySize: {MAX_IDENTITY_POLICY_CHARS}"
            ));
        }
        _ => {}
    }
    if !text.trim_start().starts_with('{') {
        return err("Policies must be valid JSON and the first byte must be '{'");
    }
    // serde_json refuses nesting deeper than 128 levels, so a hostile document cannot
    // exhaust the stack.
    let value: Value = serde_json::from_str(text)
        .map_err(|_| PolicyError("This policy contains invalid Json".into()))?;
    let Value::Object(top) = value else {
        return err("This policy contains invalid Json");
    };
    let mut version = VERSION_2008.to_owned();
    let mut id = None;
    let mut statements = None;
    for (k, v) in &top {
        match k.as_str() {
            "Version" => match v.as_str() {
                Some(s @ (VERSION_2012 | VERSION_2008)) => version = s.to_owned(),
                _ => return err("The policy must contain a valid version string"),
            },
            "Id" => id = Some(string(v, "Id")?),
            "Statement" => statements = Some(v),
            other => return err(format!("Unknown field {other}")),
        }
    }
    let Some(statements) = statements else {
        return err("Missing required field Statement");
    };
    let list = match statements {
        Value::Array(a) => a.iter().collect::<Vec<_>>(),
        v @ Value::Object(_) => vec![v],
        _ => return err("Statement must be an object or a list of objects"),
    };
    if list.is_empty() {
        return err("Missing required field Statement");
    }
    let mut out = Vec::with_capacity(list.len());
    for v in list {
        let Value::Object(s) = v else {
            return err("Statement must be an object or a list of objects");
        };
        let st = statement(s, kind)?;
        if let Some(sid) = &st.sid {
            if out.iter().any(|o: &Statement| o.sid.as_ref() == Some(sid)) {
                return err(format!("Statement IDs (SID) must be unique: {sid}"));
            }
        }
        out.push(st);
    }
    Ok(Policy {
        version,
        id,
        statements: out,
    })
}

fn string(v: &Value, field: &str) -> Result<String, PolicyError> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| PolicyError(format!("{field} must be a string")))
}

/// A string or a non-empty list of strings.
fn strings(v: &Value, field: &str) -> Result<Vec<String>, PolicyError> {
    let out = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|i| string(i, field))
            .collect::<Result<Vec<_>, _>>()?,
        _ => return err(format!("{field} must be a string or a list of strings")),
    };
    if out.is_empty() {
        return err(format!("{field} must not be empty"));
    }
    Ok(out)
}

/// The one of `names` the statement has (an error for both or, when required, none).
fn either<'a>(
    s: &'a Map<String, Value>,
    names: [&str; 2],
    required: bool,
) -> Result<Option<(&'a Value, bool)>, PolicyError> {
    match (s.get(names[0]), s.get(names[1])) {
        (Some(_), Some(_)) => err(format!(
            "A statement must not have both {} and {}",
            names[0], names[1]
        )),
        (Some(v), None) => Ok(Some((v, false))),
        (None, Some(v)) => Ok(Some((v, true))),
        (None, None) if required => err(format!("Missing required field {}", names[0])),
        (None, None) => Ok(None),
    }
}

fn statement(s: &Map<String, Value>, kind: &PolicyKind) -> Result<Statement, PolicyError> {
    const FIELDS: [&str; 9] = [
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    ];
    if let Some(k) = s.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return err(format!("Unknown field {k}"));
    }
    let sid = s.get("Sid").map(|v| string(v, "Sid")).transpose()?;
    let effect = match s.get("Effect").map(|v| v.as_str()) {
        None => return err("Missing required field Effect"),
        Some(Some("Allow")) => Effect::Allow,
        Some(Some("Deny")) => Effect::Deny,
        Some(other) => {
            return err(format!(
                "Invalid effect: {}",
                other.unwrap_or("(not a string)")
            ))
        }
    };
    let principal = match (kind, either(s, ["Principal", "NotPrincipal"], false)?) {
        (PolicyKind::Bucket(_), None) => return err("Missing required field Principal"),
        (PolicyKind::Bucket(_), Some((v, negated))) => Some(principals(v, negated)?),
        (PolicyKind::Identity, None) => None,
        (PolicyKind::Identity, Some(_)) => {
            return err("Policy document should not specify a principal.")
        }
    };
    let (v, negated) = either(s, ["Action", "NotAction"], true)?.unwrap_or((&Value::Null, false));
    let action = Patterns {
        items: strings(v, "Action")?,
        negated,
    };
    for a in &action.items {
        check_action(a, kind)?;
    }
    let (v, negated) =
        either(s, ["Resource", "NotResource"], true)?.unwrap_or((&Value::Null, false));
    let resource = Patterns {
        items: strings(v, "Resource")?,
        negated,
    };
    for r in &resource.items {
        check_resource(r, kind)?;
    }
    if let PolicyKind::Bucket(bucket) = kind {
        if !action.negated && !resource.negated {
            check_applies(&action.items, &resource.items, bucket)?;
        }
    }
    let conditions = match s.get("Condition") {
        None => Vec::new(),
        Some(v) => Condition::parse_block(v)?,
    };
    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

fn principals(v: &Value, negated: bool) -> Result<Principals, PolicyError> {
    let invalid = || PolicyError("Invalid principal in policy".into());
    let mut items = Vec::new();
    match v {
        Value::String(s) if s == "*" => items.push(PrincipalPattern::Everyone),
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let vals = strings(v, "Principal").map_err(|_| invalid())?;
                for val in vals {
                    items.push(match k.as_str() {
                        "AWS" if val == "*" => PrincipalPattern::Everyone,
                        "AWS" if valid_iam_arn(&val) => PrincipalPattern::Arn(val),
                        "CanonicalUser"
                            if val.len() == 64 && val.bytes().all(|b| b.is_ascii_hexdigit()) =>
                        {
                            PrincipalPattern::CanonicalUser(val.to_ascii_lowercase())
                        }
                        "Service" | "Federated" if !val.is_empty() && !val.contains('*') => {
                            PrincipalPattern::Other(val)
                        }
                        _ => return Err(invalid()),
                    });
                }
            }
        }
        _ => return Err(invalid()),
    }
    Ok(Principals { items, negated })
}

/// `arn:aws:iam:::root` or `arn:aws:iam:::user/NAME` (this cluster's principals have no
/// account id).
fn valid_iam_arn(arn: &str) -> bool {
    match arn.strip_prefix("arn:aws:iam:::") {
        Some("root") => true,
        Some(rest) => rest
            .strip_prefix("user/")
            .is_some_and(crate::iam::valid_user_name),
        None => false,
    }
}

fn check_action(a: &str, kind: &PolicyKind) -> Result<(), PolicyError> {
    let Some((service, name)) = a.split_once(':').or((a == "*").then_some(("*", "*"))) else {
        return err(format!("Policy has invalid action: {a}"));
    };
    let well_formed = !service.is_empty()
        && !name.is_empty()
        && service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*');
    let known = match kind {
        PolicyKind::Bucket(_) => !actions::matching(a).is_empty(),
        // Identity policies may name other services' actions (iam:..., sts:...); their S3
        // actions must exist.
        PolicyKind::Identity => {
            !service.eq_ignore_ascii_case("s3") || !actions::matching(a).is_empty()
        }
    };
    if well_formed && known {
        Ok(())
    } else {
        err(format!("Policy has invalid action: {a}"))
    }
}

fn check_resource(r: &str, kind: &PolicyKind) -> Result<(), PolicyError> {
    let ok = match kind {
        PolicyKind::Bucket(bucket) => {
            r == "*"
                || wildcard::matches(r, &format!("arn:aws:s3:::{bucket}"))
                || wildcard::can_match_with_prefix(r, &format!("arn:aws:s3:::{bucket}/"))
        }
        PolicyKind::Identity => r == "*" || r.starts_with("arn:"),
    };
    if ok {
        Ok(())
    } else {
        err(format!("Policy has invalid resource: {r}"))
    }
}

/// Every action pattern must apply to some resource of the statement.
fn check_applies(
    actions: &[String],
    resources: &[String],
    bucket: &str,
) -> Result<(), PolicyError> {
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    let object_prefix = format!("{bucket_arn}/");
    let fits = |kind: ResourceKind| {
        resources.iter().any(|r| match kind {
            ResourceKind::Bucket => wildcard::matches(r, &bucket_arn),
            ResourceKind::Object => wildcard::can_match_with_prefix(r, &object_prefix),
            ResourceKind::Account => r == "*",
        })
    };
    for a in actions {
        if !actions::matching(a).into_iter().any(|(_, kind)| fits(kind)) {
            return err("Action does not apply to any resource(s) in statement");
        }
    }
    Ok(())
}
