//! `coffer admin kms key ...`: the keys of the built-in key service that SSE-KMS writes name,
//! through the admin API.

/// `kms ...`.
#[derive(clap::Subcommand, Debug)]
pub enum KmsCommand {
    /// Keys: create, list, describe, disable, enable, rotate.
    Key {
        #[command(subcommand)]
        what: KeyCommand,
    },
}

/// `kms key ...`.
#[derive(clap::Subcommand, Debug)]
pub enum KeyCommand {
    /// Make a key with fresh material (ids: 1 to 250 of A-Za-z0-9_.-, e.g. testkey-1).
    Create {
        /// Key id, as writes name it in x-amz-server-side-encryption-aws-kms-key-id.
        id: String,
        /// What the key is for.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Every key (aws/s3 appears once a write has used it).
    List,
    /// One key: state, generation, dates (never its material).
    Describe {
        /// Key id.
        id: String,
    },
    /// Disable a key: objects under it cannot be read or written until it is enabled again.
    Disable {
        /// Key id.
        id: String,
    },
    /// Enable a disabled key.
    Enable {
        /// Key id.
        id: String,
    },
    /// Give a key new material: new objects use it, older objects stay readable.
    Rotate {
        /// Key id.
        id: String,
    },
}

/// Key ids as the admin API's paths take them: an id, or one of the service's own
/// (`aws/s3`).
fn id_part(id: &str) -> anyhow::Result<&str> {
    anyhow::ensure!(
        coffer_proto::sse::valid_key_id(id) || id == coffer_proto::sse::DEFAULT_KMS_KEY,
        "{id:?} is not a key id (1 to 250 of A-Za-z0-9_.-)"
    );
    Ok(id)
}

/// The method, path and body of a `kms` command.
pub fn kms_call(what: &KmsCommand) -> anyhow::Result<(&'static str, String, Option<Vec<u8>>)> {
    let KmsCommand::Key { what } = what;
    Ok(match what {
        KeyCommand::Create { id, description } => (
            "POST",
            format!("/admin/v1/kms/create/{}", id_part(id)?),
            Some(description.clone().into_bytes()),
        ),
        KeyCommand::List => ("GET", "/admin/v1/kms/keys".to_owned(), None),
        KeyCommand::Describe { id } => (
            "GET",
            format!("/admin/v1/kms/describe/{}", id_part(id)?),
            None,
        ),
        KeyCommand::Disable { id } => (
            "POST",
            format!("/admin/v1/kms/disable/{}", id_part(id)?),
            None,
        ),
        KeyCommand::Enable { id } => (
            "POST",
            format!("/admin/v1/kms/enable/{}", id_part(id)?),
            None,
        ),
        KeyCommand::Rotate { id } => (
            "POST",
            format!("/admin/v1/kms/rotate/{}", id_part(id)?),
            None,
        ),
    })
}

fn date(ms: &serde_json::Value) -> String {
    let ms = ms.as_i64().unwrap_or(0);
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || "?".to_owned(),
        |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

fn line(k: &serde_json::Value) -> String {
    format!(
        "{}  {}  generation {}  created {}  rotated {}  {}",
        k["id"].as_str().unwrap_or("?"),
        if k["enabled"].as_bool() == Some(true) {
            "Enabled"
        } else {
            "Disabled"
        },
        k["generation"],
        date(&k["created_ms"]),
        date(&k["rotated_ms"]),
        k["description"].as_str().unwrap_or("")
    )
}

/// Print the answer to a `kms` command.
pub fn print(value: &serde_json::Value, what: &KmsCommand) {
    let KmsCommand::Key { what } = what;
    match what {
        KeyCommand::List => {
            for k in value.as_array().into_iter().flatten() {
                println!("{}", line(k));
            }
        }
        _ => println!("{}", line(value)),
    }
}
