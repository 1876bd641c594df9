//! Stored formats: how every value the node keeps in RocksDB (records, the Raft log and
//! state, snapshot headers) is encoded, and how a later build reads what an earlier one wrote.
//!
//! # Rules
//! - Every value is one byte, the version of its record [`Kind`]'s format, then the body.
//! - The layouts of each version are frozen types in a `vN` module ([`v1`]); the live types
//!   the code works with convert to and from the newest. A frozen type never changes.
//! - A new layout of a kind is a new version: a `vN+1` type, [`Kind::current`] raised, and a
//!   [`Stored`] implementation that decodes every older version and converts, with a test,
//!   and a fixture of the old version (`node/tests/fixtures/`) read in CI.
//! - Variants may be appended to an enum of the current version (a new command) without a
//!   new version: the golden-bytes tests pin every existing variant's index.
//! - A version this build does not know is an error naming the kind and the version, never a
//!   guess. The database records the newest version of each kind it was ever written with
//!   ([`check_and_record`]), so an older build refuses to start on it at once.

pub(crate) mod conv;
pub mod v1;
pub mod v2;
pub mod v3;
pub mod v4;
pub mod v5;

#[cfg(test)]
mod samples;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use crate::meta::store::Batch;
use coffer_proto::iam::{GroupRecord, KeyRecord, UserRecord};
use coffer_proto::types::{BlobRef, BucketInfo, NodeInfo, ObjectVersion, PartInfo, UploadInfo};
use serde::de::DeserializeOwned;
use serde::Serialize;

use self::conv::Conv;
use super::store::{self, MetaStore};
use crate::raft::{NodeId, TypeConfig};

/// Every kind of stored value. The name is stored (in the format record) and printed; never
/// rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `raft_log`: a Raft log entry.
    RaftEntry,
    /// `raft_state` `vote`.
    RaftVote,
    /// `raft_state` `committed`: the last committed log id, if any.
    RaftCommitted,
    /// A log id: `raft_state` `last_purged`, `sm_state` `last_applied`.
    LogId,
    /// `sm_state` `membership`.
    Membership,
    /// `sm_state` `partial`: a batch entry's progress.
    ApplyProgress,
    /// A snapshot file's header.
    SnapshotMeta,
    /// `buckets`.
    Bucket,
    /// `objects`, `versions`; `completed` `r` (a completed upload's version, without its data).
    ObjectVersion,
    /// `uploads`.
    Upload,
    /// `parts`.
    Part,
    /// `gc`: a blob to delete.
    Blob,
    /// `nodes`.
    Node,
    /// `users`.
    User,
    /// `keys` `k`: an access key.
    AccessKey,
    /// `groups` `g`.
    Group,
    /// `once` `a`: an exactly-once answer.
    OnceAnswer,
    /// `classes`: an erasure profile (k, m).
    ErasureProfile,
    /// A text: `bucket_ids` (a bucket name), `bucket_conf`, `policies`, `acls`, `tags`,
    /// `locks`, `kms` (documents).
    Text,
    /// An index entry with no value: `draining`, `keys` `u`, `groups` `m` and `u`,
    /// `completed` `t`.
    Marker,
    /// `once` `t`: the expiry index of exactly-once answers. Its version 1 is an empty value
    /// (no version byte): a later version that needs a value starts with its version byte.
    OnceIndex,
    /// `sm_state` `formats`: the format record itself.
    Formats,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 22] = [
        Kind::RaftEntry,
        Kind::RaftVote,
        Kind::RaftCommitted,
        Kind::LogId,
        Kind::Membership,
        Kind::ApplyProgress,
        Kind::SnapshotMeta,
        Kind::Bucket,
        Kind::ObjectVersion,
        Kind::Upload,
        Kind::Part,
        Kind::Blob,
        Kind::Node,
        Kind::User,
        Kind::AccessKey,
        Kind::Group,
        Kind::OnceAnswer,
        Kind::ErasureProfile,
        Kind::Text,
        Kind::Marker,
        Kind::OnceIndex,
        Kind::Formats,
    ];

    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::RaftEntry => "raft-entry",
            Kind::RaftVote => "raft-vote",
            Kind::RaftCommitted => "raft-committed",
            Kind::LogId => "log-id",
            Kind::Membership => "membership",
            Kind::ApplyProgress => "apply-progress",
            Kind::SnapshotMeta => "snapshot-meta",
            Kind::Bucket => "bucket",
            Kind::ObjectVersion => "object-version",
            Kind::Upload => "upload",
            Kind::Part => "part",
            Kind::Blob => "blob",
            Kind::Node => "node",
            Kind::User => "user",
            Kind::AccessKey => "access-key",
            Kind::Group => "group",
            Kind::OnceAnswer => "once-answer",
            Kind::ErasureProfile => "erasure-profile",
            Kind::Text => "text",
            Kind::Marker => "marker",
            Kind::OnceIndex => "once-index",
            Kind::Formats => "formats",
        }
    }

    /// The kind of a stored name.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The version this build writes; it reads every version from 1 to this one.
    pub fn current(self) -> u8 {
        match self {
            Kind::RaftEntry
            | Kind::RaftVote
            | Kind::RaftCommitted
            | Kind::LogId
            | Kind::Membership
            | Kind::ApplyProgress
            | Kind::SnapshotMeta
            | Kind::Bucket
            | Kind::Part
            | Kind::Blob
            | Kind::Node
            | Kind::User
            | Kind::AccessKey
            | Kind::Group
            | Kind::OnceAnswer
            | Kind::ErasureProfile
            | Kind::Text
            | Kind::Marker
            | Kind::OnceIndex
            | Kind::Formats => 1,
            // 2: how its parts are encrypted; 3: the website redirect.
            Kind::Upload => 3,
            // 2: the tag count; 3: the stamp (versioning); 4: the encryption; 5: the website
            // redirect.
            Kind::ObjectVersion => 5,
        }
    }

    /// Whether this build reads `version` of this kind.
    pub fn reads(self, version: u8) -> bool {
        (1..=self.current()).contains(&version)
    }
}

/// A stored value that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The value is empty: not even a version byte.
    #[error("a stored {} value is empty", .0.name())]
    Empty(Kind),
    /// A version this build does not know (written by a newer build).
    #[error(
        "a stored {} value is in format version {version}, which this build of Coffer ({}) \
         does not read (it reads up to {}): it was written by a newer Coffer; run that \
         version or a newer one on this data folder",
        kind.name(),
        env!("CARGO_PKG_VERSION"),
        kind.current()
    )]
    UnknownVersion {
        /// The kind.
        kind: Kind,
        /// The version found.
        version: u8,
    },
    /// A kind this build does not know at all (in the format record).
    #[error(
        "this data folder holds records of kind {0:?}, which this build of Coffer ({version}) \
         does not know: it was written by a newer Coffer; run that version or a newer one on it",
        version = env!("CARGO_PKG_VERSION")
    )]
    UnknownKind(String),
    /// The body does not decode as its version says.
    #[error("a stored {} value (format version {version}) is corrupt: {reason}", kind.name())]
    Corrupt {
        /// The kind.
        kind: Kind,
        /// Its version.
        version: u8,
        /// What the decoder said.
        reason: String,
    },
}

/// A value kept in the metadata store.
pub trait Stored: Sized {
    /// Its kind.
    const KIND: Kind;
    /// Append its body in the current version of its kind.
    fn encode_body(&self, out: &mut Vec<u8>);
    /// Decode a body of `version` (already checked to be one this build reads).
    fn decode_body(version: u8, body: &[u8]) -> Result<Self, FormatError>;
}

/// Append `value` as bincode.
fn put<T: Serialize>(out: &mut Vec<u8>, value: &T) {
    // Serializing plain in-memory structs into a Vec cannot fail (no maps with non-string
    // keys, no I/O); an error here would be a bug in a type definition.
    if let Err(e) = bincode::serialize_into(out, value) {
        unreachable!("bincode cannot fail on in-memory plain data: {e}");
    }
}

/// Decode a bincode body of `kind` at `version`.
fn get<T: DeserializeOwned>(kind: Kind, version: u8, body: &[u8]) -> Result<T, FormatError> {
    bincode::deserialize(body).map_err(|e| FormatError::Corrupt {
        kind,
        version,
        reason: e.to_string(),
    })
}

/// `value` in the current format of its kind.
pub fn encode<T: Stored>(value: &T) -> Vec<u8> {
    let mut out = vec![T::KIND.current()];
    value.encode_body(&mut out);
    out
}

/// Decode a value of any version this build reads.
pub fn decode<T: Stored>(bytes: &[u8]) -> Result<T, FormatError> {
    match bytes.split_first() {
        None => Err(FormatError::Empty(T::KIND)),
        Some((&v, body)) if T::KIND.reads(v) => T::decode_body(v, body),
        Some((&v, _)) => Err(FormatError::UnknownVersion {
            kind: T::KIND,
            version: v,
        }),
    }
}

/// `Stored` for live types whose every version so far is 1, through a frozen type of [`v1`].
macro_rules! stored_v1 {
    ($($live:ty => $kind:ident as $frozen:ty),* $(,)?) => {$(
        impl Stored for $live {
            const KIND: Kind = Kind::$kind;
            fn encode_body(&self, out: &mut Vec<u8>) {
                let frozen: $frozen = self.clone().conv();
                put(out, &frozen);
            }
            fn decode_body(version: u8, body: &[u8]) -> Result<Self, FormatError> {
                // Version 1 is the only one `Kind::reads` lets through.
                Ok(get::<$frozen>(Self::KIND, version, body)?.conv())
            }
        }
    )*};
}

/// A partial batch entry: its log id and how many of its commands are applied.
pub type ApplyProgress = (openraft::LogId<NodeId>, u64);
/// The last committed log id as the log store keeps it.
pub type Committed = Option<openraft::LogId<NodeId>>;
/// The stored form of the format record: (kind name, newest version written).
type FormatRecord = Vec<(String, u8)>;

stored_v1! {
    openraft::Entry<TypeConfig> => RaftEntry as v1::Entry,
    openraft::Vote<NodeId> => RaftVote as v1::Vote,
    Committed => RaftCommitted as Option<v1::LogId>,
    openraft::LogId<NodeId> => LogId as v1::LogId,
    openraft::StoredMembership<NodeId, openraft::BasicNode> => Membership as v1::StoredMembership,
    ApplyProgress => ApplyProgress as (v1::LogId, u64),
    openraft::SnapshotMeta<NodeId, openraft::BasicNode> => SnapshotMeta as v1::SnapshotMeta,
    BucketInfo => Bucket as v1::BucketInfo,
    PartInfo => Part as v1::PartInfo,
    BlobRef => Blob as v1::BlobRef,
    NodeInfo => Node as v1::NodeInfo,
    UserRecord => User as v1::UserRecord,
    KeyRecord => AccessKey as v1::KeyRecord,
    GroupRecord => Group as v1::GroupRecord,
    crate::meta::once::Answer => OnceAnswer as v1::OnceAnswer,
    (u8, u8) => ErasureProfile as (u8, u8),
    String => Text as String,
    () => Marker as (),
    FormatRecord => Formats as FormatRecord,
}

impl Stored for ObjectVersion {
    const KIND: Kind = Kind::ObjectVersion;
    fn encode_body(&self, out: &mut Vec<u8>) {
        let frozen: v5::ObjectVersion = self.clone().conv();
        put(out, &frozen);
    }
    fn decode_body(version: u8, body: &[u8]) -> Result<Self, FormatError> {
        Ok(match version {
            // Without the tag count: `None`, counted from the tag set when read. Without a
            // stamp (1 and 2): written before versioning, the null version. Without an
            // encryption (1 to 3): written before encryption, not encrypted. Without a website
            // redirect (1 to 4): written before redirects, none.
            1 => get::<v1::ObjectVersion>(Self::KIND, version, body)?.conv(),
            2 => get::<v2::ObjectVersion>(Self::KIND, version, body)?.conv(),
            3 => get::<v3::ObjectVersion>(Self::KIND, version, body)?.conv(),
            4 => get::<v4::ObjectVersion>(Self::KIND, version, body)?.conv(),
            _ => get::<v5::ObjectVersion>(Self::KIND, version, body)?.conv(),
        })
    }
}

impl Stored for UploadInfo {
    const KIND: Kind = Kind::Upload;
    fn encode_body(&self, out: &mut Vec<u8>) {
        let frozen: v5::UploadInfo = self.clone().conv();
        put(out, &frozen);
    }
    fn decode_body(version: u8, body: &[u8]) -> Result<Self, FormatError> {
        Ok(match version {
            // Written before encryption: its parts are not encrypted.
            1 => get::<v1::UploadInfo>(Self::KIND, version, body)?.conv(),
            // Written before website redirects: none.
            2 => get::<v2::UploadInfo>(Self::KIND, version, body)?.conv(),
            _ => get::<v5::UploadInfo>(Self::KIND, version, body)?.conv(),
        })
    }
}

/// Key of the format record in `sm_state`.
const KEY_FORMATS: &[u8] = b"formats";

/// The kind of a value stored in state-machine column family `cf` under `key` (what a
/// snapshot carries).
pub fn kind_of(cf: &str, key: &[u8]) -> Option<Kind> {
    let tag = key.first().copied();
    Some(match cf {
        store::CF_BUCKETS => Kind::Bucket,
        store::CF_OBJECTS | store::CF_VERSIONS => Kind::ObjectVersion,
        store::CF_COMPLETED if tag == Some(b'r') => Kind::ObjectVersion,
        store::CF_COMPLETED => Kind::Marker,
        store::CF_UPLOADS => Kind::Upload,
        store::CF_PARTS => Kind::Part,
        store::CF_GC => Kind::Blob,
        store::CF_NODES => Kind::Node,
        store::CF_CLASSES => Kind::ErasureProfile,
        store::CF_USERS => Kind::User,
        store::CF_DRAINING => Kind::Marker,
        store::CF_KEYS if tag == Some(b'k') => Kind::AccessKey,
        store::CF_GROUPS if tag == Some(b'g') => Kind::Group,
        store::CF_ONCE if tag == Some(b'a') => Kind::OnceAnswer,
        store::CF_ONCE => Kind::OnceIndex,
        store::CF_KEYS | store::CF_GROUPS => Kind::Marker,
        store::CF_BUCKET_IDS
        | store::CF_BUCKET_CONF
        | store::CF_POLICIES
        | store::CF_ACLS
        | store::CF_TAGS
        | store::CF_LOCKS
        | store::CF_KMS => Kind::Text,
        _ => return None,
    })
}

/// Check that this build reads a raw value stored in `cf` under `key` (a snapshot's records
/// are installed as they are, so a newer node's snapshot is refused here, not misread later).
pub fn check_value(cf: &str, key: &[u8], value: &[u8]) -> Result<(), FormatError> {
    let Some(kind) = kind_of(cf, key) else {
        return Ok(());
    };
    match value.first() {
        None if kind == Kind::OnceIndex => Ok(()),
        None => Err(FormatError::Empty(kind)),
        Some(&v) if kind.reads(v) => Ok(()),
        Some(&v) => Err(FormatError::UnknownVersion { kind, version: v }),
    }
}

/// At start: refuse a database that holds a record kind or version this build does not read
/// (its format record lists the newest version of each kind ever written to it), then record
/// this build's versions in it. A database without the record was written before there was
/// one, when every kind was at version 1.
pub fn check_and_record(store: &MetaStore) -> Result<(), store::StoreError> {
    let written: FormatRecord = store
        .get(store::CF_SM_STATE, KEY_FORMATS)?
        .unwrap_or_default();
    let mut newest: BTreeMap<String, u8> = Kind::ALL
        .iter()
        .map(|k| (k.name().to_owned(), k.current()))
        .collect();
    for (name, version) in written {
        let kind = Kind::from_name(&name).ok_or_else(|| FormatError::UnknownKind(name.clone()))?;
        if !kind.reads(version) {
            return Err(FormatError::UnknownVersion { kind, version }.into());
        }
        let v = newest.entry(name).or_default();
        *v = (*v).max(version);
    }
    let record: FormatRecord = newest.into_iter().collect();
    let mut b = Batch::default();
    b.put(store::CF_SM_STATE, KEY_FORMATS, encode(&record));
    store.write(b, true)
}
