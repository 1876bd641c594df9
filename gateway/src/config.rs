//! [`GatewayConfig`]: the gateway's settings, filled in by the CLI.

use crate::auth::Credentials;
use crate::model::acl::Ownership;

/// Gateway settings.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Region reported by GetBucketLocation and accepted as the default LocationConstraint.
    pub region: String,
    /// Domain for virtual-host-style addressing (`bucket.<domain>`), if any.
    pub domain: Option<String>,
    /// Domain of the website endpoint's hosts (`bucket.s3-website.<domain>`), if any.
    pub website_domain: Option<String>,
    /// The root access key(s), from the configuration.
    pub credentials: Credentials,
    /// The cluster master key, which unseals IAM users' secret keys from the metadata (None:
    /// only the root keys authenticate).
    pub master_key: Option<coffer_proto::seal::MasterKey>,
    /// The key-encryption key, which unseals the key service's keys (SSE-S3's and SSE-KMS
    /// keys) from the metadata (None: this gateway cannot encrypt or decrypt objects).
    pub kek: Option<coffer_proto::seal::MasterKey>,
    /// Take SSE-C customer keys over plain HTTP (S3 refuses them: the key would cross the
    /// network in clear). For tests, and for a gateway behind a proxy that ends TLS.
    pub sse_c_over_http: bool,
    /// Whether the listener serves TLS, and which proxies may say a request came over it.
    pub transport: crate::tls::Transport,
    /// How writes to a bucket without a default encryption configuration, that ask for no
    /// encryption, are stored.
    pub default_encryption: DefaultSse,
    /// Objects up to this many bytes are stored inline in their metadata record.
    pub inline_threshold: u64,
    /// Largest single PUT (S3: 5 GiB).
    pub max_put_size: u64,
    /// Object Ownership of a bucket created without `x-amz-object-ownership`:
    /// BucketOwnerEnforced (ACLs disabled) as on S3 since 2023, unless configured otherwise
    /// for tools that still set ACLs.
    pub default_ownership: Ownership,
    /// Seconds in a day of the lifecycle clock: 86,400, shorter only under the tests' knob
    /// (`--lifecycle-day-seconds`). Expiry dates in `x-amz-expiration` follow it.
    pub lifecycle_day: i64,
    /// How old a batch of server access log records gets before it is delivered as a log
    /// object (`--access-log-flush-seconds`).
    pub access_log_flush: std::time::Duration,
}

impl GatewayConfig {
    /// Defaults with one key, for tests.
    pub fn for_tests(access_key: &str, secret: &str) -> Self {
        let mut credentials = Credentials::default();
        credentials.insert(access_key, secret);
        GatewayConfig {
            region: "us-east-1".into(),
            domain: None,
            website_domain: None,
            credentials,
            master_key: None,
            kek: None,
            sse_c_over_http: false,
            transport: crate::tls::Transport::default(),
            default_encryption: DefaultSse::None,
            inline_threshold: 64 * 1024,
            max_put_size: 5 << 30,
            default_ownership: Ownership::BucketOwnerEnforced,
            lifecycle_day: crate::model::lifecycle::DAY,
            access_log_flush: std::time::Duration::from_secs(300),
        }
    }
}

/// The encryption of writes that ask for none, in buckets without a configuration of their
/// own (`--default-encryption`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultSse {
    /// Stored as sent.
    None,
    /// SSE-S3, as S3 does for every bucket since 2023.
    S3,
}

impl DefaultSse {
    /// The setting's value as written (`none`, `sse-s3`).
    pub fn parse(s: &str) -> Option<DefaultSse> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Some(DefaultSse::None),
            "sse-s3" | "aes256" => Some(DefaultSse::S3),
            _ => None,
        }
    }
}
