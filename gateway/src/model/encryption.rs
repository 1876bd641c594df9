//! Bucket default encryption: the `<ServerSideEncryptionConfiguration>` document (parsed,
//! validated, written back) and its stored form (JSON in the bucket's `Encryption` document),
//! which says how writes that ask for no encryption are encrypted.

use serde::{Deserialize, Serialize};

use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::xml::{self, XmlWriter};

/// A bucket's default encryption, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultEncryption {
    /// `AES256` (SSE-S3) or `aws:kms` (SSE-KMS).
    pub algorithm: String,
    /// The KMS key, as the configuration names it (aws:kms only; None: the default key).
    #[serde(default)]
    pub key_id: Option<String>,
    /// BucketKeyEnabled.
    #[serde(default)]
    pub bucket_key: bool,
}

#[derive(Debug, Deserialize)]
struct ConfigurationXml {
    #[serde(rename = "Rule", default)]
    rules: Vec<RuleXml>,
}

#[derive(Debug, Deserialize)]
struct RuleXml {
    #[serde(rename = "ApplyServerSideEncryptionByDefault")]
    apply: Option<ApplyXml>,
    #[serde(rename = "BucketKeyEnabled", default)]
    bucket_key: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct ApplyXml {
    #[serde(rename = "SSEAlgorithm")]
    algorithm: String,
    #[serde(rename = "KMSMasterKeyID", default)]
    key_id: Option<String>,
}

fn malformed() -> S3Error {
    S3Error::new(S3ErrorCode::MalformedXML)
}

/// Parse and validate a `<ServerSideEncryptionConfiguration>` body: one rule, an algorithm S3
/// has, a key id only with `aws:kms`. (As on S3, the key id is not checked against the key
/// service here: a write under a key that does not exist fails.)
pub fn parse(body: &[u8]) -> S3Result<DefaultEncryption> {
    let conf: ConfigurationXml = xml::from_body(body)?;
    let [rule] = <[RuleXml; 1]>::try_from(conf.rules).map_err(|_| malformed())?;
    let apply = rule.apply.ok_or_else(malformed)?;
    let algorithm = apply.algorithm.trim().to_owned();
    match algorithm.as_str() {
        "AES256" | "aws:kms" => {}
        "aws:kms:dsse" => {
            return Err(S3Error::msg(
                S3ErrorCode::NotImplemented,
                "DSSE-KMS is not implemented by this server",
            ))
        }
        _ => return Err(malformed()),
    }
    let key_id = apply
        .key_id
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty());
    if key_id.is_some() && algorithm != "aws:kms" {
        return Err(S3Error::msg(
            S3ErrorCode::InvalidArgument,
            "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms",
        ));
    }
    Ok(DefaultEncryption {
        algorithm,
        key_id,
        bucket_key: rule.bucket_key.unwrap_or(false),
    })
}

/// The stored form.
pub fn encode(d: &DefaultEncryption) -> String {
    // Strings and a boolean always serialize.
    serde_json::to_string(d).unwrap_or_default()
}

/// A stored document (None: it does not decode; it did when stored).
pub fn decode(doc: &str) -> Option<DefaultEncryption> {
    serde_json::from_str(doc).ok()
}

/// The configuration as GetBucketEncryption answers it.
pub fn to_xml(d: &DefaultEncryption) -> String {
    let mut x = XmlWriter::new();
    x.open_ns("ServerSideEncryptionConfiguration");
    x.open("Rule");
    x.open("ApplyServerSideEncryptionByDefault");
    x.elem("SSEAlgorithm", &d.algorithm);
    if let Some(k) = &d.key_id {
        x.elem("KMSMasterKeyID", k);
    }
    x.close("ApplyServerSideEncryptionByDefault");
    x.elem(
        "BucketKeyEnabled",
        if d.bucket_key { "true" } else { "false" },
    );
    x.close("Rule");
    x.close("ServerSideEncryptionConfiguration");
    x.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn conf(rules: &str) -> String {
        format!(
            r#"<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{rules}</ServerSideEncryptionConfiguration>"#
        )
    }

    fn rule(algorithm: &str, key: Option<&str>, bucket_key: Option<&str>) -> String {
        let key = key.map_or(String::new(), |k| {
            format!("<KMSMasterKeyID>{k}</KMSMasterKeyID>")
        });
        let bk = bucket_key.map_or(String::new(), |b| {
            format!("<BucketKeyEnabled>{b}</BucketKeyEnabled>")
        });
        format!(
            "<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>{algorithm}</SSEAlgorithm>{key}</ApplyServerSideEncryptionByDefault>{bk}</Rule>"
        )
    }

    fn code(body: &str) -> &'static str {
        parse(body.as_bytes()).unwrap_err().code.as_str()
    }

    #[test]
    fn configurations_parse_and_come_back_the_same() {
        let d = parse(conf(&rule("AES256", None, None)).as_bytes()).unwrap();
        assert_eq!(
            d,
            DefaultEncryption {
                algorithm: "AES256".into(),
                key_id: None,
                bucket_key: false
            }
        );
        let d = parse(conf(&rule("aws:kms", Some("testkey-1"), Some("true"))).as_bytes()).unwrap();
        assert_eq!(
            (d.key_id.as_deref(), d.bucket_key),
            (Some("testkey-1"), true)
        );
        assert_eq!(decode(&encode(&d)), Some(d.clone()));
        let xml = to_xml(&d);
        assert!(
            xml.contains(
                "<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>testkey-1</KMSMasterKeyID>"
            ),
            "{xml}"
        );
        assert!(xml.contains("<BucketKeyEnabled>true</BucketKeyEnabled>"));
        assert_eq!(parse(xml.as_bytes()).unwrap(), d);
    }

    #[test]
    fn bad_configurations_get_s3s_errors() {
        assert_eq!(code("<ServerSideEncryptionConfiguration"), "MalformedXML");
        assert_eq!(code(&conf("")), "MalformedXML");
        let two = format!(
            "{}{}",
            rule("AES256", None, None),
            rule("AES256", None, None)
        );
        assert_eq!(code(&conf(&two)), "MalformedXML");
        assert_eq!(code(&conf(&rule("rot13", None, None))), "MalformedXML");
        assert_eq!(code(&conf("<Rule></Rule>")), "MalformedXML");
        assert_eq!(
            code(&conf(&rule("AES256", Some("k"), None))),
            "InvalidArgument"
        );
        assert_eq!(
            code(&conf(&rule("aws:kms:dsse", None, None))),
            "NotImplemented"
        );
        assert_eq!(
            code(&conf(&rule("AES256", None, Some("perhaps")))),
            "MalformedXML"
        );
    }
}
