//! Server access logging's configuration: `<BucketLoggingStatus>` parsed for PutBucketLogging
//! and written for GetBucketLogging, and the document stored for the bucket. What the log
//! records and how it is delivered is [`crate::access_log`]'s.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::acl::xml::{grant, write_grant, GrantXml};
use super::acl::{Grant, Permission};
use crate::model::owner::owner_id;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::xml::{self, XmlWriter};

/// The stored document's format (a field of it: a later format adds one).
pub const FORMAT: u32 = 1;

/// Most TargetGrants (as an ACL's grants).
const MAX_GRANTS: usize = 100;

/// Where a bucket's access log goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggingStatus {
    /// [`FORMAT`].
    pub format: u32,
    /// The bucket the log objects are written to.
    pub target_bucket: String,
    /// What their keys start with.
    pub target_prefix: String,
    /// Who else the log objects are granted to (the target bucket's owner owns them).
    pub grants: Vec<Grant>,
    /// How their keys are made (None: not given, a simple prefix).
    pub key_format: Option<KeyFormat>,
    /// The logged bucket's owner (its owner id as records keep it): every record's first
    /// field, and who owns the target bucket.
    pub bucket_owner: String,
}

/// `TargetObjectKeyFormat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyFormat {
    /// `[TargetPrefix][YYYY]-[MM]-[DD]-[hh]-[mm]-[ss]-[UniqueString]`.
    Simple,
    /// `[TargetPrefix][SourceAccountId]/[SourceRegion]/[SourceBucket]/[YYYY]/[MM]/[DD]/` and
    /// the simple name, dated by the requests (EventTime, the default) or the delivery.
    Partitioned {
        /// `PartitionDateSource` as given.
        date_source: Option<DateSource>,
    },
}

/// `PartitionDateSource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DateSource {
    /// The day the logged requests were made (one log object per day).
    EventTime,
    /// The time the log object was delivered.
    DeliveryTime,
}

impl DateSource {
    fn as_str(self) -> &'static str {
        match self {
            DateSource::EventTime => "EventTime",
            DateSource::DeliveryTime => "DeliveryTime",
        }
    }
}

#[derive(Debug, Deserialize)]
struct StatusXml {
    #[serde(rename = "LoggingEnabled")]
    enabled: Option<EnabledXml>,
}

#[derive(Debug, Deserialize)]
struct EnabledXml {
    #[serde(rename = "TargetBucket")]
    bucket: Option<String>,
    #[serde(rename = "TargetPrefix")]
    prefix: Option<String>,
    #[serde(rename = "TargetGrants")]
    grants: Option<GrantsXml>,
    #[serde(rename = "TargetObjectKeyFormat")]
    key_format: Option<KeyFormatXml>,
}

#[derive(Debug, Deserialize)]
struct GrantsXml {
    #[serde(rename = "Grant", default)]
    grants: Vec<GrantXml>,
}

#[derive(Debug, Deserialize)]
struct KeyFormatXml {
    #[serde(rename = "SimplePrefix")]
    simple: Option<IgnoredAny>,
    #[serde(rename = "PartitionedPrefix")]
    partitioned: Option<PartitionedXml>,
}

#[derive(Debug, Deserialize)]
struct PartitionedXml {
    #[serde(rename = "PartitionDateSource")]
    date_source: Option<String>,
}

fn malformed() -> S3Error {
    S3Error::new(S3ErrorCode::MalformedXML)
}

/// What a PutBucketLogging body asks for: a target (None: logging off). `bucket_owner` is
/// the logged bucket's owner. The target itself is checked by the handler.
pub fn parse(body: &[u8], bucket_owner: &str) -> S3Result<Option<LoggingStatus>> {
    let doc: StatusXml = xml::from_body(body)?;
    let Some(e) = doc.enabled else {
        return Ok(None);
    };
    let (Some(target_bucket), Some(target_prefix)) = (e.bucket, e.prefix) else {
        return Err(malformed());
    };
    let target_bucket = target_bucket.trim().to_owned();
    if target_bucket.is_empty() {
        return Err(malformed());
    }
    let given = e.grants.map(|g| g.grants).unwrap_or_default();
    if given.len() > MAX_GRANTS {
        return Err(malformed());
    }
    let mut grants = Vec::with_capacity(given.len());
    for g in given {
        let g = grant(g, malformed)?;
        // BucketLogsPermission: FULL_CONTROL, READ or WRITE.
        if !matches!(
            g.permission,
            Permission::FullControl | Permission::Read | Permission::Write
        ) {
            return Err(malformed());
        }
        grants.push(g);
    }
    let key_format = match e.key_format {
        None => None,
        Some(KeyFormatXml {
            simple: Some(_),
            partitioned: None,
        }) => Some(KeyFormat::Simple),
        Some(KeyFormatXml {
            simple: None,
            partitioned: Some(p),
        }) => Some(KeyFormat::Partitioned {
            date_source: match p.date_source.as_deref().map(str::trim) {
                None => None,
                Some("EventTime") => Some(DateSource::EventTime),
                Some("DeliveryTime") => Some(DateSource::DeliveryTime),
                Some(_) => return Err(malformed()),
            },
        }),
        Some(_) => return Err(malformed()),
    };
    Ok(Some(LoggingStatus {
        format: FORMAT,
        target_bucket,
        target_prefix,
        grants,
        key_format,
        bucket_owner: bucket_owner.to_owned(),
    }))
}

/// The `<BucketLoggingStatus>` of a bucket (logging off: `status` None).
pub fn to_xml(status: Option<&LoggingStatus>) -> String {
    let mut x = XmlWriter::new();
    x.open_ns("BucketLoggingStatus");
    if let Some(s) = status {
        x.open("LoggingEnabled");
        x.elem("TargetBucket", &s.target_bucket);
        if !s.grants.is_empty() {
            let canonical = owner_id(&s.bucket_owner);
            x.open("TargetGrants");
            for g in &s.grants {
                write_grant(&mut x, g, &s.bucket_owner, &canonical);
            }
            x.close("TargetGrants");
        }
        x.elem("TargetPrefix", &s.target_prefix);
        if let Some(f) = s.key_format {
            x.open("TargetObjectKeyFormat");
            match f {
                KeyFormat::Simple => x.elem("SimplePrefix", ""),
                KeyFormat::Partitioned { date_source } => {
                    x.open("PartitionedPrefix");
                    x.opt("PartitionDateSource", date_source.map(DateSource::as_str));
                    x.close("PartitionedPrefix");
                }
            }
            x.close("TargetObjectKeyFormat");
        }
        x.close("LoggingEnabled");
    }
    x.close("BucketLoggingStatus");
    x.finish()
}

/// The stored form.
pub fn encode(s: &LoggingStatus) -> String {
    // Strings, numbers, enums and options always serialize.
    serde_json::to_string(s).unwrap_or_default()
}

/// A stored document (None: it does not decode, or is of a later format).
pub fn decode(doc: &str) -> Option<LoggingStatus> {
    serde_json::from_str::<LoggingStatus>(doc)
        .ok()
        .filter(|s| s.format == FORMAT)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::acl::{Grantee, Group};

    const OWNER: &str = "AKIAOWNER";

    fn status(inner: &str) -> String {
        format!(
            "<BucketLoggingStatus xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{inner}</BucketLoggingStatus>"
        )
    }

    fn enabled(inner: &str) -> String {
        status(&format!("<LoggingEnabled>{inner}</LoggingEnabled>"))
    }

    #[test]
    fn an_empty_status_turns_logging_off() {
        assert_eq!(parse(status("").as_bytes(), OWNER).unwrap(), None);
        assert_eq!(
            to_xml(None),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BucketLoggingStatus xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></BucketLoggingStatus>"
        );
    }

    #[test]
    fn a_target_round_trips_through_the_document_and_the_store() {
        let body = enabled(
            "<TargetBucket>logs</TargetBucket><TargetGrants><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant></TargetGrants><TargetPrefix>web/</TargetPrefix><TargetObjectKeyFormat><PartitionedPrefix><PartitionDateSource>DeliveryTime</PartitionDateSource></PartitionedPrefix></TargetObjectKeyFormat>",
        );
        let s = parse(body.as_bytes(), OWNER).unwrap().unwrap();
        assert_eq!(s.target_bucket, "logs");
        assert_eq!(s.target_prefix, "web/");
        assert_eq!(
            s.grants,
            vec![Grant {
                grantee: Grantee::Group(Group::AllUsers),
                permission: Permission::Read
            }]
        );
        assert_eq!(
            s.key_format,
            Some(KeyFormat::Partitioned {
                date_source: Some(DateSource::DeliveryTime)
            })
        );
        assert_eq!(decode(&encode(&s)), Some(s.clone()));
        let again = to_xml(Some(&s));
        assert!(again.contains("<TargetBucket>logs</TargetBucket><TargetGrants><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant></TargetGrants><TargetPrefix>web/</TargetPrefix><TargetObjectKeyFormat><PartitionedPrefix><PartitionDateSource>DeliveryTime</PartitionDateSource></PartitionedPrefix></TargetObjectKeyFormat>"), "{again}");
        // What GetBucketLogging writes, PutBucketLogging reads.
        assert_eq!(parse(again.as_bytes(), OWNER).unwrap(), Some(s));
    }

    #[test]
    fn a_simple_prefix_and_an_absent_format_stay_apart() {
        let simple = enabled(
            "<TargetBucket>logs</TargetBucket><TargetPrefix></TargetPrefix><TargetObjectKeyFormat><SimplePrefix/></TargetObjectKeyFormat>",
        );
        let s = parse(simple.as_bytes(), OWNER).unwrap().unwrap();
        assert_eq!(s.key_format, Some(KeyFormat::Simple));
        assert_eq!(s.target_prefix, "");
        assert!(to_xml(Some(&s)).contains("<SimplePrefix></SimplePrefix>"));
        let none = enabled("<TargetBucket>logs</TargetBucket><TargetPrefix>p</TargetPrefix>");
        let s = parse(none.as_bytes(), OWNER).unwrap().unwrap();
        assert_eq!(s.key_format, None);
        assert!(!to_xml(Some(&s)).contains("TargetObjectKeyFormat"));
    }

    #[test]
    fn bad_documents_are_malformed() {
        for inner in [
            // No prefix, no bucket, an empty bucket.
            "<TargetBucket>logs</TargetBucket>",
            "<TargetPrefix>p</TargetPrefix>",
            "<TargetBucket> </TargetBucket><TargetPrefix>p</TargetPrefix>",
            // Both key formats, neither, an unknown date source.
            "<TargetBucket>l</TargetBucket><TargetPrefix>p</TargetPrefix><TargetObjectKeyFormat><SimplePrefix/><PartitionedPrefix/></TargetObjectKeyFormat>",
            "<TargetBucket>l</TargetBucket><TargetPrefix>p</TargetPrefix><TargetObjectKeyFormat></TargetObjectKeyFormat>",
            "<TargetBucket>l</TargetBucket><TargetPrefix>p</TargetPrefix><TargetObjectKeyFormat><PartitionedPrefix><PartitionDateSource>Tuesday</PartitionDateSource></PartitionedPrefix></TargetObjectKeyFormat>",
            // A permission logs cannot be granted.
            "<TargetBucket>l</TargetBucket><TargetPrefix>p</TargetPrefix><TargetGrants><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>WRITE_ACP</Permission></Grant></TargetGrants>",
        ] {
            let e = parse(enabled(inner).as_bytes(), OWNER).unwrap_err();
            assert_eq!(e.code, S3ErrorCode::MalformedXML, "{inner}");
        }
        let e = parse(b"<BucketLoggingStatus><LoggingEnabled>", OWNER).unwrap_err();
        assert_eq!(e.code, S3ErrorCode::MalformedXML);
    }

    #[test]
    fn a_document_of_a_later_format_is_not_taken_for_this_one() {
        let mut s = parse(
            enabled("<TargetBucket>l</TargetBucket><TargetPrefix>p</TargetPrefix>").as_bytes(),
            OWNER,
        )
        .unwrap()
        .unwrap();
        s.format = FORMAT + 1;
        assert_eq!(decode(&encode(&s)), None);
    }
}
