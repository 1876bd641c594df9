//! IAM users and access keys: created with `coffer admin user|key`, kept in the Raft metadata
//! with their secrets sealed, and honoured by the gateway's authentication. A user without
//! policies gets AccessDenied (AWS's implicit deny) on a bucket that exists, which tells a
//! correctly signed request apart from a bad signature or an unknown or disabled key.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::path::Path;
use std::time::Duration;

use cluster_tests::{client_for, code, LocalCluster};

#[tokio::test]
async fn users_and_access_keys() {
    tokio::time::timeout(Duration::from_secs(300), iam())
        .await
        .expect("test timed out");
}

/// Whether any file under `dir` contains `needle`.
fn anywhere(dir: &Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            let p = e.path();
            if p.is_dir() {
                anywhere(&p, needle)
            } else {
                std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
            }
        })
}

async fn list_code(endpoint: &str, ak: &str, sk: &str) -> String {
    match client_for(endpoint, ak, sk).list_buckets().send().await {
        Ok(_) => "ok".into(),
        Err(e) => code(&e),
    }
}

async fn iam() {
    let cluster = LocalCluster::start(1, &[]).await;
    let ep = cluster.endpoint.clone();
    let admin = |args: &[&str]| cluster.admin_json(1, args);
    let refused = |args: &[&str]| {
        let out = cluster.admin_output(1, args);
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };

    let alice = admin(&["user", "create", "alice"]);
    assert_eq!(alice["arn"], "arn:aws:iam:::user/alice", "{alice}");
    assert!(alice["user_id"].as_str().unwrap().starts_with("AIDA"));
    assert!(refused(&["user", "create", "alice"]).contains("409"));
    assert!(refused(&["user", "create", "no/slash"]).contains("only A-Za-z0-9"));
    assert!(refused(&["key", "create", "nobody"]).contains("404"));

    let k1 = admin(&["key", "create", "alice"]);
    let (id1, secret1) = (
        k1["access_key_id"].as_str().unwrap().to_owned(),
        k1["secret_access_key"].as_str().unwrap().to_owned(),
    );
    assert!(id1.starts_with("AKIA") && id1.len() == 20, "{k1}");
    assert_eq!(secret1.len(), 40);
    let k2 = admin(&["key", "create", "alice"]);
    let id2 = k2["access_key_id"].as_str().unwrap().to_owned();
    assert!(refused(&["key", "create", "alice"]).contains("AccessKeysPerUser"));
    let keys = admin(&["key", "list", "alice"]);
    assert_eq!(keys.as_array().unwrap().len(), 2, "{keys}");
    assert!(
        !keys.to_string().contains(&secret1),
        "listing shows no secret"
    );

    // Signed with alice's key: authenticated, then denied (she has no policy).
    cluster
        .client()
        .create_bucket()
        .bucket("any")
        .send()
        .await
        .unwrap();
    assert_eq!(list_code(&ep, &id1, &secret1).await, "AccessDenied");
    let put = client_for(&ep, &id1, &secret1)
        .put_object()
        .bucket("any")
        .key("k")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&put), "AccessDenied");
    // Wrong secret, unknown key.
    assert_eq!(
        list_code(&ep, &id1, "0000000000000000000000000000000000000000").await,
        "SignatureDoesNotMatch"
    );
    assert_eq!(
        list_code(&ep, "AKIANOSUCHKEY0000000", &secret1).await,
        "InvalidAccessKeyId"
    );
    // A presigned URL of alice's: authenticated too.
    let presigned = client_for(&ep, &id1, &secret1)
        .get_object()
        .bucket("any")
        .key("k")
        .presigned(
            aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(60)).unwrap(),
        )
        .await
        .unwrap();
    let r = reqwest::get(presigned.uri()).await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("<Code>AccessDenied</Code>"));

    // Disabled: the key authenticates nothing; enabled again: it does.
    admin(&["key", "disable", &id1]);
    assert_eq!(list_code(&ep, &id1, &secret1).await, "InvalidAccessKeyId");
    let keys = admin(&["key", "list", "alice"]);
    assert!(keys.to_string().contains("Inactive"), "{keys}");
    admin(&["key", "enable", &id1]);
    assert_eq!(list_code(&ep, &id1, &secret1).await, "AccessDenied");

    // The secret is nowhere in clear: not in the node's metadata store nor in any log.
    assert!(!anywhere(&cluster.node_dir(1), secret1.as_bytes()));
    assert!(!anywhere(cluster.dir.path(), secret1.as_bytes()));

    // The root key is unaffected.
    assert_eq!(
        list_code(&ep, cluster_tests::ACCESS_KEY, cluster_tests::SECRET_KEY).await,
        "ok"
    );

    // A user with keys cannot be deleted; without, it can.
    assert!(refused(&["user", "delete", "alice"]).contains("409"));
    admin(&["key", "delete", &id1]);
    admin(&["key", "delete", &id2]);
    assert!(refused(&["key", "delete", &id2]).contains("404"));
    assert_eq!(list_code(&ep, &id1, &secret1).await, "InvalidAccessKeyId");
    admin(&["user", "delete", "alice"]);
    assert_eq!(admin(&["user", "list"]).as_array().unwrap().len(), 0);
    println!(
        "iam: user alice with two keys (a third refused), AccessDenied when signed right, \
         SignatureDoesNotMatch / InvalidAccessKeyId otherwise, disable and enable, secret \
         nowhere on disk in clear"
    );
}
