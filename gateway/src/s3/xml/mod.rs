//! XML in and out. Responses are written with [`XmlWriter`] (escaped text, no allocation per
//! element beyond the output string); request bodies are parsed with quick-xml's serde support
//! into the DTOs here, and anything that does not parse is `MalformedXML`.

pub mod writer;

use serde::Deserialize;

use super::error::{S3Error, S3ErrorCode};

pub use writer::{escape, XmlWriter, NS};

/// Parse a request body, mapping any failure to MalformedXML.
pub fn from_body<'de, T: Deserialize<'de>>(body: &'de [u8]) -> Result<T, S3Error> {
    let s = std::str::from_utf8(body).map_err(|_| S3Error::new(S3ErrorCode::MalformedXML))?;
    quick_xml::de::from_str(s).map_err(|_| S3Error::new(S3ErrorCode::MalformedXML))
}

/// `<CreateBucketConfiguration>`.
#[derive(Debug, Deserialize, Default)]
pub struct CreateBucketConfiguration {
    /// Region.
    #[serde(rename = "LocationConstraint", default)]
    pub location_constraint: Option<String>,
}

/// `<CompleteMultipartUpload>`.
#[derive(Debug, Deserialize)]
pub struct CompleteMultipartUpload {
    /// Parts.
    #[serde(rename = "Part", default)]
    pub parts: Vec<CompletedPart>,
}

/// One `<Part>` of CompleteMultipartUpload.
#[derive(Debug, Deserialize)]
pub struct CompletedPart {
    /// Part number.
    #[serde(rename = "PartNumber")]
    pub part_number: u32,
    /// ETag (quoted or not).
    #[serde(rename = "ETag")]
    pub etag: String,
    /// CRC32 checksum.
    #[serde(rename = "ChecksumCRC32", default)]
    pub checksum_crc32: Option<String>,
    /// CRC32C checksum.
    #[serde(rename = "ChecksumCRC32C", default)]
    pub checksum_crc32c: Option<String>,
    /// CRC64NVME checksum.
    #[serde(rename = "ChecksumCRC64NVME", default)]
    pub checksum_crc64nvme: Option<String>,
    /// SHA1 checksum.
    #[serde(rename = "ChecksumSHA1", default)]
    pub checksum_sha1: Option<String>,
    /// SHA256 checksum.
    #[serde(rename = "ChecksumSHA256", default)]
    pub checksum_sha256: Option<String>,
}

/// `<Delete>` of DeleteObjects.
#[derive(Debug, Deserialize)]
pub struct Delete {
    /// Quiet mode: report only errors.
    #[serde(rename = "Quiet", default)]
    pub quiet: bool,
    /// Objects.
    #[serde(rename = "Object", default)]
    pub objects: Vec<ObjectIdentifier>,
}

/// One `<Object>` of DeleteObjects.
#[derive(Debug, Deserialize)]
pub struct ObjectIdentifier {
    /// Key.
    #[serde(rename = "Key")]
    pub key: String,
    /// Version id.
    #[serde(rename = "VersionId", default)]
    pub version_id: Option<String>,
    /// Delete only if the current version has this ETag (a conditional delete).
    #[serde(rename = "ETag", default)]
    pub etag: Option<String>,
    /// ... was last modified at this time (an HTTP date or ISO 8601, to the second).
    #[serde(rename = "LastModifiedTime", default)]
    pub last_modified_time: Option<String>,
    /// ... has this size.
    #[serde(rename = "Size", default)]
    pub size: Option<String>,
}

impl ObjectIdentifier {
    /// Whether its deletion is conditional.
    pub fn is_conditional(&self) -> bool {
        self.etag.is_some() || self.last_modified_time.is_some() || self.size.is_some()
    }

    /// Its conditions, all to hold (InvalidArgument for a time or size that does not parse).
    pub fn precondition(&self) -> Result<coffer_proto::meta::WritePrecondition, S3ErrorCode> {
        use coffer_proto::meta::WritePrecondition as P;
        let mut all = Vec::new();
        if let Some(e) = &self.etag {
            all.push(P::EtagMatches(e.trim().trim_matches('"').to_owned()));
        }
        if let Some(t) = &self.last_modified_time {
            // SDKs send an HTTP date here; an ISO 8601 one is taken too.
            let t = t.trim();
            let secs = httpdate::parse_http_date(t)
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .and_then(|d| i64::try_from(d.as_secs()).ok())
                .or_else(|| {
                    chrono::DateTime::parse_from_rfc3339(t)
                        .ok()
                        .map(|d| d.timestamp())
                })
                .ok_or(S3ErrorCode::InvalidArgument)?;
            all.push(P::ModifiedAt(secs));
        }
        if let Some(n) = &self.size {
            let n = n.trim().parse().map_err(|_| S3ErrorCode::InvalidArgument)?;
            all.push(P::SizeIs(n));
        }
        Ok(P::all(all))
    }
}

/// An XML 200 response.
pub fn xml_ok(body: String) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/xml")
        .body(body)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn writer_golden() {
        let mut x = XmlWriter::new();
        x.open_ns("ListAllMyBucketsResult");
        x.elem("Name", "a<b>&\"c\"");
        x.opt("Missing", None);
        x.close("ListAllMyBucketsResult");
        assert_eq!(
            x.finish(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>a&lt;b&gt;&amp;&quot;c&quot;</Name></ListAllMyBucketsResult>"
        );
    }

    #[test]
    fn parses_complete_multipart_upload() {
        let body = br#"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
            <Part><PartNumber>1</PartNumber><ETag>"aa"</ETag></Part>
            <Part><ETag>bb</ETag><PartNumber>2</PartNumber><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>
        </CompleteMultipartUpload>"#;
        let c: CompleteMultipartUpload = from_body(body).unwrap();
        assert_eq!(c.parts.len(), 2);
        assert_eq!(c.parts[0].etag, "\"aa\"");
        assert_eq!(c.parts[1].part_number, 2);
        assert_eq!(c.parts[1].checksum_crc32.as_deref(), Some("AAAAAA=="));
    }

    #[test]
    fn parses_delete_and_rejects_garbage() {
        let d: Delete = from_body(b"<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object><Object><Key>b&amp;c</Key></Object></Delete>").unwrap();
        assert!(d.quiet);
        assert_eq!(d.objects[1].key, "b&c");
        assert_eq!(
            from_body::<Delete>(b"<Delete><Object>").unwrap_err().code,
            S3ErrorCode::MalformedXML
        );
        assert_eq!(
            from_body::<CompleteMultipartUpload>(b"not xml")
                .unwrap_err()
                .code,
            S3ErrorCode::MalformedXML
        );
    }
}
