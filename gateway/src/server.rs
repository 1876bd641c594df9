//! The HTTP server: one catch-all service that hands every request to [`crate::s3::dispatch`]
//! (S3 chooses operations from method, query and headers, not paths), and a health endpoint
//! and the gateway's counters (`metrics`) under `/_coffer/` (bucket names cannot start with
//! `_`).
//!
//! It is actix-web's `HttpServer` put together by hand, for one thing that one does not let an
//! application set: the handler of `Expect: 100-continue`
//! ([`crate::s3::dispatch::expect`]), which refuses a request before its body is sent. It
//! serves plain HTTP, or TLS with a certificate that reloads when it changes
//! ([`crate::tls`]).

use std::net::TcpListener;
use std::sync::Arc;

use actix_service::{fn_service, map_config, ServiceFactoryExt as _};
use actix_web::dev::AppConfig;
use actix_web::{web, App, HttpResponse};
use coffer_proto::ClusterApi;

use crate::config::GatewayConfig;
use crate::s3;
use crate::state::AppState;

/// How long a connection answered before its body was read keeps reading (and dropping) the
/// body before it is closed.
const LINGER: std::time::Duration = std::time::Duration::from_secs(10);

/// Connections a worker accepts at once, at most (actix-web's `max_connection_rate`).
const MAX_CONNECTIONS_PER_WORKER: usize = 1024;

/// Serve S3 on an already-bound listener until the returned server is stopped: over TLS with
/// `certificate` when given, else plain HTTP (`config.transport.tls` is set to match, so
/// `aws:SecureTransport` and the SSE-C check follow what the listener does).
///
/// `website`: a listener for the website endpoint (`crate::website`), served plain HTTP by
/// the same workers (None: not served).
///
/// Returns the server and the state its requests share (whose access log batches
/// [`crate::access_log::run`] delivers).
pub fn serve(
    listener: TcpListener,
    mut config: GatewayConfig,
    cluster: Arc<dyn ClusterApi>,
    workers: usize,
    certificate: Option<Arc<crate::tls::Certificate>>,
    website: Option<TcpListener>,
) -> std::io::Result<(actix_server::Server, web::Data<AppState>)> {
    config.transport.tls = certificate.is_some();
    let state = web::Data::new(AppState {
        keys: crate::sse::keys::Keyring::new(config.kek.clone()),
        access_logs: crate::access_log::batch::AccessLogs::new(config.access_log_flush),
        config,
        cluster,
        policies: Default::default(),
        caches: Default::default(),
    });
    // One HTTP service per connection, the same over TLS and plain TCP.
    macro_rules! service {
        () => {{
            let app_state = state.clone();
            let expect_state = state.clone();
            let app = App::new()
                .app_data(app_state)
                .app_data(web::PayloadConfig::new(usize::MAX))
                .route(
                    "/_coffer/health",
                    web::get().to(|| async { HttpResponse::Ok().body("ok") }),
                )
                .route("/_coffer/metrics", web::get().to(metrics))
                .default_service(web::to(s3::dispatch::dispatch))
                .wrap_fn(counted);
            actix_http::HttpService::build()
                .tcp_nodelay(true)
                // After answering a request whose body it did not read (a refusal before the
                // body), read and drop what the client still sends for a while before
                // closing, so that the close is not a reset that loses the answer.
                .client_disconnect_timeout(LINGER)
                .expect(fn_service(move |req| {
                    s3::dispatch::expect::expect(expect_state.clone(), req)
                }))
                .finish(map_config(
                    actix_service::IntoServiceFactory::into_factory(app)
                        .map_err(|e: actix_web::Error| e.error_response()),
                    |_| AppConfig::default(),
                ))
        }};
    }
    let builder = actix_server::Server::build()
        .workers(workers.max(1))
        .backlog(1024)
        .max_concurrent_connections(MAX_CONNECTIONS_PER_WORKER);
    let website_state = state.clone();
    let shared = state.clone();
    let builder = match certificate {
        Some(cert) => {
            let tls = cert
                .server_config()
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            tokio::spawn(cert.watch());
            builder.listen("s3", listener, move || service!().rustls_0_23(tls.clone()))?
        }
        None => builder.listen("s3", listener, move || service!().tcp())?,
    };
    let builder = match website {
        Some(listener) => {
            let state = website_state;
            builder.listen("website", listener, move || {
                let app = App::new()
                    .app_data(state.clone())
                    .route(
                        "/_coffer/health",
                        web::get().to(|| async { HttpResponse::Ok().body("ok") }),
                    )
                    .default_service(web::to(crate::website::handle))
                    .wrap_fn(counted);
                actix_http::HttpService::build()
                    .tcp_nodelay(true)
                    .client_disconnect_timeout(LINGER)
                    .finish(map_config(
                        actix_service::IntoServiceFactory::into_factory(app)
                            .map_err(|e: actix_web::Error| e.error_response()),
                        |_| AppConfig::default(),
                    ))
                    .tcp()
            })?
        }
        None => builder,
    };
    Ok((builder.run(), shared))
}

/// The gateway's own counters, in Prometheus' text format.
/// Count a request and its answer in [`crate::traffic`].
fn counted<S>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<actix_web::dev::ServiceResponse, actix_web::Error>>
where
    S: actix_web::dev::Service<
        actix_web::dev::ServiceRequest,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
{
    use actix_web::body::MessageBody as _;
    let started = std::time::Instant::now();
    let length = |h: &actix_web::http::header::HeaderMap| {
        h.get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let bytes_in = length(req.headers());
    let answer = srv.call(req);
    async move {
        let res = answer.await?;
        let bytes_out = match res.response().body().size() {
            actix_web::body::BodySize::Sized(n) => n,
            _ => length(res.headers()),
        };
        crate::traffic::record(res.status().as_u16(), started, bytes_in, bytes_out);
        Ok(res)
    }
}

async fn metrics() -> HttpResponse {
    use std::sync::atomic::Ordering::Relaxed;
    let mut out = String::new();
    for (name, help, value) in [
        (
            "coffer_sse_packages_sealed_total",
            "Encrypted packages sealed by this gateway.",
            crate::sse::packages::SEALED.load(Relaxed),
        ),
        (
            "coffer_sse_packages_opened_total",
            "Encrypted packages opened by this gateway.",
            crate::sse::packages::OPENED.load(Relaxed),
        ),
    ] {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
        ));
    }
    crate::traffic::render(&mut out);
    crate::lifecycle::METRICS.render(&mut out);
    crate::access_log::METRICS.render(&mut out);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}
