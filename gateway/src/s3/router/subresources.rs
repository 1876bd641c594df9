//! The sub-resource table: every S3 operation addressed by a sub-resource of a bucket or an
//! object, from botocore's service model (checked against it in `model_tests`).

/// Where a sub-resource applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `/bucket?sub`.
    Bucket,
    /// `/bucket/key?sub`.
    Object,
}

/// Every S3 operation addressed by a sub-resource, as botocore's service model binds it
/// (`data/s3/2006-03-01/service-2.json`): level, sub-resource, method, operation. A request
/// with a sub-resource of its level and a method not listed for it is MethodNotAllowed; a
/// listed operation that is not built is NotImplemented under its name. The router tests walk
/// the model and check this table against it.
pub const SUBRESOURCE_OPERATIONS: &[(Level, &str, &str, &str)] = &[
    (Level::Bucket, "abac", "GET", "GetBucketAbac"),
    (Level::Bucket, "abac", "PUT", "PutBucketAbac"),
    (
        Level::Bucket,
        "accelerate",
        "GET",
        "GetBucketAccelerateConfiguration",
    ),
    (
        Level::Bucket,
        "accelerate",
        "PUT",
        "PutBucketAccelerateConfiguration",
    ),
    (Level::Bucket, "acl", "GET", "GetBucketAcl"),
    (Level::Bucket, "acl", "PUT", "PutBucketAcl"),
    (
        Level::Bucket,
        "analytics",
        "DELETE",
        "DeleteBucketAnalyticsConfiguration",
    ),
    (
        Level::Bucket,
        "analytics",
        "GET",
        "GetBucketAnalyticsConfiguration",
    ),
    (
        Level::Bucket,
        "analytics",
        "PUT",
        "PutBucketAnalyticsConfiguration",
    ),
    (Level::Bucket, "cors", "DELETE", "DeleteBucketCors"),
    (Level::Bucket, "cors", "GET", "GetBucketCors"),
    (Level::Bucket, "cors", "PUT", "PutBucketCors"),
    (Level::Bucket, "delete", "POST", "DeleteObjects"),
    (
        Level::Bucket,
        "encryption",
        "DELETE",
        "DeleteBucketEncryption",
    ),
    (Level::Bucket, "encryption", "GET", "GetBucketEncryption"),
    (Level::Bucket, "encryption", "PUT", "PutBucketEncryption"),
    (
        Level::Bucket,
        "intelligent-tiering",
        "DELETE",
        "DeleteBucketIntelligentTieringConfiguration",
    ),
    (
        Level::Bucket,
        "intelligent-tiering",
        "GET",
        "GetBucketIntelligentTieringConfiguration",
    ),
    (
        Level::Bucket,
        "intelligent-tiering",
        "PUT",
        "PutBucketIntelligentTieringConfiguration",
    ),
    (
        Level::Bucket,
        "inventory",
        "DELETE",
        "DeleteBucketInventoryConfiguration",
    ),
    (
        Level::Bucket,
        "inventory",
        "GET",
        "GetBucketInventoryConfiguration",
    ),
    (
        Level::Bucket,
        "inventory",
        "PUT",
        "PutBucketInventoryConfiguration",
    ),
    (
        Level::Bucket,
        "lifecycle",
        "DELETE",
        "DeleteBucketLifecycle",
    ),
    (
        Level::Bucket,
        "lifecycle",
        "GET",
        "GetBucketLifecycleConfiguration",
    ),
    (
        Level::Bucket,
        "lifecycle",
        "PUT",
        "PutBucketLifecycleConfiguration",
    ),
    (Level::Bucket, "location", "GET", "GetBucketLocation"),
    (Level::Bucket, "logging", "GET", "GetBucketLogging"),
    (Level::Bucket, "logging", "PUT", "PutBucketLogging"),
    (
        Level::Bucket,
        "metadataConfiguration",
        "DELETE",
        "DeleteBucketMetadataConfiguration",
    ),
    (
        Level::Bucket,
        "metadataConfiguration",
        "GET",
        "GetBucketMetadataConfiguration",
    ),
    (
        Level::Bucket,
        "metadataConfiguration",
        "POST",
        "CreateBucketMetadataConfiguration",
    ),
    (
        Level::Bucket,
        "metadataInventoryTable",
        "PUT",
        "UpdateBucketMetadataInventoryTableConfiguration",
    ),
    (
        Level::Bucket,
        "metadataJournalTable",
        "PUT",
        "UpdateBucketMetadataJournalTableConfiguration",
    ),
    (
        Level::Bucket,
        "metadataTable",
        "DELETE",
        "DeleteBucketMetadataTableConfiguration",
    ),
    (
        Level::Bucket,
        "metadataTable",
        "GET",
        "GetBucketMetadataTableConfiguration",
    ),
    (
        Level::Bucket,
        "metadataTable",
        "POST",
        "CreateBucketMetadataTableConfiguration",
    ),
    (
        Level::Bucket,
        "metrics",
        "DELETE",
        "DeleteBucketMetricsConfiguration",
    ),
    (
        Level::Bucket,
        "metrics",
        "GET",
        "GetBucketMetricsConfiguration",
    ),
    (
        Level::Bucket,
        "metrics",
        "PUT",
        "PutBucketMetricsConfiguration",
    ),
    (
        Level::Bucket,
        "notification",
        "GET",
        "GetBucketNotificationConfiguration",
    ),
    (
        Level::Bucket,
        "notification",
        "PUT",
        "PutBucketNotificationConfiguration",
    ),
    (
        Level::Bucket,
        "object-lock",
        "GET",
        "GetObjectLockConfiguration",
    ),
    (
        Level::Bucket,
        "object-lock",
        "PUT",
        "PutObjectLockConfiguration",
    ),
    (
        Level::Bucket,
        "ownershipControls",
        "DELETE",
        "DeleteBucketOwnershipControls",
    ),
    (
        Level::Bucket,
        "ownershipControls",
        "GET",
        "GetBucketOwnershipControls",
    ),
    (
        Level::Bucket,
        "ownershipControls",
        "PUT",
        "PutBucketOwnershipControls",
    ),
    (Level::Bucket, "policy", "DELETE", "DeleteBucketPolicy"),
    (Level::Bucket, "policy", "GET", "GetBucketPolicy"),
    (Level::Bucket, "policy", "PUT", "PutBucketPolicy"),
    (
        Level::Bucket,
        "policyStatus",
        "GET",
        "GetBucketPolicyStatus",
    ),
    (
        Level::Bucket,
        "publicAccessBlock",
        "DELETE",
        "DeletePublicAccessBlock",
    ),
    (
        Level::Bucket,
        "publicAccessBlock",
        "GET",
        "GetPublicAccessBlock",
    ),
    (
        Level::Bucket,
        "publicAccessBlock",
        "PUT",
        "PutPublicAccessBlock",
    ),
    (
        Level::Bucket,
        "replication",
        "DELETE",
        "DeleteBucketReplication",
    ),
    (Level::Bucket, "replication", "GET", "GetBucketReplication"),
    (Level::Bucket, "replication", "PUT", "PutBucketReplication"),
    (
        Level::Bucket,
        "requestPayment",
        "GET",
        "GetBucketRequestPayment",
    ),
    (
        Level::Bucket,
        "requestPayment",
        "PUT",
        "PutBucketRequestPayment",
    ),
    (Level::Bucket, "session", "GET", "CreateSession"),
    (Level::Bucket, "tagging", "DELETE", "DeleteBucketTagging"),
    (Level::Bucket, "tagging", "GET", "GetBucketTagging"),
    (Level::Bucket, "tagging", "PUT", "PutBucketTagging"),
    (Level::Bucket, "uploads", "GET", "ListMultipartUploads"),
    (Level::Bucket, "versioning", "GET", "GetBucketVersioning"),
    (Level::Bucket, "versioning", "PUT", "PutBucketVersioning"),
    (Level::Bucket, "versions", "GET", "ListObjectVersions"),
    (Level::Bucket, "website", "DELETE", "DeleteBucketWebsite"),
    (Level::Bucket, "website", "GET", "GetBucketWebsite"),
    (Level::Bucket, "website", "PUT", "PutBucketWebsite"),
    (Level::Object, "acl", "GET", "GetObjectAcl"),
    (Level::Object, "acl", "PUT", "PutObjectAcl"),
    (Level::Object, "attributes", "GET", "GetObjectAttributes"),
    (Level::Object, "encryption", "PUT", "UpdateObjectEncryption"),
    (Level::Object, "legal-hold", "GET", "GetObjectLegalHold"),
    (Level::Object, "legal-hold", "PUT", "PutObjectLegalHold"),
    (Level::Object, "renameObject", "PUT", "RenameObject"),
    (Level::Object, "restore", "POST", "RestoreObject"),
    (Level::Object, "retention", "GET", "GetObjectRetention"),
    (Level::Object, "retention", "PUT", "PutObjectRetention"),
    (Level::Object, "select", "POST", "SelectObjectContent"),
    (Level::Object, "tagging", "DELETE", "DeleteObjectTagging"),
    (Level::Object, "tagging", "GET", "GetObjectTagging"),
    (Level::Object, "tagging", "PUT", "PutObjectTagging"),
    (Level::Object, "torrent", "GET", "GetObjectTorrent"),
    (Level::Object, "uploads", "POST", "CreateMultipartUpload"),
];

/// Bucket sub-resources whose GET without an `id` lists the configurations, and with one gets
/// a configuration: (sub-resource, the listing operation).
pub(super) const LISTED_WITHOUT_ID: &[(&str, &str)] = &[
    ("analytics", "ListBucketAnalyticsConfigurations"),
    (
        "intelligent-tiering",
        "ListBucketIntelligentTieringConfigurations",
    ),
    ("inventory", "ListBucketInventoryConfigurations"),
    ("metrics", "ListBucketMetricsConfigurations"),
];
