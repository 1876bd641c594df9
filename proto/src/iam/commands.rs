//! The IAM changes, built in one place for both front ends that make them: the IAM query API
//! on the S3 endpoint (`coffer-gateway`'s `iam::actions`) and the node's admin API
//! (`coffer admin user|key|group|policy`). Each function makes the record and the
//! [`MetaCommand`] that stores it; names and documents are checked here, so both front ends
//! accept and refuse the same things.

use super::{
    new_access_key, random_id, valid_policy_name, GroupRecord, KeyRecord, PolicyOwner, UserRecord,
};
use crate::meta::MetaCommand;
use crate::policy::{Policy, PolicyKind};
use crate::seal::MasterKey;

/// Now, in milliseconds since the epoch (IAM records' creation times).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Why a policy change is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyRefused {
    /// The name is not 1 to 128 of `A-Za-z0-9+=,.@_-` (IAM's ValidationError).
    InvalidName(String),
    /// The document is not a valid identity policy (IAM's MalformedPolicyDocument).
    MalformedDocument(String),
}

impl std::fmt::Display for PolicyRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyRefused::InvalidName(n) => {
                write!(f, "policy name {n:?} must be 1 to 128 of A-Za-z0-9+=,.@_-")
            }
            PolicyRefused::MalformedDocument(why) => write!(f, "{why}"),
        }
    }
}

/// A new user named `name`.
pub fn create_user(name: &str) -> (UserRecord, MetaCommand) {
    let user = UserRecord {
        name: name.to_owned(),
        user_id: random_id("AIDA", 21),
        created_ms: now_ms(),
    };
    (user.clone(), MetaCommand::CreateUser(user))
}

/// Delete user `name`.
pub fn delete_user(name: &str) -> MetaCommand {
    MetaCommand::DeleteUser {
        name: name.to_owned(),
    }
}

/// A new active access key of `user`, its secret sealed under `master`: the record, the
/// secret (to show once), and the command.
pub fn create_access_key(master: &MasterKey, user: &str) -> (KeyRecord, String, MetaCommand) {
    let (key, secret) = new_access_key(master, user, now_ms());
    (key.clone(), secret, MetaCommand::CreateAccessKey(key))
}

/// Activate or deactivate access key `id`.
pub fn set_access_key_active(id: &str, active: bool) -> MetaCommand {
    MetaCommand::UpdateAccessKey {
        access_key_id: id.to_owned(),
        active,
    }
}

/// Delete access key `id`.
pub fn delete_access_key(id: &str) -> MetaCommand {
    MetaCommand::DeleteAccessKey {
        access_key_id: id.to_owned(),
    }
}

/// A new group named `name`.
pub fn create_group(name: &str) -> (GroupRecord, MetaCommand) {
    let group = GroupRecord {
        name: name.to_owned(),
        group_id: random_id("AGPA", 21),
        created_ms: now_ms(),
    };
    (group.clone(), MetaCommand::CreateGroup(group))
}

/// Delete group `name`.
pub fn delete_group(name: &str) -> MetaCommand {
    MetaCommand::DeleteGroup {
        name: name.to_owned(),
    }
}

/// Add `user` to `group` (`member`), or remove them.
pub fn set_group_member(group: &str, user: &str, member: bool) -> MetaCommand {
    MetaCommand::SetGroupMember {
        group: group.to_owned(),
        user: user.to_owned(),
        member,
    }
}

/// Attach inline policy `name` with `document` to `owner` (replacing one of that name).
pub fn put_identity_policy(
    owner: PolicyOwner,
    name: &str,
    document: &str,
) -> Result<MetaCommand, PolicyRefused> {
    if !valid_policy_name(name) {
        return Err(PolicyRefused::InvalidName(name.to_owned()));
    }
    Policy::parse(document, &PolicyKind::Identity)
        .map_err(|e| PolicyRefused::MalformedDocument(e.0))?;
    Ok(MetaCommand::SetIdentityPolicy {
        owner,
        name: name.to_owned(),
        document: Some(document.to_owned()),
    })
}

/// Remove inline policy `name` from `owner`.
pub fn delete_identity_policy(owner: PolicyOwner, name: &str) -> MetaCommand {
    MetaCommand::SetIdentityPolicy {
        owner,
        name: name.to_owned(),
        document: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_commands_agree() {
        let (u, cmd) = create_user("alice");
        assert!(u.user_id.starts_with("AIDA") && u.user_id.len() == 21);
        assert!(u.created_ms > 0);
        assert_eq!(cmd, MetaCommand::CreateUser(u));
        let (g, cmd) = create_group("ops");
        assert!(g.group_id.starts_with("AGPA"));
        assert_eq!(cmd, MetaCommand::CreateGroup(g));
        let master = MasterKey::derive(b"cluster secret");
        let (k, secret, cmd) = create_access_key(&master, "alice");
        assert_eq!(secret.len(), 40);
        assert!(k.active && k.user == "alice");
        assert_eq!(
            master.open(&k.sealed_secret, k.access_key_id.as_bytes()),
            Some(secret.into_bytes())
        );
        assert_eq!(cmd, MetaCommand::CreateAccessKey(k));
    }

    #[test]
    fn policies_are_checked_once_for_both_front_ends() {
        let owner = || PolicyOwner::User("alice".into());
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        assert!(matches!(
            put_identity_policy(owner(), "read", doc),
            Ok(MetaCommand::SetIdentityPolicy {
                document: Some(_),
                ..
            })
        ));
        assert_eq!(
            put_identity_policy(owner(), "bad name", doc),
            Err(PolicyRefused::InvalidName("bad name".into()))
        );
        assert!(matches!(
            put_identity_policy(owner(), "read", "{"),
            Err(PolicyRefused::MalformedDocument(_))
        ));
        assert_eq!(
            delete_identity_policy(owner(), "read"),
            MetaCommand::SetIdentityPolicy {
                owner: owner(),
                name: "read".into(),
                document: None
            }
        );
    }
}
