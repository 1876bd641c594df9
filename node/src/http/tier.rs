//! The admin API's tiers (`coffer admin tier ...`), signed like the rest of it:
//! `GET /admin/v1/tiers` (the tiers, their pools' nodes and the class mapping),
//! `POST /admin/v1/tiers` (JSON of [`AddTier`]), `DELETE /admin/v1/tiers/{name}`,
//! `PUT /admin/v1/tiers/classes/{class}/{tier}` and `DELETE /admin/v1/tiers/classes/{class}`
//! (back to the default pool). Answers never include a remote tier's secret, sealed or not.

use std::sync::Arc;

use actix_web::{web, HttpResponse};

use crate::cluster::Node;
use crate::http::iam::failed;
use crate::http::Signed;
use crate::tier::{self, AddTier};

/// Register the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/v1/tiers", web::get().to(list))
        .route("/admin/v1/tiers", web::post().to(add))
        .route("/admin/v1/tiers/classes/{class}/{tier}", web::put().to(map))
        .route("/admin/v1/tiers/classes/{class}", web::delete().to(unmap))
        .route("/admin/v1/tiers/{name}", web::delete().to(remove));
}

fn answer(
    node: &Node,
    out: Result<coffer_proto::tier::Tiers, coffer_proto::ProtoError>,
) -> HttpResponse {
    match out {
        Ok(t) => HttpResponse::Ok().json(tier::describe(node, &t)),
        Err(e) => failed(e),
    }
}

async fn list(node: web::Data<Arc<Node>>, _: Signed) -> HttpResponse {
    answer(&node, tier::get(&node).await)
}

async fn add(node: web::Data<Arc<Node>>, _: Signed, body: web::Bytes) -> HttpResponse {
    match serde_json::from_slice::<AddTier>(&body) {
        Ok(req) => answer(&node, tier::add(&node, &req).await),
        Err(e) => HttpResponse::BadRequest().body(format!("not a tier: {e}\n")),
    }
}

async fn remove(node: web::Data<Arc<Node>>, _: Signed, name: web::Path<String>) -> HttpResponse {
    answer(&node, tier::remove(&node, &name).await)
}

async fn map(
    node: web::Data<Arc<Node>>,
    _: Signed,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (class, t) = path.into_inner();
    answer(&node, tier::map_class(&node, &class, Some(&t)).await)
}

async fn unmap(node: web::Data<Arc<Node>>, _: Signed, class: web::Path<String>) -> HttpResponse {
    answer(&node, tier::map_class(&node, &class, None).await)
}
