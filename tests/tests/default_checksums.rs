//! Default checksums: as on S3, an object uploaded without a checksum gets a full-object
//! CRC64NVME (single PUTs, multipart uploads created without an algorithm, whatever their parts
//! carried, part copies and copies), and an upload's parts get its algorithm computed when the
//! client sends none. Every value is checked against the one a single PUT of the same bytes
//! gets, and against the SDK's own check of the body on GET (checksum mode on).

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use aws_sdk_s3::config::RequestChecksumCalculation;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ChecksumType};
use aws_sdk_s3::Client;
use cluster_tests::{bytes, completed, Server};

/// A client that sends a checksum only where S3 requires one (no default CRC32).
fn bare(c: &Client) -> Client {
    let conf = c
        .config()
        .to_builder()
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .build();
    Client::from_conf(conf)
}

/// (CRC64NVME, CRC32, checksum type) of `key` as GET reports them with checksum mode on; the
/// SDK checks the body against the checksum it validates.
async fn checksums(
    c: &Client,
    key: &str,
) -> (Option<String>, Option<String>, Option<ChecksumType>) {
    let o = c
        .get_object()
        .bucket("sums")
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    let r = (
        o.checksum_crc64_nvme().map(str::to_owned),
        o.checksum_crc32().map(str::to_owned),
        o.checksum_type().cloned(),
    );
    o.body.collect().await.unwrap();
    r
}

/// The CRC64NVME the server gives `data` stored by a single PUT.
async fn single_put_crc64(c: &Client, key: &str, data: &[u8]) -> String {
    let put = bare(c)
        .put_object()
        .bucket("sums")
        .key(key)
        .body(data.to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(put.checksum_type(), Some(&ChecksumType::FullObject));
    put.checksum_crc64_nvme().unwrap().to_owned()
}

#[tokio::test]
async fn objects_without_a_checksum_get_crc64nvme() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("sums").send().await.unwrap();
    let bare = bare(&c);

    // Single PUTs, inline and blob-sized.
    let small = bytes(1000, 1);
    let big = bytes((5 << 20) + 1000, 2);
    let small_crc = single_put_crc64(&c, "small", &small).await;
    let big_crc = single_put_crc64(&c, "big", &big).await;
    assert_ne!(small_crc, big_crc);
    assert_eq!(
        checksums(&c, "big").await,
        (Some(big_crc.clone()), None, Some(ChecksumType::FullObject))
    );
    let head = c
        .head_object()
        .bucket("sums")
        .key("small")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_crc64_nvme(), Some(small_crc.as_str()));
    // A client's checksum is the one kept: no default beside it.
    c.put_object()
        .bucket("sums")
        .key("crc32")
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .body(small.clone().into())
        .send()
        .await
        .unwrap();
    let (crc64, crc32, _) = checksums(&c, "crc32").await;
    assert_eq!((crc64.is_none(), crc32.is_some()), (true, true));

    // Multipart without an algorithm: parts sent bare, and parts sent with the SDK's CRC32.
    let parts = [big[..5 << 20].to_vec(), big[5 << 20..].to_vec()];
    for (key, client) in [("mp-bare", &bare), ("mp-crc32-parts", &c)] {
        let up = client
            .create_multipart_upload()
            .bucket("sums")
            .key(key)
            .send()
            .await
            .unwrap();
        let id = up.upload_id().unwrap();
        let done = cluster_tests::upload_parts(client, "sums", key, id, &parts).await;
        let listed = c
            .list_parts()
            .bucket("sums")
            .key(key)
            .upload_id(id)
            .send()
            .await
            .unwrap();
        assert!(
            listed
                .parts()
                .iter()
                .all(|p| p.checksum_crc64_nvme().is_some()),
            "{key}: every part has the default checksum"
        );
        let fin = c
            .complete_multipart_upload()
            .bucket("sums")
            .key(key)
            .upload_id(id)
            .multipart_upload(completed(&done))
            .send()
            .await
            .unwrap();
        assert_eq!(
            fin.checksum_type(),
            Some(&ChecksumType::FullObject),
            "{key}"
        );
        assert_eq!(fin.checksum_crc64_nvme(), Some(big_crc.as_str()), "{key}");
        assert_eq!(
            checksums(&c, key).await,
            (Some(big_crc.clone()), None, Some(ChecksumType::FullObject)),
            "{key}"
        );
    }

    // Part copies are checksummed as they are copied.
    let up = c
        .create_multipart_upload()
        .bucket("sums")
        .key("mp-copied")
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap();
    let mut done = Vec::new();
    for (n, range) in [
        (1, format!("bytes=0-{}", (5 << 20) - 1)),
        (2, format!("bytes={}-{}", 5 << 20, big.len() - 1)),
    ] {
        let r = c
            .upload_part_copy()
            .bucket("sums")
            .key("mp-copied")
            .upload_id(id)
            .part_number(n)
            .copy_source("sums/big")
            .copy_source_range(range)
            .send()
            .await
            .unwrap();
        let part = r.copy_part_result().unwrap();
        assert!(part.checksum_crc64_nvme().is_some(), "part {n}");
        done.push((n, part.e_tag().unwrap().to_owned()));
    }
    let fin = c
        .complete_multipart_upload()
        .bucket("sums")
        .key("mp-copied")
        .upload_id(id)
        .multipart_upload(completed(&done))
        .send()
        .await
        .unwrap();
    assert_eq!(fin.checksum_crc64_nvme(), Some(big_crc.as_str()));

    // Copies: the source's full-object checksum, or the default, or the one asked for.
    for (key, source) in [("copy-of-big", "big"), ("copy-of-crc32", "crc32")] {
        c.copy_object()
            .bucket("sums")
            .key(key)
            .copy_source(format!("sums/{source}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            checksums(&c, key).await,
            checksums(&c, source).await,
            "{key}"
        );
    }
    let sha = c
        .copy_object()
        .bucket("sums")
        .key("copy-sha256")
        .copy_source("sums/small")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .send()
        .await
        .unwrap();
    let want = c
        .put_object()
        .bucket("sums")
        .key("sha256")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .body(small.clone().into())
        .send()
        .await
        .unwrap();
    assert_eq!(
        sha.copy_object_result().unwrap().checksum_sha256(),
        want.checksum_sha256()
    );
}

#[tokio::test]
async fn an_uploads_algorithm_is_computed_for_parts_sent_without_it() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("sums").send().await.unwrap();
    let data = bytes((5 << 20) + 7, 3);
    let want = c
        .put_object()
        .bucket("sums")
        .key("single")
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
        .body(data.clone().into())
        .send()
        .await
        .unwrap();
    let up = c
        .create_multipart_upload()
        .bucket("sums")
        .key("full")
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
        .checksum_type(ChecksumType::FullObject)
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap();
    let parts = [data[..5 << 20].to_vec(), data[5 << 20..].to_vec()];
    let done = cluster_tests::upload_parts(&bare(&c), "sums", "full", id, &parts).await;
    let fin = c
        .complete_multipart_upload()
        .bucket("sums")
        .key("full")
        .upload_id(id)
        .multipart_upload(completed(&done))
        .send()
        .await
        .unwrap();
    assert_eq!(fin.checksum_type(), Some(&ChecksumType::FullObject));
    assert_eq!(fin.checksum_crc32_c(), want.checksum_crc32_c());
}
