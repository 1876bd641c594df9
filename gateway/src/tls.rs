//! TLS on the S3 listener, and what counts as a secure connection.
//!
//! [`Certificate`] holds the certificate chain and key (PEM files) the listener presents, read
//! again on SIGHUP and when either file changes ([`Certificate::watch`]), so a renewed
//! certificate takes effect on new connections without a restart; a pair that does not load
//! is logged and the previous one kept. rustls runs on `ring`, the crate the package cipher
//! already uses.
//!
//! [`Transport::secure`]: a request came over TLS when this listener serves TLS, or when it comes from a
//! trusted proxy (`--trusted-proxies`) that says, in `Forwarded` or `X-Forwarded-Proto`, that
//! it ended TLS. Nobody else's word for it counts: SSE-C keys and `aws:SecureTransport` rely on
//! it.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use actix_web::dev::RequestHead;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tracing::{info, warn};

/// How often the certificate files are looked at for a change.
const POLL: Duration = Duration::from_secs(2);

/// The certificate the listener presents, reloadable.
#[derive(Debug)]
pub struct Certificate {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

/// Read a certificate chain and its private key from PEM files.
fn load(cert: &Path, key: &Path) -> Result<CertifiedKey, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{}: {e}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no certificate in it", cert.display()));
    }
    let der = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let provider = rustls::crypto::ring::default_provider();
    let signing = provider
        .key_provider
        .load_private_key(der)
        .map_err(|e| format!("{}: {e}", key.display()))?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|e| {
        format!(
            "{} and {} do not go together: {e}",
            cert.display(),
            key.display()
        )
    })?;
    Ok(certified)
}

fn modified(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

impl Certificate {
    /// The pair in `cert` and `key` (an error names the file that does not load).
    pub fn open(cert: &Path, key: &Path) -> Result<Arc<Certificate>, String> {
        let current = load(cert, key)?;
        Ok(Arc::new(Certificate {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            current: RwLock::new(Arc::new(current)),
        }))
    }

    /// Read the files again; keep the pair in use if they do not load.
    pub fn reload(&self) -> bool {
        match load(&self.cert, &self.key) {
            Ok(k) => {
                if let Ok(mut c) = self.current.write() {
                    *c = Arc::new(k);
                }
                info!(cert = %self.cert.display(), "TLS certificate loaded");
                true
            }
            Err(e) => {
                warn!("TLS certificate not reloaded, the previous one stays: {e}");
                false
            }
        }
    }

    /// Reload on SIGHUP and when either file changes, until the task is dropped.
    pub async fn watch(self: Arc<Self>) {
        let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => Some(s),
            Err(e) => {
                warn!("no SIGHUP handler ({e}): the certificate reloads on file changes only");
                None
            }
        };
        let stamp = |c: &Certificate| (modified(&c.cert), modified(&c.key));
        let mut seen = stamp(&self);
        loop {
            let hangup = async {
                match hup.as_mut() {
                    Some(h) => h.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = hangup => {
                    self.reload();
                    seen = stamp(&self);
                }
                () = tokio::time::sleep(POLL) => {
                    let now = stamp(&self);
                    if now != seen {
                        seen = now;
                        self.reload();
                    }
                }
            }
        }
    }

    /// The rustls configuration of a listener that presents this certificate (HTTP/1.1).
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, String> {
        let mut c = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_cert_resolver(self.clone());
        c.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(c)
    }
}

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|c| c.clone())
    }
}

/// An address or network (`10.0.0.0/8`, `::1`) proxies are trusted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// `ADDR` or `ADDR/PREFIX` (None: not one).
    pub fn parse(s: &str) -> Option<Network> {
        let (a, p) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= bits)?,
            None => bits,
        };
        Some(Network { addr, prefix })
    }

    /// Whether `ip` is in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// How requests reach the listener: what tells a secure one.
#[derive(Debug, Clone, Default)]
pub struct Transport {
    /// The listener serves TLS.
    pub tls: bool,
    /// Addresses of proxies whose `Forwarded: proto=https` / `X-Forwarded-Proto: https` says
    /// a request came over TLS (`--trusted-proxies`).
    pub trusted_proxies: Vec<Network>,
}

impl Transport {
    /// Whether a request came over TLS: this listener's, or a trusted proxy's that says so.
    pub fn secure(&self, req: &RequestHead) -> bool {
        if self.tls {
            return true;
        }
        let trusted = req
            .peer_addr
            .is_some_and(|p| self.trusted_proxies.iter().any(|n| n.contains(p.ip())));
        trusted && forwarded_https(&req.headers)
    }
}

/// Whether a proxy's `Forwarded: proto=https` or `X-Forwarded-Proto: https` is on a request.
fn forwarded_https(h: &actix_web::http::header::HeaderMap) -> bool {
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok());
    let proto = get("forwarded")
        .and_then(|f| {
            f.split([';', ','])
                .find_map(|p| p.trim().strip_prefix("proto=").map(|v| v.trim_matches('"')))
        })
        .or_else(|| get("x-forwarded-proto").and_then(|v| v.split(',').next()))
        .map(str::trim);
    proto.is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn networks() {
        let n = Network::parse("10.1.0.0/16").unwrap();
        assert!(n.contains("10.1.200.3".parse().unwrap()));
        assert!(!n.contains("10.2.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.1.0.9".parse().unwrap()));
        let one = Network::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        assert!(Network::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        let v6 = Network::parse("fd00::/8").unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(!v6.contains("fe80::1".parse().unwrap()));
        for bad in ["", "10.0.0.0/33", "host", "::/129", "1.2.3.4/x"] {
            assert_eq!(Network::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_a_trusted_proxy_says_a_request_came_over_tls() {
        let mut cfg = Transport::default();
        let req = |peer: &str, header: Option<(&str, &str)>| {
            let mut r = TestRequest::default().peer_addr(peer.parse().unwrap());
            if let Some(h) = header {
                r = r.insert_header(h);
            }
            r.to_http_request()
        };
        let https = ("x-forwarded-proto", "https");
        let forwarded = ("forwarded", "for=1.2.3.4;proto=https");
        assert!(!cfg.secure(req("10.0.0.5:1", Some(https)).head()));
        cfg.trusted_proxies = vec![Network::parse("10.0.0.0/24").unwrap()];
        assert!(cfg.secure(req("10.0.0.5:1", Some(https)).head()));
        assert!(cfg.secure(req("10.0.0.5:1", Some(forwarded)).head()));
        assert!(!cfg.secure(req("10.0.0.5:1", None).head()));
        assert!(!cfg.secure(req("10.0.0.5:1", Some(("x-forwarded-proto", "http"))).head()));
        assert!(!cfg.secure(req("10.0.1.5:1", Some(https)).head()));
        cfg.tls = true;
        assert!(cfg.secure(req("192.168.0.1:1", None).head()));
    }
}
