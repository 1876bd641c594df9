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
    /// Lifecycle rules as this gateway last read them (for `x-amz-expiration`).
    pub lifecycles: crate::model::lifecycle::cache::LifecycleCache,
}
