//! The package cipher of scheme 1 (`coffer_proto::sse::SCHEME_GCM_PACKAGES`): a run of
//! object bytes (a blob, or an inline object's bytes) is cut into packages of
//! [`PACKAGE`] bytes, each sealed with AES-256-GCM under the run's own key (HKDF-SHA256 of the
//! data key and the blob id) with the package's index as its nonce, and stored with its tag.
//! No nonce repeats under a key: a key seals one run, and a run numbers its packages once.
//! Reading bytes `a..b` of a run fetches and opens only the packages that hold them
//! ([`Window`]); a package that does not open (a flipped bit, a package from elsewhere) is an
//! error, never bytes.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use coffer_proto::sse::{PACKAGE, TAG};
use futures::{Stream, StreamExt};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};

/// Packages opened by this process (the `coffer_sse_packages_opened_total` metric): what a
/// range read costs.
pub static OPENED: AtomicU64 = AtomicU64::new(0);
/// Packages sealed by this process (`coffer_sse_packages_sealed_total`).
pub static SEALED: AtomicU64 = AtomicU64::new(0);

/// Plaintext bytes per package, as a length.
const P: usize = PACKAGE as usize;
/// Tag bytes.
const T: usize = TAG as usize;

/// A package that does not open under its run's key: tampered with, or not of this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an encrypted package ({0}) does not open under its key: the stored bytes were changed")]
pub struct Tampered(pub u64);

/// The cipher of one run of bytes: AES-256-GCM as `ring` implements it (in assembly, about
/// five times the `aes-gcm` crate's speed here; the bytes are the same, as a test checks).
pub struct RunCipher(LessSafeKey);

impl RunCipher {
    /// The cipher of blob `blob` (None: an inline object's bytes) of data key `data_key`.
    pub fn new(data_key: &[u8; 32], blob: Option<&[u8; 16]>) -> RunCipher {
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(None, data_key);
        let mut info = b"coffer-sse-run-v1".to_vec();
        match blob {
            Some(id) => {
                info.push(b'b');
                info.extend_from_slice(id);
            }
            None => info.push(b'i'),
        }
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit: expand cannot fail.
        let _ = hk.expand(&info, &mut key);
        // A 32-byte key is what AES-256-GCM takes: `new` cannot fail.
        let key = UnboundKey::new(&AES_256_GCM, &key)
            .unwrap_or_else(|_| unreachable!("AES-256-GCM takes a 32-byte key"));
        RunCipher(LessSafeKey::new(key))
    }

    fn nonce(index: u64) -> Nonce {
        let mut n = [0u8; 12];
        n[4..].copy_from_slice(&index.to_be_bytes());
        // Unique under this key: a run numbers its packages once.
        Nonce::assume_unique_for_key(n)
    }

    /// Append package `index` holding `plain` (at most [`PACKAGE`] bytes), sealed, to `out`.
    pub fn seal_into(&self, index: u64, plain: &[u8], out: &mut BytesMut) {
        let at = out.len();
        out.extend_from_slice(plain);
        // AES-GCM refuses only messages over 64 GiB; a package is 64 KiB. (Were it refused,
        // a zero tag would make the package fail to open: an error, never bytes.)
        let tag = self
            .0
            .seal_in_place_separate_tag(Self::nonce(index), Aad::empty(), &mut out[at..])
            .map_or([0u8; T], |t| {
                let mut b = [0u8; T];
                b.copy_from_slice(t.as_ref());
                b
            });
        out.extend_from_slice(&tag);
        SEALED.fetch_add(1, Ordering::Relaxed);
    }

    /// Open sealed package `index` in place: its plaintext (the tag cut off).
    pub fn open(&self, index: u64, mut sealed: BytesMut) -> Result<BytesMut, Tampered> {
        if sealed.len() < T {
            return Err(Tampered(index));
        }
        let plain = self
            .0
            .open_in_place(Self::nonce(index), Aad::empty(), &mut sealed[..])
            .map_err(|_| Tampered(index))?
            .len();
        sealed.truncate(plain);
        OPENED.fetch_add(1, Ordering::Relaxed);
        Ok(sealed)
    }

    /// A whole run (an inline object's bytes), sealed.
    pub fn seal_all(&self, plain: &[u8]) -> Bytes {
        let mut out =
            BytesMut::with_capacity(coffer_proto::sse::sealed_len(plain.len() as u64) as usize);
        for (i, chunk) in plain.chunks(P).enumerate() {
            self.seal_into(i as u64, chunk, &mut out);
        }
        out.freeze()
    }

    /// Bytes `start..end` of a whole sealed run, opening only the packages that hold them.
    pub fn open_range(&self, sealed: &[u8], start: u64, end: u64) -> Result<Bytes, Tampered> {
        let w = Window::of(start, end, sealed.len() as u64);
        let (s, e) = (w.sealed_start as usize, w.sealed_end as usize);
        let mut out = BytesMut::with_capacity((end - start) as usize);
        let packages = sealed.get(s..e).unwrap_or_default().chunks(P + T);
        for (index, package) in (w.first..).zip(packages) {
            out.extend_from_slice(&self.open(index, BytesMut::from(package))?);
        }
        Ok(w.cut(out.freeze()))
    }
}

/// What reading plaintext bytes `start..end` of a sealed run takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The first package's index.
    pub first: u64,
    /// Stored bytes to fetch: from here ...
    pub sealed_start: u64,
    /// ... to here.
    pub sealed_end: u64,
    /// Plaintext bytes of the first package before `start`.
    pub skip: u64,
    /// Plaintext bytes wanted.
    pub len: u64,
}

impl Window {
    /// The window of plaintext `start..end` in a run of `sealed` stored bytes.
    pub fn of(start: u64, end: u64, sealed: u64) -> Window {
        let first = start / PACKAGE;
        let last = end.div_ceil(PACKAGE);
        Window {
            first,
            sealed_start: (first * (PACKAGE + TAG)).min(sealed),
            sealed_end: (last * (PACKAGE + TAG)).min(sealed),
            skip: start - first * PACKAGE,
            len: end.saturating_sub(start),
        }
    }

    /// The wanted bytes of the opened packages `opened`.
    fn cut(&self, opened: Bytes) -> Bytes {
        let s = (self.skip as usize).min(opened.len());
        let e = (s + self.len as usize).min(opened.len());
        opened.slice(s..e)
    }
}

/// `plain`, sealed package by package as it streams (the stream a blob is written from).
pub fn seal_stream<S, E>(cipher: RunCipher, plain: S) -> impl Stream<Item = Result<Bytes, E>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    struct State<S> {
        plain: S,
        cipher: RunCipher,
        pending: BytesMut,
        index: u64,
        done: bool,
    }
    let state = State {
        plain,
        cipher,
        pending: BytesMut::new(),
        index: 0,
        done: false,
    };
    futures::stream::unfold(state, |mut st| async move {
        loop {
            if st.done {
                return None;
            }
            match st.plain.next().await {
                Some(Ok(b)) => {
                    st.pending.extend_from_slice(&b);
                    let whole = st.pending.len() / P;
                    if whole == 0 {
                        continue;
                    }
                    let mut out = BytesMut::with_capacity(whole * (P + T));
                    for _ in 0..whole {
                        let p = st.pending.split_to(P);
                        st.cipher.seal_into(st.index, &p, &mut out);
                        st.index += 1;
                    }
                    return Some((Ok(out.freeze()), st));
                }
                Some(Err(e)) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
                None => {
                    st.done = true;
                    if st.pending.is_empty() {
                        return None;
                    }
                    let mut out = BytesMut::with_capacity(st.pending.len() + T);
                    let p = std::mem::take(&mut st.pending);
                    st.cipher.seal_into(st.index, &p, &mut out);
                    return Some((Ok(out.freeze()), st));
                }
            }
        }
    })
}

/// The plaintext of `window` from `sealed`, the stream of its stored bytes
/// (`window.sealed_start..window.sealed_end`), opened package by package as it streams.
///
/// Packages are opened in place in the chunks they arrive in, and their plaintext is handed
/// on without a copy: only a package that a chunk boundary cuts in two is put together in a
/// buffer of its own (and a chunk shared with another owner is copied once).
pub fn open_stream<S, E>(
    cipher: RunCipher,
    window: Window,
    sealed: S,
) -> impl Stream<Item = Result<Bytes, E>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: From<Tampered>,
{
    let state = Opener {
        sealed,
        cipher,
        partial: BytesMut::new(),
        ready: VecDeque::new(),
        index: window.first,
        skip: window.skip as usize,
        left: window.len as usize,
        done: false,
    };
    futures::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(b) = st.ready.pop_front() {
                return Some((Ok(b), st));
            }
            if st.done {
                return None;
            }
            let next = if st.left == 0 {
                None
            } else {
                st.sealed.next().await
            };
            let fed = match next {
                Some(Ok(chunk)) => st.feed(chunk),
                Some(Err(e)) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
                None => {
                    st.done = true;
                    st.finish()
                }
            };
            if let Err(t) = fed {
                st.done = true;
                st.ready.clear();
                return Some((Err(E::from(t)), st));
            }
        }
    })
}

/// The state of [`open_stream`].
struct Opener<S> {
    sealed: S,
    cipher: RunCipher,
    /// The first bytes of a package the last chunk ended in.
    partial: BytesMut,
    /// Plaintext opened and not yet handed on.
    ready: VecDeque<Bytes>,
    /// The next package's index.
    index: u64,
    /// Plaintext bytes still to skip (of the first package).
    skip: usize,
    /// Plaintext bytes still wanted.
    left: usize,
    done: bool,
}

impl<S> Opener<S> {
    /// Open the packages `chunk` completes or holds whole; keep the start of one it cuts.
    fn feed(&mut self, chunk: Bytes) -> Result<(), Tampered> {
        // A chunk no one else holds is opened where it lies; a shared one is copied first.
        let mut rest = chunk
            .try_into_mut()
            .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
        if !self.partial.is_empty() {
            let need = (P + T - self.partial.len()).min(rest.len());
            self.partial.extend_from_slice(&rest.split_to(need));
            if self.partial.len() < P + T {
                return Ok(());
            }
            let package = std::mem::take(&mut self.partial);
            self.package(package)?;
        }
        while rest.len() >= P + T && self.left > 0 {
            let package = rest.split_to(P + T);
            self.package(package)?;
        }
        if self.left > 0 && !rest.is_empty() {
            self.partial.extend_from_slice(&rest);
        }
        Ok(())
    }

    /// The stored run ended: open its short last package, and make sure nothing is missing.
    fn finish(&mut self) -> Result<(), Tampered> {
        if self.left > 0 && !self.partial.is_empty() {
            let package = std::mem::take(&mut self.partial);
            self.package(package)?;
        }
        if self.left > 0 {
            // The stored run ended before the bytes its record promises.
            return Err(Tampered(self.index));
        }
        Ok(())
    }

    /// Open the next package, keeping the wanted part of its plaintext.
    fn package(&mut self, sealed: BytesMut) -> Result<(), Tampered> {
        let mut plain = self.cipher.open(self.index, sealed)?;
        self.index += 1;
        let s = self.skip.min(plain.len());
        self.skip -= s;
        let _ = plain.split_to(s);
        let keep = plain.len().min(self.left);
        self.left -= keep;
        plain.truncate(keep);
        if keep > 0 {
            self.ready.push_back(plain.freeze());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use coffer_proto::sse::{plain_len, sealed_len};

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    fn sealed_run(plain: &[u8], pieces: usize) -> Bytes {
        let c = RunCipher::new(&[9; 32], Some(&[1; 16]));
        let chunks: Vec<Result<Bytes, Tampered>> = plain
            .chunks(pieces.max(1))
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let out: Vec<Bytes> = futures::executor::block_on(
            seal_stream(c, futures::stream::iter(chunks))
                .map(|r| r.unwrap())
                .collect(),
        );
        Bytes::from(out.concat())
    }

    fn read(sealed: &Bytes, start: u64, end: u64, piece: usize) -> Result<Vec<u8>, Tampered> {
        let c = RunCipher::new(&[9; 32], Some(&[1; 16]));
        let w = Window::of(start, end, sealed.len() as u64);
        let stored = sealed.slice(w.sealed_start as usize..w.sealed_end as usize);
        let chunks: Vec<Result<Bytes, Tampered>> = stored
            .chunks(piece)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let out: Vec<Result<Bytes, Tampered>> =
            futures::executor::block_on(open_stream(c, w, futures::stream::iter(chunks)).collect());
        out.into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.concat())
    }

    /// The bytes are AES-256-GCM's, whoever computes them: a package sealed here opens with
    /// the `aes-gcm` crate (which sealed the first encrypted objects) and the reverse.
    #[test]
    fn packages_are_standard_aes_256_gcm() {
        use aes_gcm::aead::{Aead, KeyInit, Payload};
        let data_key = [9u8; 32];
        let blob = [1u8; 16];
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(None, &data_key);
        let mut info = b"coffer-sse-run-v1b".to_vec();
        info.extend_from_slice(&blob);
        let mut key = [0u8; 32];
        hk.expand(&info, &mut key).unwrap();
        let other = aes_gcm::Aes256Gcm::new((&key).into());
        let mut nonce = [0u8; 12];
        nonce[4..].copy_from_slice(&7u64.to_be_bytes());
        let plain = data(70_000);
        let c = RunCipher::new(&data_key, Some(&blob));
        let mut ours = BytesMut::new();
        c.seal_into(7, &plain[..PACKAGE as usize], &mut ours);
        let theirs = other
            .encrypt(
                aes_gcm::Nonce::from_slice(&nonce),
                Payload {
                    msg: &plain[..PACKAGE as usize],
                    aad: b"",
                },
            )
            .unwrap();
        assert_eq!(&ours[..], &theirs[..]);
        assert_eq!(
            &c.open(7, BytesMut::from(&theirs[..])).unwrap()[..],
            &plain[..PACKAGE as usize]
        );
    }

    #[test]
    fn lengths_round_trip() {
        for n in [
            0,
            1,
            PACKAGE - 1,
            PACKAGE,
            PACKAGE + 1,
            5 * PACKAGE + 3,
            1 << 30,
        ] {
            assert_eq!(plain_len(sealed_len(n)), n, "{n}");
        }
        assert_eq!(sealed_len(0), 0);
        assert_eq!(sealed_len(1), 17);
        assert_eq!(sealed_len(PACKAGE), PACKAGE + 16);
    }

    #[test]
    fn every_range_of_every_shape_reads_back_exactly() {
        let p = PACKAGE as usize;
        for size in [0, 1, 100, p - 1, p, p + 1, 3 * p + 17] {
            let plain = data(size);
            for piece in [1000, p, 3 * p] {
                let sealed = sealed_run(&plain, piece);
                assert_eq!(sealed.len() as u64, sealed_len(size as u64));
                assert!(size < 16 || sealed.windows(16).all(|w| w != &plain[..16]));
                let cuts = [0, 1, p - 1, p, p + 1, 2 * p, size.saturating_sub(1), size];
                for &a in &cuts {
                    for &b in &cuts {
                        if a > b || b > size {
                            continue;
                        }
                        for read_piece in [7, 4096, p + 16] {
                            let got = read(&sealed, a as u64, b as u64, read_piece).unwrap();
                            assert_eq!(got, &plain[a..b], "size {size} range {a}..{b}");
                        }
                        let c = RunCipher::new(&[9; 32], Some(&[1; 16]));
                        let whole = c.open_range(&sealed, a as u64, b as u64).unwrap();
                        assert_eq!(&whole[..], &plain[a..b]);
                    }
                }
            }
        }
    }

    /// A chunk no one else holds is opened where it lies: the plaintext handed on is the
    /// chunk's own memory, not a copy.
    #[test]
    fn whole_packages_are_opened_in_place() {
        let plain = data(3 * PACKAGE as usize);
        let sealed = sealed_run(&plain, 100_000);
        let chunk = Bytes::from(sealed.to_vec());
        let at = chunk.as_ptr() as usize..chunk.as_ptr() as usize + chunk.len();
        let c = RunCipher::new(&[9; 32], Some(&[1; 16]));
        let w = Window::of(0, plain.len() as u64, sealed.len() as u64);
        let one: Vec<Result<Bytes, Tampered>> = vec![Ok(chunk)];
        let out: Vec<Bytes> = futures::executor::block_on(
            open_stream(c, w, futures::stream::iter(one))
                .map(|r| r.unwrap())
                .collect(),
        );
        assert_eq!(out.concat(), plain);
        assert!(out.iter().all(|b| at.contains(&(b.as_ptr() as usize))));
    }

    #[test]
    fn a_range_opens_only_its_packages() {
        let plain = data(8 * PACKAGE as usize);
        let sealed = sealed_run(&plain, 100_000);
        let w = Window::of(3 * PACKAGE + 5, 3 * PACKAGE + 6, sealed.len() as u64);
        assert_eq!(w.sealed_end - w.sealed_start, PACKAGE + TAG);
        let w = Window::of(4 * PACKAGE - 1, 4 * PACKAGE + 1, sealed.len() as u64);
        assert_eq!(w.sealed_end - w.sealed_start, 2 * (PACKAGE + TAG));
    }

    #[test]
    fn a_flipped_bit_or_a_foreign_key_is_an_error_never_bytes() {
        let plain = data(3 * PACKAGE as usize + 10);
        let sealed = sealed_run(&plain, 4096);
        for at in [0, 5, PACKAGE as usize + 16, sealed.len() - 1] {
            let mut bad = sealed.to_vec();
            bad[at] ^= 1;
            let bad = Bytes::from(bad);
            assert!(
                read(&bad, 0, plain.len() as u64, 4096).is_err(),
                "byte {at}"
            );
        }
        // A truncated run is an error too.
        let cut = sealed.slice(..sealed.len() - 20);
        assert!(read(&cut, 0, plain.len() as u64, 4096).is_err());
        // Packages swapped within the run do not open at the other's index.
        let mut swapped = sealed.to_vec();
        let (a, b) = swapped.split_at_mut(PACKAGE as usize + 16);
        a.swap_with_slice(&mut b[..PACKAGE as usize + 16]);
        assert!(read(&Bytes::from(swapped), 0, 10, 4096).is_err());
        // Another blob's key, or the inline key, does not open it.
        for other in [
            RunCipher::new(&[9; 32], Some(&[2; 16])),
            RunCipher::new(&[9; 32], None),
        ] {
            assert!(other.open_range(&sealed, 0, 10).is_err());
        }
    }
}
