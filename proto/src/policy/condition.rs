//! The `Condition` element: operators (String*, Numeric*, Date*, Bool, IpAddress, Arn*, Null,
//! their `...IfExists` forms and the `ForAnyValue:` / `ForAllValues:` set qualifiers), checked
//! when a policy is parsed and evaluated against a request's [`Context`].

use std::net::IpAddr;

use serde_json::Value;

use super::{substitute, wildcard, Context, PolicyError};

/// A comparison, without its negation, qualifier or IfExists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// StringEquals.
    StringEquals,
    /// StringEqualsIgnoreCase.
    StringEqualsIgnoreCase,
    /// StringLike (wildcards).
    StringLike,
    /// NumericEquals.
    NumericEquals,
    /// NumericLessThan.
    NumericLessThan,
    /// NumericLessThanEquals.
    NumericLessThanEquals,
    /// NumericGreaterThan.
    NumericGreaterThan,
    /// NumericGreaterThanEquals.
    NumericGreaterThanEquals,
    /// DateEquals.
    DateEquals,
    /// DateLessThan.
    DateLessThan,
    /// DateLessThanEquals.
    DateLessThanEquals,
    /// DateGreaterThan.
    DateGreaterThan,
    /// DateGreaterThanEquals.
    DateGreaterThanEquals,
    /// Bool.
    Bool,
    /// BinaryEquals (base64 values, compared as given).
    BinaryEquals,
    /// IpAddress (CIDR ranges).
    IpAddress,
    /// ArnEquals / ArnLike (both take wildcards).
    ArnLike,
    /// Null (whether the key is absent).
    Null,
}

/// How a multi-valued key is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    /// No qualifier.
    Single,
    /// `ForAnyValue:`: some request value satisfies the comparison.
    ForAnyValue,
    /// `ForAllValues:`: every request value does (also when there are none).
    ForAllValues,
}

/// One operator applied to one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The operator as written (for messages).
    pub operator: String,
    /// The comparison.
    pub compare: Compare,
    /// A `Not` operator (StringNotEquals, NotIpAddress, ArnNotLike, ...).
    pub negated: bool,
    /// `...IfExists`: holds when the key is absent.
    pub if_exists: bool,
    /// Set qualifier.
    pub qualifier: Qualifier,
    /// Condition key.
    pub key: String,
    /// The values (any of which may match).
    pub values: Vec<String>,
}

/// (name, comparison, negated).
const OPERATORS: &[(&str, Compare, bool)] = &[
    ("StringEquals", Compare::StringEquals, false),
    ("StringNotEquals", Compare::StringEquals, true),
    (
        "StringEqualsIgnoreCase",
        Compare::StringEqualsIgnoreCase,
        false,
    ),
    (
        "StringNotEqualsIgnoreCase",
        Compare::StringEqualsIgnoreCase,
        true,
    ),
    ("StringLike", Compare::StringLike, false),
    ("StringNotLike", Compare::StringLike, true),
    ("NumericEquals", Compare::NumericEquals, false),
    ("NumericNotEquals", Compare::NumericEquals, true),
    ("NumericLessThan", Compare::NumericLessThan, false),
    (
        "NumericLessThanEquals",
        Compare::NumericLessThanEquals,
        false,
    ),
    ("NumericGreaterThan", Compare::NumericGreaterThan, false),
    (
        "NumericGreaterThanEquals",
        Compare::NumericGreaterThanEquals,
        false,
    ),
    ("DateEquals", Compare::DateEquals, false),
    ("DateNotEquals", Compare::DateEquals, true),
    ("DateLessThan", Compare::DateLessThan, false),
    ("DateLessThanEquals", Compare::DateLessThanEquals, false),
    ("DateGreaterThan", Compare::DateGreaterThan, false),
    (
        "DateGreaterThanEquals",
        Compare::DateGreaterThanEquals,
        false,
    ),
    ("Bool", Compare::Bool, false),
    ("BinaryEquals", Compare::BinaryEquals, false),
    ("IpAddress", Compare::IpAddress, false),
    ("NotIpAddress", Compare::IpAddress, true),
    ("ArnEquals", Compare::ArnLike, false),
    ("ArnLike", Compare::ArnLike, false),
    ("ArnNotEquals", Compare::ArnLike, true),
    ("ArnNotLike", Compare::ArnLike, true),
    ("Null", Compare::Null, false),
];

/// The S3 condition keys (lower case), every one the Service Authorization Reference lists
/// for Amazon S3; `s3:ExistingObjectTag/<k>`, `s3:RequestObjectTag/<k>` and `s3:BucketTag/<k>`
/// take any tag key. Keys of features a request here cannot use (access points, Batch
/// Operations jobs, replication, Access Grants, TLS) are simply absent from its context, as
/// they are from such a request on S3; the keys in [`UNEVALUATED`] are the ones S3 would fill
/// in and this server cannot.
const S3_KEYS: &[&str] = &[
    "s3:accessgrantsinstancearn",
    "s3:accesspointnetworkorigin",
    "s3:authtype",
    "s3:dataaccesspointaccount",
    "s3:dataaccesspointarn",
    "s3:delimiter",
    "s3:existingjoboperation",
    "s3:existingjobpriority",
    "s3:if-match",
    "s3:if-none-match",
    "s3:inventoryaccessibleoptionalfields",
    "s3:isreplicationpayloadrequest",
    "s3:jobsuspendedcause",
    "s3:locationconstraint",
    "s3:max-keys",
    "s3:object-lock-legal-hold",
    "s3:object-lock-mode",
    "s3:object-lock-remaining-retention-days",
    "s3:object-lock-retain-until-date",
    "s3:objectcreationoperation",
    "s3:prefix",
    "s3:requestjoboperation",
    "s3:requestjobpriority",
    "s3:requestobjecttagkeys",
    "s3:resourceaccount",
    "s3:signatureage",
    "s3:signatureversion",
    "s3:tlsversion",
    "s3:versionid",
    "s3:x-amz-acl",
    "s3:x-amz-content-sha256",
    "s3:x-amz-copy-source",
    "s3:x-amz-grant-full-control",
    "s3:x-amz-grant-read",
    "s3:x-amz-grant-read-acp",
    "s3:x-amz-grant-write",
    "s3:x-amz-grant-write-acp",
    "s3:x-amz-metadata-directive",
    "s3:x-amz-object-ownership",
    "s3:x-amz-server-side-encryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:x-amz-server-side-encryption-customer-algorithm",
    "s3:x-amz-storage-class",
    "s3:x-amz-website-redirect-location",
];

/// S3 keys that S3 fills in on requests this server answers but that it cannot know (it has
/// no AWS accounts, and does not name the operation that creates an object). A condition on
/// one is never taken as holding in an Allow statement and always in a Deny statement, so a
/// policy naming them never grants more than it would on S3.
pub const UNEVALUATED: &[&str] = &["s3:objectcreationoperation", "s3:resourceaccount"];

/// Prefixes of the S3 keys that take any tag key.
const TAG_KEY_PREFIXES: [&str; 3] = [
    "s3:existingobjecttag/",
    "s3:requestobjecttag/",
    "s3:buckettag/",
];

fn valid_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    match lower.split_once(':') {
        Some(("aws", rest)) => !rest.is_empty(),
        Some(("s3", _)) => {
            S3_KEYS.contains(&lower.as_str())
                || TAG_KEY_PREFIXES
                    .iter()
                    .any(|p| lower.strip_prefix(p).is_some_and(|t| !t.is_empty()))
        }
        // Other services' keys (identity policies): accepted as written.
        Some((svc, rest)) => !svc.is_empty() && !rest.is_empty(),
        None => false,
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Condition {
    /// Parse a statement's `Condition` object.
    pub fn parse_block(v: &Value) -> Result<Vec<Condition>, PolicyError> {
        let bad = |m: String| Err(PolicyError(m));
        let Value::Object(ops) = v else {
            return bad("Condition must be an object".into());
        };
        let mut out = Vec::new();
        for (op, keys) in ops {
            let (qualifier, base) = if let Some(b) = op.strip_prefix("ForAnyValue:") {
                (Qualifier::ForAnyValue, b)
            } else if let Some(b) = op.strip_prefix("ForAllValues:") {
                (Qualifier::ForAllValues, b)
            } else {
                (Qualifier::Single, op.as_str())
            };
            let (base, if_exists) = match base.strip_suffix("IfExists") {
                Some(b) if b != "Null" => (b, true),
                _ => (base, false),
            };
            let Some(&(_, compare, negated)) = OPERATORS.iter().find(|(n, _, _)| *n == base) else {
                return bad(format!("Invalid Condition type : {op}"));
            };
            let Value::Object(keys) = keys else {
                return bad(format!("Condition {op} must map keys to values"));
            };
            for (key, vals) in keys {
                if !valid_key(key) {
                    return bad(format!("Policy has an invalid condition key: {key}"));
                }
                let values = match vals {
                    Value::Array(a) if !a.is_empty() => a.iter().map(scalar).collect(),
                    Value::Array(_) => None,
                    v => scalar(v).map(|s| vec![s]),
                };
                let Some(values) = values else {
                    return bad(format!("Invalid value for condition {op} on {key}"));
                };
                let c = Condition {
                    operator: op.clone(),
                    compare,
                    negated,
                    if_exists,
                    qualifier,
                    key: key.clone(),
                    values,
                };
                c.check_values()?;
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Values must have the operator's type.
    fn check_values(&self) -> Result<(), PolicyError> {
        let ok = |v: &String| match self.compare {
            Compare::NumericEquals
            | Compare::NumericLessThan
            | Compare::NumericLessThanEquals
            | Compare::NumericGreaterThan
            | Compare::NumericGreaterThanEquals => v.parse::<f64>().is_ok(),
            Compare::DateEquals
            | Compare::DateLessThan
            | Compare::DateLessThanEquals
            | Compare::DateGreaterThan
            | Compare::DateGreaterThanEquals => date_ms(v).is_some(),
            Compare::Bool | Compare::Null => {
                v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false")
            }
            Compare::IpAddress => Cidr::parse(v).is_some(),
            _ => true,
        };
        match self.values.iter().find(|v| !ok(v)) {
            Some(v) => Err(PolicyError(format!(
                "Invalid value for condition {} on {}: {v}",
                self.operator, self.key
            ))),
            None => Ok(()),
        }
    }

    /// Whether its key is one this server cannot evaluate ([`UNEVALUATED`]).
    pub fn unevaluated(&self) -> bool {
        UNEVALUATED.contains(&self.key.to_ascii_lowercase().as_str())
    }

    /// Whether the condition holds for `ctx`; `vars`: substitute policy variables in values.
    pub fn holds(&self, ctx: &Context, vars: bool) -> bool {
        let present = ctx.get(&self.key).filter(|v| !v.is_empty());
        if self.compare == Compare::Null {
            return self
                .values
                .iter()
                .any(|v| v.eq_ignore_ascii_case("true") == present.is_none());
        }
        let Some(actual) = present else {
            return self.if_exists
                || match self.qualifier {
                    Qualifier::ForAllValues => true,
                    Qualifier::ForAnyValue => false,
                    Qualifier::Single => self.negated,
                };
        };
        let wanted: Vec<String> = self
            .values
            .iter()
            .filter_map(|v| match self.compare {
                Compare::StringEquals
                | Compare::StringEqualsIgnoreCase
                | Compare::StringLike
                | Compare::ArnLike
                    if vars =>
                {
                    substitute(v, ctx)
                }
                _ => Some(v.clone()),
            })
            .collect();
        let matches = |a: &String| wanted.iter().any(|w| compare(self.compare, a, w));
        match self.qualifier {
            Qualifier::Single if self.negated => !actual.iter().any(matches),
            Qualifier::Single => actual.iter().any(matches),
            Qualifier::ForAnyValue => actual.iter().any(|a| matches(a) != self.negated),
            Qualifier::ForAllValues => actual.iter().all(|a| matches(a) != self.negated),
        }
    }
}

/// Whether request value `a` satisfies `cmp` against policy value `w`.
fn compare(cmp: Compare, a: &str, w: &str) -> bool {
    let num = || Some((a.parse::<f64>().ok()?, w.parse::<f64>().ok()?));
    let date = || Some((date_ms(a)?, date_ms(w)?));
    match cmp {
        Compare::StringEquals | Compare::BinaryEquals => a == w,
        Compare::StringEqualsIgnoreCase => a.to_lowercase() == w.to_lowercase(),
        Compare::StringLike | Compare::ArnLike => wildcard::matches(w, a),
        Compare::NumericEquals => num().is_some_and(|(a, w)| a == w),
        Compare::NumericLessThan => num().is_some_and(|(a, w)| a < w),
        Compare::NumericLessThanEquals => num().is_some_and(|(a, w)| a <= w),
        Compare::NumericGreaterThan => num().is_some_and(|(a, w)| a > w),
        Compare::NumericGreaterThanEquals => num().is_some_and(|(a, w)| a >= w),
        Compare::DateEquals => date().is_some_and(|(a, w)| a == w),
        Compare::DateLessThan => date().is_some_and(|(a, w)| a < w),
        Compare::DateLessThanEquals => date().is_some_and(|(a, w)| a <= w),
        Compare::DateGreaterThan => date().is_some_and(|(a, w)| a > w),
        Compare::DateGreaterThanEquals => date().is_some_and(|(a, w)| a >= w),
        Compare::Bool => a.eq_ignore_ascii_case(w),
        Compare::IpAddress => match (a.parse::<IpAddr>(), Cidr::parse(w)) {
            (Ok(ip), Some(c)) => c.contains(ip),
            _ => false,
        },
        Compare::Null => false,
    }
}

/// A date as ms since the epoch: ISO 8601 (`2026-01-02T03:04:05Z`, `2026-01-02`) or epoch
/// seconds.
pub fn date_ms(s: &str) -> Option<i64> {
    if let Ok(secs) = s.parse::<i64>() {
        return secs.checked_mul(1000);
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(d.timestamp_millis());
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// An address range (`10.0.0.0/8`, `2001:db8::/32`, or one address).
#[derive(Debug, Clone, Copy)]
struct Cidr {
    net: IpAddr,
    bits: u32,
}

impl Cidr {
    fn parse(s: &str) -> Option<Cidr> {
        let (addr, bits) = match s.split_once('/') {
            Some((a, b)) => (a.parse::<IpAddr>().ok()?, Some(b.parse::<u32>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(max);
        (bits <= max).then_some(Cidr { net: addr, bits })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let prefix = |v: u128, width: u32| -> u128 {
            match self.bits {
                0 => 0,
                b => v >> (width - b),
            }
        };
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                prefix(u128::from(u32::from(n)), 32) == prefix(u128::from(u32::from(i)), 32)
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => {
                prefix(u128::from(n), 128) == prefix(u128::from(i), 128)
            }
            (IpAddr::V6(n), IpAddr::V4(i)) => {
                prefix(u128::from(n), 128) == prefix(u128::from(i.to_ipv6_mapped()), 128)
            }
            (IpAddr::V4(_), IpAddr::V6(i)) => i
                .to_ipv4_mapped()
                .is_some_and(|v4| self.contains(IpAddr::V4(v4))),
        }
    }
}
