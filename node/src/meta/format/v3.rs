//! Format version 3 of the record kinds that have one, frozen: today only
//! [`Kind::ObjectVersion`](super::Kind::ObjectVersion), which added the version's stamp (when
//! it was committed: the order of a key's versions, see `coffer_proto::version_id`). Its other
//! fields keep their earlier types. Never change a type here (see `super` for the rules).

use super::conv::frozen_struct;
use super::v1::{Checksum, ContentHeaders, ObjectData, PartSummary};

frozen_struct! {
    /// A version's commit: Raft log index and place in the entry.
    Stamp = coffer_proto::version_id::Stamp {
        index: u64,
        pos: u32,
    }
}

frozen_struct! {
    /// `objects` (a key's current version), `versions` (its older versions and delete
    /// markers) and `completed` `r`, from format version 3 on.
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
    } later {
        // Written before encryption.
        encryption: None,
        website_redirect: None,
    }
}
