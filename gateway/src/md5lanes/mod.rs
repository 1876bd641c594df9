//! MD5 of request bodies, hashed several bodies at a time.
//!
//! Every PUT and UploadPart computes the MD5 of its body (the ETag, and Content-MD5), and
//! MD5 is the largest share of a large upload's CPU. One message cannot be hashed faster
//! than its dependency chain allows, but concurrent uploads are independent messages.
//!
//! [`Md5Stream`] hashes a body's first [`QUEUE_FROM`] bytes as they arrive; short bodies
//! never go further. Past that it queues the pieces (reference-counted, not copied). Once
//! a stream has [`BATCH`] bytes queued, it hashes its queue together with those of up to
//! seven other streams that have at least [`SHARE`] queued, one message per SIMD lane
//! (`kernel.rs`), for as long as two of them have bytes left. What is left of the longest
//! stays queued for the next batch. A stream with no partner about waits for one until it
//! has [`ALONE`] queued, then hashes alone; `finish` hashes what is left, with partners
//! when there are any.
//!
//! A stream is hashed by whichever request's thread runs the batch; its owner waits for
//! a batch in progress only in [`Md5Stream::finish`].

mod feed;
mod kernel;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};

use bytes::Bytes;

use feed::{Feed, Progress};

/// Queued bytes at which a stream hashes its queue, with others'.
pub const BATCH: usize = 256 << 10;
/// Bodies shorter than this are hashed in place as they arrive and never queue.
pub const QUEUE_FROM: usize = 64 << 10;
/// Queued bytes at which a stream joins another stream's batch.
pub const SHARE: usize = 16 << 10;
/// Queued bytes at which a stream with no partner is hashed alone.
pub const ALONE: usize = 4 << 20;

/// A stream whose bytes other batches can take.
struct Lane {
    inner: Mutex<Queued>,
    /// Signalled when a batch gives the stream back.
    idle: Condvar,
}

struct Queued {
    progress: Progress,
    pieces: VecDeque<Bytes>,
    queued: usize,
    /// A batch holds this stream's progress.
    busy: bool,
}

/// Streams that have grown past [`QUEUE_FROM`] and are not finished.
static SHARED: Mutex<Vec<Weak<Lane>>> = Mutex::new(Vec::new());
/// Where the next batch starts looking in [`SHARED`], so every stream gets its turn.
static NEXT: AtomicUsize = AtomicUsize::new(0);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

enum Mode {
    /// Hashed in place as bytes arrive.
    Alone(Progress),
    /// Queued and hashed in batches.
    Shared(Arc<Lane>),
}

/// The MD5 of one body, fed in pieces.
pub struct Md5Stream {
    mode: Mode,
}

impl Default for Md5Stream {
    fn default() -> Self {
        Self::new()
    }
}

impl Md5Stream {
    /// An empty message.
    pub fn new() -> Self {
        Md5Stream {
            mode: Mode::Alone(Progress::default()),
        }
    }

    /// Add the next bytes of the message.
    pub fn update(&mut self, piece: &Bytes) {
        match &mut self.mode {
            Mode::Alone(p) if p.len + (piece.len() as u64) < QUEUE_FROM as u64 => {
                p.len += piece.len() as u64;
                let mut f = Feed::new(p.clone(), VecDeque::from([piece.clone()]));
                f.run_alone();
                *p = f.progress;
            }
            Mode::Alone(p) => {
                let mut progress = p.clone();
                progress.len += piece.len() as u64;
                let lane = Arc::new(Lane {
                    inner: Mutex::new(Queued {
                        progress,
                        pieces: VecDeque::from([piece.clone()]),
                        queued: piece.len(),
                        busy: false,
                    }),
                    idle: Condvar::new(),
                });
                {
                    let mut shared = lock(&SHARED);
                    shared.retain(|w| w.strong_count() > 0);
                    shared.push(Arc::downgrade(&lane));
                }
                self.mode = Mode::Shared(lane);
            }
            Mode::Shared(lane) => {
                let due = {
                    let mut q = lock(&lane.inner);
                    q.progress.len += piece.len() as u64;
                    q.pieces.push_back(piece.clone());
                    q.queued += piece.len();
                    q.queued >= BATCH && !q.busy
                };
                if due {
                    batch(lane);
                }
            }
        }
    }

    /// The digest of everything fed.
    pub fn finish(self) -> [u8; 16] {
        let lane = match self.mode {
            Mode::Alone(p) => return p.digest(),
            Mode::Shared(lane) => lane,
        };
        let mut q = lock(&lane.inner);
        while q.busy {
            q = lane.idle.wait(q).unwrap_or_else(|e| e.into_inner());
        }
        // Claimed for good: no batch takes it from here on.
        let mut feeds = vec![claim(&mut q)];
        drop(q);
        let (lanes, others): (Vec<_>, Vec<_>) = partners(&lane).into_iter().unzip();
        feeds.extend(others);
        feed::run(&mut feeds);
        let mut own = feeds.remove(0);
        give_back(lanes.into_iter().zip(feeds));
        own.run_alone();
        own.progress.digest()
    }
}

/// Take a stream's queue.
fn claim(q: &mut Queued) -> Feed {
    q.busy = true;
    q.queued = 0;
    Feed::new(q.progress.clone(), std::mem::take(&mut q.pieces))
}

/// Up to seven other streams with at least [`SHARE`] queued, claimed.
fn partners(own: &Arc<Lane>) -> Vec<(Arc<Lane>, Feed)> {
    let mut found = Vec::with_capacity(kernel::LANES - 1);
    let shared = lock(&SHARED);
    let n = shared.len();
    let start = NEXT.fetch_add(1, Ordering::Relaxed);
    for k in 0..n {
        if found.len() == kernel::LANES - 1 {
            break;
        }
        let Some(lane) = shared[(start + k) % n].upgrade() else {
            continue;
        };
        if Arc::ptr_eq(&lane, own) {
            continue;
        }
        let Ok(mut q) = lane.inner.try_lock() else {
            continue;
        };
        if !q.busy && q.queued >= SHARE {
            let f = claim(&mut q);
            drop(q);
            found.push((lane, f));
        }
    }
    found
}

/// Return claimed streams with what is left of their queues.
fn give_back(done: impl Iterator<Item = (Arc<Lane>, Feed)>) {
    for (lane, f) in done {
        let (progress, mut rest, queued) = f.into_rest();
        let mut q = lock(&lane.inner);
        // Bytes queued during the batch were counted in `len` then; keep that count.
        let len = q.progress.len;
        q.progress = Progress { len, ..progress };
        rest.append(&mut q.pieces);
        q.pieces = rest;
        q.queued += queued;
        q.busy = false;
        drop(q);
        lane.idle.notify_all();
    }
}

/// Hash `own`'s queue with those of other streams that have enough queued. With no
/// partner about, the queue waits for one until it reaches [`ALONE`].
fn batch(own: &Arc<Lane>) {
    let mine = {
        let mut q = lock(&own.inner);
        if q.busy {
            return;
        }
        claim(&mut q)
    };
    let (mut lanes, others): (Vec<_>, Vec<_>) = partners(own).into_iter().unzip();
    lanes.insert(0, Arc::clone(own));
    let mut feeds = vec![mine];
    feeds.extend(others);
    if feeds.len() > 1 {
        feed::run(&mut feeds);
    }
    if feeds[0].blocks() * 64 >= ALONE {
        feeds[0].run_alone();
    }
    give_back(lanes.into_iter().zip(feeds));
}

#[cfg(test)]
mod tests;
