//! The admin API's groups and identity policies (`coffer admin group|policy ...`), signed like
//! the rest of it:
//! `GET /admin/v1/groups`, `GET|POST|DELETE /admin/v1/groups/{name}`,
//! `POST|DELETE /admin/v1/groups/{name}/users/{user}`,
//! `GET /admin/v1/policies/{user|group}/{name}` and
//! `PUT|DELETE /admin/v1/policies/{user|group}/{name}/{policy}[/{sha256}]`. A PUT's body is the
//! policy document; its SHA-256 is the last path segment, so the signature covers it.
//! Also the cluster-wide Block Public Access settings: `GET|DELETE
//! /admin/v1/public-access-block` and `PUT /admin/v1/public-access-block/{settings}`, where
//! settings is a comma-separated list of `block-public-acls`, `ignore-public-acls`,
//! `block-public-policy`, `restrict-public-buckets`, or `none`.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use coffer_proto::api::ClusterApiExt as _;
use coffer_proto::iam::commands::{self, PolicyRefused};
use coffer_proto::iam::{GroupRecord, PolicyOwner};
use coffer_proto::meta::{BucketConfigKind, MetaCommand};
use coffer_proto::types::PublicAccessBlock;
use coffer_proto::ProtoError;
use serde_json::json;

use super::iam::{failed, write};
use crate::cluster::Node;
use crate::http::Signed;

/// Register the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/v1/groups", web::get().to(list_groups))
        .route("/admin/v1/groups/{name}", web::get().to(show_group))
        .route("/admin/v1/groups/{name}", web::post().to(create_group))
        .route("/admin/v1/groups/{name}", web::delete().to(delete_group))
        .route(
            "/admin/v1/groups/{name}/users/{user}",
            web::post().to(add_member),
        )
        .route(
            "/admin/v1/groups/{name}/users/{user}",
            web::delete().to(remove_member),
        )
        .route(
            "/admin/v1/public-access-block",
            web::get().to(get_public_access),
        )
        .route(
            "/admin/v1/public-access-block",
            web::delete().to(delete_public_access),
        )
        .route(
            "/admin/v1/public-access-block/{settings}",
            web::put().to(put_public_access),
        )
        .route(
            "/admin/v1/policies/{kind}/{name}",
            web::get().to(list_policies),
        )
        .route(
            "/admin/v1/policies/{kind}/{name}/{policy}/{sha256}",
            web::put().to(put_policy),
        )
        .route(
            "/admin/v1/policies/{kind}/{name}/{policy}",
            web::delete().to(delete_policy),
        );
}

fn group_json(g: &GroupRecord) -> serde_json::Value {
    json!({ "name": g.name, "group_id": g.group_id, "arn": g.arn(), "created_ms": g.created_ms })
}

async fn list_groups(node: web::Data<Arc<Node>>, _: Signed) -> HttpResponse {
    match node.groups().await {
        Ok(g) => HttpResponse::Ok().json(g.iter().map(group_json).collect::<Vec<_>>()),
        Err(e) => failed(e),
    }
}

async fn show_group(
    node: web::Data<Arc<Node>>,
    _: Signed,
    name: web::Path<String>,
) -> HttpResponse {
    let name = name.into_inner();
    match node.group(&name).await {
        Ok(Some((g, members))) => {
            let mut v = group_json(&g);
            v["members"] = json!(members);
            HttpResponse::Ok().json(v)
        }
        Ok(None) => failed(ProtoError::NoSuchEntity(format!(
            "The group with name {name} cannot be found."
        ))),
        Err(e) => failed(e),
    }
}

async fn create_group(
    node: web::Data<Arc<Node>>,
    _: Signed,
    name: web::Path<String>,
) -> HttpResponse {
    let (g, cmd) = commands::create_group(&name);
    write(&node, cmd, group_json(&g)).await
}

async fn delete_group(
    node: web::Data<Arc<Node>>,
    _: Signed,
    name: web::Path<String>,
) -> HttpResponse {
    let ok = json!({ "deleted": *name });
    write(&node, commands::delete_group(&name), ok).await
}

async fn member(node: &Node, path: (String, String), member: bool) -> HttpResponse {
    let (group, user) = path;
    let ok = json!({ "group": group, "user": user, "member": member });
    write(node, commands::set_group_member(&group, &user, member), ok).await
}

async fn add_member(
    node: web::Data<Arc<Node>>,
    _: Signed,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    member(&node, path.into_inner(), true).await
}

async fn remove_member(
    node: web::Data<Arc<Node>>,
    _: Signed,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    member(&node, path.into_inner(), false).await
}

fn owner(kind: &str, name: String) -> Option<PolicyOwner> {
    match kind {
        "user" => Some(PolicyOwner::User(name)),
        "group" => Some(PolicyOwner::Group(name)),
        _ => None,
    }
}

fn no_owner() -> HttpResponse {
    HttpResponse::NotFound().body("policies belong to a user or a group\n")
}

async fn list_policies(
    node: web::Data<Arc<Node>>,
    _: Signed,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (kind, name) = path.into_inner();
    let Some(owner) = owner(&kind, name) else {
        return no_owner();
    };
    match node.identity_policies(owner).await {
        Ok(list) => HttpResponse::Ok().json(
            list.iter()
                .map(|(name, doc)| json!({ "name": name, "document": doc }))
                .collect::<Vec<_>>(),
        ),
        Err(e) => failed(e),
    }
}

async fn put_policy(
    node: web::Data<Arc<Node>>,
    _: Signed,
    path: web::Path<(String, String, String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    use sha2::Digest;
    let (kind, name, policy, digest) = path.into_inner();
    if hex::encode(sha2::Sha256::digest(&body)) != digest.to_ascii_lowercase() {
        return HttpResponse::BadRequest().body("the body's SHA-256 differs from the signed one\n");
    }
    let Some(owner) = owner(&kind, name) else {
        return no_owner();
    };
    let Ok(doc) = String::from_utf8(body.to_vec()) else {
        return HttpResponse::BadRequest().body("MalformedPolicyDocument: not UTF-8\n");
    };
    let cmd = match commands::put_identity_policy(owner, &policy, &doc) {
        Ok(cmd) => cmd,
        Err(e @ PolicyRefused::InvalidName(_)) => {
            return failed(ProtoError::ValidationError(e.to_string()))
        }
        Err(PolicyRefused::MalformedDocument(why)) => {
            return HttpResponse::BadRequest().body(format!("MalformedPolicyDocument: {why}\n"))
        }
    };
    let ok = json!({ "policy": policy, "attached": true });
    write(&node, cmd, ok).await
}

async fn delete_policy(
    node: web::Data<Arc<Node>>,
    _: Signed,
    path: web::Path<(String, String, String)>,
) -> HttpResponse {
    let (kind, name, policy) = path.into_inner();
    let Some(owner) = owner(&kind, name) else {
        return no_owner();
    };
    let ok = json!({ "policy": policy, "attached": false });
    write(&node, commands::delete_identity_policy(owner, &policy), ok).await
}

fn public_access_json(p: &PublicAccessBlock) -> serde_json::Value {
    json!({
        "block_public_acls": p.block_public_acls,
        "ignore_public_acls": p.ignore_public_acls,
        "block_public_policy": p.block_public_policy,
        "restrict_public_buckets": p.restrict_public_buckets,
    })
}

async fn get_public_access(node: web::Data<Arc<Node>>, _: Signed) -> HttpResponse {
    match node
        .cluster_config(BucketConfigKind::PublicAccessBlock)
        .await
    {
        Ok(doc) => HttpResponse::Ok().json(public_access_json(&PublicAccessBlock::decode(
            doc.as_deref(),
        ))),
        Err(e) => failed(e),
    }
}

async fn put_public_access(
    node: web::Data<Arc<Node>>,
    _: Signed,
    settings: web::Path<String>,
) -> HttpResponse {
    let mut p = PublicAccessBlock::default();
    for s in settings.split(',').filter(|s| *s != "none") {
        match s {
            "block-public-acls" => p.block_public_acls = true,
            "ignore-public-acls" => p.ignore_public_acls = true,
            "block-public-policy" => p.block_public_policy = true,
            "restrict-public-buckets" => p.restrict_public_buckets = true,
            other => {
                return failed(ProtoError::ValidationError(format!(
                    "unknown Block Public Access setting {other:?}"
                )))
            }
        }
    }
    let cmd = MetaCommand::SetClusterConfig {
        kind: BucketConfigKind::PublicAccessBlock,
        value: Some(p.encode()),
    };
    write(&node, cmd, public_access_json(&p)).await
}

async fn delete_public_access(node: web::Data<Arc<Node>>, _: Signed) -> HttpResponse {
    let cmd = MetaCommand::SetClusterConfig {
        kind: BucketConfigKind::PublicAccessBlock,
        value: None,
    };
    write(
        &node,
        cmd,
        public_access_json(&PublicAccessBlock::default()),
    )
    .await
}
