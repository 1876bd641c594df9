//! The data model shared by gateway and node: buckets, object versions, blobs and uploads.
//! These structs are stored in the metadata state machine (wrapped in a versioned codec by the
//! node) and sent over the wire; change them only by adding a new format version.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// The storage classes S3 defines (x-amz-storage-class). Each may be given its own erasure
/// profile (`coffer admin storage-class set`); a class without one uses the cluster default.
pub const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
    "OUTPOSTS",
    "SNOW",
    "EXPRESS_ONEZONE",
];

/// The version id S3 uses for objects written while versioning is off.
pub const NULL_VERSION: &str = "null";

/// S3 Block Public Access settings, of a bucket or of the whole cluster (the account's, on
/// AWS). Stored as JSON; the settings in force are those of either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PublicAccessBlock {
    /// Refuse ACLs that grant to everyone.
    pub block_public_acls: bool,
    /// Ignore ACL grants to everyone.
    pub ignore_public_acls: bool,
    /// Refuse bucket policies that grant to everyone.
    pub block_public_policy: bool,
    /// A public bucket policy grants nothing to anonymous callers.
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// The settings in force under both `self` and `other`.
    pub fn or(self, other: PublicAccessBlock) -> PublicAccessBlock {
        PublicAccessBlock {
            block_public_acls: self.block_public_acls || other.block_public_acls,
            ignore_public_acls: self.ignore_public_acls || other.ignore_public_acls,
            block_public_policy: self.block_public_policy || other.block_public_policy,
            restrict_public_buckets: self.restrict_public_buckets || other.restrict_public_buckets,
        }
    }

    /// Decode a stored document (all off when it does not decode).
    pub fn decode(doc: Option<&str>) -> PublicAccessBlock {
        doc.and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_default()
    }

    /// The stored form.
    pub fn encode(&self) -> String {
        // Four booleans always serialize.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Versioning state of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Versioning {
    /// Never enabled: every write replaces the `null` version.
    #[default]
    Unversioned,
    /// Every write creates a new version.
    Enabled,
    /// Writes replace the `null` version; older versions are kept.
    Suspended,
}

/// A bucket and its configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketInfo {
    /// Internal id (the Raft log index of its creation): object keys are stored under it.
    pub id: u64,
    /// The bucket name.
    pub name: String,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// Access key id of the owner.
    pub owner: String,
    /// The LocationConstraint given at creation (empty for us-east-1).
    pub location: String,
    /// Versioning state.
    pub versioning: Versioning,
}

/// Where one shard of a blob lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardLoc {
    /// Node id.
    pub node: u64,
    /// Drive index on that node.
    pub drive: u32,
}

/// A storage node as the cluster map records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Raft node id.
    pub id: u64,
    /// Address other nodes and gateways reach its internal RPC at.
    pub rpc_addr: String,
    /// Number of drives (indices `0..drives`).
    pub drives: u32,
    /// Failure zone; placement spreads shards across zones where set.
    pub zone: Option<String>,
}

/// Erasure layout of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// Data shards.
    pub k: u8,
    /// Parity shards.
    pub m: u8,
    /// Bytes of object data per stripe (each shard block holds `stripe_size / k` bytes).
    pub stripe_size: u32,
}

impl Layout {
    /// Bytes of one full shard block.
    pub fn block_size(&self) -> u64 {
        u64::from(self.stripe_size).div_ceil(u64::from(self.k.max(1)))
    }
}

/// A run of object bytes stored as erasure-coded shards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    /// Random 128-bit id; shard files are named after it, never after the object key.
    pub id: [u8; 16],
    /// Bytes of object data.
    pub size: u64,
    /// Erasure layout.
    pub layout: Layout,
    /// Placement: shard `i` lives at `placement[i]` (k data shards first, then m parity).
    pub placement: Vec<ShardLoc>,
}

impl BlobRef {
    /// The id as lowercase hex (shard file names).
    pub fn id_hex(&self) -> String {
        self.id.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Where an object's bytes are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectData {
    /// Small objects: the bytes live in the metadata record itself.
    Inline(Bytes),
    /// Larger objects: one blob per part (one for a simple PUT), concatenated in order.
    Blobs(Vec<BlobRef>),
}

impl ObjectData {
    /// The blobs this data references (none when inline).
    pub fn blobs(&self) -> &[BlobRef] {
        match self {
            ObjectData::Inline(_) => &[],
            ObjectData::Blobs(b) => b,
        }
    }
}

/// Checksum algorithms S3 supports (`x-amz-checksum-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChecksumAlgorithm {
    /// CRC-32 (IEEE).
    Crc32,
    /// CRC-32C (Castagnoli).
    Crc32c,
    /// CRC-64/NVME.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

/// Whether a checksum covers the full object or is a checksum of part checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChecksumType {
    /// Checksum of the whole object's bytes.
    FullObject,
    /// Checksum of the concatenated part checksums, suffixed `-N`.
    Composite,
}

/// A stored checksum value (base64, as on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksum {
    /// Algorithm.
    pub algorithm: ChecksumAlgorithm,
    /// Base64 value (with `-N` suffix for composite).
    pub value: String,
    /// Full-object or composite.
    pub kind: ChecksumType,
}

/// Standard HTTP headers stored with an object and returned on GET/HEAD.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentHeaders {
    /// Content-Type.
    pub content_type: Option<String>,
    /// Content-Encoding.
    pub content_encoding: Option<String>,
    /// Content-Disposition.
    pub content_disposition: Option<String>,
    /// Content-Language.
    pub content_language: Option<String>,
    /// Cache-Control.
    pub cache_control: Option<String>,
    /// Expires (as sent).
    pub expires: Option<String>,
}

/// One part of a completed multipart object (for `partNumber` reads and GetObjectAttributes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartSummary {
    /// Part number (1..=10000).
    pub number: u32,
    /// Bytes.
    pub size: u64,
    /// The part's ETag (hex MD5, unquoted).
    pub etag: String,
    /// The part's checksum if one was given.
    pub checksum: Option<Checksum>,
}

/// One version of an object (the metadata record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectVersion {
    /// Object key.
    pub key: String,
    /// Version id (`null` when versioning is off).
    pub version_id: String,
    /// Last-Modified, milliseconds since the Unix epoch.
    pub last_modified_ms: i64,
    /// Total size in bytes.
    pub size: u64,
    /// ETag without quotes (hex MD5, or `md5-of-md5s-N` for multipart).
    pub etag: String,
    /// Standard content headers.
    pub content: ContentHeaders,
    /// User metadata (`x-amz-meta-*`), names lowercased without the prefix.
    pub user_meta: Vec<(String, String)>,
    /// Stored checksum.
    pub checksum: Option<Checksum>,
    /// Parts, for multipart objects (empty otherwise).
    pub parts: Vec<PartSummary>,
    /// Storage class.
    pub storage_class: String,
    /// Whether this version is a delete marker.
    pub delete_marker: bool,
    /// Access key id of the writer.
    pub owner: String,
    /// The bytes.
    pub data: ObjectData,
    /// How many tags the version has (`x-amz-tagging-count`), kept by the metadata store in
    /// step with its tag set; `None` in records written before the count was stored (the
    /// store then counts the tag set when it reads them). Writers leave it `None`.
    ///
    /// Not part of the internal protocol's encoding of a version, which stays the one earlier
    /// builds decode (a cluster runs mixed builds during a rolling upgrade): the count crosses
    /// the wire beside the version, in [`crate::meta::MetaAnswer::CountedObject`].
    #[serde(skip)]
    pub tag_count: Option<u16>,
    /// When the version was committed (the order of a key's versions), set by the metadata
    /// store; `None` in records written before versioning (older than every stamped version)
    /// and in what writers send. Not part of the internal protocol's encoding, like
    /// `tag_count`: a version id names a stamped version on the wire.
    #[serde(skip)]
    pub stamp: Option<crate::version_id::Stamp>,
    /// How the bytes are encrypted (None: they are not). Not part of the internal protocol's
    /// encoding either: a write sends it in [`crate::meta::MetaCommand::WithEncryption`], and
    /// an answer that holds an encrypted version is wrapped in
    /// [`crate::meta::MetaAnswer::Encrypted`], which no earlier build decodes (so none of them
    /// ever takes ciphertext for an object's bytes).
    #[serde(skip)]
    pub encryption: Option<Box<crate::sse::Encryption>>,
    /// Where the website endpoint redirects a request for it (`x-amz-website-redirect-location`;
    /// None: it does not). Not part of the internal protocol's encoding either: a write sends
    /// it in [`crate::meta::MetaCommand::WithWebsiteRedirect`], an answer carries it in
    /// [`crate::meta::MetaAnswer::WebsiteRedirect`].
    #[serde(skip)]
    pub website_redirect: Option<String>,
}

/// A tag set as an object or upload keeps it: (key, value) pairs in the client's order.
pub type TagSet = Vec<(String, String)>;

/// The stored form of a tag set (the `tags` documents): JSON, an array of `[key, value]`.
pub fn encode_tags(tags: &TagSet) -> String {
    serde_json::to_string(tags).unwrap_or_default()
}

/// The tag set of a stored document (None if it does not decode).
pub fn decode_tags(doc: &str) -> Option<TagSet> {
    serde_json::from_str(doc).ok()
}

/// How many tags a stored document holds (0 for one that does not decode, as it reads).
pub fn count_tags(doc: &str) -> u16 {
    decode_tags(doc).map_or(0, |t| u16::try_from(t.len()).unwrap_or(u16::MAX))
}

/// An in-progress multipart upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadInfo {
    /// Object key.
    pub key: String,
    /// Upload id.
    pub upload_id: String,
    /// Initiation time, ms since the epoch.
    pub initiated_ms: i64,
    /// Headers to give the completed object.
    pub content: ContentHeaders,
    /// User metadata for the completed object.
    pub user_meta: Vec<(String, String)>,
    /// Checksum algorithm requested at creation.
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    /// Checksum type requested at creation.
    pub checksum_type: Option<ChecksumType>,
    /// Storage class.
    pub storage_class: String,
    /// Access key id of the initiator.
    pub owner: String,
    /// How the parts are encrypted, and so the completed object (None: they are not). Sent
    /// beside the upload, as [`ObjectVersion::encryption`] is.
    #[serde(skip)]
    pub encryption: Option<Box<crate::sse::Encryption>>,
    /// Where the website endpoint redirects a request for it (`x-amz-website-redirect-location`;
    /// None: it does not). Not part of the internal protocol's encoding either: a write sends
    /// it in [`crate::meta::MetaCommand::WithWebsiteRedirect`], an answer carries it in
    /// [`crate::meta::MetaAnswer::WebsiteRedirect`].
    #[serde(skip)]
    pub website_redirect: Option<String>,
}

/// An uploaded part of a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartInfo {
    /// Part number.
    pub number: u32,
    /// Upload time, ms since the epoch.
    pub last_modified_ms: i64,
    /// Bytes.
    pub size: u64,
    /// Hex MD5 of the part, unquoted.
    pub etag: String,
    /// Checksum of the part, if given.
    pub checksum: Option<Checksum>,
    /// The stored bytes.
    pub blob: BlobRef,
}

/// Parameters of an object listing, evaluated on the node as a range scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    /// Only keys starting with this.
    pub prefix: String,
    /// Fold keys containing this after the prefix into common prefixes.
    pub delimiter: Option<String>,
    /// Return keys (and prefixes) strictly after this.
    pub start_after: Option<String>,
    /// Maximum number of keys plus common prefixes.
    pub max_keys: u32,
}

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    /// Key.
    pub key: String,
    /// Last-Modified, ms.
    pub last_modified_ms: i64,
    /// ETag, unquoted.
    pub etag: String,
    /// Size.
    pub size: u64,
    /// Storage class.
    pub storage_class: String,
    /// Owner access key id.
    pub owner: String,
    /// Checksum algorithm, if any.
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    /// Checksum type, if any.
    pub checksum_type: Option<ChecksumType>,
}

impl From<&ObjectVersion> for ListEntry {
    /// What a listing says of version `v`.
    fn from(v: &ObjectVersion) -> ListEntry {
        ListEntry {
            key: v.key.clone(),
            last_modified_ms: v.last_modified_ms,
            etag: v.etag.clone(),
            size: v.size,
            storage_class: v.storage_class.clone(),
            owner: v.owner.clone(),
            checksum_algorithm: v.checksum.as_ref().map(|c| c.algorithm),
            checksum_type: v.checksum.as_ref().map(|c| c.kind),
        }
    }
}

/// Result of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListResult {
    /// Keys, in order.
    pub entries: Vec<ListEntry>,
    /// Common prefixes, in order.
    pub common_prefixes: Vec<String>,
    /// More results exist after `next_marker`.
    pub truncated: bool,
    /// The last key or common prefix returned (where the next page starts after).
    pub next_marker: Option<String>,
}

/// Parameters of ListObjectVersions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionListQuery {
    /// Only keys starting with this.
    pub prefix: String,
    /// Fold keys containing this after the prefix into common prefixes.
    pub delimiter: Option<String>,
    /// Start after this key (exclusive), or with `version_id_marker` inside it.
    pub key_marker: Option<String>,
    /// With `key_marker`: start after this version of that key.
    pub version_id_marker: Option<String>,
    /// Maximum versions, delete markers and common prefixes.
    pub max_keys: u32,
}

/// One version (or delete marker) listed by ListObjectVersions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionEntry {
    /// The version, without its data.
    pub version: ObjectVersion,
    /// Whether it is the key's latest version.
    pub is_latest: bool,
}

/// Result of ListObjectVersions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionListResult {
    /// Versions and delete markers: keys ascending, each key's newest first.
    pub versions: Vec<VersionEntry>,
    /// Common prefixes, in order (interleaved with keys by the caller as S3 does).
    pub common_prefixes: Vec<String>,
    /// More results exist after `next_key_marker` / `next_version_id_marker`.
    pub truncated: bool,
    /// Where the next page starts: a key (or common prefix).
    pub next_key_marker: Option<String>,
    /// With `next_key_marker` when it is a key: the last version returned of it.
    pub next_version_id_marker: Option<String>,
}

/// Parameters of ListMultipartUploads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadListQuery {
    /// Key prefix.
    pub prefix: String,
    /// Delimiter for common prefixes.
    pub delimiter: Option<String>,
    /// Start after this key (with `upload_id_marker`).
    pub key_marker: Option<String>,
    /// With `key_marker`: uploads of that key with ids after this.
    pub upload_id_marker: Option<String>,
    /// Maximum uploads plus prefixes.
    pub max_uploads: u32,
}

/// Result of ListMultipartUploads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadListResult {
    /// Uploads in key, then initiation order.
    pub uploads: Vec<UploadInfo>,
    /// Common prefixes.
    pub common_prefixes: Vec<String>,
    /// More results exist.
    pub truncated: bool,
    /// Key marker for the next page.
    pub next_key_marker: Option<String>,
    /// Upload id marker for the next page.
    pub next_upload_id_marker: Option<String>,
}

/// Result of ListParts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartListResult {
    /// Parts in number order.
    pub parts: Vec<PartInfo>,
    /// More parts exist.
    pub truncated: bool,
    /// Marker for the next page.
    pub next_marker: Option<u32>,
}
