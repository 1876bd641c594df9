//! A node's id from its host name. A Kubernetes StatefulSet names its pods NAME-ORDINAL
//! (`coffer-node-0`, `coffer-node-1`, ...) and gives each pod its name as host name, so a
//! pod rescheduled onto the same volume comes back with the same id.

use anyhow::Context;

/// The ordinal at the end of the first label of `host`: `coffer-node-2` and
/// `coffer-node-2.coffer-node-headless.store.svc.cluster.local` give 2.
pub fn ordinal(host: &str) -> Option<u64> {
    let label = host.split('.').next()?;
    let (_, digits) = label.rsplit_once('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// This machine's host name: `HOSTNAME` when set (Kubernetes and Docker set it to the pod's
/// or container's name), else the kernel's.
pub fn hostname() -> anyhow::Result<String> {
    if let Some(h) = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
    {
        return Ok(h.trim().to_owned());
    }
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .context("read the host name from /proc/sys/kernel/hostname")?;
    Ok(h.trim().to_owned())
}

/// The node id this host's name gives: its ordinal.
pub fn node_id_from_hostname() -> anyhow::Result<u64> {
    let host = hostname()?;
    ordinal(&host).with_context(|| {
        format!(
            "the node id comes from the host name, but {host:?} does not end in -ORDINAL \
             (as a StatefulSet's pod names do, e.g. coffer-node-0)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::ordinal;

    #[test]
    fn the_ordinal_ends_the_first_label() {
        assert_eq!(ordinal("coffer-node-0"), Some(0));
        assert_eq!(ordinal("coffer-node-12"), Some(12));
        assert_eq!(
            ordinal("store-coffer-node-3.store-coffer-node-headless.ns.svc.cluster.local"),
            Some(3)
        );
        assert_eq!(ordinal("coffer-node"), None);
        assert_eq!(ordinal("coffer-node-"), None);
        assert_eq!(ordinal("node7"), None);
        assert_eq!(ordinal("coffer-node-1a"), None);
        assert_eq!(ordinal("coffer-node-+1"), None);
        assert_eq!(ordinal("x-99999999999999999999999"), None);
        assert_eq!(ordinal(""), None);
    }
}
