//! Writes that bypass the page cache (`O_DIRECT`).
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

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

use rustix::fs::OFlags;

/// Alignment of direct writes: the largest logical block size of common devices.
pub const ALIGN: u64 = 4096;
/// Bytes a staging buffer holds, written out whole.
const STAGE: usize = 1 << 20;
/// Buffers kept for reuse: a fresh one is memory the process touches for the first time.
const POOL_MAX: usize = 16;

static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// `at` rounded up to a multiple of [`ALIGN`].
pub fn align_up(at: u64) -> u64 {
    at.div_ceil(ALIGN).saturating_mul(ALIGN)
}

/// Bytes of a file being written directly, waiting for a whole buffer.
pub struct Staging {
    /// [`STAGE`] + [`ALIGN`] bytes; the aligned window starts at `pad`.
    buf: Vec<u8>,
    pad: usize,
    len: usize,
    /// Writes still bypass the page cache (a refusal turns this off for good).
    direct: bool,
}

impl Staging {
    /// Turn on direct writes for `file`; `None` when the filesystem does not have them.
    pub fn begin(file: &File) -> Option<Self> {
        let flags = rustix::fs::fcntl_getfl(file).ok()?;
        rustix::fs::fcntl_setfl(file, flags | OFlags::DIRECT).ok()?;
        let buf = POOL
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_else(|| vec![0u8; STAGE + ALIGN as usize]);
        let misalign = buf.as_ptr() as usize % ALIGN as usize;
        let pad = (ALIGN as usize - misalign) % ALIGN as usize;
        Some(Staging {
            buf,
            pad,
            len: 0,
            direct: true,
        })
    }

    /// Add `data`, written at `*at` (aligned) and on; whole buffers go to the file.
    pub fn push(&mut self, file: &File, at: &mut u64, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = (STAGE - self.len).min(data.len());
            let from = self.pad + self.len;
            self.buf[from..from + n].copy_from_slice(&data[..n]);
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
        let from = self.pad;
        file.write_all_at(&self.buf[from..from + self.len], *at)?;
        *at += self.len as u64;
        self.len = 0;
        Ok(())
    }

    /// Write the first `n` staged bytes (a multiple of [`ALIGN`]), keeping the rest.
    fn flush(&mut self, file: &File, at: &mut u64, n: usize) -> io::Result<()> {
        let mut done = 0;
        while done < n && self.direct {
            let from = self.pad + done;
            match rustix::io::pwrite(file, &self.buf[from..self.pad + n], *at) {
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
            let from = self.pad + done;
            file.write_all_at(&self.buf[from..self.pad + n], *at)?;
            *at += (n - done) as u64;
        }
        let start = self.pad;
        self.buf.copy_within(start + n..start + self.len, start);
        self.len -= n;
        Ok(())
    }

    /// Turn direct writes off.
    fn buffered(&mut self, file: &File) -> io::Result<()> {
        if self.direct {
            let flags = rustix::fs::fcntl_getfl(file)?;
            rustix::fs::fcntl_setfl(file, flags - OFlags::DIRECT)?;
            self.direct = false;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < POOL_MAX {
            pool.push(std::mem::take(&mut self.buf));
        }
    }
}
