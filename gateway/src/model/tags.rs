//! Tag sets: validated as S3 does, the `<Tagging>` document, and the stored form (JSON of
//! `[(key, value)]` beside the object). Policies see them as `s3:ExistingObjectTag/<key>`
//! ([`crate::authz`]).

use serde::Deserialize;

use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::xml::{self, XmlWriter};

/// Tags one object may have (as S3).
pub const MAX_TAGS: usize = 10;

/// A tag set, in order.
pub type Tags = coffer_proto::types::TagSet;

fn invalid(msg: &'static str) -> S3Error {
    S3Error::msg(S3ErrorCode::InvalidTag, msg)
}

/// Check a tag set as S3 does: at most 10 tags, keys of 1 to 128 characters not starting
/// with `aws:`, values of at most 256, no key twice.
pub fn validate(tags: &Tags) -> S3Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(S3Error::msg(
            S3ErrorCode::InvalidTag,
            "Object tags cannot be greater than 10",
        ));
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(invalid("The TagKey you have provided is invalid"));
        }
        if v.chars().count() > 256 {
            return Err(invalid("The TagValue you have provided is invalid"));
        }
        if k.starts_with("aws:") {
            return Err(invalid("Your TagKey cannot be prefixed with aws:"));
        }
        if tags.iter().take(i).any(|(seen, _)| seen == k) {
            return Err(invalid("Cannot provide multiple Tags with the same key"));
        }
    }
    Ok(())
}

/// The stored document.
pub fn encode(tags: &Tags) -> String {
    coffer_proto::types::encode_tags(tags)
}

/// The tags of a stored document (none if it does not decode: it did when stored).
pub fn decode(doc: Option<&str>) -> Tags {
    doc.and_then(coffer_proto::types::decode_tags)
        .unwrap_or_default()
}

#[derive(Debug, Deserialize)]
struct TaggingXml {
    #[serde(rename = "TagSet")]
    set: TagSetXml,
}

#[derive(Debug, Deserialize)]
struct TagSetXml {
    #[serde(rename = "Tag", default)]
    tags: Vec<TagXml>,
}

/// One `<Tag>` of a request body (also of a lifecycle rule's filter).
#[derive(Debug, Deserialize)]
pub(crate) struct TagXml {
    #[serde(rename = "Key")]
    pub(crate) key: String,
    #[serde(rename = "Value", default)]
    pub(crate) value: String,
}

/// Parse and validate a `<Tagging>` body.
pub fn parse(body: &[u8]) -> S3Result<Tags> {
    let doc: TaggingXml = xml::from_body(body)?;
    let tags = doc.set.tags.into_iter().map(|t| (t.key, t.value)).collect();
    validate(&tags)?;
    Ok(tags)
}

/// The `<Tagging>` document.
pub fn to_xml(tags: &Tags) -> String {
    let mut x = XmlWriter::new();
    x.open_ns("Tagging");
    x.open("TagSet");
    for (k, v) in tags {
        x.open("Tag");
        x.elem("Key", k);
        x.elem("Value", v);
        x.close("Tag");
    }
    x.close("TagSet");
    x.close("Tagging");
    x.finish()
}
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn tag_sets_parse_and_validate_as_s3() {
        let doc = b"<Tagging><TagSet><Tag><Key>team</Key><Value>red</Value></Tag><Tag><Key>empty</Key><Value></Value></Tag></TagSet></Tagging>";
        let t = parse(doc).unwrap();
        assert_eq!(t, tags(&[("team", "red"), ("empty", "")]));
        assert_eq!(parse(to_xml(&t).as_bytes()).unwrap(), t);
        assert_eq!(decode(Some(&encode(&t))), t);
        let long_key = "k".repeat(129);
        let long_value = "v".repeat(257);
        let eleven: Vec<(String, String)> =
            (0..11).map(|i| (format!("k{i}"), String::new())).collect();
        let cases = [
            (tags(&[("a", "1"), ("a", "2")]), S3ErrorCode::InvalidTag),
            (tags(&[("aws:x", "1")]), S3ErrorCode::InvalidTag),
            (tags(&[(long_key.as_str(), "1")]), S3ErrorCode::InvalidTag),
            (tags(&[("k", long_value.as_str())]), S3ErrorCode::InvalidTag),
            (tags(&[("", "1")]), S3ErrorCode::InvalidTag),
            (eleven, S3ErrorCode::InvalidTag),
        ];
        for (t, code) in cases {
            assert_eq!(validate(&t).unwrap_err().code, code, "{t:?}");
        }
        assert_eq!(
            parse(b"<Tagging><TagSet><Tag><Value>x</Value></Tag></TagSet></Tagging>")
                .unwrap_err()
                .code,
            S3ErrorCode::MalformedXML
        );
    }
}
