//! How many shards a write needs durable, and how long it waits for the rest.

use coffer_proto::types::Layout;
use coffer_proto::ProtoError;
use futures::StreamExt;

/// How long a write waits for the remaining remote shards once its quorum is durable: a
/// node that is cut off (its pooled connection still takes data into the socket buffer)
/// must not hold the write for the whole response timeout. A shard that misses this is
/// still written if its node answers later, and rebuilt by healing if not.
const STRAGGLER_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Wait for remote shard writes; returns how many became durable. Once `local` plus those
/// reach `quorum`, the rest get [`STRAGGLER_GRACE`].
pub(super) async fn await_remote(
    tasks: impl IntoIterator<Item = tokio::task::JoinHandle<Result<(), ProtoError>>>,
    local: usize,
    quorum: usize,
) -> usize {
    let mut tasks: futures::stream::FuturesUnordered<_> = tasks.into_iter().collect();
    let mut durable = 0;
    let mut deadline = None;
    loop {
        if deadline.is_none() && local + durable >= quorum {
            deadline = Some(tokio::time::Instant::now() + STRAGGLER_GRACE);
        }
        let next = match deadline {
            Some(d) => match tokio::time::timeout_at(d, tasks.next()).await {
                Ok(n) => n,
                Err(_) => break,
            },
            None => tasks.next().await,
        };
        match next {
            Some(Ok(Ok(()))) => durable += 1,
            Some(_) => {}
            None => break,
        }
    }
    durable
}

/// The shards a write needs durable: `min(k + margin, k + m)`.
pub(super) fn write_quorum(layout: &Layout, margin: u8) -> usize {
    (usize::from(layout.k) + usize::from(margin)).min(usize::from(layout.k) + usize::from(layout.m))
}
