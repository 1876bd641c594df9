//! Separate processes: `coffer node` plus `coffer gateway --cluster`, and the internal RPC
//! refusing peers without the cluster secret.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use cluster_tests::{bytes, client_for, free_port, get_bytes, Process, ACCESS_KEY, SECRET_KEY};
use coffer_proto::client::Conn;
use coffer_proto::ProtoError;

#[tokio::test]
async fn node_and_gateway_as_separate_processes() {
    // A hang is a failure, not a stuck CI run.
    tokio::time::timeout(std::time::Duration::from_secs(120), separate())
        .await
        .expect("test timed out");
}

/// Wait (up to 15 s) until the gateway at `endpoint` answers its health check.
async fn wait_health(endpoint: &str) {
    for _ in 0..300 {
        if reqwest::get(format!("{endpoint}/_coffer/health"))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn separate() {
    let dir = tempfile::tempdir().unwrap();
    let node_data = dir.path().join("node");
    let rpc = format!("127.0.0.1:{}", free_port());
    let s3 = format!("127.0.0.1:{}", free_port());
    let nd = node_data.to_string_lossy().into_owned();
    let _node = Process::spawn(
        &[
            "node",
            "--data",
            &nd,
            "--rpc-address",
            &rpc,
            "--drives",
            "3",
        ],
        &[],
        &dir.path().join("node.log"),
    );
    let secret_file = node_data.join("cluster.secret");
    for _ in 0..300 {
        if secret_file.exists() && std::net::TcpStream::connect(&rpc).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let sf = secret_file.to_string_lossy().into_owned();
    let gd = dir.path().join("gw").to_string_lossy().into_owned();
    let env = [
        ("COFFER_ACCESS_KEY_ID", ACCESS_KEY),
        ("COFFER_SECRET_ACCESS_KEY", SECRET_KEY),
    ];
    let mut gw = Process::spawn(
        &[
            "gateway",
            "--cluster",
            &rpc,
            "--cluster-secret-file",
            &sf,
            "--data",
            &gd,
            "--address",
            &s3,
        ],
        &env,
        &dir.path().join("gw.log"),
    );
    let endpoint = format!("http://{s3}");
    wait_health(&endpoint).await;
    let c = client_for(&endpoint, ACCESS_KEY, SECRET_KEY);
    c.create_bucket().bucket("sep").send().await.unwrap();
    for (k, len) in [("small", 100usize), ("big", 5 << 20)] {
        let d = bytes(len, 1);
        c.put_object()
            .bucket("sep")
            .key(k)
            .body(d.clone().into())
            .send()
            .await
            .unwrap();
        assert_eq!(get_bytes(&c, "sep", k).await, d);
    }
    let listed = c.list_objects_v2().bucket("sep").send().await.unwrap();
    assert_eq!(listed.key_count(), Some(2));

    // A request in flight when the gateway is told to stop (SIGTERM) is finished, then the
    // gateway exits; a gateway started again serves what it stored.
    let url = c
        .put_object()
        .bucket("sep")
        .key("in-flight")
        .presigned(
            aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(
                60,
            ))
            .unwrap(),
        )
        .await
        .unwrap();
    let url = reqwest::Url::parse(url.uri()).unwrap();
    let body = bytes(2 << 20, 7);
    let mut sock = tokio::net::TcpStream::connect(&s3).await.unwrap();
    let head = format!(
        "PUT {}?{} HTTP/1.1\r\nHost: {s3}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        url.path(),
        url.query().unwrap_or_default(),
        body.len()
    );
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&body[..1 << 20]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let stopping = std::thread::spawn(move || {
        let exited = gw.terminate(30);
        (gw, exited)
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    sock.write_all(&body[1 << 20..]).await.unwrap();
    let mut answer = Vec::new();
    sock.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let (mut gw, exited) = stopping.join().unwrap();
    assert!(exited, "the gateway did not exit after SIGTERM");
    assert!(
        std::net::TcpStream::connect(&s3).is_err(),
        "still accepting"
    );
    gw.restart();
    wait_health(&endpoint).await;
    assert_eq!(get_bytes(&c, "sep", "in-flight").await, body);

    // Without the secret, the node refuses the connection.
    let r = Conn::connect(&rpc, b"not-the-secret").await;
    assert!(matches!(r, Err(ProtoError::Unauthorized)), "{:?}", r.err());
    let secret = std::fs::read(&secret_file).unwrap();
    assert!(Conn::connect(&rpc, &secret).await.is_ok());
}
