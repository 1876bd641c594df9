//! One message's bytes on their way into its MD5 state, and the run that takes up to
//! [`LANES`] such messages through the compression function side by side.

use std::collections::VecDeque;

use bytes::Bytes;

use wide::u32x4;

use super::kernel::{self, Lanes, Pair, LANES, X8};

/// Stands in for the block of a lane that has no message in it; its result is dropped.
static IDLE: [u8; 64] = [0; 64];

/// A message's running state: the chaining value, the bytes short of a full block, and the
/// length so far.
#[derive(Clone, Debug)]
pub struct Progress {
    pub state: [u32; 4],
    pub tail: [u8; 64],
    pub tail_len: usize,
    /// Bytes given so far, all of them (in `state`, `tail` or still queued).
    pub len: u64,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            state: kernel::INIT,
            tail: [0; 64],
            tail_len: 0,
            len: 0,
        }
    }
}

impl Progress {
    /// The digest, once every byte is in `state` or `tail`.
    pub fn digest(mut self) -> [u8; 16] {
        let mut last = [0u8; 128];
        last[..self.tail_len].copy_from_slice(&self.tail[..self.tail_len]);
        last[self.tail_len] = 0x80;
        let end = if self.tail_len < 56 { 64 } else { 128 };
        last[end - 8..end].copy_from_slice(&self.len.wrapping_mul(8).to_le_bytes());
        for block in last[..end].chunks_exact(64) {
            if let Some(b) = block.first_chunk::<64>() {
                compress_one(&mut self.state, b);
            }
        }
        let mut out = [0u8; 16];
        for (o, w) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&w.to_le_bytes());
        }
        out
    }
}

/// One block through one state, with the fastest single-message code there is.
#[inline]
fn compress_one(state: &mut [u32; 4], block: &[u8; 64]) {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    md5_asm::compress(state, std::slice::from_ref(block));
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    kernel::compress1(state, block);
}

/// A message's progress and the queued bytes to add to it.
pub struct Feed {
    pub progress: Progress,
    pieces: VecDeque<Bytes>,
    /// Read offset into `pieces[0]`.
    off: usize,
    /// Bytes in `progress.tail` and `pieces` past `off`.
    left: usize,
    scratch: [u8; 64],
}

impl Feed {
    /// `pieces` to be added to `progress` (whose `len` already counts them).
    pub fn new(progress: Progress, pieces: VecDeque<Bytes>) -> Self {
        let queued: usize = pieces.iter().map(Bytes::len).sum();
        Feed {
            left: progress.tail_len + queued,
            progress,
            pieces,
            off: 0,
            scratch: [0; 64],
        }
    }

    /// Full blocks to go.
    pub fn blocks(&self) -> usize {
        self.left / 64
    }

    /// Copy the next `n` queued bytes to `dst`.
    fn take(&mut self, dst: &mut [u8]) {
        let mut at = 0;
        while at < dst.len() {
            let Some(p) = self.pieces.front() else { return };
            let n = (p.len() - self.off).min(dst.len() - at);
            dst[at..at + n].copy_from_slice(&p[self.off..self.off + n]);
            at += n;
            self.off += n;
            if self.off == p.len() {
                self.pieces.pop_front();
                self.off = 0;
            }
        }
    }

    /// The next full block; only when [`Feed::blocks`] is not zero.
    fn next_block(&mut self) -> &[u8; 64] {
        self.left = self.left.saturating_sub(64);
        let t = self.progress.tail_len;
        let direct = t == 0
            && self
                .pieces
                .front()
                .is_some_and(|p| p.len() - self.off >= 64);
        if direct {
            let off = self.off;
            self.off += 64;
            // `direct` said the front piece has these 64 bytes.
            return self
                .pieces
                .front()
                .and_then(|p| p[off..].first_chunk::<64>())
                .unwrap_or(&IDLE);
        }
        // The block straddles the tail and pieces, or two pieces: assemble it.
        let mut block = [0u8; 64];
        block[..t].copy_from_slice(&self.progress.tail[..t]);
        self.progress.tail_len = 0;
        self.take(&mut block[t..]);
        self.scratch = block;
        &self.scratch
    }

    /// Keep what is short of a block in the tail.
    fn keep_rest(&mut self) {
        let t = self.progress.tail_len;
        let n = self.left - t;
        let mut tail = self.progress.tail;
        self.take(&mut tail[t..t + n]);
        self.progress.tail = tail;
        self.progress.tail_len = t + n;
        self.left = self.progress.tail_len;
    }

    /// The progress and the bytes not yet in it, once a batch is done with the feed.
    pub fn into_rest(self) -> (Progress, VecDeque<Bytes>, usize) {
        let mut pieces = self.pieces;
        if let Some(p) = pieces.front_mut() {
            *p = p.slice(self.off..);
        }
        let queued = self.left - self.progress.tail_len;
        (self.progress, pieces, queued)
    }

    /// Every full block through the state, one message alone.
    pub fn run_alone(&mut self) {
        let mut state = self.progress.state;
        while self.blocks() > 0 {
            // The full blocks of the front piece straight from it, when no tail is pending.
            let whole = match self.pieces.front() {
                Some(p) if self.progress.tail_len == 0 => (p.len() - self.off) / 64 * 64,
                _ => 0,
            };
            if let (Some(p), true) = (self.pieces.front(), whole > 0) {
                for b in p[self.off..self.off + whole].chunks_exact(64) {
                    if let Some(b) = b.first_chunk::<64>() {
                        compress_one(&mut state, b);
                    }
                }
                self.off += whole;
                self.left -= whole;
            } else {
                compress_one(&mut state, self.next_block());
            }
        }
        self.progress.state = state;
        self.keep_rest();
    }
}

/// Full blocks of every feed, side by side in groups of [`LANES`], for as long as at least
/// two feeds of a group have blocks left; the rest of the longest stays in its feed. A group
/// of one feed runs all its blocks alone.
pub fn run(feeds: &mut [Feed]) {
    for group in feeds.chunks_mut(LANES) {
        if let [one] = group {
            one.run_alone();
            continue;
        }
        loop {
            let active: Vec<usize> = (0..group.len())
                .filter(|&i| group[i].blocks() > 0)
                .collect();
            if active.len() < 2 {
                break;
            }
            let n = active.iter().map(|&i| group[i].blocks()).min().unwrap_or(0);
            side_by_side(group, &active, n);
        }
    }
}

/// `n` blocks of each feed in `active` (at most [`LANES`] of them), one feed per lane: two
/// feeds in scalar registers, up to four in one 128-bit vector, else in two.
fn side_by_side(group: &mut [Feed], active: &[usize], n: usize) {
    match active.len() {
        0..=2 => lanes::<Pair>(group, active, n),
        3 | 4 => lanes::<u32x4>(group, active, n),
        _ => lanes::<X8>(group, active, n),
    }
}

fn lanes<V: Lanes>(group: &mut [Feed], active: &[usize], n: usize) {
    let mut state = [V::splat(0); 4];
    for (w, s) in state.iter_mut().enumerate() {
        let v: Vec<u32> = active.iter().map(|&i| group[i].progress.state[w]).collect();
        *s = V::gather(&v);
    }
    for _ in 0..n {
        let mut blocks = [&IDLE; LANES];
        let mut lane = blocks.iter_mut();
        for (i, f) in group.iter_mut().enumerate() {
            if active.contains(&i) {
                if let Some(b) = lane.next() {
                    *b = f.next_block();
                }
            }
        }
        V::compress_blocks(&mut state, &blocks[..V::N]);
    }
    for (w, s) in state.iter().enumerate() {
        for (l, &i) in active.iter().enumerate() {
            group[i].progress.state[w] = s.lane(l);
        }
    }
}
