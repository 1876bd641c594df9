//! The policy document of a POST Object form: base64 JSON with an `expiration` and a list of
//! `conditions` (`{"field": "value"}`, `["eq", "$field", "value"]`,
//! `["starts-with", "$field", "prefix"]`, `["content-length-range", min, max]`). Every form
//! field but the signature, the file, the policy itself and `x-ignore-*` ones must be named
//! by a condition, and every condition must hold.

use base64::Engine;
use serde_json::Value;

use crate::s3::error::{S3Error, S3ErrorCode, S3Result};

/// One condition.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Condition {
    /// The field (lower case, without `$`) equals the value.
    Eq(String, String),
    /// The field starts with the prefix.
    StartsWith(String, String),
    /// The file's size is within these bounds.
    LengthRange(u64, u64),
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPolicy {
    /// Expiration, ms since the epoch.
    expiration_ms: i64,
    conditions: Vec<Condition>,
}

/// Fields that need no condition (the signature's, of either version).
const EXEMPT: [&str; 6] = [
    "x-amz-signature",
    "file",
    "policy",
    "x-amz-security-token",
    "awsaccesskeyid",
    "signature",
];

fn invalid(msg: &str) -> S3Error {
    S3Error::msg(
        S3ErrorCode::InvalidPolicyDocument,
        format!("Invalid Policy: {msg}"),
    )
}

fn refused(msg: String) -> S3Error {
    S3Error::msg(
        S3ErrorCode::AccessDenied,
        format!("Invalid according to Policy: {msg}"),
    )
}

/// A field name of a condition: `$Key` names the field `key`.
fn field(v: &Value) -> Option<String> {
    v.as_str()
        .and_then(|s| s.strip_prefix('$'))
        .map(str::to_ascii_lowercase)
}

fn length(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn condition(c: &Value) -> S3Result<Condition> {
    match c {
        Value::Object(m) if m.len() == 1 => {
            let (k, v) = m
                .iter()
                .next()
                .ok_or_else(|| invalid("Invalid Condition"))?;
            let v = v.as_str().ok_or_else(|| invalid("Invalid Condition"))?;
            Ok(Condition::Eq(k.to_ascii_lowercase(), v.to_owned()))
        }
        Value::Array(a) => match a.as_slice() {
            [op, min, max] if op.as_str() == Some("content-length-range") => {
                match (length(min), length(max)) {
                    (Some(lo), Some(hi)) if lo <= hi => Ok(Condition::LengthRange(lo, hi)),
                    _ => Err(invalid("Invalid content-length-range")),
                }
            }
            [op, name, value] => {
                let (Some(op), Some(name), Some(value)) =
                    (op.as_str(), field(name), value.as_str())
                else {
                    return Err(invalid("Invalid Condition"));
                };
                match op.to_ascii_lowercase().as_str() {
                    "eq" => Ok(Condition::Eq(name, value.to_owned())),
                    "starts-with" => Ok(Condition::StartsWith(name, value.to_owned())),
                    _ => Err(invalid(&format!("Unknown condition operator: {op}"))),
                }
            }
            _ => Err(invalid("Invalid Condition")),
        },
        _ => Err(invalid("Invalid Condition")),
    }
}

impl PostPolicy {
    /// Decode and parse the `policy` field.
    pub fn parse(b64: &str) -> S3Result<PostPolicy> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| invalid("Invalid Base64 encoding."))?;
        let doc: Value = serde_json::from_slice(&raw).map_err(|_| invalid("Invalid JSON."))?;
        let expiration = doc
            .get("expiration")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("Policy missing expiration."))?;
        let expiration_ms = chrono::DateTime::parse_from_rfc3339(expiration)
            .map_err(|_| invalid("Invalid 'expiration' value."))?
            .timestamp_millis();
        let conditions = doc
            .get("conditions")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("Policy missing conditions."))?
            .iter()
            .map(condition)
            .collect::<S3Result<Vec<_>>>()?;
        Ok(PostPolicy {
            expiration_ms,
            conditions,
        })
    }

    /// The content-length-range the policy sets, if any.
    pub fn length_range(&self) -> Option<(u64, u64)> {
        self.conditions.iter().find_map(|c| match c {
            Condition::LengthRange(lo, hi) => Some((*lo, *hi)),
            _ => None,
        })
    }

    /// Check the form's fields (names lower case; `bucket` is the addressed bucket) at
    /// `now_ms`: AccessDenied with S3's reason when the policy expired, a condition fails or
    /// a field has no condition.
    pub fn check(&self, fields: &[(String, String)], bucket: &str, now_ms: i64) -> S3Result<()> {
        if now_ms > self.expiration_ms {
            return Err(refused("Policy expired.".into()));
        }
        let value = |name: &str| -> &str {
            if name == "bucket" {
                return bucket;
            }
            fields
                .iter()
                .find(|(n, _)| n == name)
                .map_or("", |(_, v)| v.as_str())
        };
        for c in &self.conditions {
            let (ok, shown) = match c {
                Condition::Eq(f, v) => (value(f) == v, format!("[\"eq\", \"${f}\", \"{v}\"]")),
                Condition::StartsWith(f, p) => (
                    value(f).starts_with(p.as_str()),
                    format!("[\"starts-with\", \"${f}\", \"{p}\"]"),
                ),
                Condition::LengthRange(..) => (true, String::new()),
            };
            if !ok {
                return Err(refused(format!("Policy Condition failed: {shown}")));
            }
        }
        for (name, _) in fields {
            let named = self.conditions.iter().any(|c| match c {
                Condition::Eq(f, _) | Condition::StartsWith(f, _) => f == name,
                Condition::LengthRange(..) => false,
            });
            if !named && !EXEMPT.contains(&name.as_str()) && !name.starts_with("x-ignore-") {
                return Err(refused(format!("Extra input fields: {name}")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const DOC: &str = r#"{"expiration":"2030-01-01T00:00:00.000Z","conditions":[
        {"bucket":"b"},["starts-with","$key","uploads/"],{"acl":"private"},
        ["eq","$Content-Type","image/png"],["content-length-range",1,1048576],
        {"x-amz-credential":"AK/20300101/us-east-1/s3/aws4_request"},
        {"x-amz-algorithm":"AWS4-HMAC-SHA256"},{"x-amz-date":"20300101T000000Z"}]}"#;

    #[test]
    fn conditions_hold_or_say_which_failed() {
        let p = PostPolicy::parse(&b64(DOC)).unwrap();
        assert_eq!(p.length_range(), Some((1, 1_048_576)));
        let good = [
            ("key", "uploads/a.png"),
            ("acl", "private"),
            ("content-type", "image/png"),
            ("x-amz-credential", "AK/20300101/us-east-1/s3/aws4_request"),
            ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
            ("x-amz-date", "20300101T000000Z"),
            ("policy", "..."),
            ("x-amz-signature", "..."),
            ("x-ignore-me", "1"),
        ];
        let now = 1_800_000_000_000;
        assert!(p.check(&fields(&good), "b", now).is_ok());
        let msg = |f: Vec<(String, String)>, bucket: &str, now: i64| {
            p.check(&f, bucket, now)
                .unwrap_err()
                .message
                .unwrap_or_default()
                .into_owned()
        };
        assert!(msg(fields(&good), "other", now).contains(r#"["eq", "$bucket", "b"]"#));
        let mut bad_key = fields(&good);
        bad_key[0].1 = "elsewhere/a.png".into();
        assert!(msg(bad_key, "b", now).contains("starts-with"));
        let mut extra = fields(&good);
        extra.push(("x-amz-meta-x".into(), "1".into()));
        assert!(msg(extra, "b", now).ends_with("Extra input fields: x-amz-meta-x"));
        assert!(msg(fields(&good), "b", 1_900_000_000_000).ends_with("Policy expired."));
    }

    #[test]
    fn bad_documents_are_invalid_policy_documents() {
        let docs = [
            "not base64!".to_owned(),
            b64("{"),
            b64(r#"{"conditions":[]}"#),
            b64(r#"{"expiration":"tomorrow","conditions":[]}"#),
            b64(r#"{"expiration":"2030-01-01T00:00:00Z"}"#),
            b64(r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["like","$key","a"]]}"#),
            b64(
                r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range",9,1]]}"#,
            ),
            b64(r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[{"a":"b","c":"d"}]}"#),
            b64(r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[7]}"#),
        ];
        for d in docs {
            let e = PostPolicy::parse(&d).unwrap_err();
            assert_eq!(e.code, S3ErrorCode::InvalidPolicyDocument, "{d}");
        }
    }
}
