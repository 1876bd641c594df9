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
    let _gw = Process::spawn(
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
    for _ in 0..300 {
        if reqwest::get(format!("{endpoint}/_coffer/health"))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
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

    // Without the secret, the node refuses the connection.
    let r = Conn::connect(&rpc, b"not-the-secret").await;
    assert!(matches!(r, Err(ProtoError::Unauthorized)), "{:?}", r.err());
    let secret = std::fs::read(&secret_file).unwrap();
    assert!(Conn::connect(&rpc, &secret).await.is_ok());
}
