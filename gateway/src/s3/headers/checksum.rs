//! Checksum headers: the algorithms' names and headers, what a write asks to be checked
//! (`x-amz-checksum-*`, `x-amz-sdk-checksum-algorithm`, `x-amz-trailer`), `Content-MD5`, and
//! the checksum headers of responses.

use actix_web::http::header::HeaderMap;
use actix_web::HttpResponseBuilder;
use base64::Engine;
use coffer_proto::types::{Checksum, ChecksumAlgorithm, ChecksumType};

use super::get;
use crate::s3::error::{S3Error, S3ErrorCode};

/// For the requests whose body S3 wants proven (lifecycle and logging configurations): a
/// `Content-MD5` (checked here) or a flexible checksum header.
pub fn integrity_required(h: &HeaderMap, body: &[u8]) -> Result<(), S3Error> {
    use md5::Digest;
    if let Some(want) = content_md5(h)? {
        let got: [u8; 16] = md5::Md5::digest(body).into();
        if got != want {
            return Err(S3Error::new(S3ErrorCode::BadDigest));
        }
        return Ok(());
    }
    let checksummed = h.keys().any(|k| {
        let k = k.as_str();
        k.starts_with("x-amz-checksum-") || k == "x-amz-sdk-checksum-algorithm"
    });
    if !checksummed {
        return Err(S3Error::msg(
            S3ErrorCode::InvalidRequest,
            "Missing required header for this request: Content-MD5",
        ));
    }
    Ok(())
}

/// Algorithm from its S3 name (`CRC32`, `crc32c`, ...).
pub fn checksum_algorithm(name: &str) -> Option<ChecksumAlgorithm> {
    Some(match name.to_ascii_uppercase().as_str() {
        "CRC32" => ChecksumAlgorithm::Crc32,
        "CRC32C" => ChecksumAlgorithm::Crc32c,
        "CRC64NVME" => ChecksumAlgorithm::Crc64Nvme,
        "SHA1" => ChecksumAlgorithm::Sha1,
        "SHA256" => ChecksumAlgorithm::Sha256,
        _ => return None,
    })
}

/// The S3 name of an algorithm (`CRC32`, ...).
pub fn checksum_name(a: ChecksumAlgorithm) -> &'static str {
    match a {
        ChecksumAlgorithm::Crc32 => "CRC32",
        ChecksumAlgorithm::Crc32c => "CRC32C",
        ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
        ChecksumAlgorithm::Sha1 => "SHA1",
        ChecksumAlgorithm::Sha256 => "SHA256",
    }
}

/// The header carrying an algorithm's value (`x-amz-checksum-crc32`, ...).
pub fn checksum_header(a: ChecksumAlgorithm) -> &'static str {
    match a {
        ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
        ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
        ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
        ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
        ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
    }
}

const ALL_ALGORITHMS: [ChecksumAlgorithm; 5] = [
    ChecksumAlgorithm::Crc32,
    ChecksumAlgorithm::Crc32c,
    ChecksumAlgorithm::Crc64Nvme,
    ChecksumAlgorithm::Sha1,
    ChecksumAlgorithm::Sha256,
];

/// What a write says about checksums: the algorithm to compute and, if sent up front, the
/// expected value; `in_trailer` when the value comes in the aws-chunked trailer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumRequest {
    /// Algorithm.
    pub algorithm: ChecksumAlgorithm,
    /// Expected base64 value, if given in a header.
    pub expected: Option<String>,
    /// Value arrives in the trailer.
    pub in_trailer: bool,
}

/// Read `x-amz-checksum-*`, `x-amz-sdk-checksum-algorithm` and `x-amz-trailer`.
pub fn checksum_request(h: &HeaderMap) -> Result<Option<ChecksumRequest>, S3Error> {
    let given: Vec<(ChecksumAlgorithm, &str)> = ALL_ALGORITHMS
        .iter()
        .filter_map(|a| get(h, checksum_header(*a)).map(|v| (*a, v)))
        .collect();
    if given.len() > 1 {
        return Err(S3Error::msg(
            S3ErrorCode::InvalidRequest,
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        ));
    }
    let trailer = get(h, "x-amz-trailer").map(|t| t.trim().to_ascii_lowercase());
    let trailer_alg = match &trailer {
        Some(t) => Some(
            ALL_ALGORITHMS
                .iter()
                .copied()
                .find(|a| checksum_header(*a) == t)
                .ok_or_else(|| {
                    S3Error::msg(
                        S3ErrorCode::InvalidRequest,
                        "The value specified in the x-amz-trailer header is not supported",
                    )
                })?,
        ),
        None => None,
    };
    let sdk = match get(h, "x-amz-sdk-checksum-algorithm") {
        Some(n) => Some(checksum_algorithm(n).ok_or_else(|| {
            S3Error::msg(
                S3ErrorCode::InvalidRequest,
                "Value for x-amz-sdk-checksum-algorithm header is invalid.",
            )
        })?),
        None => None,
    };
    if let Some((a, v)) = given.first() {
        if sdk.is_some_and(|s| s != *a) || trailer_alg.is_some() {
            return Err(S3Error::msg(
                S3ErrorCode::InvalidRequest,
                "Value for x-amz-sdk-checksum-algorithm header is invalid.",
            ));
        }
        return Ok(Some(ChecksumRequest {
            algorithm: *a,
            expected: Some((*v).to_owned()),
            in_trailer: false,
        }));
    }
    if let Some(a) = trailer_alg {
        return Ok(Some(ChecksumRequest {
            algorithm: a,
            expected: None,
            in_trailer: true,
        }));
    }
    Ok(sdk.map(|a| ChecksumRequest {
        algorithm: a,
        expected: None,
        in_trailer: false,
    }))
}

/// Decode `Content-MD5` (InvalidDigest if it is not 16 bytes of base64).
pub fn content_md5(h: &HeaderMap) -> Result<Option<[u8; 16]>, S3Error> {
    let Some(v) = get(h, "content-md5") else {
        return Ok(None);
    };
    let d = base64::engine::general_purpose::STANDARD
        .decode(v.trim())
        .map_err(|_| S3Error::new(S3ErrorCode::InvalidDigest))?;
    let d: [u8; 16] = d
        .try_into()
        .map_err(|_| S3Error::new(S3ErrorCode::InvalidDigest))?;
    Ok(Some(d))
}

/// The S3 name of a checksum type.
pub fn checksum_type_name(t: ChecksumType) -> &'static str {
    match t {
        ChecksumType::FullObject => "FULL_OBJECT",
        ChecksumType::Composite => "COMPOSITE",
    }
}

/// Add `x-amz-checksum-*` and `x-amz-checksum-type` for a stored checksum.
pub fn checksum_headers(b: &mut HttpResponseBuilder, c: Option<&Checksum>) {
    if let Some(c) = c {
        b.insert_header((checksum_header(c.algorithm), c.value.as_str()));
        b.insert_header(("x-amz-checksum-type", checksum_type_name(c.kind)));
    }
}
