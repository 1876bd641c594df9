//! Format version 2 of the record kinds that have one, frozen:
//! [`Kind::ObjectVersion`](super::Kind::ObjectVersion), which added the tag count (an object's
//! `x-amz-tagging-count`, answered on GET and HEAD without reading its tag set), and
//! [`Kind::Upload`](super::Kind::Upload), which added how its parts are encrypted. Their other
//! fields keep their version 1 types. Never change a type here (see `super` for the rules).

use super::conv::frozen_struct;
use super::v1::{
    Checksum, ChecksumAlgorithm, ChecksumType, ContentHeaders, Encryption, ObjectData, PartSummary,
};

frozen_struct! {
    /// `objects` and `completed` `r`: a key's current version, from format version 2 on.
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
    } later {
        // Written before versioning: older than every stamped version.
        stamp: None,
        encryption: None,
        website_redirect: None,
    }
}

frozen_struct! {
    /// `uploads`, from format version 2 on: with how its parts are encrypted.
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
    } later {
        // Written before website redirects.
        website_redirect: None,
    }
}
