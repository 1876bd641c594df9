//! Exactly-once application of [`MetaCommand::Once`]: the first application stores its answer
//! under the command's id, in the same write batch as its effects; a second application (the
//! same write retried after its answer was lost) returns that answer and changes nothing.
//! Answers are pruned an hour after their proposer's clock, a few per command, so that the
//! column family stays as small as the writes of the last hour.

use crate::meta::store::Batch;
use coffer_proto::meta::{MetaCommand, MetaOk};
use coffer_proto::ProtoError;

use super::apply::{apply_at, Applied};
use super::format::encode;
use super::store::{MetaStore, StoreError, CF_ONCE};
use coffer_proto::version_id::Stamp;

/// How long an answer is kept after its command was proposed.
const KEEP_MS: u64 = 3_600_000;
/// Expired answers removed per applied command, at most.
const PRUNE_PER_COMMAND: usize = 16;

/// The stored answer of one command.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Answer {
    /// The proposer's clock when it was proposed, ms.
    pub(crate) at_ms: u64,
    /// What it answered.
    pub(crate) result: Result<MetaOk, ProtoError>,
}

/// `once` key of an answer: `a` id.
fn answer_key(id: &[u8; 16]) -> Vec<u8> {
    let mut k = vec![b'a'];
    k.extend_from_slice(id);
    k
}

/// `once` key of the expiry index: `t` at_ms:u64 id.
fn time_key(at_ms: u64, id: &[u8; 16]) -> Vec<u8> {
    let mut k = vec![b't'];
    k.extend_from_slice(&at_ms.to_be_bytes());
    k.extend_from_slice(id);
    k
}

/// Apply `cmd` unless the command `id` was applied already.
pub fn apply_once(
    store: &MetaStore,
    stamp: Stamp,
    id: &[u8; 16],
    at_ms: u64,
    cmd: &MetaCommand,
) -> Result<Applied, StoreError> {
    if let Some(first) = store.get::<Answer>(CF_ONCE, &answer_key(id))? {
        return Ok(Applied {
            result: first.result,
            batch: Batch::default(),
        });
    }
    let mut applied = apply_at(store, stamp, at_ms, cmd.inner())?;
    let answer = Answer {
        at_ms,
        result: applied.result.clone(),
    };
    applied.batch.put(CF_ONCE, answer_key(id), encode(&answer));
    applied.batch.put(CF_ONCE, time_key(at_ms, id), []);
    // Expired answers: the oldest first, never this one.
    let cutoff = at_ms.saturating_sub(KEEP_MS);
    let mut it = store.raw_iter(CF_ONCE)?;
    it.seek(b"t");
    for _ in 0..PRUNE_PER_COMMAND {
        let Some(k) = it.key() else { break };
        let (Some(ts), Some(old)) = (k.get(1..9), k.get(9..25)) else {
            break;
        };
        let ts = u64::from_be_bytes(ts.try_into().unwrap_or([0xff; 8]));
        if k.first() != Some(&b't') || ts >= cutoff {
            break;
        }
        let old: [u8; 16] = old.try_into().unwrap_or([0; 16]);
        applied.batch.delete(CF_ONCE, answer_key(&old));
        applied.batch.delete(CF_ONCE, k);
        it.next();
    }
    it.status()?;
    Ok(applied)
}
