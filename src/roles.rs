//! Starting each role from resolved [`Settings`], and stopping it cleanly on SIGINT/SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use coffer_gateway::auth::Credentials;
use coffer_gateway::GatewayConfig;
use coffer_node::{Node, NodeConfig};
use coffer_proto::ClusterApi;
use tracing::{info, warn};

use crate::config::Settings;
use crate::secrets;

/// The node's zone: `--zone`, else its Kubernetes node's label when asked.
async fn zone(s: &Settings) -> anyhow::Result<Option<String>> {
    match (&s.zone, &s.zone_from_node_label) {
        (Some(z), _) => Ok(Some(z.clone())),
        (None, Some(label)) => {
            let zone = crate::kube::node_label(label)
                .await
                .with_context(|| format!("zone from the Kubernetes node's label {label}"))?;
            match &zone {
                Some(z) => info!(zone = %z, %label, "zone from the Kubernetes node"),
                None => warn!(%label, "the Kubernetes node has no such label: no zone"),
            }
            Ok(zone)
        }
        (None, None) => Ok(None),
    }
}

fn node_config(
    s: &Settings,
    advertise: String,
    zone: Option<String>,
) -> anyhow::Result<NodeConfig> {
    // Every node can be given the same list: the one whose own address comes first may
    // bootstrap (when no node behind the list is a member yet); the others join.
    let first = s.join.first().is_none_or(|f| *f == advertise);
    let may_bootstrap = first && !s.await_admission;
    let join: Vec<String> = s
        .join
        .iter()
        .filter(|j| **j != advertise)
        .cloned()
        .collect();
    // Only a node that starts a cluster on its own may make up its secret.
    let secret = secrets::cluster_secret(&s.cluster_secret_file, may_bootstrap && join.is_empty())?;
    Ok(NodeConfig {
        id: s.node_id,
        meta_dir: s.home().join("meta"),
        drives: s.drives.clone(),
        advertise_rpc: advertise,
        secret: secret.clone(),
        join,
        may_bootstrap,
        zone,
        labels: s.labels.clone(),
        erasure: None,
        quorum_margin: s.quorum_margin,
        scrub_interval: Duration::from_secs(s.scrub_interval.max(1)),
        scrub_rate: s.scrub_rate.saturating_mul(1 << 20),
        rebalance_rate: s.rebalance_rate.saturating_mul(1 << 20),
        rebalance_duty: s.rebalance_duty,
        stripe_size: 1 << 20,
        gc_interval: Duration::from_secs(1),
        orphan_grace: Duration::from_secs(s.orphan_grace),
        kek: Some(secrets::kek(s.kek_file.as_deref(), &secret)?),
        kms_keys: s.kms_keys.clone(),
    })
}

fn gateway_config(s: &Settings, cluster_secret: &[u8]) -> anyhow::Result<GatewayConfig> {
    let key = secrets::root_key(s.home())?;
    let mut credentials = Credentials::default();
    credentials.insert(key.access_key.clone(), key.secret_key.clone());
    let scheme = if s.tls.is_some() { "https" } else { "http" };
    println!("Coffer S3 endpoint: {scheme}://{}", s.address);
    println!("Region:             {}", s.region);
    println!("Access key id:      {}", key.access_key);
    if key.generated {
        println!("Secret access key:  {}", key.secret_key);
        println!(
            "(generated now and kept in {}; shown only this once)",
            s.home().join("credentials.toml").display()
        );
    } else {
        println!(
            "Secret access key:  see {} or COFFER_SECRET_ACCESS_KEY",
            s.home().join("credentials.toml").display()
        );
    }
    Ok(GatewayConfig {
        region: s.region.clone(),
        domain: s.domain.clone(),
        website_domain: s.website_domain.clone(),
        credentials,
        // IAM users' secrets are sealed under the master key derived from the cluster secret.
        master_key: Some(coffer_proto::seal::MasterKey::derive(cluster_secret)),
        kek: Some(secrets::kek(s.kek_file.as_deref(), cluster_secret)?),
        sse_c_over_http: s.sse_c_over_http,
        transport: coffer_gateway::tls::Transport {
            // `server::serve` sets it from the certificate it is given.
            tls: false,
            trusted_proxies: s.trusted_proxies.clone(),
        },
        default_encryption: s.default_encryption,
        inline_threshold: s.inline_threshold,
        max_put_size: 5 << 30,
        default_ownership: s.default_ownership,
        lifecycle_day: i64::try_from(s.lifecycle_day_seconds).unwrap_or(i64::MAX),
        access_log_flush: Duration::from_secs(s.access_log_flush_seconds),
    })
}

async fn start_node(
    s: &Settings,
    rpc: Option<tokio::net::TcpListener>,
) -> anyhow::Result<Arc<Node>> {
    let advertise = match (&s.advertise, &rpc) {
        (Some(a), _) => a.clone(),
        (None, Some(l)) => l.local_addr()?.to_string(),
        (None, None) => "127.0.0.1:0".into(),
    };
    let node = Node::start(node_config(s, advertise, zone(s).await?)?)
        .await
        .context("start node")?;
    if let Some(l) = rpc {
        info!(address = %l.local_addr()?, "internal RPC listening");
        tokio::spawn(coffer_node::rpc::serve(node.clone(), l));
    }
    if let Some(a) = &s.admin_address {
        let l =
            std::net::TcpListener::bind(a).with_context(|| format!("bind admin address {a}"))?;
        info!(address = %a, "node HTTP (health, metrics, admin) listening");
        tokio::spawn(coffer_node::http::serve(node.clone(), l)?);
    }
    node.enter_cluster(Duration::from_secs(60))
        .await
        .context("enter the cluster")?;
    coffer_node::kms::ensure_configured(&node)
        .await
        .context("make the configured key service keys")?;
    tokio::spawn(coffer_node::gc::run(node.clone()));
    tokio::spawn(coffer_node::sweep::run(node.clone()));
    tokio::spawn(coffer_node::rebalance::run(node.clone()));
    tokio::spawn(coffer_node::heal::run(
        node.clone(),
        node.config.scrub_interval,
        node.config.scrub_rate,
    ));
    Ok(node)
}

async fn rpc_listener(
    s: &Settings,
    default: Option<&str>,
) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    match s.rpc_address.as_deref().or(default) {
        Some(a) => Ok(Some(
            tokio::net::TcpListener::bind(a)
                .await
                .with_context(|| format!("bind RPC address {a}"))?,
        )),
        None => Ok(None),
    }
}

async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(t) => t,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
}

async fn run_gateway(
    s: &Settings,
    cluster: Arc<dyn ClusterApi>,
    cluster_secret: &[u8],
) -> anyhow::Result<()> {
    let config = gateway_config(s, cluster_secret)?;
    let listener = std::net::TcpListener::bind(&s.address)
        .with_context(|| format!("bind S3 address {}", s.address))?;
    let certificate = match &s.tls {
        Some((cert, key)) => Some(
            coffer_gateway::tls::Certificate::open(cert, key)
                .map_err(|e| anyhow::anyhow!("TLS: {e}"))?,
        ),
        None => None,
    };
    let website = match &s.website_address {
        Some(a) => Some(
            std::net::TcpListener::bind(a).with_context(|| format!("bind website address {a}"))?,
        ),
        None => None,
    };
    let worker = coffer_gateway::lifecycle::Settings {
        holder: format!(
            "{}-{:08x}",
            crate::identity::hostname().unwrap_or_else(|_| "gateway".into()),
            rand::random::<u32>()
        ),
        day: config.lifecycle_day,
        scan_rate: s.lifecycle_scan_rate,
    };
    let (server, state) = coffer_gateway::server::serve(
        listener,
        config,
        cluster.clone(),
        s.workers,
        certificate,
        website,
    )?;
    let lifecycle = tokio::spawn(coffer_gateway::lifecycle::run(cluster, worker));
    let access_logs = tokio::spawn(coffer_gateway::access_log::run(state.clone()));
    let handle = server.handle();
    let running = tokio::spawn(server);
    info!(address = %s.address, "S3 gateway listening");
    if let Some(a) = &s.website_address {
        info!(address = %a, "website endpoint listening");
    }
    wait_for_signal().await;
    info!("shutting down");
    lifecycle.abort();
    handle.stop(true).await;
    let _ = running.await;
    // Every request has been answered: what their records make is delivered now.
    access_logs.abort();
    coffer_gateway::access_log::deliver_due(&state, true).await;
    Ok(())
}

/// `coffer server`.
pub async fn server(s: Settings) -> anyhow::Result<()> {
    let rpc = rpc_listener(&s, None).await?;
    let node = start_node(&s, rpc).await?;
    let secret = node.config.secret.clone();
    run_gateway(&s, node.clone(), &secret).await?;
    node.shutdown().await;
    Ok(())
}

/// `coffer node`.
pub async fn node(s: Settings) -> anyhow::Result<()> {
    let rpc = rpc_listener(&s, Some("127.0.0.1:9100")).await?;
    let node = start_node(&s, rpc).await?;
    println!("Coffer node {} ready", s.node_id);
    wait_for_signal().await;
    // Elections after a leader's planned stop start at once rather than after its heartbeats
    // are missed.
    if let Ok(true) = node.step_down(Duration::from_secs(5)).await {
        info!("leadership handed away");
    }
    node.shutdown().await;
    Ok(())
}

/// `coffer gateway --cluster ADDR[,ADDR...]`.
pub async fn gateway(s: Settings) -> anyhow::Result<()> {
    if s.cluster.is_empty() {
        anyhow::bail!("coffer gateway needs --cluster NODE_RPC_ADDRESS[,...]");
    }
    let secret = secrets::cluster_secret(&s.cluster_secret_file, false)?;
    let client =
        coffer_proto::cluster_client::ClusterClient::new(s.cluster.clone(), secret.clone());
    client.keep_fresh();
    let cluster: Arc<dyn ClusterApi> = client;
    run_gateway(&s, cluster, &secret).await
}
