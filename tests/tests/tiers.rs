//! Tiers on a six-node cluster: nodes 1-3 start with `--label rack=r1`, nodes 4-6 with
//! `--label disk=large`; `coffer admin tier add big --pool disk=large --profile 2+1 --class
//! STANDARD_IA` makes nodes 4-6 a pool of their own, where STANDARD_IA blobs go while
//! STANDARD stays on nodes 1-3. A remote tier's secret
//! is sealed: it appears neither in the admin API's answers nor in any node's files.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use aws_sdk_s3::types::StorageClass;
use cluster_tests::{bytes, coffer_bin, get_bytes, LocalCluster};

#[tokio::test]
async fn local_tiers_place_their_classes_on_their_pools() {
    tokio::time::timeout(Duration::from_secs(300), tiers())
        .await
        .expect("test timed out");
}

/// `coffer admin ARGS` on node 1 with `env`: (exit success, stdout, stderr).
fn admin(cluster: &LocalCluster, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let sf = cluster.dir.path().join("cluster.secret");
    let out = Command::new(coffer_bin())
        .args([
            "admin",
            "--json",
            "--node",
            &cluster.admin[0],
            "--cluster-secret-file",
        ])
        .arg(&sf)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ids(v: &serde_json::Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

/// Whether any file under `dir` contains `needle`.
fn found_in(dir: &Path, needle: &[u8]) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(f) = found_in(&p, needle) {
                return Some(f);
            }
        } else if let Ok(b) = std::fs::read(&p) {
            if b.windows(needle.len()).any(|w| w == needle) {
                return Some(p);
            }
        }
    }
    None
}

async fn tiers() {
    let cluster = LocalCluster::start_each(6, &[], |i| {
        let label = if i >= 4 { "disk=large" } else { "rack=r1" };
        vec!["--label".into(), label.into()]
    })
    .await;
    cluster.wait_labels("disk=large", &[4, 5, 6]).await;
    cluster.wait_labels("rack=r1", &[1, 2, 3]).await;
    let s = cluster.admin_json(1, &["cluster", "status"]);
    assert!(
        s["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["pool"].is_null()),
        "{s}"
    );

    // A local tier over the labelled nodes, STANDARD_IA mapped to it.
    let (ok, out, err) = admin(
        &cluster,
        &[
            "tier",
            "add",
            "big",
            "--pool",
            "disk=large",
            "--profile",
            "2+1",
            "--class",
            "STANDARD_IA",
        ],
        &[],
    );
    assert!(ok, "{out}{err}");
    let t: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(t["tiers"][0]["name"], "big", "{t}");
    assert_eq!(ids(&t["tiers"][0]["nodes"]), [4, 5, 6], "{t}");
    assert_eq!(ids(&t["default_pool"]), [1, 2, 3], "{t}");
    assert_eq!(t["classes"]["STANDARD_IA"], "big", "{t}");
    let s = cluster.admin_json(2, &["cluster", "status"]);
    let pools: Vec<(u64, Option<&str>)> = s["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_u64().unwrap(), n["pool"].as_str()))
        .collect();
    assert_eq!(
        pools,
        [
            (1, None),
            (2, None),
            (3, None),
            (4, Some("big")),
            (5, Some("big")),
            (6, Some("big"))
        ]
    );
    assert_eq!(s["classes"]["STANDARD_IA"], "big", "{s}");

    // STANDARD on the default pool (2+1 on its three nodes), STANDARD_IA on the tier's.
    let c = cluster.client();
    c.create_bucket().bucket("tiers").send().await.unwrap();
    let body = bytes(3 << 20, 5);
    let put = |key: &'static str, class: Option<StorageClass>| {
        let (c, body) = (c.clone(), body.clone());
        async move {
            c.put_object()
                .bucket("tiers")
                .key(key)
                .set_storage_class(class)
                .body(body.into())
                .send()
                .await
                .unwrap();
        }
    };
    let (nodes, files) = cluster.new_shards(put("std", None)).await;
    assert_eq!((nodes, files), (BTreeSet::from([1, 2, 3]), 3));
    let (nodes, files) = cluster
        .new_shards(put("ia", Some(StorageClass::StandardIa)))
        .await;
    assert_eq!((nodes, files), (BTreeSet::from([4, 5, 6]), 3));
    assert_eq!(get_bytes(&c, "tiers", "std").await, body);
    assert_eq!(get_bytes(&c, "tiers", "ia").await, body);
    let head = c
        .head_object()
        .bucket("tiers")
        .key("ia")
        .send()
        .await
        .unwrap();
    assert_eq!(head.storage_class(), Some(&StorageClass::StandardIa));

    // Bad changes are refused with the reason.
    let refused = |args: &[&str], why: &str| {
        let (ok, out, err) = admin(&cluster, args, &[]);
        assert!(!ok && err.contains(why), "{args:?}: {out}{err}");
    };
    refused(
        &[
            "tier",
            "add",
            "big",
            "--pool",
            "disk=small",
            "--profile",
            "2+1",
        ],
        "already a tier",
    );
    refused(
        &["tier", "add", "small", "--pool", "disk=small"],
        "--profile",
    );
    refused(
        &[
            "tier",
            "add",
            "Small",
            "--pool",
            "disk=small",
            "--profile",
            "2+1",
        ],
        "not a tier name",
    );
    refused(
        &[
            "tier",
            "add",
            "twin",
            "--pool",
            "disk=large",
            "--profile",
            "4+2",
        ],
        "already has this pool",
    );
    refused(
        &[
            "tier",
            "add",
            "racked",
            "--pool",
            "rack=r1",
            "--profile",
            "2+1",
        ],
        "default pool",
    );
    refused(&["tier", "class", "GOLD", "big"], "not a storage class");
    refused(&["tier", "class", "STANDARD", "big"], "STANDARD stays");
    refused(&["tier", "class", "GLACIER", "none"], "no tier");
    refused(&["tier", "remove", "big"], "STANDARD_IA");
    refused(&["tier", "remove", "none"], "no tier");

    // A remote tier: its secret is sealed before it is stored, and never answered.
    let secret = "remote-secret-8c1f0e55d2";
    let remote = [
        "tier",
        "add",
        "cold",
        "--endpoint",
        "http://127.0.0.1:9",
        "--bucket",
        "archive",
        "--prefix",
        "coffer/",
        "--access-key-id",
        "AKREMOTE",
        "--class",
        "GLACIER",
    ];
    let (ok, out, err) = admin(&cluster, &remote, &[]);
    assert!(
        !ok && err.contains("COFFER_TIER_SECRET_ACCESS_KEY"),
        "{out}{err}"
    );
    let (ok, out, err) = admin(
        &cluster,
        &remote,
        &[("COFFER_TIER_SECRET_ACCESS_KEY", secret)],
    );
    assert!(ok, "{out}{err}");
    let t: serde_json::Value = serde_json::from_str(&out).unwrap();
    let cold = &t["tiers"][1];
    assert_eq!(
        (cold["kind"].as_str(), cold["id"].as_u64()),
        (Some("remote"), Some(2)),
        "{t}"
    );
    assert_eq!(cold["bucket"], "archive", "{t}");
    assert_eq!(t["classes"]["GLACIER"], "cold", "{t}");
    let listed = cluster.admin_json(3, &["tier", "list"]);
    assert!(!listed.to_string().contains(secret), "{listed}");
    assert!(!listed.to_string().contains("sealed"), "{listed}");
    for i in 1..=6 {
        assert_eq!(
            found_in(&cluster.node_dir(i), secret.as_bytes()),
            None,
            "node {i}"
        );
    }
    assert!(!cluster.logs().contains(secret));

    // Unmapped, a tier goes; its nodes return to the default pool, its blobs stay readable.
    let (ok, out, err) = admin(
        &cluster,
        &["tier", "class", "STANDARD_IA", "--default"],
        &[],
    );
    assert!(ok, "{out}{err}");
    let (ok, out, err) = admin(&cluster, &["tier", "remove", "big"], &[]);
    assert!(ok, "{out}{err}");
    let t: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(ids(&t["default_pool"]), [1, 2, 3, 4, 5, 6], "{t}");
    assert_eq!(t["tiers"].as_array().unwrap().len(), 1, "{t}");
    assert_eq!(get_bytes(&c, "tiers", "ia").await, body);
    let (nodes, _) = cluster
        .new_shards(put("ia2", Some(StorageClass::StandardIa)))
        .await;
    assert!(nodes.iter().any(|n| *n <= 3), "{nodes:?}");
}
