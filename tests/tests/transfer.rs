//! How request bodies arrive: streamed with `Transfer-Encoding: chunked` and no length, and
//! announced with `Expect: 100-continue` (a request that will be refused is refused before the
//! body). Raw HTTP over TCP, since SDKs choose these framings themselves.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use cluster_tests::{bytes, Server};

/// A PUT sent with `Transfer-Encoding: chunked` and no `Content-Length` (HTTP clients that
/// stream a body of unknown length) is stored whole, inline or as a blob.
#[tokio::test]
async fn a_chunked_put_without_a_length_is_stored() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("chunky").send().await.unwrap();
    for (key, len) in [("small", 1000usize), ("large", 300_000)] {
        let data = bytes(len, 11);
        let path = format!("/chunky/{key}");
        let req = cluster_tests::signed(reqwest::Method::PUT, &s.endpoint, &path, &[])
            .build()
            .unwrap();
        let host = s.endpoint.trim_start_matches("http://");
        let mut head = format!("PUT {path} HTTP/1.1\r\nhost: {host}\r\n");
        for (k, v) in req.headers() {
            head.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
        }
        head.push_str("transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
        let mut wire = head.into_bytes();
        for piece in data.chunks(70_000) {
            wire.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            wire.extend_from_slice(piece);
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(b"0\r\n\r\n");
        let mut conn = tokio::net::TcpStream::connect(host).await.unwrap();
        conn.write_all(&wire).await.unwrap();
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{key}: {answer}");
        let got = c
            .get_object()
            .bucket("chunky")
            .key(key)
            .send()
            .await
            .unwrap();
        assert_eq!(got.content_length(), Some(len as i64));
        assert_eq!(
            got.body.collect().await.unwrap().into_bytes().to_vec(),
            data,
            "{key}"
        );
    }
}

/// `Expect: 100-continue`: a request that will be refused gets its refusal instead of
/// `100 Continue`, before the client sends the body; one that will be served gets
/// `100 Continue`, then its answer once the body is in.
#[tokio::test]
async fn expect_100_continue_refuses_before_the_body() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("expecting").send().await.unwrap();
    let host = s.endpoint.trim_start_matches("http://").to_owned();
    // The head of a PUT of `len` bytes to `path`, signed or (`signed: false`) anonymous.
    let head = |path: &str, len: usize, signed: bool| {
        let mut h = format!("PUT {path} HTTP/1.1\r\nhost: {host}\r\n");
        if signed {
            let req = cluster_tests::signed(reqwest::Method::PUT, &s.endpoint, path, &[])
                .build()
                .unwrap();
            for (k, v) in req.headers() {
                h.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
            }
        }
        h.push_str(&format!(
            "content-length: {len}\r\nexpect: 100-continue\r\n\r\n"
        ));
        h
    };
    // What the server says to the head alone, within 5 s.
    let first_answer = |head: String| {
        let host = host.clone();
        async move {
            let mut conn = tokio::net::TcpStream::connect(&host).await.unwrap();
            conn.write_all(head.as_bytes()).await.unwrap();
            let mut buf = vec![0u8; 4096];
            let n = tokio::time::timeout(std::time::Duration::from_secs(5), conn.read(&mut buf))
                .await
                .expect("no answer to the head alone")
                .unwrap();
            (conn, String::from_utf8_lossy(&buf[..n]).into_owned())
        }
    };
    let body = bytes(300_000, 5);
    for (what, head, status, code) in [
        (
            "anonymous",
            head("/expecting/k", body.len(), false),
            "403",
            "AccessDenied",
        ),
        (
            "no such bucket",
            head("/nowhere/k", body.len(), true),
            "404",
            "NoSuchBucket",
        ),
    ] {
        let (_, answer) = first_answer(head).await;
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")) && answer.contains(code),
            "{what}: {answer}"
        );
        assert!(answer.contains("x-amz-request-id"), "{what}: {answer}");
    }
    // Served: 100 Continue, then 200 once the body is sent.
    let (mut conn, answer) = first_answer(head("/expecting/k", body.len(), true)).await;
    assert!(answer.starts_with("HTTP/1.1 100 Continue"), "{answer}");
    conn.write_all(&body).await.unwrap();
    let mut rest = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), conn.read(&mut rest))
        .await
        .unwrap()
        .unwrap();
    let rest = String::from_utf8_lossy(&rest[..n]);
    let after = answer.trim_start_matches("HTTP/1.1 100 Continue\r\n\r\n");
    assert!(
        after.starts_with("HTTP/1.1 200") || rest.starts_with("HTTP/1.1 200"),
        "{answer}{rest}"
    );
    let got = c
        .get_object()
        .bucket("expecting")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().to_vec(),
        body
    );
}
