//! Incremental decoder of `Content-Encoding: aws-chunked` bodies: signed chunks
//! (`size;chunk-signature=sig`) and unsigned chunks with trailing headers (`x-amz-checksum-*`,
//! `x-amz-trailer-signature`). Chunk data is passed on without copying; a chunk's signature is
//! checked when its data ends, and the caller discards everything if any check fails.
//!
//! # Format
//! ```text
//! hex-size[;chunk-signature=sig]\r\n data \r\n  ...  0[;chunk-signature=sig]\r\n
//! [trailer-name:value\r\n ...] \r\n
//! ```

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::sigv4::ChunkSigner;
use crate::s3::error::{S3Error, S3ErrorCode};

const MAX_LINE: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Data { left: u64 },
    DataEnd,
    Trailer,
    Done,
}

/// The decoder.
pub struct ChunkDecoder {
    state: State,
    line: Vec<u8>,
    signer: Option<ChunkSigner>,
    chunk_sig: String,
    chunk_hash: Sha256,
    /// Trailing headers (lowercased names), available once the body is done.
    pub trailers: Vec<(String, String)>,
    trailer_sig: Option<String>,
}

fn framing(msg: &'static str) -> S3Error {
    S3Error::msg(S3ErrorCode::InvalidRequest, msg)
}

fn bad_sig() -> S3Error {
    S3Error::new(S3ErrorCode::SignatureDoesNotMatch)
}

impl ChunkDecoder {
    /// A decoder; with a signer, every chunk (and the trailer) must be correctly signed.
    pub fn new(signer: Option<ChunkSigner>) -> Self {
        ChunkDecoder {
            state: State::Header,
            line: Vec::new(),
            signer,
            chunk_sig: String::new(),
            chunk_hash: Sha256::new(),
            trailers: Vec::new(),
            trailer_sig: None,
        }
    }

    /// Take one line (through `\n`) from `inp` into `self.line`; true when complete.
    fn take_line(&mut self, inp: &mut Bytes) -> Result<bool, S3Error> {
        match inp.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.line.extend_from_slice(&inp.split_to(i + 1));
                Ok(true)
            }
            None => {
                self.line.extend_from_slice(inp);
                *inp = Bytes::new();
                if self.line.len() > MAX_LINE {
                    return Err(framing("chunk header too long"));
                }
                Ok(false)
            }
        }
    }

    fn line_str(&mut self) -> Result<String, S3Error> {
        let l = std::mem::take(&mut self.line);
        let s = String::from_utf8(l).map_err(|_| framing("chunk header is not text"))?;
        s.strip_suffix("\r\n")
            .map(str::to_owned)
            .ok_or_else(|| framing("chunk header must end with CRLF"))
    }

    fn header(&mut self, line: &str) -> Result<(), S3Error> {
        let (size, ext) = line.split_once(';').unwrap_or((line, ""));
        let size =
            u64::from_str_radix(size.trim(), 16).map_err(|_| framing("invalid chunk size"))?;
        if self.signer.is_some() {
            self.chunk_sig = ext
                .trim()
                .strip_prefix("chunk-signature=")
                .ok_or_else(|| framing("missing chunk signature"))?
                .to_owned();
        }
        self.chunk_hash = Sha256::new();
        if size == 0 {
            self.end_chunk()?;
            self.state = State::Trailer;
        } else {
            self.state = State::Data { left: size };
        }
        Ok(())
    }

    fn end_chunk(&mut self) -> Result<(), S3Error> {
        if let Some(s) = &mut self.signer {
            let h = std::mem::take(&mut self.chunk_hash).finalize();
            if !s.verify_chunk(&h, &self.chunk_sig) {
                return Err(bad_sig());
            }
        }
        Ok(())
    }

    fn trailer_line(&mut self, line: &str) -> Result<(), S3Error> {
        if line.is_empty() {
            if let Some(s) = &mut self.signer {
                if let Some(sig) = &self.trailer_sig {
                    let canon: String = self
                        .trailers
                        .iter()
                        .map(|(k, v)| format!("{k}:{v}\n"))
                        .collect();
                    if !s.verify_trailer(&canon, sig) {
                        return Err(bad_sig());
                    }
                }
            }
            self.state = State::Done;
            return Ok(());
        }
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| framing("invalid trailer"))?;
        let k = k.trim().to_ascii_lowercase();
        if k == "x-amz-trailer-signature" {
            self.trailer_sig = Some(v.trim().to_owned());
        } else {
            self.trailers.push((k, v.trim().to_owned()));
        }
        Ok(())
    }

    /// Feed received bytes; decoded data pieces are appended to `out`.
    pub fn push(&mut self, mut inp: Bytes, out: &mut Vec<Bytes>) -> Result<(), S3Error> {
        while !inp.is_empty() {
            match self.state {
                State::Header => {
                    if self.take_line(&mut inp)? {
                        let l = self.line_str()?;
                        self.header(&l)?;
                    }
                }
                State::Data { left } => {
                    let n = (left.min(inp.len() as u64)) as usize;
                    let piece = inp.split_to(n);
                    if self.signer.is_some() {
                        self.chunk_hash.update(&piece);
                    }
                    out.push(piece);
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data { left }
                    };
                }
                State::DataEnd => {
                    let need = 2 - self.line.len();
                    let take = need.min(inp.len());
                    self.line.extend_from_slice(&inp.split_to(take));
                    if self.line.len() == 2 {
                        if self.line != b"\r\n" {
                            return Err(framing("chunk data must end with CRLF"));
                        }
                        self.line.clear();
                        self.end_chunk()?;
                        self.state = State::Header;
                    }
                }
                State::Trailer => {
                    if self.take_line(&mut inp)? {
                        let l = self.line_str()?;
                        self.trailer_line(&l)?;
                    }
                }
                State::Done => return Err(framing("data after the final chunk")),
            }
        }
        Ok(())
    }

    /// The body ended: it must have ended exactly after the final chunk.
    pub fn finish(&self) -> Result<(), S3Error> {
        match self.state {
            State::Done => Ok(()),
            _ => Err(S3Error::new(S3ErrorCode::IncompleteBody)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::auth::sigv4::signing_key;

    fn decode_all(d: &mut ChunkDecoder, body: &[u8], split: usize) -> Result<Vec<u8>, S3Error> {
        let mut out = Vec::new();
        for piece in body.chunks(split) {
            d.push(Bytes::copy_from_slice(piece), &mut out)?;
        }
        d.finish()?;
        Ok(out.concat())
    }

    #[test]
    fn unsigned_with_trailer_any_split() {
        let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        for split in [1, 2, 3, 7, 100] {
            let mut d = ChunkDecoder::new(None);
            assert_eq!(decode_all(&mut d, body, split).unwrap(), b"hello world");
            assert_eq!(
                d.trailers,
                vec![("x-amz-checksum-crc32".to_string(), "DUoRhQ==".to_string())]
            );
        }
    }

    #[test]
    fn broken_framing_is_refused() {
        for body in [
            &b"5\r\nhel"[..],
            b"5\r\nhelloXX0\r\n\r\n",
            b"zz\r\n",
            b"5\r\nhello\r\n",
            b"0\r\n\r\nextra",
        ] {
            let mut d = ChunkDecoder::new(None);
            assert!(
                decode_all(&mut d, body, 3).is_err(),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    fn aws_example_body(last_sig: &str) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n");
        b.extend_from_slice(&[b'a'; 65536]);
        b.extend_from_slice(b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n");
        b.extend_from_slice(&[b'a'; 1024]);
        b.extend_from_slice(format!("\r\n0;chunk-signature={last_sig}\r\n\r\n").as_bytes());
        b
    }

    fn signer() -> ChunkSigner {
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "20130524",
            "us-east-1",
            "s3",
        );
        ChunkSigner::new(
            key,
            "20130524T000000Z",
            "20130524/us-east-1/s3/aws4_request",
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        )
    }

    #[test]
    fn aws_doc_signed_chunks() {
        let body =
            aws_example_body("b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9");
        let mut d = ChunkDecoder::new(Some(signer()));
        assert_eq!(decode_all(&mut d, &body, 8191).unwrap().len(), 66560);
        let bad =
            aws_example_body("0000000000000000000000000000000000000000000000000000000000000000");
        let mut d = ChunkDecoder::new(Some(signer()));
        assert_eq!(
            decode_all(&mut d, &bad, 8191).unwrap_err().code,
            S3ErrorCode::SignatureDoesNotMatch
        );
    }
}
