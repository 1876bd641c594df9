//! Parsing and validating `<LifecycleConfiguration>` as PutBucketLifecycleConfiguration does:
//! the XML as clients send it (numbers read as text, so that a bad one gets S3's error, not a
//! parse failure), then every value and combination S3 refuses, with its code and message.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::{
    Expiration, Filter, Lifecycle, MinSize, Noncurrent, Rule, Tag, Transition, When, DAY, MAX_ID,
    MAX_NEWER_NONCURRENT, MAX_RULES, THIRTY_DAY_CLASSES, TRANSITION_CLASSES,
};
use crate::model::tags::{self, TagXml};
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::xml;

#[derive(Debug, Deserialize)]
struct ConfigXml {
    #[serde(rename = "Rule", default)]
    rules: Vec<RuleXml>,
}

#[derive(Debug, Deserialize)]
struct RuleXml {
    #[serde(rename = "ID")]
    id: Option<String>,
    #[serde(rename = "Status")]
    status: Option<String>,
    #[serde(rename = "Prefix")]
    prefix: Option<String>,
    #[serde(rename = "Filter")]
    filter: Option<FilterXml>,
    #[serde(rename = "Expiration")]
    expiration: Option<ExpirationXml>,
    #[serde(rename = "Transition", default)]
    transitions: Vec<TransitionXml>,
    #[serde(rename = "NoncurrentVersionExpiration")]
    noncurrent_expiration: Option<NoncurrentXml>,
    #[serde(rename = "NoncurrentVersionTransition", default)]
    noncurrent_transitions: Vec<NoncurrentXml>,
    #[serde(rename = "AbortIncompleteMultipartUpload")]
    abort: Option<AbortXml>,
}

#[derive(Debug, Deserialize, Default)]
struct FilterXml {
    #[serde(rename = "Prefix")]
    prefix: Option<String>,
    #[serde(rename = "Tag")]
    tag: Option<TagXml>,
    #[serde(rename = "ObjectSizeGreaterThan")]
    greater_than: Option<String>,
    #[serde(rename = "ObjectSizeLessThan")]
    less_than: Option<String>,
    #[serde(rename = "And")]
    and: Option<AndXml>,
}

#[derive(Debug, Deserialize)]
struct AndXml {
    #[serde(rename = "Prefix")]
    prefix: Option<String>,
    #[serde(rename = "Tag", default)]
    tags: Vec<TagXml>,
    #[serde(rename = "ObjectSizeGreaterThan")]
    greater_than: Option<String>,
    #[serde(rename = "ObjectSizeLessThan")]
    less_than: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ExpirationXml {
    #[serde(rename = "Days")]
    days: Option<String>,
    #[serde(rename = "Date")]
    date: Option<String>,
    #[serde(rename = "ExpiredObjectDeleteMarker")]
    delete_marker: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TransitionXml {
    #[serde(rename = "Days")]
    days: Option<String>,
    #[serde(rename = "Date")]
    date: Option<String>,
    #[serde(rename = "StorageClass")]
    storage_class: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NoncurrentXml {
    #[serde(rename = "NoncurrentDays")]
    days: Option<String>,
    #[serde(rename = "NewerNoncurrentVersions")]
    newer: Option<String>,
    #[serde(rename = "StorageClass")]
    storage_class: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AbortXml {
    #[serde(rename = "DaysAfterInitiation")]
    days: Option<String>,
}

fn malformed() -> S3Error {
    S3Error::new(S3ErrorCode::MalformedXML)
}

fn invalid_argument(msg: String, name: &str, value: &str) -> S3Error {
    S3Error::msg(S3ErrorCode::InvalidArgument, msg)
        .with("ArgumentName", name)
        .with("ArgumentValue", value)
}

fn invalid_request(msg: String) -> S3Error {
    S3Error::msg(S3ErrorCode::InvalidRequest, msg)
}

/// A whole number of the XML (anything else does not validate against S3's schema).
fn integer(v: &str) -> S3Result<i64> {
    v.trim().parse::<i64>().map_err(|_| malformed())
}

/// A positive number of days, or InvalidArgument with `msg`.
fn positive(v: &str, msg: &str, name: &str) -> S3Result<u32> {
    let n = integer(v)?;
    u32::try_from(n)
        .ok()
        .filter(|d| *d > 0)
        .ok_or_else(|| invalid_argument(msg.to_owned(), name, v.trim()))
}

/// An ISO 8601 time that must be a midnight UTC.
fn midnight(v: &str) -> S3Result<i64> {
    let v = v.trim();
    let t = DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            // A bare date is midnight of that day.
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
        })
        .map_err(|_| malformed())?;
    let secs = t.timestamp();
    if secs.rem_euclid(DAY) != 0 || t.timestamp_subsec_nanos() != 0 {
        return Err(invalid_argument(
            "'Date' must be at midnight GMT".into(),
            "Date",
            v,
        ));
    }
    Ok(secs)
}

/// A transition's storage class (MalformedXML for one the schema does not list).
fn transition_class(c: Option<String>) -> S3Result<String> {
    let c = c.ok_or_else(malformed)?;
    let c = c.trim();
    if !TRANSITION_CLASSES.contains(&c) {
        return Err(malformed());
    }
    Ok(c.to_owned())
}

fn size(v: &str, name: &str) -> S3Result<u64> {
    let n = integer(v)?;
    u64::try_from(n).map_err(|_| {
        invalid_argument(
            format!("'{name}' should be a non-negative integer"),
            name,
            v.trim(),
        )
    })
}

fn tag(t: TagXml) -> S3Result<Tag> {
    // The limits of an object's tags (InvalidTag past them).
    let one = vec![(t.key, t.value)];
    tags::validate(&one)?;
    let (key, value) = one.into_iter().next().unwrap_or_default();
    Ok(Tag { key, value })
}

fn size_range(gt: Option<u64>, lt: Option<u64>) -> S3Result<()> {
    if lt == Some(0) {
        return Err(invalid_argument(
            "'ObjectSizeLessThan' should be greater than 0".into(),
            "ObjectSizeLessThan",
            "0",
        ));
    }
    if let (Some(g), Some(l)) = (gt, lt) {
        if g >= l {
            return Err(invalid_argument(
                format!("ObjectSizeGreaterThan ({g}) must be less than ObjectSizeLessThan ({l})"),
                "ObjectSizeGreaterThan",
                &g.to_string(),
            ));
        }
    }
    Ok(())
}

fn filter(prefix: Option<String>, f: Option<FilterXml>) -> S3Result<Filter> {
    let f = match (prefix, f) {
        (Some(p), None) => return Ok(Filter::Legacy(p)),
        (None, Some(f)) => f,
        // Both, or neither: S3's schema wants exactly one.
        _ => return Err(malformed()),
    };
    let given = [
        f.prefix.is_some(),
        f.tag.is_some(),
        f.greater_than.is_some(),
        f.less_than.is_some(),
        f.and.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given > 1 {
        return Err(malformed());
    }
    if let Some(p) = f.prefix {
        return Ok(Filter::Prefix(p));
    }
    if let Some(t) = f.tag {
        return Ok(Filter::Tag(tag(t)?));
    }
    if let Some(g) = f.greater_than {
        return Ok(Filter::GreaterThan(size(&g, "ObjectSizeGreaterThan")?));
    }
    if let Some(l) = f.less_than {
        let l = size(&l, "ObjectSizeLessThan")?;
        size_range(None, Some(l))?;
        return Ok(Filter::LessThan(l));
    }
    let Some(and) = f.and else {
        return Ok(Filter::All);
    };
    let tags = and
        .tags
        .into_iter()
        .map(tag)
        .collect::<S3Result<Vec<_>>>()?;
    for (i, t) in tags.iter().enumerate() {
        if tags.iter().take(i).any(|s| s.key == t.key) {
            return Err(invalid_request(
                "Duplicate Tag Keys are not allowed.".into(),
            ));
        }
    }
    let greater_than = and
        .greater_than
        .map(|g| size(&g, "ObjectSizeGreaterThan"))
        .transpose()?;
    let less_than = and
        .less_than
        .map(|l| size(&l, "ObjectSizeLessThan"))
        .transpose()?;
    size_range(greater_than, less_than)?;
    let parts = usize::from(and.prefix.is_some())
        + tags.len()
        + usize::from(greater_than.is_some())
        + usize::from(less_than.is_some());
    if parts == 0 {
        return Err(malformed());
    }
    Ok(Filter::And {
        prefix: and.prefix,
        tags,
        greater_than,
        less_than,
    })
}

fn expiration(e: ExpirationXml) -> S3Result<Expiration> {
    match (e.days, e.date, e.delete_marker) {
        (Some(d), None, None) => Ok(Expiration::At(When::Days(positive(
            &d,
            "'Days' for Expiration action must be a positive integer",
            "Days",
        )?))),
        (None, Some(d), None) => Ok(Expiration::At(When::Date(midnight(&d)?))),
        (None, None, Some(m)) => match m.trim() {
            "true" => Ok(Expiration::DeleteMarker(true)),
            "false" => Ok(Expiration::DeleteMarker(false)),
            _ => Err(malformed()),
        },
        // Nothing, or more than one of Days, Date and ExpiredObjectDeleteMarker.
        _ => Err(malformed()),
    }
}

fn transition(t: TransitionXml) -> S3Result<Transition> {
    let storage_class = transition_class(t.storage_class)?;
    let when = match (t.days, t.date) {
        (Some(d), None) => {
            let n = integer(&d)?;
            let days = u32::try_from(n).map_err(|_| {
                invalid_argument(
                    "'Days' in Transition action must be nonnegative".into(),
                    "Days",
                    d.trim(),
                )
            })?;
            if days < 30 && THIRTY_DAY_CLASSES.contains(&storage_class.as_str()) {
                return Err(invalid_argument(
                    format!(
                        "'Days' in Transition action must be greater than or equal to 30 for \
                         storageClass '{storage_class}'"
                    ),
                    "Days",
                    d.trim(),
                ));
            }
            When::Days(days)
        }
        (None, Some(d)) => When::Date(midnight(&d)?),
        _ => return Err(malformed()),
    };
    Ok(Transition {
        when,
        storage_class,
    })
}

fn noncurrent(n: NoncurrentXml, transition: bool) -> S3Result<Noncurrent> {
    let action = if transition {
        "NoncurrentVersionTransition"
    } else {
        "NoncurrentVersionExpiration"
    };
    let storage_class = if transition {
        Some(transition_class(n.storage_class)?)
    } else if n.storage_class.is_some() {
        return Err(malformed());
    } else {
        None
    };
    let raw = n.days.ok_or_else(malformed)?;
    let parsed = integer(&raw)?;
    let days = u32::try_from(parsed)
        .ok()
        .filter(|d| transition || *d > 0)
        .ok_or_else(|| {
            invalid_argument(
                format!("'NoncurrentDays' for {action} action must be a positive integer"),
                "NoncurrentDays",
                raw.trim(),
            )
        })?;
    if let Some(c) = &storage_class {
        if days < 30 && THIRTY_DAY_CLASSES.contains(&c.as_str()) {
            return Err(invalid_argument(
                format!(
                    "'NoncurrentDays' in NoncurrentVersionTransition action must be greater \
                     than or equal to 30 for storageClass '{c}'"
                ),
                "NoncurrentDays",
                raw.trim(),
            ));
        }
    }
    let newer = match n.newer {
        None => None,
        Some(v) => {
            let k = integer(&v)?;
            Some(
                u32::try_from(k)
                    .ok()
                    .filter(|k| (1..=MAX_NEWER_NONCURRENT).contains(k))
                    .ok_or_else(|| {
                        invalid_argument(
                            format!(
                                "'NewerNoncurrentVersions' for {action} action must be a \
                                 positive integer up to {MAX_NEWER_NONCURRENT}"
                            ),
                            "NewerNoncurrentVersions",
                            v.trim(),
                        )
                    })?,
            )
        }
    };
    Ok(Noncurrent {
        days,
        newer,
        storage_class,
    })
}

/// A rule ID for a rule that came without one (S3 makes up a random one as well).
fn generated_id() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 36];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn rule(r: RuleXml) -> S3Result<Rule> {
    let enabled = match r.status.as_deref().map(str::trim) {
        Some("Enabled") => true,
        Some("Disabled") => false,
        _ => return Err(malformed()),
    };
    let id = match r.id {
        Some(id) if !id.is_empty() => id,
        _ => generated_id(),
    };
    if id.chars().count() > MAX_ID {
        return Err(invalid_argument(
            format!("ID length should not exceed allowed limit of {MAX_ID}"),
            "ID",
            &id,
        ));
    }
    let filter = filter(r.prefix, r.filter)?;
    let expiration = r.expiration.map(expiration).transpose()?;
    let transitions = r
        .transitions
        .into_iter()
        .map(transition)
        .collect::<S3Result<Vec<_>>>()?;
    let noncurrent_expiration = r
        .noncurrent_expiration
        .map(|n| noncurrent(n, false))
        .transpose()?;
    let noncurrent_transitions = r
        .noncurrent_transitions
        .into_iter()
        .map(|n| noncurrent(n, true))
        .collect::<S3Result<Vec<_>>>()?;
    let abort_incomplete_days = r
        .abort
        .map(|a| {
            let d = a.days.ok_or_else(malformed)?;
            positive(
                &d,
                "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a \
                 positive integer",
                "DaysAfterInitiation",
            )
        })
        .transpose()?;
    let rule = Rule {
        id,
        enabled,
        filter,
        expiration,
        transitions,
        noncurrent_expiration,
        noncurrent_transitions,
        abort_incomplete_days,
    };
    check_combinations(&rule)?;
    Ok(rule)
}

/// The combinations S3 refuses within one rule.
fn check_combinations(r: &Rule) -> S3Result<()> {
    if r.expiration.is_none()
        && r.transitions.is_empty()
        && r.noncurrent_expiration.is_none()
        && r.noncurrent_transitions.is_empty()
        && r.abort_incomplete_days.is_none()
    {
        return Err(invalid_request(
            "At least one action needs to be specified in a rule".into(),
        ));
    }
    let tagged = !r.filter.tags().is_empty();
    if tagged && matches!(r.expiration, Some(Expiration::DeleteMarker(true))) {
        return Err(invalid_request(
            "ExpiredObjectDeleteMarker cannot be specified with Tags in a rule's filter".into(),
        ));
    }
    if r.abort_incomplete_days.is_some() && (tagged || r.filter.has_size()) {
        return Err(invalid_request(
            "AbortIncompleteMultipartUpload cannot be specified with Tags or object size \
             filters"
                .into(),
        ));
    }
    let what = r.filter.describe();
    // Days and dates do not mix between a rule's expiration and transitions.
    let dated = r
        .transitions
        .iter()
        .map(|t| matches!(t.when, When::Date(_)))
        .chain(match r.expiration {
            Some(Expiration::At(w)) => Some(matches!(w, When::Date(_))),
            _ => None,
        })
        .collect::<Vec<_>>();
    if dated.iter().any(|d| *d) && dated.iter().any(|d| !*d) {
        return Err(invalid_request(format!(
            "Found mixed 'Date' and 'Days' based Expiration and Transition actions in \
             lifecycle rule for {what}"
        )));
    }
    for (i, t) in r.transitions.iter().enumerate() {
        if r.transitions
            .iter()
            .take(i)
            .any(|s| s.storage_class == t.storage_class)
        {
            return Err(invalid_request(format!(
                "'StorageClass' must be different for 'Transition' actions in same 'Rule' \
                 with {what}"
            )));
        }
        if let Some(Expiration::At(e)) = r.expiration {
            let later = match (e, t.when) {
                (When::Days(e), When::Days(t)) => e > t,
                (When::Date(e), When::Date(t)) => e > t,
                _ => true,
            };
            if !later {
                let unit = if matches!(e, When::Days(_)) {
                    "Days"
                } else {
                    "Date"
                };
                return Err(invalid_argument(
                    format!(
                        "'{unit}' in the Expiration action for {what} must be greater than \
                         '{unit}' in the Transition action"
                    ),
                    unit,
                    "",
                ));
            }
        }
    }
    for (i, t) in r.noncurrent_transitions.iter().enumerate() {
        if r.noncurrent_transitions
            .iter()
            .take(i)
            .any(|s| s.storage_class == t.storage_class)
        {
            return Err(invalid_request(format!(
                "'StorageClass' must be different for 'NoncurrentVersionTransition' actions \
                 in same 'Rule' with {what}"
            )));
        }
        if let Some(e) = &r.noncurrent_expiration {
            if e.days <= t.days {
                return Err(invalid_argument(
                    format!(
                        "'NoncurrentDays' in the NoncurrentVersionExpiration action for {what} \
                         must be greater than 'NoncurrentDays' in the \
                         NoncurrentVersionTransition action"
                    ),
                    "NoncurrentDays",
                    &e.days.to_string(),
                ));
            }
        }
    }
    Ok(())
}

/// Parse and validate a `<LifecycleConfiguration>` body as PutBucketLifecycleConfiguration
/// (and the older PutBucketLifecycle) does.
pub fn parse(body: &[u8], min_size: MinSize) -> S3Result<Lifecycle> {
    let conf: ConfigXml = xml::from_body(body)?;
    if conf.rules.is_empty() {
        return Err(malformed());
    }
    if conf.rules.len() > MAX_RULES {
        return Err(invalid_request(format!(
            "The number of lifecycle rules must not exceed the allowed limit of {MAX_RULES} \
             rules"
        )));
    }
    let rules = conf
        .rules
        .into_iter()
        .map(rule)
        .collect::<S3Result<Vec<_>>>()?;
    for (i, r) in rules.iter().enumerate() {
        if rules.iter().take(i).any(|s| s.id == r.id) {
            return Err(invalid_argument(
                "Rule ID must be unique. Found same ID for more than one rule".into(),
                "ID",
                &r.id,
            ));
        }
    }
    Ok(Lifecycle { rules, min_size })
}
