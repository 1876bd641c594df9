//! The IAM actions: users, access keys, groups and their inline policies, each authorized as
//! `iam:<Action>` on the user's or group's ARN, then carried out as metadata commands.

use std::sync::Arc;

use actix_web::HttpResponse;
use coffer_proto::api::ClusterApiExt;
use coffer_proto::iam::commands::{self, PolicyRefused};
use coffer_proto::iam::{valid_policy_name, GroupRecord, KeyRecord, PolicyOwner, UserRecord};
use coffer_proto::meta::MetaCommand;
use coffer_proto::policy::Caller;
use coffer_proto::seal::MasterKey;
use coffer_proto::ClusterApi;

use super::{ok, IamError, Params};
use crate::authz::Authz;
use crate::s3::xml::XmlWriter;

/// What an IAM action runs with.
pub struct IamCtx<'a> {
    /// The cluster.
    pub cluster: &'a Arc<dyn ClusterApi>,
    /// The key that seals new secrets.
    pub master: Option<&'a MasterKey>,
    /// The caller's authorization.
    pub authz: &'a Authz,
    /// The request id.
    pub request_id: &'a str,
}

type IamResult = Result<HttpResponse, IamError>;

fn iso(ms: u64) -> String {
    let ms = i64::try_from(ms).unwrap_or(i64::MAX);
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn user_xml(x: &mut XmlWriter, u: &UserRecord) {
    x.elem("Path", "/");
    x.elem("UserName", &u.name);
    x.elem("UserId", &u.user_id);
    x.elem("Arn", &u.arn());
    x.elem("CreateDate", &iso(u.created_ms));
}

fn group_xml(x: &mut XmlWriter, g: &GroupRecord) {
    x.elem("Path", "/");
    x.elem("GroupName", &g.name);
    x.elem("GroupId", &g.group_id);
    x.elem("Arn", &g.arn());
    x.elem("CreateDate", &iso(g.created_ms));
}

fn members(x: &mut XmlWriter, tag: &str, items: &[impl Fn(&mut XmlWriter)]) {
    x.open(tag);
    for write in items {
        x.open("member");
        write(x);
        x.close("member");
    }
    x.close(tag);
    x.elem("IsTruncated", "false");
}

impl IamCtx<'_> {
    async fn write(&self, cmd: MetaCommand) -> Result<(), IamError> {
        self.cluster.meta_write(cmd).await?;
        Ok(())
    }

    fn done(&self, action: &str) -> IamResult {
        Ok(ok(action, self.request_id, None))
    }

    fn result(&self, action: &str, write: &dyn Fn(&mut XmlWriter)) -> IamResult {
        Ok(ok(action, self.request_id, Some(write)))
    }

    /// `UserName`, or the caller's own name when it is a user and gives none.
    fn user_name<'p>(&'p self, p: &'p Params) -> Result<&'p str, IamError> {
        match (p.get("UserName"), &self.authz.caller) {
            (Some(u), _) if !u.is_empty() => Ok(u),
            (_, Caller::User { name, .. }) => Ok(name),
            _ => p.required("UserName"),
        }
    }

    async fn user(&self, name: &str) -> Result<UserRecord, IamError> {
        match self.cluster.user(name).await? {
            Some(u) => Ok(u),
            None => Err(IamError::new(
                "NoSuchEntity",
                404,
                format!("The user with name {name} cannot be found."),
            )),
        }
    }

    async fn key(&self, id: &str) -> Result<KeyRecord, IamError> {
        match self.cluster.access_key(id).await? {
            Some(k) => Ok(k),
            None => Err(IamError::new(
                "NoSuchEntity",
                404,
                format!("The Access Key with id {id} cannot be found."),
            )),
        }
    }

    async fn policies(&self, owner: PolicyOwner) -> Result<Vec<(String, String)>, IamError> {
        Ok(self.cluster.identity_policies(owner).await?)
    }
}

/// The ARN an action applies to.
fn resource(action: &str, p: &Params, ctx: &IamCtx<'_>) -> String {
    if let Some(g) = p.get("GroupName") {
        return format!("arn:aws:iam:::group/{g}");
    }
    match (action, ctx.user_name(p)) {
        ("ListUsers" | "ListGroups", _) => "*".to_owned(),
        (_, Ok(u)) => format!("arn:aws:iam:::user/{u}"),
        (_, Err(_)) => "*".to_owned(),
    }
}

/// Run the action the form names.
pub async fn run(ctx: &IamCtx<'_>, p: &Params) -> IamResult {
    let action = p.required("Action")?;
    if !ctx
        .authz
        .allows(&format!("iam:{action}"), &resource(action, p, ctx), false)
    {
        return Err(IamError::new(
            "AccessDenied",
            403,
            format!("User is not authorized to perform: iam:{action}"),
        ));
    }
    match action {
        "CreateUser" | "GetUser" | "DeleteUser" | "ListUsers" => users(ctx, action, p).await,
        "CreateAccessKey" | "DeleteAccessKey" | "UpdateAccessKey" | "ListAccessKeys" => {
            keys(ctx, action, p).await
        }
        "CreateGroup"
        | "GetGroup"
        | "DeleteGroup"
        | "ListGroups"
        | "ListGroupsForUser"
        | "AddUserToGroup"
        | "RemoveUserFromGroup" => groups(ctx, action, p).await,
        "PutUserPolicy" | "GetUserPolicy" | "DeleteUserPolicy" | "ListUserPolicies"
        | "PutGroupPolicy" | "GetGroupPolicy" | "DeleteGroupPolicy" | "ListGroupPolicies" => {
            policies(ctx, action, p).await
        }
        _ => Err(IamError::new(
            "InvalidAction",
            400,
            format!("Could not find operation {action} for version 2010-05-08"),
        )),
    }
}

async fn users(ctx: &IamCtx<'_>, action: &str, p: &Params) -> IamResult {
    match action {
        "CreateUser" => {
            let (u, cmd) = commands::create_user(p.required("UserName")?);
            ctx.write(cmd).await?;
            ctx.result(action, &|x| {
                x.open("User");
                user_xml(x, &u);
                x.close("User");
            })
        }
        "GetUser" => {
            let u = ctx.user(ctx.user_name(p)?).await?;
            ctx.result(action, &|x| {
                x.open("User");
                user_xml(x, &u);
                x.close("User");
            })
        }
        "DeleteUser" => {
            ctx.write(commands::delete_user(p.required("UserName")?))
                .await?;
            ctx.done(action)
        }
        _ => {
            let users = ctx.cluster.users().await?;
            let items: Vec<_> = users
                .iter()
                .map(|u| move |x: &mut XmlWriter| user_xml(x, u))
                .collect();
            ctx.result(action, &|x| members(x, "Users", &items))
        }
    }
}

fn key_xml(x: &mut XmlWriter, k: &KeyRecord) {
    x.elem("UserName", &k.user);
    x.elem("AccessKeyId", &k.access_key_id);
    x.elem("Status", if k.active { "Active" } else { "Inactive" });
}

async fn keys(ctx: &IamCtx<'_>, action: &str, p: &Params) -> IamResult {
    match action {
        "CreateAccessKey" => {
            let user = ctx.user_name(p)?.to_owned();
            let Some(master) = ctx.master else {
                return Err(IamError::new(
                    "ServiceFailure",
                    500,
                    "This gateway has no master key.",
                ));
            };
            let (key, secret, cmd) = commands::create_access_key(master, &user);
            ctx.write(cmd).await?;
            ctx.result(action, &|x| {
                x.open("AccessKey");
                key_xml(x, &key);
                x.elem("SecretAccessKey", &secret);
                x.elem("CreateDate", &iso(key.created_ms));
                x.close("AccessKey");
            })
        }
        "DeleteAccessKey" | "UpdateAccessKey" => {
            let id = p.required("AccessKeyId")?;
            let key = ctx.key(id).await?;
            if key.user != ctx.user_name(p)? {
                return Err(IamError::new(
                    "NoSuchEntity",
                    404,
                    format!("The Access Key with id {id} cannot be found."),
                ));
            }
            if action == "DeleteAccessKey" {
                ctx.write(commands::delete_access_key(id)).await?;
            } else {
                let active = match p.required("Status")? {
                    "Active" => true,
                    "Inactive" => false,
                    s => {
                        return Err(IamError::invalid(format!(
                            "Status {s} must be Active or Inactive"
                        )))
                    }
                };
                ctx.write(commands::set_access_key_active(id, active))
                    .await?;
            }
            ctx.done(action)
        }
        _ => {
            let user = ctx.user_name(p)?.to_owned();
            ctx.user(&user).await?;
            let keys = ctx.cluster.access_keys(&user).await?;
            let items: Vec<_> = keys
                .iter()
                .map(|k| {
                    move |x: &mut XmlWriter| {
                        key_xml(x, k);
                        x.elem("CreateDate", &iso(k.created_ms));
                    }
                })
                .collect();
            ctx.result(action, &|x| members(x, "AccessKeyMetadata", &items))
        }
    }
}

async fn groups(ctx: &IamCtx<'_>, action: &str, p: &Params) -> IamResult {
    let group_list = |groups: Vec<GroupRecord>| {
        move |x: &mut XmlWriter| {
            let items: Vec<_> = groups
                .iter()
                .map(|g| move |x: &mut XmlWriter| group_xml(x, g))
                .collect();
            members(x, "Groups", &items);
        }
    };
    match action {
        "CreateGroup" => {
            let (g, cmd) = commands::create_group(p.required("GroupName")?);
            ctx.write(cmd).await?;
            ctx.result(action, &|x| {
                x.open("Group");
                group_xml(x, &g);
                x.close("Group");
            })
        }
        "GetGroup" => {
            let name = p.required("GroupName")?;
            let Some((g, names)) = ctx.cluster.group(name).await? else {
                return Err(IamError::new(
                    "NoSuchEntity",
                    404,
                    format!("The group with name {name} cannot be found."),
                ));
            };
            let mut users = Vec::new();
            for n in &names {
                users.push(ctx.user(n).await?);
            }
            let items: Vec<_> = users
                .iter()
                .map(|u| move |x: &mut XmlWriter| user_xml(x, u))
                .collect();
            ctx.result(action, &|x| {
                x.open("Group");
                group_xml(x, &g);
                x.close("Group");
                members(x, "Users", &items);
            })
        }
        "DeleteGroup" => {
            ctx.write(commands::delete_group(p.required("GroupName")?))
                .await?;
            ctx.done(action)
        }
        "ListGroups" => {
            let list = ctx.cluster.groups().await?;
            ctx.result(action, &group_list(list))
        }
        "ListGroupsForUser" => {
            let user = p.required("UserName")?;
            ctx.user(user).await?;
            let list = ctx.cluster.groups_of_user(user).await?;
            ctx.result(action, &group_list(list))
        }
        _ => {
            let (group, user) = (p.required("GroupName")?, p.required("UserName")?);
            let cmd = commands::set_group_member(group, user, action == "AddUserToGroup");
            ctx.write(cmd).await?;
            ctx.done(action)
        }
    }
}

/// A policy document as IAM returns it: URL-encoded (RFC 3986).
fn url_encoded(doc: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(doc, UNRESERVED).to_string()
}

async fn policies(ctx: &IamCtx<'_>, action: &str, p: &Params) -> IamResult {
    let (owner, owner_tag, owner_name) = if action.contains("Group") {
        let g = p.required("GroupName")?;
        (PolicyOwner::Group(g.to_owned()), "GroupName", g)
    } else {
        let u = ctx.user_name(p)?;
        (PolicyOwner::User(u.to_owned()), "UserName", u)
    };
    if action.starts_with("List") {
        let names: Vec<String> = ctx
            .policies(owner)
            .await?
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let items: Vec<_> = names
            .iter()
            .map(|n| move |x: &mut XmlWriter| x.finish_text(n))
            .collect();
        return ctx.result(action, &|x| members(x, "PolicyNames", &items));
    }
    let name = p.required("PolicyName")?;
    if !valid_policy_name(name) {
        return Err(IamError::invalid(
            "The specified value for policyName is invalid. It must contain only alphanumeric \
             characters and/or the following: +=,.@_-",
        ));
    }
    if action.starts_with("Get") {
        let list = ctx.policies(owner).await?;
        let Some((_, doc)) = list.into_iter().find(|(n, _)| n == name) else {
            return Err(IamError::new(
                "NoSuchEntity",
                404,
                format!(
                    "The {} policy with name {name} cannot be found.",
                    owner_tag.trim_end_matches("Name").to_lowercase()
                ),
            ));
        };
        return ctx.result(action, &|x| {
            x.elem(owner_tag, owner_name);
            x.elem("PolicyName", name);
            x.elem("PolicyDocument", &url_encoded(&doc));
        });
    }
    let cmd = if action.starts_with("Put") {
        let doc = p.required("PolicyDocument")?;
        commands::put_identity_policy(owner, name, doc).map_err(|e| match e {
            PolicyRefused::MalformedDocument(why) => {
                IamError::new("MalformedPolicyDocument", 400, why)
            }
            PolicyRefused::InvalidName(_) => IamError::invalid(e.to_string()),
        })?
    } else {
        commands::delete_identity_policy(owner, name)
    };
    ctx.write(cmd).await?;
    ctx.done(action)
}
