//! Writes and reads that bypass the page cache (`O_DIRECT`).
//!
//! A large blob's shards are read once, if ever, soon after they are written, and the read
//! drops them from the cache ([`super::ShardReader::read_once`]). Written through the page
//! cache, every byte is first copied into a page the kernel has just allocated, and on a
//! virtual machine that returns free memory to its host, such a page costs a fault in the
//! host as well: on the AMD EPYC VM of `docs/bench/2026-12-03-direct-writes/`, 2.8 CPU-ms
//! per MiB with `dd`, against 0.12 ms with `oflag=direct`, and the largest share of a large
//! PUT's server CPU. Written directly, the device reads the bytes from a buffer that is
//! reused, and the later `fdatasync` has no dirty pages left to write.
//!
//! Direct I/O wants the file offset, the length and the memory address aligned to the
//! device's logical block. [`Staging`] copies records into a 4 KiB-aligned buffer and writes
//! it out in whole blocks; the last bytes, short of a block, go through the page cache. A
//! filesystem that refuses direct I/O (`EINVAL`) gets every byte through the page cache.
//!
//! A large blob's reads, which drop what they read from the cache anyway, read directly too
//! ([`read_at`]): the aligned blocks around a record into a pooled buffer, which the
//! response then sends from without a copy ([`Record`]).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

use rustix::fs::OFlags;

/// Alignment of direct writes: the largest logical block size of common devices.
pub const ALIGN: u64 = 4096;
/// Bytes a staging buffer holds, written out whole.
const STAGE: usize = 1 << 20;
/// Bytes one direct read asks for, at most: a staging buffer and the blocks on either side,
/// so that a record of a 1 MiB stripe is one read.
const WINDOW: usize = STAGE + 2 * ALIGN as usize;
/// Buffers kept for reuse: a fresh one is memory the process touches for the first time.
const POOL_MAX: usize = 32;

static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// `at` rounded up to a multiple of [`ALIGN`].
pub fn align_up(at: u64) -> u64 {
    at.div_ceil(ALIGN).saturating_mul(ALIGN)
}

/// Turn direct I/O on for `file`; false when the filesystem does not have it.
fn enable(file: &File) -> bool {
    rustix::fs::fcntl_getfl(file)
        .and_then(|flags| rustix::fs::fcntl_setfl(file, flags | OFlags::DIRECT))
        .is_ok()
}

/// `path` opened for direct reads; `None` when the filesystem does not have them.
pub fn open(path: &std::path::Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(OFlags::DIRECT.bits() as i32)
        .open(path)
        .ok()
}

/// Turn direct I/O off for `file`.
fn disable(file: &File) -> io::Result<()> {
    let flags = rustix::fs::fcntl_getfl(file)?;
    rustix::fs::fcntl_setfl(file, flags - OFlags::DIRECT)?;
    Ok(())
}

/// An aligned window of [`WINDOW`] bytes in a buffer from the pool, returned to it on drop.
struct Aligned {
    buf: Vec<u8>,
    pad: usize,
}

impl Aligned {
    fn take() -> Self {
        let buf = POOL
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_else(|| vec![0u8; WINDOW + ALIGN as usize]);
        let misalign = buf.as_ptr() as usize % ALIGN as usize;
        let pad = (ALIGN as usize - misalign) % ALIGN as usize;
        Aligned { buf, pad }
    }

    fn window(&mut self) -> &mut [u8] {
        &mut self.buf[self.pad..self.pad + WINDOW]
    }
}

impl Drop for Aligned {
    fn drop(&mut self) {
        let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < POOL_MAX {
            pool.push(std::mem::take(&mut self.buf));
        }
    }
}

/// Whether `len` bytes at `off` fit one direct read.
pub fn fits(off: u64, len: usize) -> bool {
    (off % ALIGN) as usize + len <= WINDOW
}

/// Bytes read directly, in a buffer that goes back to the pool when they are dropped (as the
/// owner of a `Bytes`, when the last slice of it is).
pub struct Record {
    buf: Aligned,
    start: usize,
    len: usize,
}

impl AsRef<[u8]> for Record {
    fn as_ref(&self) -> &[u8] {
        let from = self.buf.pad + self.start;
        &self.buf.buf[from..from + self.len]
    }
}

/// `len` bytes at `off` of `file`, opened by [`open`], in one read of the aligned blocks
/// around them (they must [`fit`](fits)); `None` when the read is refused (`EINVAL`), for
/// the caller to read through the cache.
pub fn read_at(file: &File, off: u64, len: usize) -> io::Result<Option<Record>> {
    let pos = off - off % ALIGN;
    let start = (off - pos) as usize;
    let want = start + len;
    let ask = (want.div_ceil(ALIGN as usize) * ALIGN as usize).min(WINDOW);
    let mut buf = Aligned::take();
    let win = buf.window();
    let mut got = 0;
    while got < want {
        match rustix::io::pread(file, &mut win[got..ask], pos + got as u64) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(rustix::io::Errno::INVAL) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        if got < want && got % ALIGN as usize != 0 {
            // Short of the record, at an unaligned offset: the file ends inside it.
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(Some(Record { buf, start, len }))
}

/// Bytes of a file being written directly, waiting for a whole buffer.
pub struct Staging {
    buf: Aligned,
    len: usize,
    /// Writes still bypass the page cache (a refusal turns this off for good).
    direct: bool,
}

impl Staging {
    /// Turn on direct writes for `file`; `None` when the filesystem does not have them.
    pub fn begin(file: &File) -> Option<Self> {
        enable(file).then(|| Staging {
            buf: Aligned::take(),
            len: 0,
            direct: true,
        })
    }

    /// Add `data`, written at `*at` (aligned) and on; whole buffers go to the file.
    pub fn push(&mut self, file: &File, at: &mut u64, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = (STAGE - self.len).min(data.len());
            let from = self.len;
            self.buf.window()[from..from + n].copy_from_slice(&data[..n]);
            self.len += n;
            data = &data[n..];
            if self.len == STAGE {
                self.flush(file, at, STAGE)?;
            }
        }
        Ok(())
    }

    /// Write what is staged; the file is back to ordinary writes afterwards.
    pub fn finish(mut self, file: &File, at: &mut u64) -> io::Result<()> {
        let whole = self.len - self.len % ALIGN as usize;
        self.flush(file, at, whole)?;
        self.buffered(file)?;
        file.write_all_at(&self.buf.window()[..self.len], *at)?;
        *at += self.len as u64;
        self.len = 0;
        Ok(())
    }

    /// Write the first `n` staged bytes (a multiple of [`ALIGN`]), keeping the rest.
    fn flush(&mut self, file: &File, at: &mut u64, n: usize) -> io::Result<()> {
        let mut done = 0;
        while done < n && self.direct {
            match rustix::io::pwrite(file, &self.buf.window()[done..n], *at) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(w) => {
                    done += w;
                    *at += w as u64;
                    if done < n && done % ALIGN as usize != 0 {
                        // A short write left the offset unaligned: finish through the cache.
                        self.buffered(file)?;
                    }
                }
                Err(rustix::io::Errno::INVAL) => self.buffered(file)?,
                Err(e) => return Err(e.into()),
            }
        }
        if done < n {
            file.write_all_at(&self.buf.window()[done..n], *at)?;
            *at += (n - done) as u64;
        }
        let len = self.len;
        self.buf.window().copy_within(n..len, 0);
        self.len -= n;
        Ok(())
    }

    /// Turn direct writes off.
    fn buffered(&mut self, file: &File) -> io::Result<()> {
        if self.direct {
            disable(file)?;
            self.direct = false;
        }
        Ok(())
    }
}
