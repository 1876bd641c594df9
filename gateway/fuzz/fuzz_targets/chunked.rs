//! Fuzz the aws-chunked decoder: any body, signed or not, fed in any pieces, must decode or
//! be refused, never panic; and how the body is cut into pieces must not change the answer,
//! the decoded bytes or the trailers.
#![no_main]

use bytes::Bytes;
use coffer_gateway::auth::chunked::ChunkDecoder;
use coffer_gateway::auth::sigv4::{signing_key, ChunkSigner};
use libfuzzer_sys::fuzz_target;

/// A signer with fixed inputs; `seeds/chunked/signed` is signed with it, so that mutations
/// of that seed get past the first signatures.
fn signer() -> ChunkSigner {
    let key = signing_key("fuzz-secret-key", "20240101", "us-east-1", "s3");
    let seed = "0".repeat(64);
    ChunkSigner::new(
        key,
        "20240101T000000Z",
        "20240101/us-east-1/s3/aws4_request",
        &seed,
    )
}

type Outcome = (Result<(), &'static str>, Vec<u8>, Vec<(String, String)>);

/// Decode `body` fed in pieces of `split` bytes.
fn decode(signed: bool, body: &[u8], split: usize) -> Outcome {
    let mut d = ChunkDecoder::new(signed.then(signer));
    let mut out = Vec::new();
    let mut res = Ok(());
    for piece in body.chunks(split) {
        if let Err(e) = d.push(Bytes::copy_from_slice(piece), &mut out) {
            res = Err(e.code.as_str());
            break;
        }
    }
    if res.is_ok() {
        res = d.finish().map_err(|e| e.code.as_str());
    }
    let data = out.concat();
    assert!(
        data.len() <= body.len(),
        "decoded more bytes than were sent"
    );
    (res, data, d.trailers)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let signed = mode & 1 == 1;
    let split = usize::from(mode >> 1) + 1;
    let whole = decode(signed, body, body.len().max(1));
    let pieces = decode(signed, body, split);
    assert_eq!(
        whole.0, pieces.0,
        "the answer depends on how the body was cut"
    );
    if whole.0.is_ok() {
        assert_eq!(
            whole.1, pieces.1,
            "decoded bytes depend on how the body was cut"
        );
        assert_eq!(whole.2, pieces.2, "trailers depend on how the body was cut");
    }
});
