//! Format version 4 of the record kinds that have one, frozen: today only
//! [`Kind::ObjectVersion`](super::Kind::ObjectVersion), which added how the version's bytes are
//! encrypted (server-side encryption). Its other fields keep their earlier types. Never change
//! a type here (see `super` for the rules).

use super::conv::frozen_struct;
use super::v1::{Checksum, ContentHeaders, Encryption, ObjectData, PartSummary};
use super::v3::Stamp;

frozen_struct! {
    /// `objects`, `versions` and `completed` `r`, from format version 4 on.
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
    } later {
        // Written before website redirects.
        website_redirect: None,
    }
}
