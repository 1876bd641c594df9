//! One server access log record: the fields of AWS's documented format, in its order,
//! space-separated, `-` for what is unknown or does not apply, on one line.
//!
//! ```text
//! owner bucket [06/Feb/2019:00:00:38 +0000] 192.0.2.3 requester REQUESTID REST.GET.OBJECT key
//! "GET /bucket/key HTTP/1.1" 200 - 113 113 7 6 "referer" "user-agent" version-id host-id SigV4
//! cipher AuthHeader host TLSv1.2 access-point-arn aclRequired region
//! ```
//!
//! What Coffer cannot know is `-`: the TLS cipher suite and version (the listener does not hand
//! them to requests), the access point (there are none), and whether an ACL was needed.
//! Signatures and session tokens in a presigned URL's query never reach the log: their values
//! are replaced by `REDACTED`.

use std::fmt::Write as _;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::s3::router::Endpoint;

/// Query parameters whose values are secrets, or as good as (a signature proves a secret key
/// for as long as the URL is valid).
const REDACTED: [&str; 3] = ["x-amz-signature", "signature", "x-amz-security-token"];

/// How keys are written: URL-encoded, `/` and the unreserved characters kept.
const KEY_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Everything a record says, known once the response's head is written; the bytes sent and
/// the total time are known when its body has been sent ([`Record::line`]).
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// The logged bucket's owner, as a canonical user id.
    pub bucket_owner: String,
    /// The logged bucket.
    pub bucket: String,
    /// When the request arrived, ms since the epoch.
    pub time_ms: i64,
    /// The peer's address.
    pub remote_ip: Option<String>,
    /// Who signed it: a canonical user id, or an IAM user's ARN (None: anonymous or refused).
    pub requester: Option<String>,
    /// The request id.
    pub request_id: String,
    /// `REST.GET.OBJECT`, ... ([`operation`]).
    pub operation: String,
    /// The object key, if the operation takes one.
    pub key: Option<String>,
    /// Method, path and query as received (secrets redacted), and the protocol.
    pub request_uri: String,
    /// The status sent.
    pub status: u16,
    /// The S3 error code sent, if any.
    pub error_code: Option<String>,
    /// The object's whole size, where the request names one and it is known.
    pub object_size: Option<u64>,
    /// Milliseconds from the request's arrival to its response's head.
    pub turnaround_ms: u64,
    /// `Referer`.
    pub referer: Option<String>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// The `versionId` asked for.
    pub version_id: Option<String>,
    /// `SigV2` or `SigV4`.
    pub signature_version: Option<&'static str>,
    /// `AuthHeader` or `QueryString`.
    pub auth_type: Option<&'static str>,
    /// `Host`.
    pub host: Option<String>,
    /// The region that served it.
    pub region: String,
}

impl Record {
    /// The record's line (with its newline), once `bytes_sent` body bytes went out and
    /// `total_ms` passed since the request arrived.
    pub fn line(&self, bytes_sent: u64, total_ms: u64) -> String {
        let mut out = String::with_capacity(512);
        let dash = |v: Option<&str>| v.filter(|s| !s.is_empty()).unwrap_or("-").to_owned();
        let num = |v: Option<u64>| v.map_or("-".to_owned(), |n| n.to_string());
        let fields = [
            dash(Some(&self.bucket_owner)),
            dash(Some(&self.bucket)),
            log_time(self.time_ms),
            dash(self.remote_ip.as_deref()),
            dash(self.requester.as_deref()),
            dash(Some(&self.request_id)),
            dash(Some(&self.operation)),
            self.key.as_deref().map_or("-".to_owned(), |k| {
                utf8_percent_encode(k, KEY_SET).to_string()
            }),
            quoted(Some(&self.request_uri)),
            self.status.to_string(),
            dash(self.error_code.as_deref()),
            num(Some(bytes_sent).filter(|n| *n > 0)),
            num(self.object_size),
            total_ms.to_string(),
            self.turnaround_ms.to_string(),
            quoted(self.referer.as_deref()),
            quoted(self.user_agent.as_deref()),
            dash(self.version_id.as_deref()),
            // Host id: this server's x-amz-id-2 is the request id.
            dash(Some(&self.request_id)),
            dash(self.signature_version),
            // Cipher suite.
            "-".to_owned(),
            dash(self.auth_type),
            dash(self.host.as_deref()),
            // TLS version, access point ARN, aclRequired.
            "-".to_owned(),
            "-".to_owned(),
            "-".to_owned(),
            dash(Some(&self.region)),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            // A field is one token: whatever a client sent cannot add fields or lines.
            out.extend(f.chars().map(|c| if c.is_control() { '_' } else { c }));
        }
        out.push('\n');
        out
    }
}

/// `[06/Feb/2019:00:00:38 +0000]`.
fn log_time(ms: i64) -> String {
    let t = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    t.format("[%d/%b/%Y:%H:%M:%S +0000]").to_string()
}

/// A quoted field: `"-"` when absent; a quote or backslash inside is escaped as `\"`, `\\`.
fn quoted(v: Option<&str>) -> String {
    let v = v.filter(|s| !s.is_empty()).unwrap_or("-");
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `GET /bucket/key?query HTTP/1.1`, with secret query values redacted.
pub fn request_uri(method: &str, path: &str, query: &str, version: &str) -> String {
    let mut out = format!("{method} {path}");
    if !query.is_empty() {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            let name = pair.split_once('=').map_or(pair, |(n, _)| n);
            if REDACTED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
                let _ = write!(out, "{name}=REDACTED");
            } else {
                out.push_str(pair);
            }
        }
    }
    let _ = write!(out, " {version}");
    out
}

/// The operation's name in the log: `REST.<METHOD>.<RESOURCE>`, S3's names for the resource
/// types (`OBJECT`, `BUCKET`, `ACL`, `UPLOADS`, ...). `endpoint`: what the request was routed
/// to (None: it was refused before; then the resource is the bucket or the object). `sub`:
/// the query's sub-resource, for operations this server does not implement.
pub fn operation(method: &str, endpoint: Option<&Endpoint>, has_key: bool, sub: &str) -> String {
    use Endpoint as E;
    let mut method = method.to_ascii_uppercase();
    let resource = match endpoint {
        None if has_key => "OBJECT",
        None => "BUCKET",
        Some(e) => match e {
            E::ListBuckets => "SERVICE",
            E::CreateBucket
            | E::HeadBucket
            | E::DeleteBucket
            | E::ListObjects
            | E::ListObjectsV2 => "BUCKET",
            E::GetBucketLocation => "LOCATION",
            E::GetBucketVersioning | E::PutBucketVersioning => "VERSIONING",
            E::GetObjectLockConfiguration | E::PutObjectLockConfiguration => {
                "OBJECT_LOCK_CONFIGURATION"
            }
            E::GetBucketPolicy | E::PutBucketPolicy | E::DeleteBucketPolicy => "BUCKETPOLICY",
            E::GetBucketPolicyStatus => "BUCKETPOLICYSTATUS",
            E::GetBucketCors | E::PutBucketCors | E::DeleteBucketCors => "CORS",
            E::PreflightCors => "PREFLIGHT",
            E::GetBucketEncryption | E::PutBucketEncryption | E::DeleteBucketEncryption => {
                "ENCRYPTION"
            }
            E::GetBucketWebsite | E::PutBucketWebsite | E::DeleteBucketWebsite => "WEBSITE",
            E::GetBucketLifecycle | E::PutBucketLifecycle | E::DeleteBucketLifecycle => "LIFECYCLE",
            E::GetPublicAccessBlock | E::PutPublicAccessBlock | E::DeletePublicAccessBlock => {
                "PUBLIC_ACCESS_BLOCK"
            }
            E::GetBucketAcl | E::PutBucketAcl | E::GetObjectAcl { .. } | E::PutObjectAcl { .. } => {
                "ACL"
            }
            E::GetBucketLogging | E::PutBucketLogging => "LOGGING_STATUS",
            E::GetBucketOwnershipControls
            | E::PutBucketOwnershipControls
            | E::DeleteBucketOwnershipControls => "OWNERSHIP_CONTROLS",
            E::ListMultipartUploads | E::CreateMultipartUpload { .. } => "UPLOADS",
            E::ListObjectVersions => "BUCKETVERSIONS",
            E::DeleteObjects => "MULTI_OBJECT_DELETE",
            E::PostObject
            | E::PutObject { .. }
            | E::GetObject { .. }
            | E::HeadObject { .. }
            | E::DeleteObject { .. } => "OBJECT",
            E::CopyObject { .. } => {
                method = "COPY".to_owned();
                "OBJECT"
            }
            E::GetObjectAttributes { .. } => "OBJECT_ATTRIBUTES",
            E::GetObjectTagging { .. }
            | E::PutObjectTagging { .. }
            | E::DeleteObjectTagging { .. } => "OBJECT_TAGGING",
            E::GetObjectRetention { .. } | E::PutObjectRetention { .. } => "RETENTION",
            E::GetObjectLegalHold { .. } | E::PutObjectLegalHold { .. } => "LEGAL_HOLD",
            E::UploadPart { .. } => "PART",
            E::UploadPartCopy { .. } => {
                method = "COPY".to_owned();
                "PART"
            }
            E::CompleteMultipartUpload { .. }
            | E::AbortMultipartUpload { .. }
            | E::ListParts { .. } => "UPLOAD",
            E::NotImplemented(_) if !sub.is_empty() => {
                return format!("REST.{method}.{}", sub.to_ascii_uppercase());
            }
            E::NotImplemented(_) if has_key => "OBJECT",
            E::NotImplemented(_) => "BUCKET",
        },
    };
    format!("REST.{method}.{resource}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        Record {
            bucket_owner: "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be".into(),
            bucket: "photos".into(),
            time_ms: 1_549_411_238_000,
            remote_ip: Some("192.0.2.3".into()),
            requester: Some("arn:aws:iam:::user/alice".into()),
            request_id: "3E57427F3EXAMPLE".into(),
            operation: "REST.GET.OBJECT".into(),
            key: Some("2019/puppy dog.jpg".into()),
            request_uri: "GET /photos/2019/puppy%20dog.jpg HTTP/1.1".into(),
            status: 200,
            error_code: None,
            object_size: Some(113),
            turnaround_ms: 6,
            referer: None,
            user_agent: Some("aws-cli/2.15 \"quoted\"".into()),
            version_id: None,
            signature_version: Some("SigV4"),
            auth_type: Some("AuthHeader"),
            host: Some("127.0.0.1:9000".into()),
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn a_record_is_one_line_of_the_documented_fields() {
        let line = sample().line(113, 7);
        assert_eq!(
            line,
            "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be photos \
             [06/Feb/2019:00:00:38 +0000] 192.0.2.3 arn:aws:iam:::user/alice 3E57427F3EXAMPLE \
             REST.GET.OBJECT 2019/puppy%20dog.jpg \"GET /photos/2019/puppy%20dog.jpg HTTP/1.1\" \
             200 - 113 113 7 6 \"-\" \"aws-cli/2.15 \\\"quoted\\\"\" - 3E57427F3EXAMPLE SigV4 - \
             AuthHeader 127.0.0.1:9000 - - - us-east-1\n"
        );
    }

    #[test]
    fn nothing_sent_and_nothing_known_are_dashes_and_no_client_breaks_a_line() {
        let mut r = sample();
        r.requester = None;
        r.key = None;
        r.object_size = None;
        r.error_code = Some("NoSuchKey".into());
        r.status = 404;
        r.user_agent = Some("evil\nagent".into());
        let line = r.line(0, 1);
        assert_eq!(line.matches('\n').count(), 1);
        assert!(line.ends_with('\n'));
        assert!(
            line.contains(" - 3E57427F3EXAMPLE REST.GET.OBJECT - "),
            "{line}"
        );
        assert!(line.contains(" 404 NoSuchKey - - 1 6 "), "{line}");
        assert!(line.contains("\"evil_agent\""), "{line}");
    }

    #[test]
    fn signatures_never_reach_the_log() {
        let uri = request_uri(
            "GET",
            "/b/k",
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20250101&X-Amz-Signature=abcdef0123&x-amz-security-token=tok&Signature=v2sig",
            "HTTP/1.1",
        );
        assert_eq!(
            uri,
            "GET /b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20250101&X-Amz-Signature=REDACTED&x-amz-security-token=REDACTED&Signature=REDACTED HTTP/1.1"
        );
        assert_eq!(request_uri("PUT", "/b", "", "HTTP/1.1"), "PUT /b HTTP/1.1");
    }

    #[test]
    fn operations_are_named_as_s3_names_them() {
        let key = || "k".to_owned();
        let cases = [
            (
                "GET",
                Some(Endpoint::GetObject { key: key() }),
                "REST.GET.OBJECT",
            ),
            (
                "PUT",
                Some(Endpoint::CopyObject { key: key() }),
                "REST.COPY.OBJECT",
            ),
            ("GET", Some(Endpoint::ListObjectsV2), "REST.GET.BUCKET"),
            (
                "GET",
                Some(Endpoint::GetBucketLogging),
                "REST.GET.LOGGING_STATUS",
            ),
            (
                "GET",
                Some(Endpoint::GetBucketVersioning),
                "REST.GET.VERSIONING",
            ),
            (
                "POST",
                Some(Endpoint::DeleteObjects),
                "REST.POST.MULTI_OBJECT_DELETE",
            ),
            (
                "POST",
                Some(Endpoint::CreateMultipartUpload { key: key() }),
                "REST.POST.UPLOADS",
            ),
            ("PUT", None, "REST.PUT.BUCKET"),
            (
                "GET",
                Some(Endpoint::NotImplemented("GetBucketTagging")),
                "REST.GET.TAGGING",
            ),
        ];
        for (method, e, want) in cases {
            let sub = if want.ends_with("TAGGING") {
                "tagging"
            } else {
                ""
            };
            assert_eq!(operation(method, e.as_ref(), false, sub), want);
        }
        assert_eq!(operation("HEAD", None, true, ""), "REST.HEAD.OBJECT");
    }
}
