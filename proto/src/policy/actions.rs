//! The S3 actions a policy may name, and the kind of resource each applies to (from AWS's
//! service authorization reference for Amazon S3). A bucket policy naming an action that is
//! not here is refused ("Policy has invalid action"), as S3 does.

/// What kind of resource an action applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// `arn:aws:s3:::bucket`.
    Bucket,
    /// `arn:aws:s3:::bucket/key`.
    Object,
    /// No bucket (`*`): ListAllMyBuckets and account settings.
    Account,
}

/// Actions on objects.
const OBJECT: &[&str] = &[
    "AbortMultipartUpload",
    "BypassGovernanceRetention",
    "DeleteObject",
    "DeleteObjectTagging",
    "DeleteObjectVersion",
    "DeleteObjectVersionTagging",
    "GetObject",
    "GetObjectAcl",
    "GetObjectAttributes",
    "GetObjectLegalHold",
    "GetObjectRetention",
    "GetObjectTagging",
    "GetObjectTorrent",
    "GetObjectVersion",
    "GetObjectVersionAcl",
    "GetObjectVersionAttributes",
    "GetObjectVersionForReplication",
    "GetObjectVersionTagging",
    "GetObjectVersionTorrent",
    "InitiateReplication",
    "ListMultipartUploadParts",
    "ObjectOwnerOverrideToBucketOwner",
    "PutObject",
    "PutObjectAcl",
    "PutObjectLegalHold",
    "PutObjectRetention",
    "PutObjectTagging",
    "PutObjectVersionAcl",
    "PutObjectVersionTagging",
    "ReplicateDelete",
    "ReplicateObject",
    "ReplicateTags",
    "RestoreObject",
];

/// Actions on buckets.
const BUCKET: &[&str] = &[
    "CreateBucket",
    "DeleteBucket",
    "DeleteBucketOwnershipControls",
    "DeleteBucketPolicy",
    "DeleteBucketWebsite",
    "GetAccelerateConfiguration",
    "GetAnalyticsConfiguration",
    "GetBucketAcl",
    "GetBucketCORS",
    "GetBucketLocation",
    "GetBucketLogging",
    "GetBucketNotification",
    "GetBucketObjectLockConfiguration",
    "GetBucketOwnershipControls",
    "GetBucketPolicy",
    "GetBucketPolicyStatus",
    "GetBucketPublicAccessBlock",
    "GetBucketRequestPayment",
    "GetBucketTagging",
    "GetBucketVersioning",
    "GetBucketWebsite",
    "GetEncryptionConfiguration",
    "GetIntelligentTieringConfiguration",
    "GetInventoryConfiguration",
    "GetLifecycleConfiguration",
    "GetMetricsConfiguration",
    "GetReplicationConfiguration",
    "ListBucket",
    "ListBucketMultipartUploads",
    "ListBucketVersions",
    "PutAccelerateConfiguration",
    "PutAnalyticsConfiguration",
    "PutBucketAcl",
    "PutBucketCORS",
    "PutBucketLogging",
    "PutBucketNotification",
    "PutBucketObjectLockConfiguration",
    "PutBucketOwnershipControls",
    "PutBucketPolicy",
    "PutBucketPublicAccessBlock",
    "PutBucketRequestPayment",
    "PutBucketTagging",
    "PutBucketVersioning",
    "PutBucketWebsite",
    "PutEncryptionConfiguration",
    "PutIntelligentTieringConfiguration",
    "PutInventoryConfiguration",
    "PutLifecycleConfiguration",
    "PutMetricsConfiguration",
    "PutReplicationConfiguration",
];

/// Actions on the account.
const ACCOUNT: &[&str] = &[
    "GetAccountPublicAccessBlock",
    "ListAllMyBuckets",
    "PutAccountPublicAccessBlock",
];

/// Every S3 action with its resource kind, as `s3:Name`.
pub fn all() -> impl Iterator<Item = (String, ResourceKind)> {
    let tag = |list: &'static [&'static str], kind| list.iter().map(move |a| (a, kind));
    tag(OBJECT, ResourceKind::Object)
        .chain(tag(BUCKET, ResourceKind::Bucket))
        .chain(tag(ACCOUNT, ResourceKind::Account))
        .map(|(a, k)| (format!("s3:{a}"), k))
}

/// The S3 actions `pattern` (e.g. `s3:Get*`, `*`) names, with their resource kinds.
pub fn matching(pattern: &str) -> Vec<(String, ResourceKind)> {
    all()
        .filter(|(a, _)| super::wildcard::matches_ignore_case(pattern, a))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_patterns() {
        assert_eq!(
            matching("s3:getobject"),
            vec![("s3:GetObject".to_owned(), ResourceKind::Object)]
        );
        assert!(matching("s3:GetObjekt").is_empty());
        assert!(matching("s3:List*").len() >= 4);
        assert_eq!(
            matching("*").len(),
            OBJECT.len() + BUCKET.len() + ACCOUNT.len()
        );
        assert!(matching("iam:CreateUser").is_empty());
    }
}
