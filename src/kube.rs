//! The failure zone of a node running in Kubernetes: the value of a label (e.g.
//! `topology.kubernetes.io/zone`) on the Kubernetes node its pod was scheduled on, read once
//! at start from the API server with the pod's service account, as every pod may reach it
//! (`KUBERNETES_SERVICE_HOST`/`_PORT`, the token and CA mounted under
//! /var/run/secrets/kubernetes.io/serviceaccount). The pod passes the node's name in
//! `NODE_NAME` (the downward API's `spec.nodeName`). Needs permission to `get` nodes.

use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ACCOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The value of `label` on this pod's Kubernetes node (None: the node has no such label).
pub async fn node_label(label: &str) -> anyhow::Result<Option<String>> {
    let node = std::env::var("NODE_NAME")
        .context("NODE_NAME is not set (give the pod the downward API's spec.nodeName)")?;
    let host = std::env::var("KUBERNETES_SERVICE_HOST")
        .context("KUBERNETES_SERVICE_HOST is not set: not running in a Kubernetes pod")?;
    let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".into());
    let token = std::fs::read_to_string(format!("{ACCOUNT}/token"))
        .context("read the service account token")?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(format!("{ACCOUNT}/ca.crt"))
        .context("read the cluster's CA")?
    {
        roots.add(cert.context("the cluster's CA")?)?;
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let address = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let tcp = tokio::net::TcpStream::connect(&address)
        .await
        .with_context(|| format!("connect to the API server at {address}"))?;
    // The API server's certificate names its Service, as in-cluster clients ask for it.
    let name = ServerName::try_from("kubernetes.default.svc".to_owned())?;
    let mut stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
        .connect(name, tcp)
        .await
        .context("TLS with the API server")?;
    let request = format!(
        "GET /api/v1/nodes/{node} HTTP/1.0\r\nHost: kubernetes.default.svc\r\n\
         Authorization: Bearer {}\r\nAccept: application/json\r\n\r\n",
        token.trim()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    let limit = tokio::time::Duration::from_secs(10);
    tokio::time::timeout(limit, stream.read_to_end(&mut answer))
        .await
        .context("the API server did not answer")?
        .or_else(|e| {
            // Servers often close without TLS's close_notify; the body has come by then.
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                Ok(0)
            } else {
                Err(e)
            }
        })?;
    label_of(&answer, label).with_context(|| format!("read node {node} from the API server"))
}

/// The label's value from the API server's answer (an HTTP/1.0 response holding a Node).
fn label_of(answer: &[u8], label: &str) -> anyhow::Result<Option<String>> {
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no HTTP response")?;
    let head = String::from_utf8_lossy(&answer[..split]);
    let status = head.split_whitespace().nth(1).unwrap_or("?");
    let body = &answer[split + 4..];
    anyhow::ensure!(
        status == "200",
        "HTTP {status}: {}",
        String::from_utf8_lossy(body)
            .chars()
            .take(300)
            .collect::<String>()
    );
    let node: serde_json::Value = serde_json::from_slice(body).context("not JSON")?;
    Ok(node["metadata"]["labels"][label]
        .as_str()
        .map(str::to_owned))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::label_of;

    #[test]
    fn the_label_comes_from_the_node_object() {
        let ok = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"kind\":\"Node\",\
            \"metadata\":{\"name\":\"n1\",\"labels\":{\"topology.kubernetes.io/zone\":\"eu-1b\"}}}";
        let zone = label_of(ok, "topology.kubernetes.io/zone").unwrap();
        assert_eq!(zone.as_deref(), Some("eu-1b"));
        assert_eq!(label_of(ok, "other").unwrap(), None);
        let refused = b"HTTP/1.0 403 Forbidden\r\n\r\n{\"message\":\"nodes is forbidden\"}";
        let e = label_of(refused, "x").unwrap_err().to_string();
        assert!(e.contains("403") && e.contains("forbidden"), "{e}");
        assert!(label_of(b"garbage", "x").is_err());
    }
}
