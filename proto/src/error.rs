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
}

impl ProtoError {
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
