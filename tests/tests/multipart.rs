//! Multipart uploads: the whole life cycle, validation errors, UploadPartCopy, listings,
//! partNumber reads and checksums.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart,
    ObjectAttributes,
};
use cluster_tests::{bytes, code, completed, status, upload_parts, Server};
use md5::Digest;

const MIB: usize = 1 << 20;

#[tokio::test]
async fn multipart_life_cycle() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("mpb").send().await.unwrap();
    let up = c
        .create_multipart_upload()
        .bucket("mpb")
        .key("obj")
        .content_type("video/x")
        .metadata("m", "v")
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap().to_owned();
    let parts_data = [bytes(5 * MIB, 1), bytes(5 * MIB + 17, 2), bytes(1234, 3)];
    let parts = upload_parts(&c, "mpb", "obj", &id, &parts_data).await;
    let listed = c
        .list_parts()
        .bucket("mpb")
        .key("obj")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.parts().len(), 3);
    let page = c
        .list_parts()
        .bucket("mpb")
        .key("obj")
        .upload_id(&id)
        .max_parts(2)
        .send()
        .await
        .unwrap();
    assert_eq!(page.is_truncated(), Some(true));
    assert_eq!(page.next_part_number_marker(), Some("2"));
    let ups = c
        .list_multipart_uploads()
        .bucket("mpb")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ups.uploads().first().and_then(|u| u.upload_id()),
        Some(id.as_str())
    );

    // Validation: order, unknown part, wrong ETag.
    let e = c
        .complete_multipart_upload()
        .bucket("mpb")
        .key("obj")
        .upload_id(&id)
        .multipart_upload(completed(&[parts[1].clone(), parts[0].clone()]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidPartOrder");
    let e = c
        .complete_multipart_upload()
        .bucket("mpb")
        .key("obj")
        .upload_id(&id)
        .multipart_upload(completed(&[(1, parts[0].1.clone()), (9, "\"abc\"".into())]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidPart");
    let e = c
        .complete_multipart_upload()
        .bucket("mpb")
        .key("obj")
        .upload_id(&id)
        .multipart_upload(completed(&[(1, "\"0123\"".into())]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidPart");

    let done = c
        .complete_multipart_upload()
        .bucket("mpb")
        .key("obj")
        .upload_id(&id)
        .multipart_upload(completed(&parts))
        .send()
        .await
        .unwrap();
    let mut md5s = md5::Md5::new();
    for d in &parts_data {
        md5s.update(md5::Md5::digest(d));
    }
    let want = format!("\"{:x}-3\"", md5s.finalize());
    assert_eq!(done.e_tag(), Some(want.as_str()));
    let o = c
        .get_object()
        .bucket("mpb")
        .key("obj")
        .send()
        .await
        .unwrap();
    assert_eq!(o.content_type(), Some("video/x"));
    assert_eq!(o.e_tag(), Some(want.as_str()));
    let all = o.body.collect().await.unwrap().into_bytes();
    assert_eq!(all.to_vec(), parts_data.concat());
    let p2 = c
        .get_object()
        .bucket("mpb")
        .key("obj")
        .part_number(2)
        .send()
        .await
        .unwrap();
    assert_eq!(p2.parts_count(), Some(3));
    assert_eq!(
        p2.body.collect().await.unwrap().into_bytes().to_vec(),
        parts_data[1]
    );
    let e = c
        .get_object()
        .bucket("mpb")
        .key("obj")
        .part_number(4)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 416);
    assert_eq!(code(&e), "InvalidPartNumber");
    // The upload is gone once completed.
    let e = c
        .list_parts()
        .bucket("mpb")
        .key("obj")
        .upload_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchUpload");
}

#[tokio::test]
async fn small_parts_abort_and_copy() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("mp2").send().await.unwrap();
    let id = c
        .create_multipart_upload()
        .bucket("mp2")
        .key("small")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let parts = upload_parts(&c, "mp2", "small", &id, &[bytes(100, 1), bytes(100, 2)]).await;
    let e = c
        .complete_multipart_upload()
        .bucket("mp2")
        .key("small")
        .upload_id(&id)
        .multipart_upload(completed(&parts))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "EntityTooSmall");
    c.abort_multipart_upload()
        .bucket("mp2")
        .key("small")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    let e = c
        .abort_multipart_upload()
        .bucket("mp2")
        .key("small")
        .upload_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchUpload");
    let e = c
        .upload_part()
        .bucket("mp2")
        .key("small")
        .upload_id("nope")
        .part_number(1)
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchUpload");

    // UploadPartCopy with and without a range.
    let src = bytes(6 * MIB, 11);
    c.put_object()
        .bucket("mp2")
        .key("src")
        .body(src.clone().into())
        .send()
        .await
        .unwrap();
    let id = c
        .create_multipart_upload()
        .bucket("mp2")
        .key("copied")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let p1 = c
        .upload_part_copy()
        .bucket("mp2")
        .key("copied")
        .upload_id(&id)
        .part_number(1)
        .copy_source("mp2/src")
        .send()
        .await
        .unwrap();
    let p2 = c
        .upload_part_copy()
        .bucket("mp2")
        .key("copied")
        .upload_id(&id)
        .part_number(2)
        .copy_source("mp2/src")
        .copy_source_range("bytes=100-199")
        .send()
        .await
        .unwrap();
    let e = c
        .upload_part_copy()
        .bucket("mp2")
        .key("copied")
        .upload_id(&id)
        .part_number(3)
        .copy_source("mp2/src")
        .copy_source_range(format!("bytes=0-{}", 6 * MIB))
        .send()
        .await
        .unwrap_err();
    // Past the end of the source: InvalidRange (416), as on S3; not a range at all:
    // InvalidArgument.
    assert_eq!((status(&e), code(&e).as_str()), (416, "InvalidRange"));
    for not_a_range in ["bytes=10-5", "bytes=a-b", "0-10"] {
        let e = c
            .upload_part_copy()
            .bucket("mp2")
            .key("copied")
            .upload_id(&id)
            .part_number(3)
            .copy_source("mp2/src")
            .copy_source_range(not_a_range)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "InvalidArgument", "{not_a_range}");
    }
    let parts = vec![
        (
            1,
            p1.copy_part_result()
                .and_then(|r| r.e_tag())
                .unwrap()
                .to_owned(),
        ),
        (
            2,
            p2.copy_part_result()
                .and_then(|r| r.e_tag())
                .unwrap()
                .to_owned(),
        ),
    ];
    c.complete_multipart_upload()
        .bucket("mp2")
        .key("copied")
        .upload_id(&id)
        .multipart_upload(completed(&parts))
        .send()
        .await
        .unwrap();
    let got = c
        .get_object()
        .bucket("mp2")
        .key("copied")
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert_eq!(got.to_vec(), [&src[..], &src[100..200]].concat());
}

#[tokio::test]
async fn multipart_checksums() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("mpck").send().await.unwrap();
    let id = c
        .create_multipart_upload()
        .bucket("mpck")
        .key("k")
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let data = [bytes(5 * MIB, 5), bytes(777, 6)];
    let mut parts = Vec::new();
    for (i, d) in data.iter().enumerate() {
        let n = i as i32 + 1;
        let r = c
            .upload_part()
            .bucket("mpck")
            .key("k")
            .upload_id(&id)
            .part_number(n)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(d.clone().into())
            .send()
            .await
            .unwrap();
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(r.e_tag().unwrap())
                .checksum_crc32(r.checksum_crc32().unwrap())
                .build(),
        );
    }
    let done = c
        .complete_multipart_upload()
        .bucket("mpck")
        .key("k")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();
    // Composite: CRC32 of the parts' CRC32s, suffixed with the part count.
    let mut h = crc32fast::Hasher::new();
    for d in &data {
        h.update(&crc32fast::hash(d).to_be_bytes());
    }
    use base64::Engine;
    let want = format!(
        "{}-2",
        base64::engine::general_purpose::STANDARD.encode(h.finalize().to_be_bytes())
    );
    assert_eq!(done.checksum_crc32(), Some(want.as_str()));
    assert_eq!(done.checksum_type(), Some(&ChecksumType::Composite));
    let head = c
        .head_object()
        .bucket("mpck")
        .key("k")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_crc32(), Some(want.as_str()));
    assert_eq!(head.checksum_type(), Some(&ChecksumType::Composite));

    // GetObjectAttributes: the part count, and the parts with their checksums, a page at a time.
    let attributes = |marker: Option<&str>, max: Option<i32>| {
        c.get_object_attributes()
            .bucket("mpck")
            .key("k")
            .object_attributes(ObjectAttributes::ObjectParts)
            .object_attributes(ObjectAttributes::Checksum)
            .set_part_number_marker(marker.map(Into::into))
            .set_max_parts(max)
            .send()
    };
    let all = attributes(None, None).await.unwrap();
    let parts = all.object_parts().unwrap();
    assert_eq!(parts.total_parts_count(), Some(2));
    assert_eq!(parts.is_truncated(), Some(false));
    let listed: Vec<(Option<i32>, Option<i64>, Option<String>)> = parts
        .parts()
        .iter()
        .map(|p| {
            (
                p.part_number(),
                p.size(),
                p.checksum_crc32().map(Into::into),
            )
        })
        .collect();
    let crc = |d: &[u8]| {
        Some(base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(d).to_be_bytes()))
    };
    assert_eq!(
        listed,
        [
            (Some(1), Some(5 * MIB as i64), crc(&data[0])),
            (Some(2), Some(777), crc(&data[1]))
        ]
    );
    assert_eq!(
        all.checksum().and_then(|c| c.checksum_type()),
        Some(&ChecksumType::Composite)
    );
    let first = attributes(None, Some(1)).await.unwrap();
    let page = first.object_parts().unwrap();
    assert_eq!(page.is_truncated(), Some(true));
    assert_eq!(page.parts().len(), 1);
    assert_eq!(page.next_part_number_marker(), Some("1"));
    let second = attributes(Some("1"), Some(1)).await.unwrap();
    let page = second.object_parts().unwrap();
    assert_eq!(page.is_truncated(), Some(false));
    assert_eq!(page.parts()[0].part_number(), Some(2));
    assert_eq!(page.total_parts_count(), Some(2));
}
