//! [`AppState`]: what every request shares.

use std::sync::Arc;

use coffer_proto::ClusterApi;

use crate::config::GatewayConfig;

/// Shared by every request.
pub struct AppState {
    /// Settings.
    pub config: GatewayConfig,
    /// The storage cluster.
    pub cluster: Arc<dyn ClusterApi>,
    /// Parsed policies.
    pub policies: crate::authz::cache::PolicyCache,
    /// The key service's keys as this gateway last read them.
    pub keys: crate::sse::keys::Keyring,
    /// Bucket configurations as this gateway last read them (lifecycle rules for
    /// `x-amz-expiration`, logging status for the access log).
    pub caches: crate::model::config_cache::Caches,
    /// The server access log records waiting for delivery.
    pub access_logs: crate::access_log::batch::AccessLogs,
}
