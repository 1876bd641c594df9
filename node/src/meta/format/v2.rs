//! Format version 2 of the record kinds that have one, frozen: today only
//! [`Kind::ObjectVersion`](super::Kind::ObjectVersion), which added the tag count (an object's
//! `x-amz-tagging-count`, answered on GET and HEAD without reading its tag set). Its other
//! fields keep their version 1 types. Never change a type here (see `super` for the rules).

use super::conv::frozen_struct;
use super::v1::{Checksum, ContentHeaders, ObjectData, PartSummary};

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
    }
}
