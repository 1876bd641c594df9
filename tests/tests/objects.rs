//! Objects: put/get/head/delete, metadata and headers, ranges, conditional requests,
//! response overrides, copy, checksums, GetObjectAttributes and bad input.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, MetadataDirective, ObjectAttributes};
use cluster_tests::{bytes, code, signed, status, Server};

async fn body(o: aws_sdk_s3::operation::get_object::GetObjectOutput) -> Vec<u8> {
    o.body.collect().await.unwrap().into_bytes().to_vec()
}

#[tokio::test]
async fn put_get_head_delete_small_and_large() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("obj").send().await.unwrap();
    for (key, len) in [
        ("empty", 0usize),
        ("small", 1000),
        ("inline-edge", 65536),
        ("large", 3 << 20),
    ] {
        let data = bytes(len, len as u64);
        let put = c
            .put_object()
            .bucket("obj")
            .key(key)
            .body(ByteStream::from(data.clone()))
            .content_type("text/x-test")
            .cache_control("max-age=60")
            .content_disposition("attachment")
            .metadata("Color", "blue")
            .send()
            .await
            .unwrap();
        let etag = format!("\"{:x}\"", md5::Md5::digest(&data));
        assert_eq!(put.e_tag(), Some(etag.as_str()));
        let got = c.get_object().bucket("obj").key(key).send().await.unwrap();
        assert_eq!(got.content_length(), Some(len as i64));
        assert_eq!(got.content_type(), Some("text/x-test"));
        assert_eq!(got.cache_control(), Some("max-age=60"));
        assert_eq!(got.content_disposition(), Some("attachment"));
        assert_eq!(
            got.metadata()
                .and_then(|m| m.get("color"))
                .map(String::as_str),
            Some("blue")
        );
        assert_eq!(body(got).await, data, "{key}");
        let head = c.head_object().bucket("obj").key(key).send().await.unwrap();
        assert_eq!(head.content_length(), Some(len as i64));
        assert_eq!(head.e_tag(), Some(etag.as_str()));
    }
    c.delete_object()
        .bucket("obj")
        .key("large")
        .send()
        .await
        .unwrap();
    let e = c
        .get_object()
        .bucket("obj")
        .key("large")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchKey");
    let e = c
        .head_object()
        .bucket("obj")
        .key("large")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 404);
    // Deleting a missing key is not an error.
    c.delete_object()
        .bucket("obj")
        .key("never-was")
        .send()
        .await
        .unwrap();
}

use md5::Digest;

#[tokio::test]
async fn ranges_conditions_and_overrides() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("rng").send().await.unwrap();
    for (key, len) in [("small", 1000usize), ("large", (2 << 20) + 123)] {
        let data = bytes(len, 7);
        let etag = c
            .put_object()
            .bucket("rng")
            .key(key)
            .body(data.clone().into())
            .send()
            .await
            .unwrap()
            .e_tag()
            .unwrap()
            .to_owned();
        let get = |r: &str| c.get_object().bucket("rng").key(key).range(r).send();
        let o = get("bytes=10-19").await.unwrap();
        assert_eq!(
            o.content_range(),
            Some(format!("bytes 10-19/{len}").as_str())
        );
        assert_eq!(body(o).await, &data[10..20]);
        assert_eq!(body(get("bytes=-5").await.unwrap()).await, &data[len - 5..]);
        assert_eq!(
            body(get(&format!("bytes={}-", len - 3)).await.unwrap()).await,
            &data[len - 3..]
        );
        // A range crossing a stripe boundary (1 MiB stripes).
        let o = get("bytes=1048570-1048590").await;
        if len > 1048590 {
            assert_eq!(body(o.unwrap()).await, &data[1048570..1048591]);
        }
        let e = get(&format!("bytes={len}-")).await.unwrap_err();
        assert_eq!(code(&e), "InvalidRange");
        assert_eq!(status(&e), 416);
        // The largest last-byte position is clipped like any other past the end.
        let o = get("bytes=5-18446744073709551615").await.unwrap();
        assert_eq!(
            o.content_range(),
            Some(format!("bytes 5-{}/{len}", len - 1).as_str())
        );
        assert_eq!(body(o).await, &data[5..]);

        let e = c
            .get_object()
            .bucket("rng")
            .key(key)
            .if_none_match(&etag)
            .send()
            .await
            .unwrap_err();
        assert_eq!(status(&e), 304);
        let e = c
            .get_object()
            .bucket("rng")
            .key(key)
            .if_match("\"nope\"")
            .send()
            .await
            .unwrap_err();
        assert_eq!(status(&e), 412);
        let future = DateTime::from_secs(4_000_000_000);
        let e = c
            .get_object()
            .bucket("rng")
            .key(key)
            .if_modified_since(future)
            .send()
            .await
            .unwrap_err();
        assert_eq!(status(&e), 304);
        let past = DateTime::from_secs(1_000_000_000);
        let e = c
            .get_object()
            .bucket("rng")
            .key(key)
            .if_unmodified_since(past)
            .send()
            .await
            .unwrap_err();
        assert_eq!(status(&e), 412);
        c.get_object()
            .bucket("rng")
            .key(key)
            .if_match(&etag)
            .send()
            .await
            .unwrap();

        let o = c
            .get_object()
            .bucket("rng")
            .key(key)
            .response_content_type("image/png")
            .response_cache_control("no-cache")
            .response_content_disposition("inline")
            .send()
            .await
            .unwrap();
        assert_eq!(o.content_type(), Some("image/png"));
        assert_eq!(o.cache_control(), Some("no-cache"));
        assert_eq!(o.content_disposition(), Some("inline"));
    }

    // An override is sent as ISO-8859-1, as S3 sends it: "été" as three bytes. A character
    // past U+00FF is InvalidArgument, and so is a control character (which used to fail
    // building the response: a 500).
    let raw = |q: &str| {
        signed(
            reqwest::Method::GET,
            &s.endpoint,
            &format!("/rng/small?{q}"),
            &[],
        )
        .send()
    };
    let r = raw("response-content-disposition=attachment%3B%20filename%3D%C3%A9t%C3%A9.pdf")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-disposition"].as_bytes(),
        b"attachment; filename=\xe9t\xe9.pdf"
    );
    let r = raw("response-content-disposition=a%E2%80%99b")
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert!(text.contains("<Code>InvalidArgument</Code>"), "{text}");
    assert!(text.contains("ISO-8859-1"), "{text}");
    let r = raw("response-cache-control=no%01cache").await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("<Code>InvalidArgument</Code>"));

    // An empty object: a tail read gets the whole (empty) object with 200, as S3 answers; a
    // range from a first byte cannot be satisfied.
    c.put_object()
        .bucket("rng")
        .key("empty")
        .body(Vec::new().into())
        .send()
        .await
        .unwrap();
    let get = |r: &str| c.get_object().bucket("rng").key("empty").range(r).send();
    let o = get("bytes=-3").await.unwrap();
    assert_eq!(o.content_range(), None);
    assert_eq!(o.content_length(), Some(0));
    assert!(body(o).await.is_empty());
    for r in ["bytes=0-0", "bytes=0-", "bytes=-0"] {
        let e = get(r).await.unwrap_err();
        assert_eq!(
            (code(&e).as_str(), status(&e)),
            ("InvalidRange", 416),
            "{r}"
        );
    }
}

#[tokio::test]
async fn non_ascii_content_headers_and_metadata_are_kept() {
    // A file name with accents in Content-Disposition, as boto3 sends it (UTF-8 bytes), and
    // metadata likewise: stored and sent back byte for byte. The disposition used to be
    // dropped from the object without a word (the PUT answered 200).
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("latin").send().await.unwrap();
    let disposition = "attachment; filename=\"été ’.pdf\"";
    let r = signed(
        reqwest::Method::PUT,
        &s.endpoint,
        "/latin/k",
        &[
            ("content-disposition", disposition),
            ("x-amz-meta-name", "café"),
        ],
    )
    .body("x")
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
        let r = signed(method, &s.endpoint, "/latin/k", &[])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()["content-disposition"].as_bytes(),
            disposition.as_bytes()
        );
        assert_eq!(r.headers()["x-amz-meta-name"].as_bytes(), "café".as_bytes());
    }
}

#[tokio::test]
async fn conditional_writes() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("cond").send().await.unwrap();
    c.put_object()
        .bucket("cond")
        .key("k")
        .body(b"one".to_vec().into())
        .if_none_match("*")
        .send()
        .await
        .unwrap();
    let e = c
        .put_object()
        .bucket("cond")
        .key("k")
        .body(b"two".to_vec().into())
        .if_none_match("*")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "PreconditionFailed");
    let etag = c
        .head_object()
        .bucket("cond")
        .key("k")
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_owned();
    let e = c
        .put_object()
        .bucket("cond")
        .key("k")
        .body(b"three".to_vec().into())
        .if_match("\"0000\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "PreconditionFailed");
    c.put_object()
        .bucket("cond")
        .key("k")
        .body(b"four".to_vec().into())
        .if_match(&etag)
        .send()
        .await
        .unwrap();
    let o = c.get_object().bucket("cond").key("k").send().await.unwrap();
    assert_eq!(body(o).await, b"four");
}

#[tokio::test]
async fn copies() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("cpb").send().await.unwrap();
    c.create_bucket().bucket("cp2").send().await.unwrap();
    let data = bytes(200_000, 3);
    c.put_object()
        .bucket("cpb")
        .key("src")
        .body(data.clone().into())
        .metadata("a", "1")
        .content_type("x/y")
        .send()
        .await
        .unwrap();
    let r = c
        .copy_object()
        .bucket("cp2")
        .key("dst")
        .copy_source("cpb/src")
        .send()
        .await
        .unwrap();
    let etag = r
        .copy_object_result()
        .and_then(|r| r.e_tag())
        .unwrap()
        .to_owned();
    let o = c
        .get_object()
        .bucket("cp2")
        .key("dst")
        .send()
        .await
        .unwrap();
    assert_eq!(o.e_tag(), Some(etag.as_str()));
    assert_eq!(
        o.metadata().and_then(|m| m.get("a")).map(String::as_str),
        Some("1")
    );
    assert_eq!(o.content_type(), Some("x/y"));
    assert_eq!(body(o).await, data);
    // REPLACE takes the request's metadata.
    c.copy_object()
        .bucket("cp2")
        .key("dst2")
        .copy_source("cpb/src")
        .metadata_directive(MetadataDirective::Replace)
        .metadata("b", "2")
        .send()
        .await
        .unwrap();
    let h = c
        .head_object()
        .bucket("cp2")
        .key("dst2")
        .send()
        .await
        .unwrap();
    assert_eq!(h.metadata().map(|m| m.len()), Some(1));
    assert_eq!(
        h.metadata().and_then(|m| m.get("b")).map(String::as_str),
        Some("2")
    );
    // In place: refused with COPY, allowed with REPLACE.
    let e = c
        .copy_object()
        .bucket("cpb")
        .key("src")
        .copy_source("cpb/src")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequest");
    c.copy_object()
        .bucket("cpb")
        .key("src")
        .copy_source("cpb/src")
        .metadata_directive(MetadataDirective::Replace)
        .metadata("c", "3")
        .send()
        .await
        .unwrap();
    // Copy-source conditions.
    let e = c
        .copy_object()
        .bucket("cp2")
        .key("x")
        .copy_source("cpb/src")
        .copy_source_if_match("\"nope\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "PreconditionFailed");
    let e = c
        .copy_object()
        .bucket("cp2")
        .key("x")
        .copy_source("cpb/missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchKey");
}

#[tokio::test]
async fn checksums_are_verified_stored_and_returned() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("ckb").send().await.unwrap();
    for (alg, len) in [
        (ChecksumAlgorithm::Crc32, 100_000usize),
        (ChecksumAlgorithm::Crc32C, 10),
        (ChecksumAlgorithm::Crc64Nvme, 1 << 20),
        (ChecksumAlgorithm::Sha1, 5000),
        (ChecksumAlgorithm::Sha256, 70_000),
    ] {
        let key = format!("k-{}", alg.as_str());
        let put = c
            .put_object()
            .bucket("ckb")
            .key(&key)
            .body(bytes(len, 9).into())
            .checksum_algorithm(alg.clone())
            .send()
            .await
            .unwrap();
        let sent = [
            put.checksum_crc32(),
            put.checksum_crc32_c(),
            put.checksum_crc64_nvme(),
            put.checksum_sha1(),
            put.checksum_sha256(),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(str::to_owned);
        assert!(sent.is_some(), "{alg:?}: PutObject returns the checksum");
        let o = c
            .get_object()
            .bucket("ckb")
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        let got = [
            o.checksum_crc32(),
            o.checksum_crc32_c(),
            o.checksum_crc64_nvme(),
            o.checksum_sha1(),
            o.checksum_sha256(),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(str::to_owned);
        assert_eq!(got, sent, "{alg:?}");
        assert_eq!(body(o).await.len(), len);
    }
    // A wrong checksum is BadDigest and leaves nothing behind.
    let e = c
        .put_object()
        .bucket("ckb")
        .key("bad")
        .body(b"hello".to_vec().into())
        .checksum_crc32("AAAAAA==")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "BadDigest");
    let e = c
        .head_object()
        .bucket("ckb")
        .key("bad")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 404);
    let e = c
        .put_object()
        .bucket("ckb")
        .key("bad")
        .body(b"hello".to_vec().into())
        .content_md5("1B2M2Y8AsgTpgAmY7PhCfg==")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "BadDigest");

    let attrs = c
        .get_object_attributes()
        .bucket("ckb")
        .key("k-CRC32")
        .object_attributes(ObjectAttributes::Etag)
        .object_attributes(ObjectAttributes::ObjectSize)
        .object_attributes(ObjectAttributes::Checksum)
        .object_attributes(ObjectAttributes::StorageClass)
        .send()
        .await
        .unwrap();
    assert_eq!(attrs.object_size(), Some(100_000));
    assert!(attrs.checksum().and_then(|c| c.checksum_crc32()).is_some());
    assert!(attrs.e_tag().is_some_and(|e| !e.contains('"')));
}

#[tokio::test]
async fn bad_keys_are_refused() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("keys").send().await.unwrap();
    let long = "k".repeat(1025);
    let e = c
        .put_object()
        .bucket("keys")
        .key(&long)
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "KeyTooLongError");
    let ok = "k".repeat(1024);
    c.put_object()
        .bucket("keys")
        .key(&ok)
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    for weird in [
        "a b",
        "ü/ñ/日本",
        "x+y=z&w",
        "percent%20",
        "trailing/",
        "//double",
        "~tilde",
    ] {
        c.put_object()
            .bucket("keys")
            .key(weird)
            .body(weird.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
        let o = c
            .get_object()
            .bucket("keys")
            .key(weird)
            .send()
            .await
            .unwrap();
        assert_eq!(body(o).await, weird.as_bytes(), "{weird}");
    }
}

#[tokio::test]
async fn user_metadata_over_two_kilobytes_is_refused() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("meta").send().await.unwrap();
    // S3 counts the names and values of x-amz-meta-* (2 KB at most).
    let put = |value: String| {
        c.put_object()
            .bucket("meta")
            .key("m")
            .metadata("big", value)
            .body(b"x".to_vec().into())
            .send()
    };
    let e = put("v".repeat(2046)).await.unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (400, "MetadataTooLarge"));
    assert!(c
        .head_object()
        .bucket("meta")
        .key("m")
        .send()
        .await
        .is_err());
    put("v".repeat(2045)).await.unwrap();
}

#[tokio::test]
async fn an_append_is_not_implemented_and_leaves_the_object() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("app").send().await.unwrap();
    c.put_object()
        .bucket("app")
        .key("log")
        .body(b"first".to_vec().into())
        .send()
        .await
        .unwrap();
    // An append at the end would keep "first"; a plain PUT would replace it.
    let e = c
        .put_object()
        .bucket("app")
        .key("log")
        .write_offset_bytes(5)
        .body(b"second".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (501, "NotImplemented"));
    let o = c
        .get_object()
        .bucket("app")
        .key("log")
        .send()
        .await
        .unwrap();
    assert_eq!(body(o).await, b"first");
}
