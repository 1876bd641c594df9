//! Object version ids. A version is named by when it was committed, never by a clock: the
//! [`Stamp`] of a version is the Raft log index of the entry that wrote it and its place in
//! that entry (a batch entry carries several writes), so every node gives a write the same id
//! and a later commit always has a later stamp. The id a client sees is the stamp's 12 bytes,
//! in the order that sorts newest first, as 24 lowercase hex digits: opaque, URL-safe, never
//! starting with `-` (which a command line would take for an option), and the same bytes a
//! key of the metadata store can sort versions by. The version written while a bucket is
//! unversioned or suspended is `null`.
//!
//! S3 tells a malformed version id (400 InvalidArgument) from a well-formed one that names no
//! version (404 NoSuchVersion): [`VersionId::parse`] is that test.

use std::fmt;

use crate::types::NULL_VERSION;

/// When a version was committed: the Raft log index of its entry, and its place in the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    /// Raft log index.
    pub index: u64,
    /// Place of the write in its entry (0 for an entry of one command).
    pub pos: u32,
}

/// Bytes of a stamp in the form that sorts newest first.
pub const STAMP_LEN: usize = 12;

impl Stamp {
    /// The stamp as bytes that sort newest first (each field inverted, big-endian).
    pub fn newest_first(self) -> [u8; STAMP_LEN] {
        let mut out = [0u8; STAMP_LEN];
        out[..8].copy_from_slice(&(!self.index).to_be_bytes());
        out[8..].copy_from_slice(&(!self.pos).to_be_bytes());
        out
    }

    /// The version id this stamp names.
    pub fn version_id(self) -> String {
        VersionId::Stamped(self).to_string()
    }

    /// The stamp of bytes made by [`Stamp::newest_first`].
    pub fn from_newest_first(b: [u8; STAMP_LEN]) -> Stamp {
        let (index, pos) = b.split_at(8);
        let index = index.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x));
        let pos = pos.iter().fold(0u32, |acc, x| (acc << 8) | u32::from(*x));
        Stamp {
            index: !index,
            pos: !pos,
        }
    }
}

/// A version id as a request names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionId {
    /// `null`: the version written while the bucket was unversioned or suspended.
    Null,
    /// A version written while versioning was enabled.
    Stamped(Stamp),
}

/// A version id that is no version id at all (S3's 400 InvalidArgument).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed version id")]
pub struct MalformedVersionId;

impl VersionId {
    /// Length of a stamped id.
    pub const LEN: usize = STAMP_LEN * 2;

    /// Read a version id: `null`, or 24 lowercase hex digits.
    pub fn parse(s: &str) -> Result<VersionId, MalformedVersionId> {
        if s == NULL_VERSION {
            return Ok(VersionId::Null);
        }
        let b = s.as_bytes();
        if b.len() != Self::LEN {
            return Err(MalformedVersionId);
        }
        let digit = |c: u8| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            _ => Err(MalformedVersionId),
        };
        let mut raw = [0u8; STAMP_LEN];
        for (out, pair) in raw.iter_mut().zip(b.chunks_exact(2)) {
            let (hi, lo) = match pair {
                [hi, lo] => (digit(*hi)?, digit(*lo)?),
                _ => return Err(MalformedVersionId),
            };
            *out = (hi << 4) | lo;
        }
        Ok(VersionId::Stamped(Stamp::from_newest_first(raw)))
    }
}

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionId::Null => f.write_str(NULL_VERSION),
            VersionId::Stamped(s) => {
                for b in s.newest_first() {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn id(index: u64, pos: u32) -> VersionId {
        VersionId::Stamped(Stamp { index, pos })
    }

    #[test]
    fn ids_read_back_and_sort_newest_first() {
        let ids = [
            id(0, 0),
            id(1, 0),
            id(1, 1),
            id(2, 0),
            id(300, 7),
            id(u64::MAX, u32::MAX),
        ];
        for v in ids {
            let s = v.to_string();
            assert_eq!(s.len(), VersionId::LEN, "{s}");
            assert!(s
                .bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
            assert_eq!(VersionId::parse(&s), Ok(v), "{s}");
        }
        // A later commit sorts first, as text and as stored bytes.
        for pair in ids.windows(2) {
            let (older, newer) = (pair[0].to_string(), pair[1].to_string());
            assert!(newer < older, "{newer} sorts before {older}");
        }
        let (a, b) = (Stamp { index: 9, pos: 0 }, Stamp { index: 9, pos: 1 });
        assert!(b.newest_first() < a.newest_first());
        assert_eq!(Stamp::from_newest_first(b.newest_first()), b);
        assert_eq!(VersionId::parse("null"), Ok(VersionId::Null));
        assert_eq!(VersionId::Null.to_string(), "null");
    }

    #[test]
    fn malformed_ids_are_told_apart() {
        let good = id(42, 3).to_string();
        for bad in [
            String::new(),
            "NULL".into(),
            "Null".into(),
            good[1..].to_owned(),
            format!("{good}0"),
            good.to_uppercase(),
            format!("g{}", &good[1..]),
            format!("-{}", &good[1..]),
            "é".repeat(12),
            "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo".into(),
        ] {
            assert_eq!(VersionId::parse(&bad), Err(MalformedVersionId), "{bad:?}");
        }
    }
}
