//! IAM users and access keys in the state machine: the commands' preconditions and writes,
//! and the queries. Secrets arrive sealed ([`coffer_proto::seal`]) and stay so.

use crate::meta::store::Batch;
use coffer_proto::iam::{KeyRecord, UserRecord, MAX_KEYS_PER_USER};
use coffer_proto::meta::{MetaCommand, MetaOk};
use coffer_proto::ProtoError;

use super::format::encode;
use super::store::{MetaStore, StoreError, CF_KEYS, CF_USERS};

fn key_key(id: &str) -> Vec<u8> {
    let mut k = vec![b'k'];
    k.extend_from_slice(id.as_bytes());
    k
}

fn user_keys_prefix(user: &str) -> Vec<u8> {
    let mut k = vec![b'u'];
    k.extend_from_slice(user.as_bytes());
    k.push(0);
    k
}

fn user_key_key(user: &str, id: &str) -> Vec<u8> {
    let mut k = user_keys_prefix(user);
    k.extend_from_slice(id.as_bytes());
    k
}

/// A user's access keys.
pub fn user_keys(store: &MetaStore, user: &str) -> Result<Vec<KeyRecord>, StoreError> {
    let mut out = Vec::new();
    for (k, ()) in store.scan_prefix::<()>(CF_KEYS, &user_keys_prefix(user), usize::MAX)? {
        let id = String::from_utf8_lossy(k.get(user_keys_prefix(user).len()..).unwrap_or(&[]))
            .into_owned();
        if let Some(rec) = key(store, &id)? {
            out.push(rec);
        }
    }
    Ok(out)
}

/// Apply an IAM command; `None` for any other command.
pub fn apply(
    store: &MetaStore,
    batch: &mut Batch,
    cmd: &MetaCommand,
) -> Result<Option<Result<MetaOk, ProtoError>>, StoreError> {
    let user_exists = |name: &str| -> Result<bool, StoreError> { Ok(user(store, name)?.is_some()) };
    let result = match cmd {
        MetaCommand::CreateUser(user) => {
            if !coffer_proto::iam::valid_user_name(&user.name) {
                Err(ProtoError::ValidationError(format!(
                    "user name {:?} must be 1 to 64 of A-Za-z0-9+=,.@_-",
                    user.name
                )))
            } else if user_exists(&user.name)? {
                Err(ProtoError::EntityAlreadyExists(format!(
                    "User with name {} already exists.",
                    user.name
                )))
            } else {
                batch.put(CF_USERS, user.name.as_bytes(), encode(user));
                Ok(MetaOk::Done)
            }
        }
        MetaCommand::DeleteUser { name } => {
            if !user_exists(name)? {
                Err(ProtoError::NoSuchEntity(format!(
                    "The user with name {name} cannot be found."
                )))
            } else if store.any_with_prefix(CF_KEYS, &user_keys_prefix(name))? {
                Err(ProtoError::DeleteConflict(
                    "Cannot delete entity, must delete access keys first.".into(),
                ))
            } else if super::policies::user_in_use(store, name)? {
                Err(ProtoError::DeleteConflict(
                    "Cannot delete entity, must delete policies and remove the user from its groups first."
                        .into(),
                ))
            } else {
                batch.delete(CF_USERS, name.as_bytes());
                Ok(MetaOk::Done)
            }
        }
        MetaCommand::CreateAccessKey(new) => {
            if !user_exists(&new.user)? {
                Err(ProtoError::NoSuchEntity(format!(
                    "The user with name {} cannot be found.",
                    new.user
                )))
            } else if key(store, &new.access_key_id)?.is_some() {
                Err(ProtoError::EntityAlreadyExists(format!(
                    "Access key {} already exists.",
                    new.access_key_id
                )))
            } else if user_keys(store, &new.user)?.len() >= MAX_KEYS_PER_USER {
                Err(ProtoError::LimitExceeded(format!(
                    "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
                )))
            } else {
                batch.put(CF_KEYS, key_key(&new.access_key_id), encode(new));
                batch.put(
                    CF_KEYS,
                    user_key_key(&new.user, &new.access_key_id),
                    encode(&()),
                );
                Ok(MetaOk::Done)
            }
        }
        MetaCommand::UpdateAccessKey {
            access_key_id,
            active,
        } => match key(store, access_key_id)? {
            None => Err(no_key(access_key_id)),
            Some(mut rec) => {
                rec.active = *active;
                batch.put(CF_KEYS, key_key(access_key_id), encode(&rec));
                Ok(MetaOk::Done)
            }
        },
        MetaCommand::DeleteAccessKey { access_key_id } => match key(store, access_key_id)? {
            None => Err(no_key(access_key_id)),
            Some(rec) => {
                batch.delete(CF_KEYS, key_key(access_key_id));
                batch.delete(CF_KEYS, user_key_key(&rec.user, access_key_id));
                Ok(MetaOk::Done)
            }
        },
        _ => return Ok(None),
    };
    Ok(Some(result))
}

fn no_key(id: &str) -> ProtoError {
    ProtoError::NoSuchEntity(format!("The Access Key with id {id} cannot be found."))
}

/// A user by name.
pub fn user(store: &MetaStore, name: &str) -> Result<Option<UserRecord>, StoreError> {
    store.get(CF_USERS, name.as_bytes())
}

/// Every user, by name.
pub fn users(store: &MetaStore) -> Result<Vec<UserRecord>, StoreError> {
    Ok(store
        .scan_prefix::<UserRecord>(CF_USERS, b"", usize::MAX)?
        .into_iter()
        .map(|(_, u)| u)
        .collect())
}

/// An access key by id.
pub fn key(store: &MetaStore, id: &str) -> Result<Option<KeyRecord>, StoreError> {
    store.get(CF_KEYS, &key_key(id))
}
