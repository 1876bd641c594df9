//! Routing: S3 picks the operation from the method, the query's sub-resources and a few headers,
//! not from the path. [`Endpoint::route`] turns a request into one typed variant; anything that
//! is valid S3 but not built yet is [`Endpoint::NotImplemented`] (answered `NotImplemented`,
//! never a wrong success), and a sub-resource S3 has no operation for with that method is
//! MethodNotAllowed. The sub-resource table is checked against botocore's S3 model in tests.

use actix_web::http::Method;

use super::error::{S3Error, S3ErrorCode};

mod subresources;

use subresources::LISTED_WITHOUT_ID;
pub use subresources::{Level, SUBRESOURCE_OPERATIONS};

/// Decoded query parameters, in request order.
#[derive(Debug, Default, Clone)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    /// Parse a raw query string (`a=b&c`); `+` and percent escapes are decoded.
    pub fn parse(raw: &str) -> Self {
        let pairs = raw
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect();
        Query(pairs)
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` is present (with or without a value).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// One S3 operation, with what it needs from the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// GET /
    ListBuckets,
    /// PUT /bucket
    CreateBucket,
    /// HEAD /bucket
    HeadBucket,
    /// DELETE /bucket
    DeleteBucket,
    /// GET /bucket?location
    GetBucketLocation,
    /// GET /bucket?versioning
    GetBucketVersioning,
    /// PUT /bucket?versioning
    PutBucketVersioning,
    /// GET /bucket?object-lock
    GetObjectLockConfiguration,
    /// PUT /bucket?object-lock
    PutObjectLockConfiguration,
    /// GET /bucket?policy
    GetBucketPolicy,
    /// PUT /bucket?policy
    PutBucketPolicy,
    /// DELETE /bucket?policy
    DeleteBucketPolicy,
    /// GET /bucket?policyStatus
    GetBucketPolicyStatus,
    /// GET /bucket?cors
    GetBucketCors,
    /// PUT /bucket?cors
    PutBucketCors,
    /// DELETE /bucket?cors
    DeleteBucketCors,
    /// OPTIONS /bucket[/key]: a CORS preflight
    PreflightCors,
    /// GET /bucket?encryption
    GetBucketEncryption,
    /// PUT /bucket?encryption
    PutBucketEncryption,
    /// DELETE /bucket?encryption
    DeleteBucketEncryption,
    /// GET /bucket?website
    GetBucketWebsite,
    /// PUT /bucket?website
    PutBucketWebsite,
    /// DELETE /bucket?website
    DeleteBucketWebsite,
    /// GET /bucket?lifecycle
    GetBucketLifecycle,
    /// PUT /bucket?lifecycle
    PutBucketLifecycle,
    /// DELETE /bucket?lifecycle
    DeleteBucketLifecycle,
    /// GET /bucket?publicAccessBlock
    GetPublicAccessBlock,
    /// PUT /bucket?publicAccessBlock
    PutPublicAccessBlock,
    /// DELETE /bucket?publicAccessBlock
    DeletePublicAccessBlock,
    /// GET /bucket?acl
    GetBucketAcl,
    /// PUT /bucket?acl
    PutBucketAcl,
    /// GET /bucket?ownershipControls
    GetBucketOwnershipControls,
    /// PUT /bucket?ownershipControls
    PutBucketOwnershipControls,
    /// GET /bucket?logging
    GetBucketLogging,
    /// PUT /bucket?logging
    PutBucketLogging,
    /// DELETE /bucket?ownershipControls
    DeleteBucketOwnershipControls,
    /// GET /bucket (v1)
    ListObjects,
    /// GET /bucket?list-type=2
    ListObjectsV2,
    /// GET /bucket?uploads
    ListMultipartUploads,
    /// GET /bucket?versions
    ListObjectVersions,
    /// POST /bucket?delete
    DeleteObjects,
    /// POST /bucket: an HTML form upload
    PostObject,
    /// PUT /bucket/key
    PutObject { key: String },
    /// PUT /bucket/key with x-amz-copy-source
    CopyObject { key: String },
    /// GET /bucket/key
    GetObject { key: String },
    /// HEAD /bucket/key
    HeadObject { key: String },
    /// GET /bucket/key?attributes
    GetObjectAttributes { key: String },
    /// DELETE /bucket/key
    DeleteObject { key: String },
    /// GET /bucket/key?tagging
    GetObjectTagging { key: String },
    /// PUT /bucket/key?tagging
    PutObjectTagging { key: String },
    /// DELETE /bucket/key?tagging
    DeleteObjectTagging { key: String },
    /// GET /bucket/key?acl
    GetObjectAcl { key: String },
    /// PUT /bucket/key?acl
    PutObjectAcl { key: String },
    /// GET /bucket/key?retention
    GetObjectRetention { key: String },
    /// PUT /bucket/key?retention
    PutObjectRetention { key: String },
    /// GET /bucket/key?legal-hold
    GetObjectLegalHold { key: String },
    /// PUT /bucket/key?legal-hold
    PutObjectLegalHold { key: String },
    /// POST /bucket/key?uploads
    CreateMultipartUpload { key: String },
    /// PUT /bucket/key?partNumber&uploadId
    UploadPart {
        key: String,
        part_number: u32,
        upload_id: String,
    },
    /// PUT /bucket/key?partNumber&uploadId with x-amz-copy-source
    UploadPartCopy {
        key: String,
        part_number: u32,
        upload_id: String,
    },
    /// POST /bucket/key?uploadId
    CompleteMultipartUpload { key: String, upload_id: String },
    /// DELETE /bucket/key?uploadId
    AbortMultipartUpload { key: String, upload_id: String },
    /// GET /bucket/key?uploadId
    ListParts { key: String, upload_id: String },
    /// Valid S3, not built yet: the operation's name in the S3 API.
    NotImplemented(&'static str),
}

fn part_number(q: &Query) -> Result<u32, S3Error> {
    let n = q.get("partNumber").unwrap_or_default();
    match n.parse::<u32>() {
        Ok(n @ 1..=10_000) => Ok(n),
        _ => Err(S3Error::msg(
            S3ErrorCode::InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive",
        )
        .with("ArgumentName", "partNumber")
        .with("ArgumentValue", n)),
    }
}

impl Endpoint {
    /// Route a request. `bucket` and `key` come from path- or virtual-host-style addressing.
    pub fn route(
        method: &Method,
        bucket: Option<&str>,
        key: Option<&str>,
        q: &Query,
        has_copy_source: bool,
    ) -> Result<Endpoint, S3Error> {
        let not_allowed = || Err(S3Error::new(S3ErrorCode::MethodNotAllowed));
        let Some(_bucket) = bucket else {
            return match *method {
                Method::GET => Ok(Endpoint::ListBuckets),
                _ => not_allowed(),
            };
        };
        if *method == Method::OPTIONS {
            return Ok(Endpoint::PreflightCors);
        }
        let key = key.filter(|k| !k.is_empty());
        let level = if key.is_some() {
            Level::Object
        } else {
            Level::Bucket
        };
        // The first query parameter that is a sub-resource picks the operation: one of this
        // level's, or none (a bucket's sub-resource on an object, or the reverse, is refused).
        let sub = q.0.iter().find_map(|(name, _)| {
            SUBRESOURCE_OPERATIONS
                .iter()
                .any(|(_, s, _, _)| s == name)
                .then_some(name.as_str())
        });
        if let Some(sub) = sub {
            let Some((_, _, _, op)) = SUBRESOURCE_OPERATIONS
                .iter()
                .find(|(l, s, m, _)| *l == level && *s == sub && *m == method.as_str())
            else {
                return not_allowed();
            };
            let listed = LISTED_WITHOUT_ID
                .iter()
                .find(|(s, _)| *s == sub && key.is_none() && *method == Method::GET);
            if let (Some((_, list)), false) = (listed, q.has("id")) {
                return Ok(Endpoint::NotImplemented(list));
            }
            return Ok(match key {
                None => Self::bucket_operation(op),
                Some(key) => Self::object_operation(op, key.to_owned()),
            });
        }
        let Some(key) = key.map(str::to_owned) else {
            return match *method {
                Method::PUT => Ok(Endpoint::CreateBucket),
                Method::HEAD => Ok(Endpoint::HeadBucket),
                Method::DELETE => Ok(Endpoint::DeleteBucket),
                Method::GET if q.get("list-type") == Some("2") => Ok(Endpoint::ListObjectsV2),
                Method::GET => Ok(Endpoint::ListObjects),
                Method::POST => Ok(Endpoint::PostObject),
                _ => not_allowed(),
            };
        };
        let upload_id = q.get("uploadId").map(str::to_owned);
        Ok(match (method.clone(), upload_id) {
            (Method::PUT, Some(upload_id)) if q.has("partNumber") => {
                let part_number = part_number(q)?;
                if has_copy_source {
                    Endpoint::UploadPartCopy {
                        key,
                        part_number,
                        upload_id,
                    }
                } else {
                    Endpoint::UploadPart {
                        key,
                        part_number,
                        upload_id,
                    }
                }
            }
            (Method::PUT, _) if has_copy_source => Endpoint::CopyObject { key },
            (Method::PUT, _) => Endpoint::PutObject { key },
            (Method::GET, Some(upload_id)) => Endpoint::ListParts { key, upload_id },
            (Method::GET, None) => Endpoint::GetObject { key },
            (Method::HEAD, _) => Endpoint::HeadObject { key },
            (Method::DELETE, Some(upload_id)) => Endpoint::AbortMultipartUpload { key, upload_id },
            (Method::DELETE, None) => Endpoint::DeleteObject { key },
            (Method::POST, Some(upload_id)) => Endpoint::CompleteMultipartUpload { key, upload_id },
            _ => return not_allowed(),
        })
    }

    /// The endpoint of a bucket operation of [`SUBRESOURCE_OPERATIONS`] (NotImplemented
    /// under its name when it is not built).
    fn bucket_operation(op: &'static str) -> Endpoint {
        match op {
            "GetBucketAcl" => Endpoint::GetBucketAcl,
            "GetBucketLogging" => Endpoint::GetBucketLogging,
            "PutBucketLogging" => Endpoint::PutBucketLogging,
            "PutBucketAcl" => Endpoint::PutBucketAcl,
            "DeleteBucketCors" => Endpoint::DeleteBucketCors,
            "GetBucketCors" => Endpoint::GetBucketCors,
            "PutBucketCors" => Endpoint::PutBucketCors,
            "GetBucketEncryption" => Endpoint::GetBucketEncryption,
            "PutBucketEncryption" => Endpoint::PutBucketEncryption,
            "DeleteBucketEncryption" => Endpoint::DeleteBucketEncryption,
            "GetBucketWebsite" => Endpoint::GetBucketWebsite,
            "PutBucketWebsite" => Endpoint::PutBucketWebsite,
            "DeleteBucketWebsite" => Endpoint::DeleteBucketWebsite,
            "GetBucketLifecycleConfiguration" => Endpoint::GetBucketLifecycle,
            "PutBucketLifecycleConfiguration" => Endpoint::PutBucketLifecycle,
            "DeleteBucketLifecycle" => Endpoint::DeleteBucketLifecycle,
            "DeleteObjects" => Endpoint::DeleteObjects,
            "GetBucketLocation" => Endpoint::GetBucketLocation,
            "DeleteBucketOwnershipControls" => Endpoint::DeleteBucketOwnershipControls,
            "GetBucketOwnershipControls" => Endpoint::GetBucketOwnershipControls,
            "PutBucketOwnershipControls" => Endpoint::PutBucketOwnershipControls,
            "DeleteBucketPolicy" => Endpoint::DeleteBucketPolicy,
            "GetBucketPolicy" => Endpoint::GetBucketPolicy,
            "PutBucketPolicy" => Endpoint::PutBucketPolicy,
            "GetBucketPolicyStatus" => Endpoint::GetBucketPolicyStatus,
            "DeletePublicAccessBlock" => Endpoint::DeletePublicAccessBlock,
            "GetPublicAccessBlock" => Endpoint::GetPublicAccessBlock,
            "PutPublicAccessBlock" => Endpoint::PutPublicAccessBlock,
            "ListMultipartUploads" => Endpoint::ListMultipartUploads,
            "GetBucketVersioning" => Endpoint::GetBucketVersioning,
            "PutBucketVersioning" => Endpoint::PutBucketVersioning,
            "GetObjectLockConfiguration" => Endpoint::GetObjectLockConfiguration,
            "PutObjectLockConfiguration" => Endpoint::PutObjectLockConfiguration,
            "ListObjectVersions" => Endpoint::ListObjectVersions,
            other => Endpoint::NotImplemented(other),
        }
    }

    /// The endpoint of an object operation of [`SUBRESOURCE_OPERATIONS`] (NotImplemented
    /// under its name when it is not built).
    fn object_operation(op: &'static str, key: String) -> Endpoint {
        match op {
            "GetObjectAcl" => Endpoint::GetObjectAcl { key },
            "GetObjectRetention" => Endpoint::GetObjectRetention { key },
            "PutObjectRetention" => Endpoint::PutObjectRetention { key },
            "GetObjectLegalHold" => Endpoint::GetObjectLegalHold { key },
            "PutObjectLegalHold" => Endpoint::PutObjectLegalHold { key },
            "PutObjectAcl" => Endpoint::PutObjectAcl { key },
            "GetObjectAttributes" => Endpoint::GetObjectAttributes { key },
            "DeleteObjectTagging" => Endpoint::DeleteObjectTagging { key },
            "GetObjectTagging" => Endpoint::GetObjectTagging { key },
            "PutObjectTagging" => Endpoint::PutObjectTagging { key },
            "CreateMultipartUpload" => Endpoint::CreateMultipartUpload { key },
            other => Endpoint::NotImplemented(other),
        }
    }

    /// The operation name (logs, metrics).
    pub fn name(&self) -> &'static str {
        match self {
            Endpoint::ListBuckets => "ListBuckets",
            Endpoint::CreateBucket => "CreateBucket",
            Endpoint::HeadBucket => "HeadBucket",
            Endpoint::DeleteBucket => "DeleteBucket",
            Endpoint::GetBucketLocation => "GetBucketLocation",
            Endpoint::GetBucketVersioning => "GetBucketVersioning",
            Endpoint::PutBucketVersioning => "PutBucketVersioning",
            Endpoint::GetObjectLockConfiguration => "GetObjectLockConfiguration",
            Endpoint::PutObjectLockConfiguration => "PutObjectLockConfiguration",
            Endpoint::GetBucketPolicy => "GetBucketPolicy",
            Endpoint::PutBucketPolicy => "PutBucketPolicy",
            Endpoint::DeleteBucketPolicy => "DeleteBucketPolicy",
            Endpoint::GetBucketPolicyStatus => "GetBucketPolicyStatus",
            Endpoint::GetBucketCors => "GetBucketCors",
            Endpoint::PutBucketCors => "PutBucketCors",
            Endpoint::DeleteBucketCors => "DeleteBucketCors",
            Endpoint::PreflightCors => "PreflightCors",
            Endpoint::GetBucketEncryption => "GetBucketEncryption",
            Endpoint::PutBucketEncryption => "PutBucketEncryption",
            Endpoint::DeleteBucketEncryption => "DeleteBucketEncryption",
            Endpoint::GetBucketWebsite => "GetBucketWebsite",
            Endpoint::PutBucketWebsite => "PutBucketWebsite",
            Endpoint::DeleteBucketWebsite => "DeleteBucketWebsite",
            Endpoint::GetBucketLifecycle => "GetBucketLifecycleConfiguration",
            Endpoint::PutBucketLifecycle => "PutBucketLifecycleConfiguration",
            Endpoint::DeleteBucketLifecycle => "DeleteBucketLifecycle",
            Endpoint::GetPublicAccessBlock => "GetPublicAccessBlock",
            Endpoint::PutPublicAccessBlock => "PutPublicAccessBlock",
            Endpoint::DeletePublicAccessBlock => "DeletePublicAccessBlock",
            Endpoint::GetBucketAcl => "GetBucketAcl",
            Endpoint::GetBucketLogging => "GetBucketLogging",
            Endpoint::PutBucketLogging => "PutBucketLogging",
            Endpoint::PutBucketAcl => "PutBucketAcl",
            Endpoint::GetBucketOwnershipControls => "GetBucketOwnershipControls",
            Endpoint::PutBucketOwnershipControls => "PutBucketOwnershipControls",
            Endpoint::DeleteBucketOwnershipControls => "DeleteBucketOwnershipControls",
            Endpoint::GetObjectTagging { .. } => "GetObjectTagging",
            Endpoint::PutObjectTagging { .. } => "PutObjectTagging",
            Endpoint::DeleteObjectTagging { .. } => "DeleteObjectTagging",
            Endpoint::GetObjectAcl { .. } => "GetObjectAcl",
            Endpoint::GetObjectRetention { .. } => "GetObjectRetention",
            Endpoint::PutObjectRetention { .. } => "PutObjectRetention",
            Endpoint::GetObjectLegalHold { .. } => "GetObjectLegalHold",
            Endpoint::PutObjectLegalHold { .. } => "PutObjectLegalHold",
            Endpoint::PutObjectAcl { .. } => "PutObjectAcl",
            Endpoint::ListObjects => "ListObjects",
            Endpoint::ListObjectsV2 => "ListObjectsV2",
            Endpoint::ListMultipartUploads => "ListMultipartUploads",
            Endpoint::ListObjectVersions => "ListObjectVersions",
            Endpoint::DeleteObjects => "DeleteObjects",
            Endpoint::PostObject => "PostObject",
            Endpoint::PutObject { .. } => "PutObject",
            Endpoint::CopyObject { .. } => "CopyObject",
            Endpoint::GetObject { .. } => "GetObject",
            Endpoint::HeadObject { .. } => "HeadObject",
            Endpoint::GetObjectAttributes { .. } => "GetObjectAttributes",
            Endpoint::DeleteObject { .. } => "DeleteObject",
            Endpoint::CreateMultipartUpload { .. } => "CreateMultipartUpload",
            Endpoint::UploadPart { .. } => "UploadPart",
            Endpoint::UploadPartCopy { .. } => "UploadPartCopy",
            Endpoint::CompleteMultipartUpload { .. } => "CompleteMultipartUpload",
            Endpoint::AbortMultipartUpload { .. } => "AbortMultipartUpload",
            Endpoint::ListParts { .. } => "ListParts",
            Endpoint::NotImplemented(n) => n,
        }
    }

    /// The IAM action a policy must allow for this request, and what it applies to (AWS's
    /// service authorization reference for S3). None: nothing to check up front (an answer of
    /// NotImplemented; DeleteObjects, which checks each key).
    pub fn action(&self) -> Option<(&'static str, Target<'_>)> {
        use Target::{Account, Bucket, Object};
        Some(match self {
            Endpoint::ListBuckets => ("s3:ListAllMyBuckets", Account),
            Endpoint::CreateBucket => ("s3:CreateBucket", Bucket),
            Endpoint::HeadBucket | Endpoint::ListObjects | Endpoint::ListObjectsV2 => {
                ("s3:ListBucket", Bucket)
            }
            Endpoint::DeleteBucket => ("s3:DeleteBucket", Bucket),
            Endpoint::GetBucketLocation => ("s3:GetBucketLocation", Bucket),
            Endpoint::GetBucketVersioning => ("s3:GetBucketVersioning", Bucket),
            Endpoint::PutBucketVersioning => ("s3:PutBucketVersioning", Bucket),
            Endpoint::GetObjectLockConfiguration => ("s3:GetBucketObjectLockConfiguration", Bucket),
            Endpoint::PutObjectLockConfiguration => ("s3:PutBucketObjectLockConfiguration", Bucket),
            Endpoint::GetBucketPolicy => ("s3:GetBucketPolicy", Bucket),
            Endpoint::PutBucketPolicy => ("s3:PutBucketPolicy", Bucket),
            Endpoint::DeleteBucketPolicy => ("s3:DeleteBucketPolicy", Bucket),
            Endpoint::GetBucketPolicyStatus => ("s3:GetBucketPolicyStatus", Bucket),
            Endpoint::GetBucketCors => ("s3:GetBucketCORS", Bucket),
            // S3 has no DeleteBucketCORS action: deleting the rules is putting none.
            Endpoint::PutBucketCors | Endpoint::DeleteBucketCors => ("s3:PutBucketCORS", Bucket),
            Endpoint::GetBucketEncryption => ("s3:GetEncryptionConfiguration", Bucket),
            // Deleting the configuration is putting none, as for CORS.
            Endpoint::PutBucketEncryption | Endpoint::DeleteBucketEncryption => {
                ("s3:PutEncryptionConfiguration", Bucket)
            }
            Endpoint::GetBucketWebsite => ("s3:GetBucketWebsite", Bucket),
            Endpoint::PutBucketWebsite => ("s3:PutBucketWebsite", Bucket),
            Endpoint::DeleteBucketWebsite => ("s3:DeleteBucketWebsite", Bucket),
            Endpoint::GetBucketLifecycle => ("s3:GetLifecycleConfiguration", Bucket),
            // Deleting the rules is putting none, as for CORS.
            Endpoint::PutBucketLifecycle | Endpoint::DeleteBucketLifecycle => {
                ("s3:PutLifecycleConfiguration", Bucket)
            }
            Endpoint::GetPublicAccessBlock => ("s3:GetBucketPublicAccessBlock", Bucket),
            Endpoint::PutPublicAccessBlock | Endpoint::DeletePublicAccessBlock => {
                ("s3:PutBucketPublicAccessBlock", Bucket)
            }
            Endpoint::ListMultipartUploads => ("s3:ListBucketMultipartUploads", Bucket),
            Endpoint::ListObjectVersions => ("s3:ListBucketVersions", Bucket),
            Endpoint::GetBucketAcl => ("s3:GetBucketAcl", Bucket),
            Endpoint::GetBucketLogging => ("s3:GetBucketLogging", Bucket),
            Endpoint::PutBucketLogging => ("s3:PutBucketLogging", Bucket),
            Endpoint::PutBucketAcl => ("s3:PutBucketAcl", Bucket),
            Endpoint::GetBucketOwnershipControls => ("s3:GetBucketOwnershipControls", Bucket),
            // As on AWS, deleting the setting needs the permission to put it.
            Endpoint::PutBucketOwnershipControls | Endpoint::DeleteBucketOwnershipControls => {
                ("s3:PutBucketOwnershipControls", Bucket)
            }
            Endpoint::GetObjectTagging { key } => ("s3:GetObjectTagging", Object(key)),
            Endpoint::PutObjectTagging { key } => ("s3:PutObjectTagging", Object(key)),
            Endpoint::DeleteObjectTagging { key } => ("s3:DeleteObjectTagging", Object(key)),
            Endpoint::GetObjectAcl { key } => ("s3:GetObjectAcl", Object(key)),
            Endpoint::GetObjectRetention { key } => ("s3:GetObjectRetention", Object(key)),
            Endpoint::PutObjectRetention { key } => ("s3:PutObjectRetention", Object(key)),
            Endpoint::GetObjectLegalHold { key } => ("s3:GetObjectLegalHold", Object(key)),
            Endpoint::PutObjectLegalHold { key } => ("s3:PutObjectLegalHold", Object(key)),
            Endpoint::PutObjectAcl { key } => ("s3:PutObjectAcl", Object(key)),
            Endpoint::PutObject { key }
            | Endpoint::CopyObject { key }
            | Endpoint::CreateMultipartUpload { key }
            | Endpoint::UploadPart { key, .. }
            | Endpoint::UploadPartCopy { key, .. }
            | Endpoint::CompleteMultipartUpload { key, .. } => ("s3:PutObject", Object(key)),
            Endpoint::GetObject { key } | Endpoint::HeadObject { key } => {
                ("s3:GetObject", Object(key))
            }
            Endpoint::GetObjectAttributes { key } => ("s3:GetObjectAttributes", Object(key)),
            Endpoint::DeleteObject { key } => ("s3:DeleteObject", Object(key)),
            Endpoint::AbortMultipartUpload { key, .. } => ("s3:AbortMultipartUpload", Object(key)),
            Endpoint::ListParts { key, .. } => ("s3:ListMultipartUploadParts", Object(key)),
            // A preflight is anonymous by nature: the CORS rules decide. A form upload is
            // signed by its form, where the key is too: it is checked once the form is read.
            Endpoint::DeleteObjects
            | Endpoint::PreflightCors
            | Endpoint::PostObject
            | Endpoint::NotImplemented(_) => return None,
        })
    }

    /// Whether this manages the bucket policy itself: the bucket owner and the root key may
    /// always do it, so that no policy can lock them out (as on AWS).
    pub fn manages_policy(&self) -> bool {
        matches!(
            self,
            Endpoint::GetBucketPolicy | Endpoint::PutBucketPolicy | Endpoint::DeleteBucketPolicy
        )
    }
}

/// What an action applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// No bucket (`*`).
    Account,
    /// The addressed bucket.
    Bucket,
    /// An object of the addressed bucket.
    Object(&'a str),
}

#[cfg(test)]
mod model_tests;

#[cfg(test)]
mod tests;
