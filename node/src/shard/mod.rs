//! Drives and shard files. A shard file holds one shard of one blob: a fixed header, then one
//! `[crc32c][block]` record per stripe. Files are named by blob id and shard index under a
//! two-level fan-out directory; object keys never become paths.
//!
//! # Format
//! ```text
//! header (32 bytes): "CFSH" | version:u8=1 | k:u8 | m:u8 | shard:u8 | block_size:u32 LE |
//!                    stripe_size:u32 LE | blob id:[16]
//! record i:          crc32c(block):u32 LE | block (block_size bytes; the last may be shorter)
//! ```
//! A file whose header says a version this build does not know was written by a newer Coffer:
//! it is refused with [`std::io::ErrorKind::Unsupported`] ([`NewerFormat`]), never taken for
//! a corrupt shard, so that nothing heals over it. This module does blocking I/O; callers run
//! it on the blocking pool.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use coffer_proto::types::{Layout, ShardLoc};

pub mod direct;
pub mod sync;

/// Bytes of the shard file header.
pub const HEADER_LEN: u64 = 32;
const MAGIC: &[u8; 4] = b"CFSH";
const FORMAT_VERSION: u8 = 1;

/// A shard file written in a format version newer than this build reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewerFormat {
    /// The version the file says.
    pub version: u8,
}

impl std::fmt::Display for NewerFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "shard file format version {} was written by a newer Coffer; this build reads version {FORMAT_VERSION} (upgrade this node)",
            self.version
        )
    }
}

impl std::error::Error for NewerFormat {}

/// Whether `e` is a shard written by a newer Coffer (see [`NewerFormat`]).
pub fn is_newer_format(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::Unsupported
        && e.get_ref().is_some_and(|inner| inner.is::<NewerFormat>())
}

/// The error for a header `h` of a version this build does not know (None: it knows it).
fn newer(h: &[u8]) -> Option<std::io::Error> {
    match (h.get(0..4), h.get(4)) {
        (Some(magic), Some(&v)) if magic == MAGIC && v > FORMAT_VERSION => Some(
            std::io::Error::new(std::io::ErrorKind::Unsupported, NewerFormat { version: v }),
        ),
        _ => None,
    }
}

/// Check that the shard file at `path` (if any) may be replaced: one written by a newer
/// Coffer may not be (healing or moving a shard over it would throw away what this build
/// cannot read).
pub fn replaceable(path: &Path) -> std::io::Result<()> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut h = [0u8; 5];
    match file.read_exact_at(&mut h, 0) {
        Ok(()) => newer(&h).map_or(Ok(()), Err),
        // Shorter than a header: a torn write, which may be replaced.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(()),
        Err(e) => Err(e),
    }
}

/// One drive: a directory this node stores shards in.
#[derive(Debug, Clone)]
pub struct Drive {
    /// Index among this node's drives.
    pub index: u32,
    /// Root directory.
    pub root: PathBuf,
}

impl Drive {
    /// Path of shard `shard` of blob `id_hex`.
    pub fn shard_path(&self, id_hex: &str, shard: usize) -> PathBuf {
        let a = id_hex.get(0..2).unwrap_or("00");
        let b = id_hex.get(2..4).unwrap_or("00");
        self.root
            .join("shards")
            .join(a)
            .join(b)
            .join(format!("{id_hex}.{shard}"))
    }
}

/// This node's drives.
#[derive(Debug, Clone)]
pub struct Drives {
    /// Node id.
    pub node: u64,
    /// The drives.
    pub drives: Vec<Drive>,
}

impl Drives {
    /// Drives at the given roots (created if missing).
    pub fn open(node: u64, roots: &[PathBuf]) -> std::io::Result<Self> {
        let mut drives = Vec::new();
        for (i, root) in roots.iter().enumerate() {
            fs::create_dir_all(root.join("shards"))?;
            let index = u32::try_from(i).map_err(std::io::Error::other)?;
            drives.push(Drive {
                index,
                root: root.clone(),
            });
        }
        Ok(Drives { node, drives })
    }

    /// Every drive as a placement candidate.
    pub fn locations(&self) -> Vec<ShardLoc> {
        self.drives
            .iter()
            .map(|d| ShardLoc {
                node: self.node,
                drive: d.index,
            })
            .collect()
    }

    /// The local drive for a location (None if it is another node's).
    pub fn local(&self, loc: &ShardLoc) -> Option<&Drive> {
        self.drives.get(self.position(loc)?)
    }

    /// Position in [`Drives::drives`] of the local drive for a location.
    pub fn position(&self, loc: &ShardLoc) -> Option<usize> {
        if loc.node != self.node {
            return None;
        }
        self.drives.iter().position(|d| d.index == loc.drive)
    }
}

fn header(layout: &Layout, shard: usize, id: &[u8; 16]) -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    h[0..4].copy_from_slice(MAGIC);
    h[4] = FORMAT_VERSION;
    h[5] = layout.k;
    h[6] = layout.m;
    h[7] = u8::try_from(shard).unwrap_or(u8::MAX);
    h[8..12].copy_from_slice(
        &u32::try_from(layout.block_size())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    h[12..16].copy_from_slice(&layout.stripe_size.to_le_bytes());
    h[16..32].copy_from_slice(id);
    h
}

/// A shard file being written.
pub struct ShardWriter {
    path: PathBuf,
    file: File,
    /// Bytes written so far, staged ones included.
    at: u64,
    mode: WriteMode,
}

enum WriteMode {
    /// Through the page cache; from this offset on (if any), around it.
    Cached(Option<u64>),
    /// Around the page cache.
    Direct(direct::Staging),
}

impl ShardWriter {
    /// Create the file and write its header. From `direct_from` bytes on (rounded up to
    /// [`direct::ALIGN`]), the file is written around the page cache (see [`direct`]).
    pub fn create(
        path: PathBuf,
        layout: &Layout,
        shard: usize,
        id: &[u8; 16],
        direct_from: Option<u64>,
    ) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        let mut w = ShardWriter {
            path,
            file,
            at: 0,
            mode: WriteMode::Cached(direct_from.map(direct::align_up)),
        };
        w.append(&header(layout, shard, id))?;
        Ok(w)
    }

    /// Append one `[crc][block]` record.
    pub fn append(&mut self, record: &[u8]) -> std::io::Result<()> {
        let rest = match self.mode {
            WriteMode::Direct(_) => record,
            WriteMode::Cached(switch) => {
                let n = switch.map_or(record.len(), |s| {
                    usize::try_from(s.saturating_sub(self.at))
                        .map_or(record.len(), |n| n.min(record.len()))
                });
                let (now, rest) = record.split_at(n);
                self.file.write_all_at(now, self.at)?;
                self.at += n as u64;
                if rest.is_empty() {
                    return Ok(());
                }
                // At the switch offset, which is aligned.
                let Some(s) = direct::Staging::begin(&self.file) else {
                    self.mode = WriteMode::Cached(None);
                    return self.append(rest);
                };
                self.mode = WriteMode::Direct(s);
                rest
            }
        };
        if let WriteMode::Direct(s) = &mut self.mode {
            s.push(&self.file, &mut self.at, rest)?;
        }
        Ok(())
    }

    /// Write what is staged; the written file and its path, to be made durable (see
    /// [`sync::SyncQueue`]).
    pub fn finish(mut self) -> std::io::Result<(PathBuf, File)> {
        if let WriteMode::Direct(s) = std::mem::replace(&mut self.mode, WriteMode::Cached(None)) {
            s.finish(&self.file, &mut self.at)?;
        }
        Ok((self.path, self.file))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The largest page-cache folio (a huge page on x86-64): the kernel drops a folio only
/// when a drop covers it whole, and folios straddle records.
const MAX_FOLIO: u64 = 2 << 20;

/// A shard file being read.
pub struct ShardReader {
    file: File,
    block_size: u64,
    /// Records leave the page cache once read (see [`ShardReader::read_once`]).
    once: bool,
    /// The file opened for reads around the page cache (see [`ShardReader::read_once`]).
    direct: Option<File>,
    path: PathBuf,
    /// The file's length.
    len: u64,
}

impl ShardReader {
    /// Open a shard file, checking its header against what the metadata says.
    pub fn open(
        path: &Path,
        layout: &Layout,
        shard: usize,
        id: &[u8; 16],
    ) -> std::io::Result<Self> {
        let file = File::open(path)?;
        let mut h = [0u8; HEADER_LEN as usize];
        file.read_exact_at(&mut h, 0)?;
        if let Some(e) = newer(&h) {
            return Err(e);
        }
        if h != header(layout, shard, id) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "shard header mismatch",
            ));
        }
        let len = file.metadata()?.len();
        Ok(ShardReader {
            file,
            block_size: layout.block_size(),
            once: false,
            direct: None,
            path: path.to_path_buf(),
            len,
        })
    }

    /// Read each record once: its pages leave the page cache as soon as it has been read.
    /// For a large blob streamed to a client and for background scans, which would otherwise
    /// fill memory with data nobody reads again, pushing out what is read again and holding
    /// memory the rest of the machine asks for. [`ShardReader::read_record`] reads
    /// such records around the page cache where the filesystem lets it (see [`direct`]).
    #[must_use]
    pub fn read_once(mut self) -> Self {
        self.once = true;
        self.direct = direct::open(&self.path);
        self
    }

    /// Whether records are read around the page cache.
    pub fn reads_directly(&self) -> bool {
        self.direct.is_some()
    }

    fn offset(&self, stripe: u64) -> u64 {
        HEADER_LEN + stripe * (crate::erasure::CRC_LEN as u64 + self.block_size)
    }

    /// Read record `stripe` (`[crc][block]`, `block_len` bytes of block). A reader that reads
    /// records once reads around the page cache into a pooled buffer (no copy on the way to
    /// the client) where it can.
    pub fn read_record(&self, stripe: u64, block_len: usize) -> std::io::Result<Bytes> {
        let want = crate::erasure::CRC_LEN + block_len;
        let off = self.offset(stripe);
        if let Some(f) = self.direct.as_ref().filter(|_| direct::fits(off, want)) {
            if let Some(rec) = direct::read_at(f, off, want)? {
                // The pages written through the cache (a blob's first MiB) are still there.
                self.forget(off, want as u64);
                return Ok(Bytes::from_owner(rec));
            }
        }
        self.read_cached(off, want).map(Bytes::from)
    }

    /// `want` bytes at `off`, through the page cache.
    fn read_cached(&self, off: u64, want: usize) -> std::io::Result<Vec<u8>> {
        // Read into the vector's spare capacity: nothing is zeroed only to be overwritten.
        let mut buf = Vec::with_capacity(want);
        while buf.len() < want {
            let at = off + buf.len() as u64;
            let spare = rustix::buffer::spare_capacity(&mut buf);
            if rustix::io::pread(&self.file, spare, at)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        buf.truncate(want);
        self.forget(off, buf.len() as u64);
        Ok(buf)
    }

    /// Drop a record just read (at `off`, `len` bytes) from the page cache, if records are
    /// read once.
    fn forget(&self, off: u64, len: u64) {
        if self.once {
            // From the start of the largest folio this record's first byte can be in (one
            // the record before shares with it) to the end of the record, or of the file
            // after the last one. A folio shared with the next record goes when that one
            // is read. Advice only: a failure changes nothing that was read.
            let from = off - off % MAX_FOLIO;
            let end = off + len;
            let len = if end >= self.len {
                None // to the end of the file, and of the folio holding its last byte
            } else {
                std::num::NonZeroU64::new(end - from)
            };
            let _ = rustix::fs::fadvise(&self.file, from, len, rustix::fs::Advice::DontNeed);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn header_is_checked_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let drive = Drive {
            index: 0,
            root: dir.path().to_path_buf(),
        };
        let layout = Layout {
            k: 2,
            m: 1,
            stripe_size: 1024,
        };
        let id = [3u8; 16];
        let p = drive.shard_path("0303", 1);
        let mut w = ShardWriter::create(p.clone(), &layout, 1, &id, None).unwrap();
        w.append(&[0u8; 4 + 512]).unwrap();
        drop(w.finish().unwrap());
        assert!(ShardReader::open(&p, &layout, 1, &id).is_ok());
        assert!(ShardReader::open(&p, &layout, 0, &id).is_err());
        assert!(ShardReader::open(&p, &layout, 1, &[4u8; 16]).is_err());
        assert!(
            ShardWriter::create(p.clone(), &layout, 1, &id, None).is_err(),
            "never overwrite a shard"
        );
        let e = ShardReader::open(&p, &layout, 0, &id).err().unwrap();
        assert!(!is_newer_format(&e), "a mismatch is corruption: {e}");
        assert!(replaceable(&p).is_ok());
        assert!(replaceable(&dir.path().join("absent")).is_ok());
    }

    #[test]
    fn a_shard_from_a_newer_coffer_is_refused_not_healed_over() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout {
            k: 2,
            m: 1,
            stripe_size: 1024,
        };
        let id = [5u8; 16];
        let p = dir.path().join("shard");
        let mut h = header(&layout, 0, &id);
        h[4] = FORMAT_VERSION + 1;
        let mut bytes = h.to_vec();
        bytes.extend_from_slice(&[0u8; 4 + 512]);
        fs::write(&p, &bytes).unwrap();
        let e = ShardReader::open(&p, &layout, 0, &id).err().unwrap();
        assert!(is_newer_format(&e), "{e}");
        assert!(e.to_string().contains("newer Coffer"), "{e}");
        let e = replaceable(&p).unwrap_err();
        assert!(is_newer_format(&e), "{e}");
        // A torn file is not mistaken for one.
        fs::write(&p, b"CFS").unwrap();
        assert!(replaceable(&p).is_ok());
    }

    /// Bytes of `path` in the page cache, as util-linux's `fincore` counts them.
    fn resident(path: &Path) -> u64 {
        let out = std::process::Command::new("fincore")
            .args(["--bytes", "--noheadings", "--output", "RES"])
            .arg(path)
            .output()
            .expect("fincore (util-linux) runs");
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }

    #[test]
    fn records_read_once_leave_the_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let drive = Drive {
            index: 0,
            root: dir.path().to_path_buf(),
        };
        // Records of 3 MiB + 4: none starts on a page, and each shares a 2 MiB folio with
        // the next.
        let layout = Layout {
            k: 1,
            m: 0,
            stripe_size: 3 << 20,
        };
        let (id, stripes) = ([7u8; 16], 5u64);
        let p = drive.shard_path("0707", 0);
        let mut w = ShardWriter::create(p.clone(), &layout, 0, &id, None).unwrap();
        for s in 0..stripes {
            w.append(&vec![s as u8; 4 + (3 << 20)]).unwrap();
        }
        let (_, file) = w.finish().unwrap();
        file.sync_all().unwrap();
        let size = file.metadata().unwrap().len();
        let read_all = |r: &ShardReader| {
            for s in 0..stripes {
                let rec = r.read_record(s, 3 << 20).unwrap();
                assert!(rec[4..].iter().all(|b| *b == s as u8));
            }
        };
        let size = size.div_ceil(4096) * 4096; // whole pages
        assert_eq!(resident(&p), size, "a file just written is cached");
        read_all(&ShardReader::open(&p, &layout, 0, &id).unwrap());
        assert_eq!(resident(&p), size, "a plain read keeps it cached");

        // Written pages, cached since the write.
        read_all(&ShardReader::open(&p, &layout, 0, &id).unwrap().read_once());
        assert_eq!(resident(&p), 0, "read once from the cache");

        // Pages read from the disk, in whatever folios readahead makes.
        read_all(&ShardReader::open(&p, &layout, 0, &id).unwrap().read_once());
        assert_eq!(resident(&p), 0, "read once from the disk");
    }

    /// Whether the filesystem under `dir` takes direct writes (tmpfs before Linux 6.6 does not).
    fn has_direct_io(dir: &Path) -> bool {
        let f = File::create(dir.join("probe")).unwrap();
        let ok = direct::Staging::begin(&f).is_some();
        let _ = fs::remove_file(dir.join("probe"));
        ok
    }

    #[test]
    fn direct_writes_keep_the_format_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout {
            k: 1,
            m: 0,
            stripe_size: 1 << 20,
        };
        let id = [9u8; 16];
        // Records that end nowhere near a page, past a staging buffer and within one.
        let records: Vec<Vec<u8>> = [4 + (1 << 20), 4 + 5000, 4 + 1, 4 + (3 << 20) + 7, 4 + 4092]
            .iter()
            .enumerate()
            .map(|(i, &n)| (0..n).map(|j| (j * 31 + i * 7) as u8).collect())
            .collect();
        let mut want = header(&layout, 0, &id).to_vec();
        for r in &records {
            want.extend_from_slice(r);
        }
        // Direct from the start, from inside the first record, past the end, and never.
        for (n, from) in [Some(0), Some(10_000), Some(1 << 30), None]
            .into_iter()
            .enumerate()
        {
            let p = dir.path().join(format!("s{n}"));
            let mut w = ShardWriter::create(p.clone(), &layout, 0, &id, from).unwrap();
            for r in &records {
                w.append(r).unwrap();
            }
            let (path, file) = w.finish().unwrap();
            file.sync_data().unwrap();
            assert_eq!(path, p);
            assert!(fs::read(&p).unwrap() == want, "direct from {from:?}");
        }
    }

    #[test]
    fn direct_writes_leave_the_page_cache_alone() {
        let dir = tempfile::tempdir().unwrap();
        if !has_direct_io(dir.path()) {
            eprintln!("skipped: no direct I/O on {}", dir.path().display());
            return;
        }
        let layout = Layout {
            k: 1,
            m: 0,
            stripe_size: 1 << 20,
        };
        let id = [5u8; 16];
        let p = dir.path().join("big");
        let from = 1 << 20;
        let mut w = ShardWriter::create(p.clone(), &layout, 0, &id, Some(from)).unwrap();
        for s in 0..8u8 {
            w.append(&vec![s; 4 + (1 << 20)]).unwrap();
        }
        let (_, file) = w.finish().unwrap();
        file.sync_data().unwrap();
        // The cached head up to the aligned switch, and the last page's tail.
        let cached = resident(&p);
        assert!(
            cached <= direct::align_up(from) + direct::ALIGN,
            "{cached} bytes cached of {}",
            file.metadata().unwrap().len()
        );
        // A direct read brings nothing into the cache.
        rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed).unwrap();
        let f = direct::open(&p).unwrap();
        let rec = direct::read_at(&f, HEADER_LEN + 3 * (4 + (1 << 20)), 4 + (1 << 20))
            .unwrap()
            .unwrap();
        assert!(rec.as_ref().len() == 4 + (1 << 20) && rec.as_ref().iter().all(|b| *b == 3));
        assert_eq!(resident(&p), 0, "read around the cache");
        // Read once, the records come around the cache too, and the cached head goes.
        let r = ShardReader::open(&p, &layout, 0, &id).unwrap().read_once();
        assert!(r.reads_directly());
        for s in 0..8u8 {
            let rec = r.read_record(u64::from(s), 1 << 20).unwrap();
            assert!(rec.len() == 4 + (1 << 20) && rec.iter().all(|b| *b == s));
        }
        assert_eq!(resident(&p), 0);
        // A record the file ends inside of is an error, not short data.
        file.set_len(file.metadata().unwrap().len() - 10).unwrap();
        let r = ShardReader::open(&p, &layout, 0, &id).unwrap().read_once();
        assert_eq!(
            r.read_record(7, 1 << 20).unwrap_err().kind(),
            std::io::ErrorKind::UnexpectedEof
        );
        assert!(r.read_record(6, 1 << 20).is_ok());
    }
}
