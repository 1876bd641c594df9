//! The admin API's view of the lifecycle worker (`coffer admin lifecycle status`):
//! `GET /admin/v1/lifecycle` answers the worker's document as the gateway holding the lease
//! last wrote it (who works, until when, where the pass is and what it did), or `{}` before
//! any gateway ran it. The node does not interpret it: its model is the gateway's.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use coffer_proto::api::ClusterApiExt as _;
use coffer_proto::meta::BucketConfigKind;

use crate::cluster::Node;
use crate::http::iam::failed;
use crate::http::Signed;

/// Register the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/v1/lifecycle", web::get().to(status));
}

async fn status(node: web::Data<Arc<Node>>, _: Signed) -> HttpResponse {
    match node.cluster_config(BucketConfigKind::LifecycleWorker).await {
        Ok(doc) => {
            let value = doc
                .as_deref()
                .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
                .unwrap_or_else(|| serde_json::json!({}));
            HttpResponse::Ok().json(value)
        }
        Err(e) => failed(e),
    }
}
