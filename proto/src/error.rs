//! The error type that crosses the wire. Variants name what failed, so the gateway can map each
//! to exactly one S3 error; the mapping in the gateway matches every variant (no `_ =>`).

use serde::{Deserialize, Serialize};

/// An error returned by a node (or raised by the client talking to one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ProtoError {
    // Category: metadata preconditions (client-visible)
    /// The bucket does not exist.
    #[error("no such bucket")]
    NoSuchBucket,
    /// A bucket of that name exists and belongs to someone else.
    #[error("bucket already exists")]
    BucketAlreadyExists,
    /// A bucket of that name exists and belongs to the caller.
    #[error("bucket already owned by you")]
    BucketAlreadyOwnedByYou,
    /// The bucket still holds objects or uploads.
    #[error("bucket not empty")]
    BucketNotEmpty,
    /// The object does not exist.
    #[error("no such key")]
    NoSuchKey,
    /// The multipart upload does not exist (or was completed or aborted).
    #[error("no such upload")]
    NoSuchUpload,
    /// A part named in CompleteMultipartUpload is missing or its ETag differs.
    #[error("invalid part {0}")]
    InvalidPart(u32),
    /// A conditional write's precondition (If-Match / If-None-Match) does not hold.
    #[error("precondition failed")]
    PreconditionFailed,
    /// A conditional write raced with another write to the same key.
    #[error("conditional request conflict")]
    ConditionalRequestConflict,

    // Category: availability (retryable)
    /// This node is not the Raft leader; the leader's RPC address if known.
    #[error("not leader (leader: {0:?})")]
    NotLeader(Option<String>),
    /// Not enough drives or nodes answered to reach the write or read quorum.
    #[error("quorum not reached: {0}")]
    QuorumNotReached(String),
    /// The operation timed out.
    #[error("timeout")]
    Timeout,
    /// A node could not be reached; the request was never delivered, so it is safe to send it
    /// elsewhere.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The operation was cancelled (client went away, shutdown).
    #[error("cancelled")]
    Cancelled,

    // Category: internal
    /// Stored data failed its checksum beyond what erasure coding could repair.
    #[error("data corrupt: {0}")]
    Corrupt(String),
    /// A local I/O operation failed.
    #[error("i/o: {0}")]
    Io(String),
    /// The body stream given to a write failed; the text says why.
    #[error("body stream: {0}")]
    Body(String),
    /// The peer violated the protocol (bad frame, unexpected message, version).
    #[error("protocol: {0}")]
    Protocol(String),
    /// The cluster secret did not match.
    #[error("unauthorized")]
    Unauthorized,
    /// Any other internal failure.
    #[error("internal: {0}")]
    Internal(String),

    // Category: IAM (client-visible, as the IAM API names them)
    /// The user, group or key does not exist.
    #[error("no such entity: {0}")]
    NoSuchEntity(String),
    /// A user, group or key of that name exists.
    #[error("entity already exists: {0}")]
    EntityAlreadyExists(String),
    /// A limit would be exceeded (two access keys per user).
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// The entity still has subordinate entities (a user with access keys).
    #[error("delete conflict: {0}")]
    DeleteConflict(String),
    /// A name or value is not valid.
    #[error("validation error: {0}")]
    ValidationError(String),

    // Appended later: never reorder (once answers store these by index).
    // Category: the wire
    /// The peer closed the connection in the middle of an exchange.
    #[error("connection closed")]
    ConnectionClosed,
    /// The peer sent another message than the one the protocol expects next (named here).
    #[error("protocol: expected {0}")]
    UnexpectedMessage(String),
    /// A frame larger than the protocol allows (its length).
    #[error("protocol: a frame of {0} bytes is too large")]
    FrameTooLarge(u64),
    /// A frame or message that does not decode (or encode).
    #[error("protocol: malformed message: {0}")]
    Malformed(String),
    /// A query was answered with the answer of another kind of query (named here).
    #[error("protocol: unexpected answer {0}")]
    UnexpectedAnswer(String),

    // Category: the cluster
    /// Raft stopped on this node (a fatal error, or shutdown); the text says why.
    #[error("raft stopped: {0}")]
    RaftStopped(String),
    /// A shard that this node does not hold: it is not placed here.
    #[error("shard {0} is not placed on this node")]
    ShardNotHere(u8),
    /// A shard this node deleted a moment ago (a late write of it is refused).
    #[error("shard {0} was deleted here a moment ago")]
    ShardDeleted(u8),
    /// No node of that id in the cluster map.
    #[error("no node {0}")]
    NoSuchNode(u64),
    /// No storage class of that name.
    #[error("no storage class {0:?}")]
    NoSuchStorageClass(String),
    /// An erasure profile that cannot be used; the text says why.
    #[error("erasure profile: {0}")]
    InvalidErasureProfile(String),
    /// A command wrapped around, or sent as part of, one it does not go with; the text says
    /// which.
    #[error("misplaced command: {0}")]
    MisplacedCommand(String),
    /// A snapshot could not be built or waited for.
    #[error("snapshot: {0}")]
    Snapshot(String),
    /// The named version of a key does not exist (or is a delete marker, where a version with
    /// data is needed).
    #[error("no such version")]
    NoSuchVersion,
    /// The bucket's state forbids the request (S3's 409 InvalidBucketState); the text says why.
    #[error("invalid bucket state: {0}")]
    InvalidBucketState(String),
    /// An Object Lock (retention or legal hold) forbids removing or changing a version.
    #[error("the object is locked")]
    ObjectLocked,
    /// The key service already has a key of that id.
    #[error("a key of that id already exists")]
    KmsKeyExists,
    /// A key of the key service changed between reading and replacing it.
    #[error("the key changed meanwhile")]
    KmsKeyChanged,
}

impl ProtoError {
    /// Whether the connection the error came on is unusable (closed, or out of step with the
    /// protocol): the request may or may not have been carried out.
    pub fn is_wire_failure(&self) -> bool {
        matches!(
            self,
            ProtoError::Protocol(_)
                | ProtoError::ConnectionClosed
                | ProtoError::UnexpectedMessage(_)
                | ProtoError::FrameTooLarge(_)
                | ProtoError::Malformed(_)
        )
    }

    /// Whether retrying the same request (possibly on another node) may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ProtoError::NotLeader(_)
                | ProtoError::QuorumNotReached(_)
                | ProtoError::Timeout
                | ProtoError::Unreachable(_)
                | ProtoError::Io(_)
        )
    }
}

impl From<std::io::Error> for ProtoError {
    fn from(e: std::io::Error) -> Self {
        ProtoError::Io(e.to_string())
    }
}
