//! Format version 5 of object versions and version 3 of uploads, frozen: they added where the
//! website endpoint redirects a request for the object (`x-amz-website-redirect-location`).
//! Their other fields keep their earlier types. Never change a type here (see `super` for
//! the rules).

use super::conv::frozen_struct;
use super::v1::{
    Checksum, ChecksumAlgorithm, ChecksumType, ContentHeaders, Encryption, ObjectData, PartSummary,
};
use super::v3::Stamp;

frozen_struct! {
    /// `objects`, `versions` and `completed` `r`, from format version 5 on.
    ObjectVersion = coffer_proto::types::ObjectVersion {
        key: String,
        version_id: String,
        last_modified_ms: i64,
        size: u64,
        etag: String,
        content: ContentHeaders,
        user_meta: Vec<(String, String)>,
        checksum: Option<Checksum>,
        parts: Vec<PartSummary>,
        storage_class: String,
        delete_marker: bool,
        owner: String,
        data: ObjectData,
        tag_count: Option<u16>,
        stamp: Option<Stamp>,
        encryption: Option<Box<Encryption>>,
        website_redirect: Option<String>,
    }
}

frozen_struct! {
    /// `uploads`, from format version 3 on.
    UploadInfo = coffer_proto::types::UploadInfo {
        key: String,
        upload_id: String,
        initiated_ms: i64,
        content: ContentHeaders,
        user_meta: Vec<(String, String)>,
        checksum_algorithm: Option<ChecksumAlgorithm>,
        checksum_type: Option<ChecksumType>,
        storage_class: String,
        owner: String,
        encryption: Option<Box<Encryption>>,
        website_redirect: Option<String>,
    }
}
