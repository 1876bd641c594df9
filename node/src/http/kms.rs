//! The admin API's key service (`coffer admin kms key ...`), signed like the rest of it:
//! `GET /admin/v1/kms/keys` (every key), `GET /admin/v1/kms/describe/{id}`,
//! `POST /admin/v1/kms/create/{id}` (body: an optional description) and
//! `POST /admin/v1/kms/enable|disable|rotate/{id}`. Answers describe keys, never their
//! material.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use coffer_proto::sse::KmsKey;
use serde_json::json;

use crate::cluster::Node;
use crate::http::iam::failed;
use crate::http::Signed;
use crate::kms::{self, Change};

/// Register the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/v1/kms/keys", web::get().to(list))
        .route("/admin/v1/kms/describe/{id:.+}", web::get().to(describe))
        .route("/admin/v1/kms/create/{id:.+}", web::post().to(create))
        .route("/admin/v1/kms/{change}/{id:.+}", web::post().to(change));
}

/// A key as the admin API shows it.
pub fn key_json(k: &KmsKey) -> serde_json::Value {
    json!({
        "id": k.id,
        "description": k.description,
        "created_ms": k.created_ms,
        "enabled": k.enabled,
        "generation": k.generation(),
        "rotated_ms": k.material.last().map_or(k.created_ms, |m| m.created_ms),
    })
}

async fn list(node: web::Data<Arc<Node>>, _: Signed) -> HttpResponse {
    match kms::list(&node).await {
        Ok(keys) => HttpResponse::Ok().json(keys.iter().map(key_json).collect::<Vec<_>>()),
        Err(e) => failed(e),
    }
}

async fn describe(node: web::Data<Arc<Node>>, _: Signed, id: web::Path<String>) -> HttpResponse {
    match kms::get(&node, &id).await {
        Ok(Some(k)) => HttpResponse::Ok().json(key_json(&k)),
        Ok(None) => HttpResponse::NotFound().body(format!("Key '{id}' does not exist\n")),
        Err(e) => failed(e),
    }
}

async fn create(
    node: web::Data<Arc<Node>>,
    _: Signed,
    id: web::Path<String>,
    description: web::Bytes,
) -> HttpResponse {
    let description = String::from_utf8_lossy(&description);
    match kms::create(&node, &id, description.trim()).await {
        Ok(k) => HttpResponse::Ok().json(key_json(&k)),
        Err(e) => failed(e),
    }
}

async fn change(
    node: web::Data<Arc<Node>>,
    _: Signed,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (change, id) = path.into_inner();
    let change = match change.as_str() {
        "enable" => Change::Enable,
        "disable" => Change::Disable,
        "rotate" => Change::Rotate,
        _ => return HttpResponse::NotFound().body("enable, disable or rotate\n"),
    };
    match kms::change(&node, &id, change).await {
        Ok(k) => HttpResponse::Ok().json(key_json(&k)),
        Err(e) => failed(e),
    }
}
