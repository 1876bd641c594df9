//! Server-side encryption through a real server and the AWS SDK. SSE-S3: objects of every
//! shape (inline, one stripe, many stripes, multipart, copies) read back byte for byte, whole
//! and in ranges, with the encryption headers S3 sends; no byte of their plaintext is anywhere
//! in the data folder (shard files, RocksDB's tables and logs); a changed byte at rest is an
//! error, never other bytes. DSSE-KMS is refused with NotImplemented, storing nothing. SSE-KMS
//! is `kms.rs`, SSE-C `sse_c.rs`, bucket default encryption `bucket_encryption.rs`.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use aws_sdk_s3::types::{ObjectAttributes, ServerSideEncryption};
use base64::Engine;
use cluster_tests::{
    bytes, code, files_holding as holding, files_under as files, get_bytes, status, windows_of,
    Server,
};
use md5::Digest;

/// An SSE-C key as the SDK sends it: the key and its MD5, both base64.
fn customer_key() -> (String, String) {
    let key = [7u8; 32];
    let b64 = base64::engine::general_purpose::STANDARD;
    (b64.encode(key), b64.encode(md5::Md5::digest(key)))
}

#[tokio::test]
async fn sse_s3_objects_read_back_exactly_and_are_ciphertext_at_rest() {
    let mut s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("sse").send().await.unwrap();
    let aes = ServerSideEncryption::Aes256;
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();

    // Single PUTs: inline, one stripe, several stripes (and a package boundary at 64 KiB).
    for (key, len) in [
        ("inline", 1000),
        ("package", 65_536),
        ("stripe", 300_000),
        ("stripes", 3 * 1024 * 1024 + 17),
    ] {
        let data = bytes(len, len as u64);
        let r = c
            .put_object()
            .bucket("sse")
            .key(key)
            .server_side_encryption(aes.clone())
            .body(data.clone().into())
            .send()
            .await
            .unwrap();
        assert_eq!(r.server_side_encryption(), Some(&aes), "{key}");
        // SSE-S3: the ETag is the MD5 of the plaintext, as on S3.
        let md5 = hex::encode(md5::Md5::digest(&data));
        assert_eq!(r.e_tag(), Some(format!("\"{md5}\"").as_str()), "{key}");
        secrets.push((key.to_owned(), data));
    }

    // Multipart: every part sealed with the upload's key.
    let up = c
        .create_multipart_upload()
        .bucket("sse")
        .key("multi")
        .server_side_encryption(aes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(up.server_side_encryption(), Some(&aes));
    let upload_id = up.upload_id().unwrap();
    let parts = [bytes(5 << 20, 1), bytes(100_003, 2)];
    let mut done = Vec::new();
    for (n, p) in (1..).zip(&parts) {
        let r = c
            .upload_part()
            .bucket("sse")
            .key("multi")
            .upload_id(upload_id)
            .part_number(n)
            .body(p.clone().into())
            .send()
            .await
            .unwrap();
        assert_eq!(r.server_side_encryption(), Some(&aes));
        done.push((n, r.e_tag().unwrap().to_owned()));
    }
    let r = c
        .complete_multipart_upload()
        .bucket("sse")
        .key("multi")
        .upload_id(upload_id)
        .multipart_upload(cluster_tests::completed(&done))
        .send()
        .await
        .unwrap();
    assert_eq!(r.server_side_encryption(), Some(&aes));
    secrets.push(("multi".into(), parts.concat()));

    // Copies: a plain source into an encrypted copy, an encrypted one into another, and an
    // encrypted source into a plain copy (which is then plaintext at rest, as asked).
    let plain = bytes(200_000, 99);
    c.put_object()
        .bucket("sse")
        .key("plain")
        .body(plain.clone().into())
        .send()
        .await
        .unwrap();
    for (key, src) in [("copy-of-plain", "plain"), ("copy-of-stripes", "stripes")] {
        let r = c
            .copy_object()
            .bucket("sse")
            .key(key)
            .copy_source(format!("sse/{src}"))
            .server_side_encryption(aes.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.server_side_encryption(), Some(&aes), "{key}");
    }
    secrets.push(("copy-of-plain".into(), plain.clone()));
    let stripes = secrets[3].1.clone();
    secrets.push(("copy-of-stripes".into(), stripes.clone()));
    // (Its source is not among the secrets: the copy's plaintext is at rest, as asked.)
    let opened = bytes(70_000, 7);
    c.put_object()
        .bucket("sse")
        .key("to-decrypt")
        .server_side_encryption(aes.clone())
        .body(opened.clone().into())
        .send()
        .await
        .unwrap();
    let r = c
        .copy_object()
        .bucket("sse")
        .key("decrypted-copy")
        .copy_source("sse/to-decrypt")
        .send()
        .await
        .unwrap();
    assert_eq!(r.server_side_encryption(), None);
    assert_eq!(get_bytes(&c, "sse", "decrypted-copy").await, opened);

    // Every object reads back whole and in ranges of every shape, with plaintext sizes.
    for (key, data) in &secrets {
        let n = data.len() as u64;
        let head = c.head_object().bucket("sse").key(key).send().await.unwrap();
        assert_eq!(head.server_side_encryption(), Some(&aes), "{key}");
        assert_eq!(head.content_length(), Some(n as i64), "{key}");
        assert_eq!(&get_bytes(&c, "sse", key).await, data, "{key}");
        let p = 65_536u64;
        for (a, b) in [
            (0, 0),
            (0, 1),
            (1, 2),
            (p - 1, p),
            (p - 1, p + 1),
            (p, 2 * p + 5),
            (n / 2, n / 2 + 1),
            (n - 1, n),
            (n.saturating_sub(100_000), n),
        ] {
            if a >= b || b > n {
                continue;
            }
            let r = c
                .get_object()
                .bucket("sse")
                .key(key)
                .range(format!("bytes={a}-{}", b - 1))
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.content_range(),
                Some(format!("bytes {a}-{}/{n}", b - 1).as_str())
            );
            let got = r.body.collect().await.unwrap().into_bytes();
            assert_eq!(&got[..], &data[a as usize..b as usize], "{key} {a}..{b}");
        }
        let attrs = c
            .get_object_attributes()
            .bucket("sse")
            .key(key)
            .object_attributes(ObjectAttributes::ObjectSize)
            .send()
            .await
            .unwrap();
        assert_eq!(attrs.object_size(), Some(n as i64), "{key}");
    }
    let listed = c.list_objects_v2().bucket("sse").send().await.unwrap();
    for o in listed.contents() {
        if let Some((_, data)) = secrets.iter().find(|(k, _)| Some(k.as_str()) == o.key()) {
            assert_eq!(o.size(), Some(data.len() as i64));
        }
    }

    // A read that asks for encryption is refused, as S3 refuses it.
    let e = c
        .get_object()
        .bucket("sse")
        .key("inline")
        .customize()
        .mutate_request(|r| {
            r.headers_mut()
                .insert("x-amz-server-side-encryption", "AES256");
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (400, "InvalidArgument"));

    // At rest: no window of any encrypted object's plaintext in any file of the data folder.
    // The plain object's bytes are in exactly one file, its own shard (the scan sees what is
    // there, and its encrypted copy is not a second one).
    s.crash_and_restart().await;
    assert_eq!(get_bytes(&c, "sse", "multi").await, secrets[4].1);
    let needles: Vec<Vec<u8>> = secrets
        .iter()
        .filter(|(k, _)| k != "copy-of-plain")
        .flat_map(|(_, d)| windows_of(d))
        .collect();
    let found = holding(&s.data(), &needles);
    assert!(
        found.is_empty(),
        "plaintext of encrypted objects in {found:?}"
    );
    let plain_files = holding(&s.data(), &windows_of(&plain));
    assert_eq!(plain_files.len(), 1, "{plain_files:?}");
    assert!(plain_files[0].contains("/shards/"), "{plain_files:?}");
}

/// Flip a byte of the first block of shard file `f` (past its 32-byte header and 4-byte CRC)
/// and, with `fix_crc`, write the block's CRC anew so the shard store takes it as sound.
fn tamper(f: &std::path::Path, fix_crc: bool) {
    let mut b = std::fs::read(f).unwrap();
    let block_size = u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize;
    let end = (36 + block_size).min(b.len());
    b[36 + 1000] ^= 0x01;
    if fix_crc {
        let crc = crc32c::crc32c(&b[36..end]);
        b[32..36].copy_from_slice(&crc.to_le_bytes());
    }
    std::fs::write(f, b).unwrap();
}

#[tokio::test]
async fn a_changed_byte_at_rest_is_an_error_never_other_bytes() {
    // One drive: nothing to repair from. A flipped byte whose shard CRC was made to match
    // reaches the cipher, which refuses the package: the GET fails, it never answers bytes.
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("tamper").send().await.unwrap();
    let data = bytes(300_000, 5);
    c.put_object()
        .bucket("tamper")
        .key("k")
        .server_side_encryption(ServerSideEncryption::Aes256)
        .body(data.clone().into())
        .send()
        .await
        .unwrap();
    let shards = files(&s.data().join("shards"));
    assert_eq!(shards.len(), 1);
    tamper(&shards[0], true);
    let got = match c.get_object().bucket("tamper").key("k").send().await {
        Ok(o) => o.body.collect().await.map(|b| b.into_bytes().to_vec()),
        Err(e) => panic!("the GET failed before its body ({e:?}); expected a cut body"),
    };
    assert!(got.is_err(), "a changed package must not be served");
    // A range that does not touch the changed package still reads.
    let r = c
        .get_object()
        .bucket("tamper")
        .key("k")
        .range("bytes=200000-200009")
        .send()
        .await
        .unwrap();
    let tail = r.body.collect().await.unwrap().into_bytes();
    assert_eq!(&tail[..], &data[200_000..200_010]);

    // Three drives (2+1): a changed shard fails its CRC, is rebuilt from the others, and the
    // object reads back exactly.
    let s = Server::start_with(&["--drives", "3"]).await;
    let c = s.client();
    c.create_bucket().bucket("tamper").send().await.unwrap();
    c.put_object()
        .bucket("tamper")
        .key("k")
        .server_side_encryption(ServerSideEncryption::Aes256)
        .body(data.clone().into())
        .send()
        .await
        .unwrap();
    let shards = files(&s.data().join("drive1").join("shards"));
    assert_eq!(shards.len(), 1);
    tamper(&shards[0], false);
    assert_eq!(get_bytes(&c, "tamper", "k").await, data);
}

#[tokio::test]
async fn writes_asking_for_dsse_or_mixed_methods_store_nothing() {
    let s = Server::start_with(&["--sse-c-over-http"]).await;
    let c = s.client();
    c.create_bucket().bucket("sse").send().await.unwrap();
    let (key, key_md5) = customer_key();

    let e = c
        .put_object()
        .bucket("sse")
        .key("kms")
        .server_side_encryption(ServerSideEncryption::AwsKmsDsse)
        .body(b"secret".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (501, "NotImplemented"));
    let e = c
        .create_multipart_upload()
        .bucket("sse")
        .key("kms")
        .server_side_encryption(ServerSideEncryption::AwsKmsDsse)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NotImplemented");
    // SSE-S3 and a customer key together: S3's 400.
    let e = c
        .put_object()
        .bucket("sse")
        .key("both")
        .server_side_encryption(ServerSideEncryption::Aes256)
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&key_md5)
        .body(b"secret".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (400, "InvalidArgument"));

    // Nothing refused was stored: no object, no upload.
    for k in ["kms", "both"] {
        let e = c
            .head_object()
            .bucket("sse")
            .key(k)
            .send()
            .await
            .unwrap_err();
        assert_eq!(status(&e), 404, "{k}");
    }
    let uploads = c
        .list_multipart_uploads()
        .bucket("sse")
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty());
}
