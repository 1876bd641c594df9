//! The admin API's users and access keys (`coffer admin user|key ...`), signed like the rest of
//! it: `GET|POST|DELETE /admin/v1/users[/{name}]`, `GET|POST /admin/v1/users/{name}/keys`,
//! `POST /admin/v1/keys/{id}/enable|disable` and `DELETE /admin/v1/keys/{id}`. A new key's
//! secret is made here, sealed under the cluster master key before it goes into the metadata,
//! and shown in the answer once.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use coffer_proto::api::ClusterApiExt as _;
use coffer_proto::iam::{commands, UserRecord};
use coffer_proto::meta::MetaCommand;
use coffer_proto::seal::MasterKey;
use coffer_proto::{ClusterApi as _, ProtoError};
use serde_json::json;

use crate::cluster::Node;
use crate::http::Signed;

/// Register the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/v1/users", web::get().to(list_users))
        .route("/admin/v1/users/{name}", web::post().to(create_user))
        .route("/admin/v1/users/{name}", web::delete().to(delete_user))
        .route("/admin/v1/users/{name}/keys", web::get().to(list_keys))
        .route("/admin/v1/users/{name}/keys", web::post().to(create_key))
        .route("/admin/v1/keys/{id}/{state}", web::post().to(set_key_state))
        .route("/admin/v1/keys/{id}", web::delete().to(delete_key));
}

/// The HTTP answer for a failed IAM command.
pub(crate) fn failed(e: ProtoError) -> HttpResponse {
    let body = format!("{e}\n");
    match e {
        ProtoError::NoSuchEntity(_) => HttpResponse::NotFound().body(body),
        ProtoError::EntityAlreadyExists(_)
        | ProtoError::LimitExceeded(_)
        | ProtoError::DeleteConflict(_) => HttpResponse::Conflict().body(body),
        ProtoError::ValidationError(_) => HttpResponse::BadRequest().body(body),
        _ => HttpResponse::ServiceUnavailable().body(body),
    }
}

pub(crate) async fn write(node: &Node, cmd: MetaCommand, ok: serde_json::Value) -> HttpResponse {
    match node.meta_write(cmd).await {
        Ok(_) => HttpResponse::Ok().json(ok),
        Err(e) => failed(e),
    }
}

fn user_json(u: &UserRecord) -> serde_json::Value {
    json!({ "name": u.name, "user_id": u.user_id, "arn": u.arn(), "created_ms": u.created_ms })
}

async fn list_users(node: web::Data<Arc<Node>>, _: Signed) -> HttpResponse {
    match node.users().await {
        Ok(users) => HttpResponse::Ok().json(users.iter().map(user_json).collect::<Vec<_>>()),
        Err(e) => failed(e),
    }
}

async fn create_user(
    node: web::Data<Arc<Node>>,
    _: Signed,
    name: web::Path<String>,
) -> HttpResponse {
    let (user, cmd) = commands::create_user(&name);
    write(&node, cmd, user_json(&user)).await
}

async fn delete_user(
    node: web::Data<Arc<Node>>,
    _: Signed,
    name: web::Path<String>,
) -> HttpResponse {
    let ok = json!({ "deleted": *name });
    write(&node, commands::delete_user(&name), ok).await
}

async fn list_keys(node: web::Data<Arc<Node>>, _: Signed, name: web::Path<String>) -> HttpResponse {
    let user = name.into_inner();
    match node.user(&user).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return failed(ProtoError::NoSuchEntity(format!(
                "The user with name {user} cannot be found."
            )))
        }
        Err(e) => return failed(e),
    }
    match node.access_keys(&user).await {
        Ok(keys) => HttpResponse::Ok().json(
            keys.iter()
                .map(|k| {
                    json!({
                        "access_key_id": k.access_key_id,
                        "user": k.user,
                        "status": if k.active { "Active" } else { "Inactive" },
                        "created_ms": k.created_ms,
                    })
                })
                .collect::<Vec<_>>(),
        ),
        Err(e) => failed(e),
    }
}

async fn create_key(
    node: web::Data<Arc<Node>>,
    _: Signed,
    name: web::Path<String>,
) -> HttpResponse {
    let user = name.into_inner();
    let master = MasterKey::derive(&node.config.secret);
    let (key, secret, cmd) = commands::create_access_key(&master, &user);
    let ok = json!({
        "access_key_id": key.access_key_id,
        "secret_access_key": secret,
        "user": user,
        "status": "Active",
    });
    write(&node, cmd, ok).await
}

async fn set_key(node: &Node, id: String, active: bool) -> HttpResponse {
    let ok = json!({ "access_key_id": id, "status": if active { "Active" } else { "Inactive" } });
    write(node, commands::set_access_key_active(&id, active), ok).await
}

/// `POST /admin/v1/keys/{id}/enable` or `.../disable`.
async fn set_key_state(
    node: web::Data<Arc<Node>>,
    _: Signed,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (id, state) = path.into_inner();
    let active = match state.as_str() {
        "enable" => true,
        "disable" => false,
        _ => return HttpResponse::NotFound().body("enable or disable\n"),
    };
    set_key(&node, id, active).await
}

async fn delete_key(node: web::Data<Arc<Node>>, _: Signed, id: web::Path<String>) -> HttpResponse {
    let ok = json!({ "deleted": *id });
    write(&node, commands::delete_access_key(&id), ok).await
}
