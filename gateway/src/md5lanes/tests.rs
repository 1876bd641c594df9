#![allow(clippy::unwrap_used)]
use super::*;
use md5::Digest;

/// Deterministic bytes and piece sizes.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// The tests look at which streams share batches, and every stream past QUEUE_FROM can
/// be taken into any other's batch: one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    lock(&SERIAL)
}

fn reference(d: &[u8]) -> [u8; 16] {
    md5::Md5::digest(d).into()
}

/// Feed `data` in pieces of sizes up to `max_piece`.
fn hashed(data: &[u8], rng: &mut Rng, max_piece: usize) -> [u8; 16] {
    let mut s = Md5Stream::new();
    let mut at = 0;
    while at < data.len() {
        let n = ((rng.next() as usize) % max_piece + 1).min(data.len() - at);
        s.update(&Bytes::copy_from_slice(&data[at..at + n]));
        at += n;
    }
    s.finish()
}

#[test]
fn lengths_around_block_and_threshold_edges_match_md5() {
    let _serial = serial();
    let mut rng = Rng(7);
    for len in [
        0,
        1,
        55,
        56,
        63,
        64,
        65,
        119,
        120,
        128,
        SHARE,
        QUEUE_FROM - 1,
        QUEUE_FROM,
        QUEUE_FROM + 1,
        BATCH - 1,
        BATCH,
        BATCH + 63,
        3 * BATCH + 17,
        ALONE + QUEUE_FROM + 1,
    ] {
        let data = rng.bytes(len);
        for max_piece in [1usize << 20, 65_536, 8_192, 100] {
            assert_eq!(
                hashed(&data, &mut rng, max_piece),
                reference(&data),
                "len {len}"
            );
        }
    }
}

fn lanes_agree_with_one_lane<V: kernel::Lanes>() {
    let mut rng = Rng(11 + V::N as u64);
    let blocks: Vec<[u8; 64]> = (0..V::N)
        .map(|_| rng.bytes(64).try_into().unwrap())
        .collect();
    let mut one: Vec<[u32; 4]> = (0..V::N).map(|l| [l as u32, 1, 2, 3]).collect();
    let mut side: [V; 4] =
        std::array::from_fn(|w| V::gather(&one.iter().map(|s| s[w]).collect::<Vec<_>>()));
    for (s, b) in one.iter_mut().zip(&blocks) {
        kernel::compress1(s, b);
    }
    V::compress_blocks(&mut side, &blocks.iter().collect::<Vec<_>>());
    for (l, s) in one.iter().enumerate() {
        let got: [u32; 4] = std::array::from_fn(|w| side[w].lane(l));
        assert_eq!(&got, s, "lane {l} of {}", V::N);
    }
}

#[test]
fn the_two_four_and_eight_lane_kernels_agree_with_the_one_lane_kernel() {
    let _serial = serial();
    lanes_agree_with_one_lane::<kernel::Pair>();
    lanes_agree_with_one_lane::<wide::u32x4>();
    lanes_agree_with_one_lane::<kernel::X8>();
}

#[test]
fn feeds_of_unequal_lengths_run_side_by_side_correctly() {
    let _serial = serial();
    let mut rng = Rng(3);
    // More feeds than lanes, lengths from none to several blocks, with tails left over
    // from earlier bytes, and pieces that split blocks.
    let mut feeds = Vec::new();
    let mut want = Vec::new();
    for i in 0..11usize {
        let head = rng.bytes(i * 7 % 64);
        let body = rng.bytes(i * 1_000 + 100 + i);
        let p = Progress {
            len: head.len() as u64,
            ..Progress::default()
        };
        let mut f = Feed::new(p, VecDeque::from([Bytes::from(head.clone())]));
        f.run_alone();
        let mut progress = f.progress;
        progress.len += body.len() as u64;
        let cut = body.len() / 3;
        let pieces = VecDeque::from([
            Bytes::copy_from_slice(&body[..cut]),
            Bytes::new(),
            Bytes::copy_from_slice(&body[cut..]),
        ]);
        feeds.push(Feed::new(progress, pieces));
        want.push(reference(&[head, body].concat()));
    }
    feed::run(&mut feeds);
    // Each group (eight feeds, then three) went as far as its shortest feed.
    for group in feeds.chunks(kernel::LANES) {
        assert_eq!(group.iter().map(Feed::blocks).min(), Some(0));
        assert!(group.iter().map(Feed::blocks).max() > Some(0));
    }
    for (i, (f, w)) in feeds.into_iter().zip(want).enumerate() {
        let (progress, rest, _) = f.into_rest();
        let mut f = Feed::new(progress, rest);
        f.run_alone();
        assert_eq!(f.blocks(), 0);
        assert_eq!(f.progress.digest(), w, "feed {i}");
    }
}

#[test]
fn concurrent_streams_share_batches_and_each_gets_its_own_digest() {
    let _serial = serial();
    let threads: Vec<_> = (0..12u64)
        .map(|t| {
            std::thread::spawn(move || {
                let mut rng = Rng(100 + t);
                let data = rng.bytes(2 * BATCH + (t as usize) * 4_099);
                (hashed(&data, &mut rng, 40_000), reference(&data))
            })
        })
        .collect();
    for t in threads {
        let (got, want) = t.join().unwrap();
        assert_eq!(got, want);
    }
}

#[test]
fn an_abandoned_stream_does_not_disturb_others() {
    let _serial = serial();
    let mut rng = Rng(5);
    let mut dropped = Md5Stream::new();
    dropped.update(&Bytes::from(rng.bytes(QUEUE_FROM * 2)));
    let data = rng.bytes(BATCH * 2);
    let got = hashed(&data, &mut rng, 70_000);
    drop(dropped);
    assert_eq!(got, reference(&data));
}

fn queued(s: &Md5Stream) -> Option<usize> {
    match &s.mode {
        Mode::Alone(_) => None,
        Mode::Shared(lane) => Some(lock(&lane.inner).queued),
    }
}

/// Feed `data` in pieces of `piece` bytes.
fn feed_all(s: &mut Md5Stream, data: &[u8], piece: usize) {
    for p in data.chunks(piece) {
        s.update(&Bytes::copy_from_slice(p));
    }
}

#[test]
fn a_stream_with_enough_queued_is_hashed_in_another_streams_batch() {
    let _serial = serial();
    let mut rng = Rng(9);
    let a_data = rng.bytes(QUEUE_FROM + 2 * SHARE);
    let b_data = rng.bytes(QUEUE_FROM + BATCH);
    let mut a = Md5Stream::new();
    feed_all(&mut a, &a_data, SHARE);
    // The first QUEUE_FROM - SHARE bytes were hashed in place, the rest is queued: short of
    // a batch of its own.
    let waiting = a_data.len() - (QUEUE_FROM - SHARE);
    assert_eq!(queued(&a), Some(waiting));
    let mut b = Md5Stream::new();
    feed_all(&mut b, &b_data, SHARE);
    // b's batch took a along.
    assert!(queued(&a) < Some(waiting), "{:?}", queued(&a));
    assert_eq!(a.finish(), reference(&a_data));
    assert_eq!(b.finish(), reference(&b_data));
}

#[test]
fn a_stream_with_no_partner_is_hashed_alone_once_it_has_alone_queued() {
    let _serial = serial();
    let mut rng = Rng(13);
    let data = rng.bytes(QUEUE_FROM + ALONE);
    let mut s = Md5Stream::new();
    feed_all(&mut s, &data, SHARE);
    assert!(queued(&s) < Some(BATCH), "{:?}", queued(&s));
    assert_eq!(s.finish(), reference(&data));
}

#[test]
fn a_short_body_never_queues() {
    let _serial = serial();
    let mut s = Md5Stream::new();
    s.update(&Bytes::from(vec![1u8; QUEUE_FROM - 1]));
    assert_eq!(queued(&s), None);
    assert_eq!(s.finish(), reference(&[1u8; QUEUE_FROM - 1]));
}
