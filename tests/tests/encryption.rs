//! Server-side encryption through a real server and the AWS SDK. SSE-S3: objects of every
//! shape (inline, one stripe, many stripes, multipart, copies) read back byte for byte, whole
//! and in ranges, with the encryption headers S3 sends; and no byte of their plaintext is
//! anywhere in the data folder (shard files, RocksDB's tables and logs). SSE-C: every read
//! and part needs the key (400 without it, 403 with another), the key is never at rest, and
//! over plain HTTP it is refused unless allowed. SSE-KMS is refused with NotImplemented until
//! it is built, storing nothing; a customer key sent to read or copy an object gets S3's
//! answer for an object not encrypted with one.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use aws_sdk_s3::types::{ObjectAttributes, ServerSideEncryption};
use base64::Engine;
use cluster_tests::{bytes, code, get_bytes, status, Server};
use md5::Digest;

/// An SSE-C key as the SDK sends it: the key and its MD5, both base64.
fn customer_key() -> (String, String) {
    let key = [7u8; 32];
    let b64 = base64::engine::general_purpose::STANDARD;
    (b64.encode(key), b64.encode(md5::Md5::digest(key)))
}

/// SDK requests that can carry a customer key (SSE-C).
trait WithKey {
    /// The request with customer key `key` (base64) and its MD5 (base64).
    fn with_key(self, key: &str, md5: &str) -> Self;
}

macro_rules! with_key_for {
    ($($builder:ty),* $(,)?) => {$(
        impl WithKey for $builder {
            fn with_key(self, key: &str, md5: &str) -> Self {
                self.sse_customer_algorithm("AES256")
                    .sse_customer_key(key)
                    .sse_customer_key_md5(md5)
            }
        }
    )*};
}

with_key_for!(
    aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder,
    aws_sdk_s3::operation::get_object::builders::GetObjectFluentBuilder,
    aws_sdk_s3::operation::head_object::builders::HeadObjectFluentBuilder,
    aws_sdk_s3::operation::upload_part::builders::UploadPartFluentBuilder,
    aws_sdk_s3::operation::create_multipart_upload::builders::CreateMultipartUploadFluentBuilder,
    aws_sdk_s3::operation::copy_object::builders::CopyObjectFluentBuilder,
);

/// The bytes of `key` in `bucket`, read with customer key `k` (base64) and its MD5.
async fn get_with_key(
    c: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    k: &str,
    md5: &str,
) -> Vec<u8> {
    let o = c
        .get_object()
        .bucket(bucket)
        .key(key)
        .with_key(k, md5)
        .send()
        .await
        .unwrap();
    o.body.collect().await.unwrap().into_bytes().to_vec()
}

/// Every file under `dir`.
fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The files under `dir` that hold any of `needles`.
fn holding(dir: &std::path::Path, needles: &[Vec<u8>]) -> Vec<String> {
    files(dir)
        .into_iter()
        .filter(|f| {
            let data = std::fs::read(f).unwrap_or_default();
            needles
                .iter()
                .any(|n| data.windows(n.len()).any(|w| w == n.as_slice()))
        })
        .map(|f| f.display().to_string())
        .collect()
}

/// Windows of `data` a scan looks for: 32 bytes at its start, middle and end.
fn windows_of(data: &[u8]) -> Vec<Vec<u8>> {
    let n = data.len();
    [0, n / 2, n.saturating_sub(32)]
        .into_iter()
        .map(|at| data[at..(at + 32).min(n)].to_vec())
        .collect()
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
async fn writes_asking_for_kms_are_not_implemented() {
    let s = Server::start_with(&["--sse-c-over-http"]).await;
    let c = s.client();
    c.create_bucket().bucket("sse").send().await.unwrap();
    let (key, key_md5) = customer_key();

    let e = c
        .put_object()
        .bucket("sse")
        .key("kms")
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .body(b"secret".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (501, "NotImplemented"));
    let e = c
        .create_multipart_upload()
        .bucket("sse")
        .key("kms")
        .server_side_encryption(ServerSideEncryption::AwsKms)
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
        .with_key(&key, &key_md5)
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

#[tokio::test]
async fn a_customer_key_does_not_apply_to_a_plain_object() {
    let s = Server::start_with(&["--sse-c-over-http"]).await;
    let c = s.client();
    c.create_bucket().bucket("ssec").send().await.unwrap();
    c.put_object()
        .bucket("ssec")
        .key("plain")
        .body(b"plain".to_vec().into())
        .send()
        .await
        .unwrap();
    let (key, key_md5) = customer_key();

    let e = c
        .get_object()
        .bucket("ssec")
        .key("plain")
        .with_key(&key, &key_md5)
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (400, "InvalidRequest"));
    let e = c
        .head_object()
        .bucket("ssec")
        .key("plain")
        .with_key(&key, &key_md5)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 400);
    let e = c
        .copy_object()
        .bucket("ssec")
        .key("copy")
        .copy_source("ssec/plain")
        .copy_source_sse_customer_algorithm("AES256")
        .copy_source_sse_customer_key(&key)
        .copy_source_sse_customer_key_md5(&key_md5)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequest");

    // Without the key, the object reads as before.
    let o = c
        .get_object()
        .bucket("ssec")
        .key("plain")
        .send()
        .await
        .unwrap();
    let got = o.body.collect().await.unwrap().into_bytes();
    assert_eq!(got.as_ref(), b"plain");
}

/// A customer key of its own: (raw key, key base64, MD5 base64).
fn key_of(byte: u8) -> ([u8; 32], String, String) {
    let key = [byte; 32];
    let b64 = base64::engine::general_purpose::STANDARD;
    (key, b64.encode(key), b64.encode(md5::Md5::digest(key)))
}

#[tokio::test]
async fn sse_c_objects_need_their_key_and_the_key_is_never_at_rest() {
    // Logging at debug level: the log must not hold the key either.
    let mut s = Server::start_with_env(&["--sse-c-over-http"], &[("RUST_LOG", "debug")]).await;
    let c = s.client();
    c.create_bucket().bucket("ssec").send().await.unwrap();
    let (raw, key, key_md5) = key_of(0x42);
    let (_, other, other_md5) = key_of(0x43);
    let mut secrets = Vec::new();
    for (k, len) in [("inline", 5_000), ("blob", 300_000)] {
        let data = bytes(len, len as u64 + 1);
        let r = c
            .put_object()
            .bucket("ssec")
            .key(k)
            .with_key(&key, &key_md5)
            .body(data.clone().into())
            .send()
            .await
            .unwrap();
        assert_eq!(r.sse_customer_algorithm(), Some("AES256"));
        assert_eq!(r.sse_customer_key_md5(), Some(key_md5.as_str()));
        assert_eq!(r.server_side_encryption(), None);
        // Not the MD5 of the bytes, as on S3.
        let md5 = hex::encode(md5::Md5::digest(&data));
        assert_ne!(r.e_tag(), Some(format!("\"{md5}\"").as_str()), "{k}");
        secrets.push((k, data));
    }
    for (k, data) in &secrets {
        // Without the key: 400; with another: 403; GET, HEAD and attributes alike.
        let e = c
            .get_object()
            .bucket("ssec")
            .key(*k)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            (status(&e), code(&e).as_str()),
            (400, "InvalidRequest"),
            "{k}"
        );
        let e = c
            .head_object()
            .bucket("ssec")
            .key(*k)
            .send()
            .await
            .unwrap_err();
        assert_eq!(status(&e), 400, "{k}");
        let e = c
            .get_object()
            .bucket("ssec")
            .key(*k)
            .with_key(&other, &other_md5)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            (status(&e), code(&e).as_str()),
            (403, "AccessDenied"),
            "{k}"
        );
        let e = c
            .head_object()
            .bucket("ssec")
            .key(*k)
            .with_key(&other, &other_md5)
            .send()
            .await
            .unwrap_err();
        assert_eq!(status(&e), 403, "{k}");
        let e = c
            .get_object_attributes()
            .bucket("ssec")
            .key(*k)
            .object_attributes(ObjectAttributes::ObjectSize)
            .send()
            .await
            .unwrap_err();
        assert_eq!(status(&e), 400, "{k}");
        // With it: the bytes, whole and in a range, and the key's MD5 echoed.
        let o = c
            .get_object()
            .bucket("ssec")
            .key(*k)
            .with_key(&key, &key_md5)
            .range("bytes=1000-1999")
            .send()
            .await
            .unwrap();
        assert_eq!(o.sse_customer_key_md5(), Some(key_md5.as_str()));
        let got = o.body.collect().await.unwrap().into_bytes();
        assert_eq!(&got[..], &data[1000..2000], "{k}");
        let h = c
            .head_object()
            .bucket("ssec")
            .key(*k)
            .with_key(&key, &key_md5)
            .send()
            .await
            .unwrap();
        assert_eq!(h.content_length(), Some(data.len() as i64));
        assert_eq!(h.sse_customer_algorithm(), Some("AES256"));
    }

    // Multipart: every part needs the upload's key.
    let up = c
        .create_multipart_upload()
        .bucket("ssec")
        .key("multi")
        .with_key(&key, &key_md5)
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap();
    let parts = [bytes(5 << 20, 21), bytes(70_000, 22)];
    let e = c
        .upload_part()
        .bucket("ssec")
        .key("multi")
        .upload_id(id)
        .part_number(1)
        .body(
            b"small, so that the refusal is read before the body is sent"
                .to_vec()
                .into(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 400, "a part without the key");
    let mut done = Vec::new();
    for (n, p) in (1..).zip(&parts) {
        let r = c
            .upload_part()
            .bucket("ssec")
            .key("multi")
            .upload_id(id)
            .part_number(n)
            .with_key(&key, &key_md5)
            .body(p.clone().into())
            .send()
            .await
            .unwrap();
        assert_eq!(r.sse_customer_key_md5(), Some(key_md5.as_str()));
        done.push((n, r.e_tag().unwrap().to_owned()));
    }
    c.complete_multipart_upload()
        .bucket("ssec")
        .key("multi")
        .upload_id(id)
        .multipart_upload(cluster_tests::completed(&done))
        .send()
        .await
        .unwrap();
    let multi = parts.concat();
    let got = get_with_key(&c, "ssec", "multi", &key, &key_md5).await;
    assert_eq!(&got[..], &multi[..]);

    // Copies: the source's key opens it; the copy is encrypted as its own request says.
    let e = c
        .copy_object()
        .bucket("ssec")
        .key("copied")
        .copy_source("ssec/blob")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 400, "a copy without the source's key");
    c.copy_object()
        .bucket("ssec")
        .key("copied")
        .copy_source("ssec/blob")
        .copy_source_sse_customer_algorithm("AES256")
        .copy_source_sse_customer_key(&key)
        .copy_source_sse_customer_key_md5(&key_md5)
        .with_key(&other, &other_md5)
        .send()
        .await
        .unwrap();
    let got = get_with_key(&c, "ssec", "copied", &other, &other_md5).await;
    assert_eq!(&got[..], &secrets[1].1[..]);
    // In place, from SSE-C to SSE-S3: then it reads without a key.
    let r = c
        .copy_object()
        .bucket("ssec")
        .key("inline")
        .copy_source("ssec/inline")
        .copy_source_sse_customer_algorithm("AES256")
        .copy_source_sse_customer_key(&key)
        .copy_source_sse_customer_key_md5(&key_md5)
        .server_side_encryption(ServerSideEncryption::Aes256)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
    assert_eq!(get_bytes(&c, "ssec", "inline").await, secrets[0].1);

    // At rest: neither the plaintext nor the key, raw or in base64.
    s.crash_and_restart().await;
    let mut needles: Vec<Vec<u8>> = [&secrets[0].1, &secrets[1].1, &multi]
        .iter()
        .flat_map(|d| windows_of(d))
        .collect();
    needles.push(raw.to_vec());
    needles.push(key.as_bytes().to_vec());
    let found = holding(&s.data(), &needles);
    assert!(found.is_empty(), "SSE-C plaintext or key in {found:?}");
    let log = s.process.log();
    assert!(log.contains("DEBUG"), "the server logged at debug level");
    assert!(
        !log.contains(&key) && !log.contains(&other),
        "a customer key in the log"
    );
}

#[tokio::test]
async fn sse_c_over_plain_http_is_refused_unless_allowed() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("plain").send().await.unwrap();
    let (_, key, key_md5) = key_of(1);
    let e = c
        .put_object()
        .bucket("plain")
        .key("k")
        .with_key(&key, &key_md5)
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (400, "InvalidRequest"));
    let e = c
        .head_object()
        .bucket("plain")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 404, "nothing was stored");
}
