//! The node's HTTP listener: `/health` (the process answers), `/ready` (Raft has a leader and
//! this node is a member), `/metrics` (Prometheus text) for probes and scrapers, and the admin
//! API under `/admin/v1/`, where every request must be signed with the cluster secret
//! ([`coffer_proto::admin`]): `GET /admin/v1/cluster` (every node with its drives, capacity,
//! Raft role and heal counters), `GET /admin/v1/heal`, the same counters summed,
//! `GET /admin/v1/rebalance` (draining nodes, misplaced blobs, moves) and
//! `POST /admin/v1/nodes/{id}/drain` (start removing a node: it leaves the cluster once its
//! shards have moved), `POST /admin/v1/step-down` (this node hands Raft leadership away
//! before it stops) and `POST /admin/v1/nodes/add/{rpc_addr}` (take in a node started with
//! `--await-admission`); `GET /admin/v1/storage-classes` (erasure profiles: the default and
//! each storage class's), `POST /admin/v1/storage-classes/{name}/{k}/{m}` and
//! `DELETE /admin/v1/storage-classes/{name}` (back to the default); `POST /admin/v1/snapshot`
//! (build a Raft snapshot of this node's state now, e.g. before an upgrade);
//! `GET /admin/v1/state-digest` (this node's last applied index and a hash of its metadata
//! state: nodes at the same index must agree); `GET /admin/v1/lifecycle` (the lifecycle
//! worker's lease and progress, see [`lifecycle`]); the key service under `/admin/v1/kms/`
//! ([`kms`]).

use std::fmt::Write as _;
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use coffer_proto::admin::{self, HealCounters};
use coffer_proto::api::ClusterApiExt as _;
use coffer_proto::meta::MetaCommand;
use coffer_proto::ClusterApi as _;

use crate::cluster::{AddNodeError, Node};

pub mod iam;
pub mod kms;
pub mod lifecycle;
pub mod policy;
pub mod tier;

/// Serve on an already-bound listener until the returned server is stopped.
pub fn serve(node: Arc<Node>, listener: TcpListener) -> std::io::Result<actix_web::dev::Server> {
    let state = web::Data::new(node);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route(
                "/health",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
            .route("/ready", web::get().to(ready))
            .route("/metrics", web::get().to(metrics))
            .route("/admin/v1/cluster", web::get().to(cluster))
            .route("/admin/v1/heal", web::get().to(heal))
            .route("/admin/v1/rebalance", web::get().to(rebalance))
            .route("/admin/v1/nodes/{id}/drain", web::post().to(drain))
            .route("/admin/v1/nodes/add/{addr}", web::post().to(add))
            .route("/admin/v1/storage-classes", web::get().to(classes))
            .route("/admin/v1/snapshot", web::post().to(snapshot))
            .route("/admin/v1/step-down", web::post().to(step_down))
            .route("/admin/v1/state-digest", web::get().to(state_digest))
            .route(
                "/admin/v1/storage-classes/{name}/{k}/{m}",
                web::post().to(set_class),
            )
            .route(
                "/admin/v1/storage-classes/{name}",
                web::delete().to(reset_class),
            )
            .configure(iam::routes)
            .configure(policy::routes)
            .configure(kms::routes)
            .configure(lifecycle::routes)
            .configure(tier::routes)
    })
    .workers(1)
    .listen(listener)?
    .run();
    Ok(server)
}

async fn ready(node: web::Data<Arc<Node>>) -> HttpResponse {
    if node.removed() {
        return HttpResponse::ServiceUnavailable().body("not ready: removed from the cluster");
    }
    if !node.may_vote() {
        // Joining without Raft state: a member again only once its log has caught up.
        return HttpResponse::ServiceUnavailable().body("not ready: joining");
    }
    if node.healing() {
        // Started without state: a shard it should hold may still be missing.
        return HttpResponse::ServiceUnavailable().body("not ready: healing");
    }
    let s = node.status();
    let member = s.raft.voters.contains(&s.id) || s.raft.learners.contains(&s.id);
    if s.raft.leader.is_some() && member {
        HttpResponse::Ok().body("ready")
    } else {
        HttpResponse::ServiceUnavailable().body("not ready: no leader or not a member yet")
    }
}

async fn metrics(node: web::Data<Arc<Node>>) -> HttpResponse {
    let s = node.status();
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, value: u64| {
        // Names ending in _total are counters (they only grow), the others gauges.
        let kind = if name.ends_with("_total") {
            "counter"
        } else {
            "gauge"
        };
        let _ = write!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        );
    };
    gauge("coffer_raft_term", "Current Raft term.", s.raft.term);
    gauge(
        "coffer_raft_is_leader",
        "1 when this node leads.",
        u64::from(s.raft.leader == Some(s.id)),
    );
    gauge(
        "coffer_raft_last_applied",
        "Last applied Raft log index.",
        s.raft.last_applied.unwrap_or(0),
    );
    gauge(
        "coffer_raft_last_log_index",
        "Last Raft log index this node holds (the leader's minus a follower's applied index is \
         its lag).",
        node.raft.metrics().borrow().last_log_index.unwrap_or(0),
    );
    gauge(
        "coffer_raft_voters",
        "Raft voters.",
        s.raft.voters.len() as u64,
    );
    gauge(
        "coffer_raft_learners",
        "Raft learners.",
        s.raft.learners.len() as u64,
    );
    gauge(
        "coffer_node_removed",
        "1 once this node learned it was removed from the cluster (it serves nothing more).",
        u64::from(node.removed()),
    );
    gauge(
        "coffer_node_healing",
        "1 while a node that started without state has not finished a scrub pass that rebuilt every shard placed on it.",
        u64::from(node.healing()),
    );
    gauge(
        "coffer_rebalance_misplaced",
        "Blobs this node moves that were misplaced at its last rebalancing pass.",
        s.heal.misplaced,
    );
    gauge(
        "coffer_rebalance_shards_moved_total",
        "Shards this node moved to where placement now puts them.",
        s.heal.shards_moved,
    );
    gauge(
        "coffer_rebalance_bytes_moved_total",
        "Bytes of the shards this node moved.",
        s.heal.bytes_moved,
    );
    gauge(
        "coffer_rebalance_move_failures_total",
        "Shard moves that failed (retried at the next pass).",
        s.heal.move_failures,
    );
    gauge(
        "coffer_rebalance_passes_total",
        "Rebalancing passes this node completed.",
        s.heal.rebalance_passes,
    );
    let (reads, rounds) = node.read_index_counts();
    gauge(
        "coffer_read_index_reads_total",
        "Linearizable metadata reads served as leader.",
        reads,
    );
    gauge(
        "coffer_read_index_rounds_total",
        "Read-index rounds (quorum heartbeats) those reads shared; a leader that is the only voter takes one per term.",
        rounds,
    );
    gauge(
        "coffer_heal_blobs_checked_total",
        "Blobs the scrubber checked.",
        s.heal.blobs_checked,
    );
    gauge(
        "coffer_heal_bytes_scrubbed_total",
        "Bytes the scrubber verified.",
        s.heal.bytes_scrubbed,
    );
    gauge(
        "coffer_heal_shards_repaired_total",
        "Shards rebuilt.",
        s.heal.shards_repaired,
    );
    gauge(
        "coffer_heal_bytes_repaired_total",
        "Bytes of shards rebuilt.",
        s.heal.bytes_repaired,
    );
    gauge(
        "coffer_heal_repair_failures_total",
        "Rebuilds that failed.",
        s.heal.repair_failures,
    );
    gauge(
        "coffer_heal_scrub_passes_total",
        "Scrub passes completed.",
        s.heal.passes,
    );
    let (total, free) = s
        .drives
        .iter()
        .fold((0, 0), |(t, f), d| (t + d.total_bytes, f + d.free_bytes));
    gauge(
        "coffer_drive_total_bytes",
        "Bytes of the drives' filesystems.",
        total,
    );
    gauge("coffer_drive_free_bytes", "Bytes free on the drives.", free);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}

/// Whether an admin request is signed with the cluster secret.
pub(crate) fn authorized(node: &Node, req: &HttpRequest) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let date = header("x-coffer-date").and_then(|d| d.parse::<u64>().ok());
    let sig = header("authorization").and_then(|a| a.strip_prefix("Coffer-Admin "));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    match (date, sig) {
        (Some(date), Some(sig)) => admin::verify(
            &node.config.secret,
            req.method().as_str(),
            req.path(),
            date,
            now,
            sig,
        ),
        _ => false,
    }
}

/// An extractor for admin requests signed with the cluster secret: a handler that takes it
/// runs only for them (the others are answered 403 before it).
pub(crate) struct Signed;

impl actix_web::FromRequest for Signed {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Signed, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let ok = req
            .app_data::<web::Data<Arc<Node>>>()
            .is_some_and(|node| authorized(node, req));
        std::future::ready(if ok {
            Ok(Signed)
        } else {
            Err(actix_web::error::InternalError::from_response("unsigned", refused()).into())
        })
    }
}

pub(crate) fn refused() -> HttpResponse {
    HttpResponse::Forbidden().body("admin requests must be signed with the cluster secret\n")
}

async fn cluster(node: web::Data<Arc<Node>>, req: HttpRequest) -> HttpResponse {
    if !authorized(&node, &req) {
        return refused();
    }
    HttpResponse::Ok().json(node.cluster_status().await)
}

async fn heal(node: web::Data<Arc<Node>>, req: HttpRequest) -> HttpResponse {
    if !authorized(&node, &req) {
        return refused();
    }
    let status = node.cluster_status().await;
    let mut sum = HealCounters::default();
    let mut answered = 0u64;
    for s in status.nodes.iter().filter_map(|n| n.status.as_ref()) {
        answered += 1;
        let h = &s.heal;
        sum.blobs_checked += h.blobs_checked;
        sum.bytes_scrubbed += h.bytes_scrubbed;
        sum.shards_repaired += h.shards_repaired;
        sum.bytes_repaired += h.bytes_repaired;
        sum.repair_failures += h.repair_failures;
        sum.passes += h.passes;
        sum.uptime_secs = sum.uptime_secs.max(h.uptime_secs);
    }
    HttpResponse::Ok().json(serde_json::json!({
        "nodes": status.nodes.len(),
        "nodes_answered": answered,
        "total": sum,
        "per_node": status.nodes.iter().map(|n| serde_json::json!({
            "id": n.id,
            "heal": n.status.as_ref().map(|s| &s.heal),
            "error": n.error,
        })).collect::<Vec<_>>(),
    }))
}

async fn rebalance(node: web::Data<Arc<Node>>, req: HttpRequest) -> HttpResponse {
    if !authorized(&node, &req) {
        return refused();
    }
    let status = node.cluster_status().await;
    let answered: Vec<_> = status
        .nodes
        .iter()
        .filter_map(|n| Some((n.id, &n.status.as_ref()?.heal)))
        .collect();
    let sum = |f: fn(&HealCounters) -> u64| answered.iter().map(|(_, h)| f(h)).sum::<u64>();
    HttpResponse::Ok().json(serde_json::json!({
        "nodes": status.nodes.len(),
        "nodes_answered": answered.len(),
        "draining": status.nodes.iter().filter(|n| n.draining).map(|n| n.id).collect::<Vec<_>>(),
        // Every answering node has finished a pass since the last change and found nothing.
        "misplaced": sum(|h| h.misplaced),
        "shards_moved": sum(|h| h.shards_moved),
        "bytes_moved": sum(|h| h.bytes_moved),
        "move_failures": sum(|h| h.move_failures),
        "per_node": answered.iter().map(|(id, h)| serde_json::json!({
            "id": id,
            "misplaced": h.misplaced,
            "shards_moved": h.shards_moved,
            "bytes_moved": h.bytes_moved,
            "move_failures": h.move_failures,
            "passes": h.rebalance_passes,
            "balanced_over": h.balanced_over,
        })).collect::<Vec<_>>(),
    }))
}

async fn snapshot(node: web::Data<Arc<Node>>, req: HttpRequest) -> HttpResponse {
    if !authorized(&node, &req) {
        return refused();
    }
    match node.snapshot_now(std::time::Duration::from_secs(60)).await {
        Ok(index) => HttpResponse::Ok().json(serde_json::json!({
            "node": node.config.id,
            "snapshot_index": index,
        })),
        Err(e) => HttpResponse::ServiceUnavailable().body(format!("{e}\n")),
    }
}

async fn step_down(node: web::Data<Arc<Node>>, req: HttpRequest) -> HttpResponse {
    if !authorized(&node, &req) {
        return refused();
    }
    match node.step_down(std::time::Duration::from_secs(10)).await {
        Ok(stepped_down) => HttpResponse::Ok().json(serde_json::json!({
            "node": node.config.id,
            "stepped_down": stepped_down,
        })),
        Err(e) => HttpResponse::ServiceUnavailable().body(format!("{e}\n")),
    }
}

async fn state_digest(node: web::Data<Arc<Node>>, req: HttpRequest) -> HttpResponse {
    if !authorized(&node, &req) {
        return refused();
    }
    let store = node.meta_store().clone();
    let digest =
        tokio::task::spawn_blocking(move || crate::raft::state_machine::state_digest(&store)).await;
    match digest {
        Ok(Ok((applied, digest))) => HttpResponse::Ok().json(serde_json::json!({
            "node": node.config.id,
            "applied": applied,
            "digest": digest,
        })),
        Ok(Err(e)) => HttpResponse::InternalServerError().body(format!("{e}\n")),
        Err(e) => HttpResponse::InternalServerError().body(format!("{e}\n")),
    }
}

async fn drain(node: web::Data<Arc<Node>>, req: HttpRequest, id: web::Path<u64>) -> HttpResponse {
    if !authorized(&node, &req) {
        return refused();
    }
    let id = id.into_inner();
    if !node.peers().nodes().iter().any(|n| n.id == id) {
        return HttpResponse::NotFound().body(format!("no node {id} in the cluster map\n"));
    }
    // Shards are never re-encoded: a blob wider than the drives left doubles up on some of
    // them, and must still survive the loss of one.
    let (candidates, _) = node.blobs().candidates();
    let drives_left = candidates.iter().filter(|c| c.loc.node != id).count();
    if let Some(why) = node.blobs().shrink_refusal(drives_left) {
        return HttpResponse::Conflict().body(format!("node {id} may not be removed: {why}\n"));
    }
    match node.meta_write(MetaCommand::DrainNode { id }).await {
        Ok(_) => HttpResponse::Ok().json(serde_json::json!({ "draining": id })),
        Err(e) => HttpResponse::ServiceUnavailable().body(format!("{e}\n")),
    }
}

async fn add(
    node: web::Data<Arc<Node>>,
    req: HttpRequest,
    addr: web::Path<String>,
) -> HttpResponse {
    if !authorized(&node, &req) {
        return refused();
    }
    match node.add_node(&addr).await {
        Ok(info) => HttpResponse::Ok().json(info),
        Err(e @ AddNodeError::Unreachable(_)) => HttpResponse::BadGateway().body(format!("{e}\n")),
        Err(e @ AddNodeError::IdTaken(_)) => HttpResponse::Conflict().body(format!("{e}\n")),
        Err(e @ AddNodeError::Admit(_)) => {
            HttpResponse::ServiceUnavailable().body(format!("{e}\n"))
        }
    }
}

async fn classes(node: web::Data<Arc<Node>>, req: HttpRequest) -> HttpResponse {
    if !authorized(&node, &req) {
        return refused();
    }
    let (_, active) = node.blobs().candidates();
    let (k, m) = node.blobs().default_profile(active);
    match node.storage_classes().await {
        Ok(list) => HttpResponse::Ok().json(serde_json::json!({
            "default": { "k": k, "m": m },
            "classes": list
                .iter()
                .map(|(name, k, m)| serde_json::json!({ "name": name, "k": k, "m": m }))
                .collect::<Vec<_>>(),
        })),
        Err(e) => HttpResponse::ServiceUnavailable().body(format!("{e}\n")),
    }
}

async fn set_class(
    node: web::Data<Arc<Node>>,
    req: HttpRequest,
    path: web::Path<(String, u8, u8)>,
) -> HttpResponse {
    if !authorized(&node, &req) {
        return refused();
    }
    let (name, k, m) = path.into_inner();
    if !coffer_proto::types::STORAGE_CLASSES.contains(&name.as_str()) {
        return HttpResponse::BadRequest().body(format!("no storage class {name:?}\n"));
    }
    if k == 0 {
        return HttpResponse::BadRequest().body("k must be at least 1\n");
    }
    // Every shard of a blob goes to a distinct node (or drive, on one node).
    let (width, most) = (usize::from(k) + usize::from(m), node.blobs().max_width());
    if width > most {
        return HttpResponse::Conflict().body(format!(
            "{k}+{m} needs {width} distinct nodes; the cluster has {most}\n"
        ));
    }
    let cmd = MetaCommand::SetStorageClass {
        name: name.clone(),
        profile: Some((k, m)),
    };
    match node.meta_write(cmd).await {
        Ok(_) => HttpResponse::Ok().json(serde_json::json!({ "name": name, "k": k, "m": m })),
        Err(e) => HttpResponse::ServiceUnavailable().body(format!("{e}\n")),
    }
}

async fn reset_class(
    node: web::Data<Arc<Node>>,
    req: HttpRequest,
    name: web::Path<String>,
) -> HttpResponse {
    if !authorized(&node, &req) {
        return refused();
    }
    let name = name.into_inner();
    if !coffer_proto::types::STORAGE_CLASSES.contains(&name.as_str()) {
        return HttpResponse::BadRequest().body(format!("no storage class {name:?}\n"));
    }
    let cmd = MetaCommand::SetStorageClass {
        name: name.clone(),
        profile: None,
    };
    match node.meta_write(cmd).await {
        Ok(_) => HttpResponse::Ok().json(serde_json::json!({ "name": name, "default": true })),
        Err(e) => HttpResponse::ServiceUnavailable().body(format!("{e}\n")),
    }
}
