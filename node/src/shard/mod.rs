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
//! This module does blocking I/O; callers run it on the blocking pool.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use coffer_proto::types::{Layout, ShardLoc};

pub mod sync;

/// Bytes of the shard file header.
pub const HEADER_LEN: u64 = 32;
const MAGIC: &[u8; 4] = b"CFSH";
const FORMAT_VERSION: u8 = 1;

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
}

impl ShardWriter {
    /// Create the file and write its header.
    pub fn create(
        path: PathBuf,
        layout: &Layout,
        shard: usize,
        id: &[u8; 16],
    ) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        file.write_all(&header(layout, shard, id))?;
        Ok(ShardWriter { path, file })
    }

    /// Append one `[crc][block]` record.
    pub fn append(&mut self, record: &[u8]) -> std::io::Result<()> {
        self.file.write_all(record)
    }

    /// The written file and its path, to be made durable (see [`sync::SyncQueue`]).
    pub fn into_parts(self) -> (PathBuf, File) {
        (self.path, self.file)
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
            len,
        })
    }

    /// Read each record once: its pages leave the page cache as soon as it has been read.
    /// For a large blob streamed to a client and for background scans, which would otherwise
    /// fill memory with data nobody reads again, pushing out what is read again and holding
    /// memory the rest of the machine asks for.
    #[must_use]
    pub fn read_once(mut self) -> Self {
        self.once = true;
        self
    }

    /// Read record `stripe` (`[crc][block]`, `block_len` bytes of block).
    pub fn read_record(&self, stripe: u64, block_len: usize) -> std::io::Result<Vec<u8>> {
        let want = crate::erasure::CRC_LEN + block_len;
        let off = HEADER_LEN + stripe * (crate::erasure::CRC_LEN as u64 + self.block_size);
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
        if self.once {
            // From the start of the largest folio this record's first byte can be in (one
            // the record before shares with it) to the end of the record, or of the file
            // after the last one. A folio shared with the next record goes when that one
            // is read. Advice only: a failure changes nothing that was read.
            let from = off - off % MAX_FOLIO;
            let end = off + buf.len() as u64;
            let len = if end >= self.len {
                None // to the end of the file, and of the folio holding its last byte
            } else {
                std::num::NonZeroU64::new(end - from)
            };
            let _ = rustix::fs::fadvise(&self.file, from, len, rustix::fs::Advice::DontNeed);
        }
        Ok(buf)
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
        let mut w = ShardWriter::create(p.clone(), &layout, 1, &id).unwrap();
        w.append(&[0u8; 4 + 512]).unwrap();
        drop(w.into_parts());
        assert!(ShardReader::open(&p, &layout, 1, &id).is_ok());
        assert!(ShardReader::open(&p, &layout, 0, &id).is_err());
        assert!(ShardReader::open(&p, &layout, 1, &[4u8; 16]).is_err());
        assert!(
            ShardWriter::create(p, &layout, 1, &id).is_err(),
            "never overwrite a shard"
        );
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
        let mut w = ShardWriter::create(p.clone(), &layout, 0, &id).unwrap();
        for s in 0..stripes {
            w.append(&vec![s as u8; 4 + (3 << 20)]).unwrap();
        }
        let (_, file) = w.into_parts();
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
}
