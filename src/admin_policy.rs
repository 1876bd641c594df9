//! `coffer admin group ...` and `coffer admin policy ...`: IAM groups and the identity
//! policies attached to users and groups, through the admin API.

use std::path::PathBuf;

use anyhow::Context;

use crate::admin::path_part;

/// `group ...`.
#[derive(clap::Subcommand, Debug)]
pub enum GroupCommand {
    /// Create a group (ARN arn:aws:iam:::group/NAME).
    Create {
        /// Group name.
        name: String,
    },
    /// Every group.
    List,
    /// A group and its members.
    Show {
        /// Group name.
        name: String,
    },
    /// Delete a group (it must have no members and no policies).
    Delete {
        /// Group name.
        name: String,
    },
    /// Add a user to a group.
    AddUser {
        /// Group name.
        group: String,
        /// User name.
        user: String,
    },
    /// Remove a user from a group.
    RemoveUser {
        /// Group name.
        group: String,
        /// User name.
        user: String,
    },
}

/// Whose policies.
#[derive(clap::Args, Debug)]
#[group(required = true, multiple = false)]
pub struct Owner {
    /// A user's.
    #[arg(long)]
    user: Option<String>,
    /// A group's.
    #[arg(long)]
    group: Option<String>,
}

impl Owner {
    fn path(&self) -> anyhow::Result<String> {
        Ok(match (&self.user, &self.group) {
            (Some(u), _) => format!("user/{}", path_part(u)?),
            (None, Some(g)) => format!("group/{}", path_part(g)?),
            (None, None) => anyhow::bail!("name --user or --group"),
        })
    }
}

/// `policy ...`.
#[derive(clap::Subcommand, Debug)]
pub enum PolicyCommand {
    /// Attach an IAM policy document (JSON) to a user or group under a name; a policy of
    /// the same name is replaced.
    Attach {
        #[command(flatten)]
        owner: Owner,
        /// Policy name.
        name: String,
        /// The policy document (JSON file).
        file: PathBuf,
    },
    /// Detach a named policy.
    Detach {
        #[command(flatten)]
        owner: Owner,
        /// Policy name.
        name: String,
    },
    /// The policies of a user or group, with their documents.
    List {
        #[command(flatten)]
        owner: Owner,
    },
}

/// `public-access-block ...`: the cluster-wide Block Public Access settings, in force for
/// every bucket together with the bucket's own.
#[derive(clap::Subcommand, Debug)]
pub enum PublicAccessCommand {
    /// The settings.
    Get,
    /// Replace the settings: those named are on, the others off.
    Set {
        /// Refuse ACLs that grant to everyone.
        #[arg(long)]
        block_public_acls: bool,
        /// Ignore ACL grants to everyone.
        #[arg(long)]
        ignore_public_acls: bool,
        /// Refuse bucket policies that grant to everyone.
        #[arg(long)]
        block_public_policy: bool,
        /// A public bucket policy grants nothing to anonymous callers.
        #[arg(long)]
        restrict_public_buckets: bool,
    },
    /// Turn every setting off.
    Delete,
}

/// The request for a public-access-block command.
pub fn public_access_call(c: &PublicAccessCommand) -> Call {
    const PATH: &str = "/admin/v1/public-access-block";
    match c {
        PublicAccessCommand::Get => ("GET", PATH.to_owned(), None),
        PublicAccessCommand::Delete => ("DELETE", PATH.to_owned(), None),
        PublicAccessCommand::Set {
            block_public_acls,
            ignore_public_acls,
            block_public_policy,
            restrict_public_buckets,
        } => {
            let on: Vec<&str> = [
                (*block_public_acls, "block-public-acls"),
                (*ignore_public_acls, "ignore-public-acls"),
                (*block_public_policy, "block-public-policy"),
                (*restrict_public_buckets, "restrict-public-buckets"),
            ]
            .into_iter()
            .filter_map(|(set, name)| set.then_some(name))
            .collect();
            let settings = if on.is_empty() {
                "none".to_owned()
            } else {
                on.join(",")
            };
            ("PUT", format!("{PATH}/{settings}"), None)
        }
    }
}

/// A request: method, path and body.
pub type Call = (&'static str, String, Option<Vec<u8>>);

/// The request for a group command.
pub fn group_call(c: &GroupCommand) -> anyhow::Result<Call> {
    Ok(match c {
        GroupCommand::Create { name } => (
            "POST",
            format!("/admin/v1/groups/{}", path_part(name)?),
            None,
        ),
        GroupCommand::List => ("GET", "/admin/v1/groups".to_owned(), None),
        GroupCommand::Show { name } => (
            "GET",
            format!("/admin/v1/groups/{}", path_part(name)?),
            None,
        ),
        GroupCommand::Delete { name } => (
            "DELETE",
            format!("/admin/v1/groups/{}", path_part(name)?),
            None,
        ),
        GroupCommand::AddUser { group, user } | GroupCommand::RemoveUser { group, user } => {
            let method = if matches!(c, GroupCommand::AddUser { .. }) {
                "POST"
            } else {
                "DELETE"
            };
            (
                method,
                format!(
                    "/admin/v1/groups/{}/users/{}",
                    path_part(group)?,
                    path_part(user)?
                ),
                None,
            )
        }
    })
}

/// The request for a policy command (the document's SHA-256 goes into the signed path).
pub fn policy_call(c: &PolicyCommand) -> anyhow::Result<Call> {
    use sha2::Digest;
    Ok(match c {
        PolicyCommand::Attach { owner, name, file } => {
            let doc = std::fs::read(file).with_context(|| format!("read {}", file.display()))?;
            let digest = hex::encode(sha2::Sha256::digest(&doc));
            let path = format!(
                "/admin/v1/policies/{}/{}/{digest}",
                owner.path()?,
                path_part(name)?
            );
            ("PUT", path, Some(doc))
        }
        PolicyCommand::Detach { owner, name } => (
            "DELETE",
            format!("/admin/v1/policies/{}/{}", owner.path()?, path_part(name)?),
            None,
        ),
        PolicyCommand::List { owner } => {
            ("GET", format!("/admin/v1/policies/{}", owner.path()?), None)
        }
    })
}

/// Print a group or policy answer for people.
pub fn print(
    value: &serde_json::Value,
    group: Option<&GroupCommand>,
    policy: Option<&PolicyCommand>,
) {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or("?").to_owned();
    match (group, policy) {
        (Some(GroupCommand::List), _) => {
            for g in value.as_array().into_iter().flatten() {
                println!("{}  {}  {}", s(&g["name"]), s(&g["group_id"]), s(&g["arn"]));
            }
        }
        (Some(GroupCommand::Show { .. }), _) => {
            println!(
                "{}  {}  {}",
                s(&value["name"]),
                s(&value["group_id"]),
                s(&value["arn"])
            );
            for m in value["members"].as_array().into_iter().flatten() {
                println!("  member: {}", s(m));
            }
        }
        (_, Some(PolicyCommand::List { .. })) => {
            for p in value.as_array().into_iter().flatten() {
                println!("{}: {}", s(&p["name"]), s(&p["document"]));
            }
        }
        _ => println!("{value}"),
    }
}
