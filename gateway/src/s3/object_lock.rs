//! Object Lock in requests: the `x-amz-bucket-object-lock-enabled` header of CreateBucket, the
//! `x-amz-object-lock-*` headers of writes (or the bucket's default retention) that lock the
//! version a write makes, and the S3 documents of Object Lock (ObjectLockConfiguration,
//! Retention, LegalHold). What a lock forbids is decided in the state machine, by the rules of
//! `coffer_proto::lock`.

use actix_web::http::header::HeaderMap;
use coffer_proto::api::ClusterApiExt;
use coffer_proto::lock::{DefaultRetention, LockConfig, LockMode, Period, Retention, VersionLock};
use coffer_proto::meta::BucketConfigKind;
use coffer_proto::types::{BucketInfo, Versioning};
use serde::Deserialize;

use super::ctx::ReqCtx;
use super::error::{S3Error, S3ErrorCode, S3Result};
use super::headers::{self, get};
use super::xml::XmlWriter;

/// The headers that lock an object as it is written.
const LOCK: [&str; 3] = [
    "x-amz-object-lock-mode",
    "x-amz-object-lock-retain-until-date",
    "x-amz-object-lock-legal-hold",
];
/// The CreateBucket header that turns Object Lock on.
pub const ENABLED: &str = "x-amz-bucket-object-lock-enabled";

fn invalid(message: &'static str) -> S3Error {
    S3Error::msg(S3ErrorCode::InvalidArgument, message)
}

/// Whether a CreateBucket asks for Object Lock (`x-amz-bucket-object-lock-enabled: true`).
pub fn asked_at_creation(h: &HeaderMap) -> bool {
    get(h, ENABLED).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The Object Lock configuration of `bucket` (None: not enabled). Only a versioned bucket can
/// have one, so an unversioned bucket costs no read.
pub async fn config_of(ctx: &ReqCtx<'_>, bucket: &BucketInfo) -> S3Result<Option<LockConfig>> {
    if bucket.versioning != Versioning::Enabled {
        return Ok(None);
    }
    let doc = ctx
        .cluster
        .bucket_config(&bucket.name, BucketConfigKind::ObjectLock)
        .await?
        .flatten();
    Ok(doc.map(|d| serde_json::from_str::<LockConfig>(&d).unwrap_or_default()))
}

/// Parse an ISO 8601 date as S3's lock dates are written (`2030-01-01T00:00:00Z`, with or
/// without fractions).
fn parse_date(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.timestamp_millis())
}

/// A retention as a mode and a date name it, checked as S3 does.
fn retention(mode: &str, date: &str, now_ms: i64) -> S3Result<Retention> {
    let mode = LockMode::parse(mode).ok_or_else(|| invalid("Unknown wormMode directive."))?;
    let until_ms = parse_date(date)
        .ok_or_else(|| invalid("The retain until date must be provided in ISO 8601 format"))?;
    if until_ms <= now_ms {
        return Err(invalid("The retain until date must be in the future!"));
    }
    Ok(Retention { mode, until_ms })
}

/// The lock the version a write to `bucket` makes gets: what its `x-amz-object-lock-*`
/// headers ask for, else the bucket's default retention (None: no lock). `put`: a PutObject,
/// which must then carry Content-MD5 or a checksum, as S3 requires.
pub async fn for_write(
    ctx: &ReqCtx<'_>,
    bucket: &BucketInfo,
    h: &HeaderMap,
    put: bool,
) -> S3Result<Option<VersionLock>> {
    let asked = LOCK.iter().any(|n| h.contains_key(*n));
    let config = config_of(ctx, bucket).await?;
    let Some(config) = config else {
        if asked {
            return Err(S3Error::msg(
                S3ErrorCode::InvalidRequest,
                "Bucket is missing Object Lock Configuration",
            ));
        }
        return Ok(None);
    };
    let now = headers::now_ms();
    let retention = match (get(h, LOCK[0]), get(h, LOCK[1])) {
        (Some(mode), Some(date)) => Some(retention(mode, date, now)?),
        (None, None) => config.default.map(|d| d.from(now)),
        _ => return Err(invalid(
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
        )),
    };
    let legal_hold = match get(h, LOCK[2]) {
        None | Some("OFF") => false,
        Some("ON") => true,
        Some(_) => return Err(invalid("Legal Hold must be either of 'ON' or 'OFF'")),
    };
    if put && asked && !checksummed(h) {
        return Err(S3Error::msg(
            S3ErrorCode::InvalidRequest,
            "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters",
        ));
    }
    let lock = VersionLock {
        retention,
        legal_hold,
    };
    Ok((lock != VersionLock::default()).then_some(lock))
}

/// Whether a request on `key` bypasses governance retention: it asks to
/// (`x-amz-bypass-governance-retention: true`) and its caller is allowed
/// `s3:BypassGovernanceRetention`. Asking without the permission bypasses nothing, so the lock
/// refuses as it would have.
pub fn bypasses_governance(ctx: &ReqCtx<'_>, key: &str) -> bool {
    ctx.header("x-amz-bypass-governance-retention")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        && ctx
            .authz
            .allows_object(ctx.bucket_name, "s3:BypassGovernanceRetention", key)
}

/// The `x-amz-object-lock-*` headers GET and HEAD show about a version's `lock`: its retention
/// to a caller allowed `s3:GetObjectRetention`, its legal hold to one allowed
/// `s3:GetObjectLegalHold`, as S3 does.
pub fn shown(ctx: &ReqCtx<'_>, key: &str, lock: &VersionLock) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let allowed = |action| ctx.authz.allows_object(ctx.bucket_name, action, key);
    if let Some(r) = &lock.retention {
        if allowed("s3:GetObjectRetention") {
            out.push((LOCK[0], r.mode.as_str().to_owned()));
            out.push((LOCK[1], headers::iso_date(r.until_ms)));
        }
    }
    if allowed("s3:GetObjectLegalHold") {
        let on = if lock.legal_hold { "ON" } else { "OFF" };
        out.push((LOCK[2], on.to_owned()));
    }
    out
}

/// Whether a request carries Content-MD5 or a checksum of its body.
fn checksummed(h: &HeaderMap) -> bool {
    h.contains_key("content-md5")
        || h.contains_key("x-amz-sdk-checksum-algorithm")
        || h.keys().any(|k| k.as_str().starts_with("x-amz-checksum-"))
        || get(h, "x-amz-trailer").is_some_and(|t| t.starts_with("x-amz-checksum-"))
}

/// `<ObjectLockConfiguration>`.
#[derive(Debug, Deserialize)]
struct ConfigurationXml {
    #[serde(rename = "ObjectLockEnabled", default)]
    enabled: Option<String>,
    #[serde(rename = "Rule", default)]
    rule: Option<RuleXml>,
}

#[derive(Debug, Deserialize)]
struct RuleXml {
    #[serde(rename = "DefaultRetention")]
    default: DefaultRetentionXml,
}

#[derive(Debug, Deserialize)]
struct DefaultRetentionXml {
    #[serde(rename = "Mode", default)]
    mode: Option<String>,
    #[serde(rename = "Days", default)]
    days: Option<String>,
    #[serde(rename = "Years", default)]
    years: Option<String>,
}

/// A PutObjectLockConfiguration body, checked as S3 does.
pub fn parse_config(body: &[u8]) -> S3Result<LockConfig> {
    let c: ConfigurationXml = super::xml::from_body(body)?;
    let malformed = || S3Error::new(S3ErrorCode::MalformedXML);
    if c.enabled.as_deref() != Some("Enabled") {
        return Err(malformed());
    }
    let Some(rule) = c.rule else {
        return Ok(LockConfig { default: None });
    };
    let d = rule.default;
    let mode = d
        .mode
        .as_deref()
        .and_then(LockMode::parse)
        .ok_or_else(malformed)?;
    let number = |s: &str| {
        s.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| invalid("Default retention period must be a positive integer value."))
    };
    let period = match (d.days.as_deref(), d.years.as_deref()) {
        (Some(days), None) => Period::Days(number(days)?),
        (None, Some(years)) => Period::Years(number(years)?),
        _ => return Err(malformed()),
    };
    Ok(LockConfig {
        default: Some(DefaultRetention { mode, period }),
    })
}

/// The `<ObjectLockConfiguration>` of `c`.
pub fn config_xml(c: &LockConfig) -> String {
    let mut x = XmlWriter::new();
    x.open_ns("ObjectLockConfiguration");
    x.elem("ObjectLockEnabled", "Enabled");
    if let Some(d) = &c.default {
        x.open("Rule");
        x.open("DefaultRetention");
        x.elem("Mode", d.mode.as_str());
        match d.period {
            Period::Days(n) => x.elem("Days", &n.to_string()),
            Period::Years(n) => x.elem("Years", &n.to_string()),
        }
        x.close("DefaultRetention");
        x.close("Rule");
    }
    x.close("ObjectLockConfiguration");
    x.finish()
}

/// `<Retention>`.
#[derive(Debug, Deserialize)]
struct RetentionXml {
    #[serde(rename = "Mode", default)]
    mode: Option<String>,
    #[serde(rename = "RetainUntilDate", default)]
    until: Option<String>,
}

/// A PutObjectRetention body (None: remove the retention, an empty `<Retention/>`).
pub fn parse_retention(body: &[u8], now_ms: i64) -> S3Result<Option<Retention>> {
    let r: RetentionXml = super::xml::from_body(body)?;
    match (r.mode.as_deref(), r.until.as_deref()) {
        (Some(mode), Some(date)) => retention(mode, date, now_ms).map(Some),
        (None, None) => Ok(None),
        _ => Err(S3Error::new(S3ErrorCode::MalformedXML)),
    }
}

/// The `<Retention>` of `r`.
pub fn retention_xml(r: &Retention) -> String {
    let mut x = XmlWriter::new();
    x.open_ns("Retention");
    x.elem("Mode", r.mode.as_str());
    x.elem("RetainUntilDate", &headers::iso_date(r.until_ms));
    x.close("Retention");
    x.finish()
}

/// `<LegalHold>`.
#[derive(Debug, Deserialize)]
struct LegalHoldXml {
    #[serde(rename = "Status", default)]
    status: Option<String>,
}

/// A PutObjectLegalHold body: on or off.
pub fn parse_legal_hold(body: &[u8]) -> S3Result<bool> {
    let h: LegalHoldXml = super::xml::from_body(body)?;
    match h.status.as_deref() {
        Some("ON") => Ok(true),
        Some("OFF") => Ok(false),
        _ => Err(S3Error::new(S3ErrorCode::MalformedXML)),
    }
}

/// The `<LegalHold>` of a hold that is `on`.
pub fn legal_hold_xml(on: bool) -> String {
    let mut x = XmlWriter::new();
    x.open_ns("LegalHold");
    x.elem("Status", if on { "ON" } else { "OFF" });
    x.close("LegalHold");
    x.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn configurations_are_checked_as_s3_does() {
        let ok = b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>3</Days></DefaultRetention></Rule></ObjectLockConfiguration>";
        let c = parse_config(ok).unwrap();
        assert_eq!(
            c.default,
            Some(DefaultRetention {
                mode: LockMode::Governance,
                period: Period::Days(3)
            })
        );
        assert!(config_xml(&c).contains("<Days>3</Days>"));
        let bare = b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>";
        assert_eq!(parse_config(bare).unwrap().default, None);
        let code = |b: &[u8]| parse_config(b).unwrap_err().code.as_str();
        assert_eq!(code(b"<ObjectLockConfiguration/>"), "MalformedXML");
        assert_eq!(
            code(b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years></DefaultRetention></Rule></ObjectLockConfiguration>"),
            "MalformedXML"
        );
        assert_eq!(
            code(b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>0</Days></DefaultRetention></Rule></ObjectLockConfiguration>"),
            "InvalidArgument"
        );
        assert_eq!(
            code(b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>forever</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>"),
            "MalformedXML"
        );
    }

    #[test]
    fn retentions_need_a_known_mode_and_a_future_date() {
        let now = parse_date("2026-01-01T00:00:00Z").unwrap();
        let body = b"<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2030-01-01T00:00:00.000Z</RetainUntilDate></Retention>";
        let r = parse_retention(body, now).unwrap().unwrap();
        assert_eq!(r.mode, LockMode::Compliance);
        assert!(retention_xml(&r).contains("2030-01-01T00:00:00.000Z"));
        let past = b"<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2020-01-01T00:00:00Z</RetainUntilDate></Retention>";
        assert_eq!(
            parse_retention(past, now).unwrap_err().code.as_str(),
            "InvalidArgument"
        );
        let half = b"<Retention><Mode>COMPLIANCE</Mode></Retention>";
        assert_eq!(
            parse_retention(half, now).unwrap_err().code.as_str(),
            "MalformedXML"
        );
        let date = b"<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>soon</RetainUntilDate></Retention>";
        assert_eq!(
            parse_retention(date, now).unwrap_err().code.as_str(),
            "InvalidArgument"
        );
        assert_eq!(parse_retention(b"<Retention/>", now).unwrap(), None);
        assert!(parse_legal_hold(b"<LegalHold><Status>ON</Status></LegalHold>").unwrap());
        assert!(parse_legal_hold(b"<LegalHold><Status>on</Status></LegalHold>").is_err());
    }
}
