//! The HTTP server: one catch-all service that hands every request to [`crate::s3::dispatch`]
//! (S3 chooses operations from method, query and headers, not paths), and a health endpoint
//! under `/_coffer/` (bucket names cannot start with `_`).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{web, App, HttpResponse, HttpServer};
use coffer_proto::ClusterApi;

use crate::config::GatewayConfig;
use crate::s3;
use crate::state::AppState;

/// Serve S3 on an already-bound listener until the returned server is stopped.
pub fn serve(
    listener: TcpListener,
    config: GatewayConfig,
    cluster: Arc<dyn ClusterApi>,
    workers: usize,
) -> std::io::Result<actix_web::dev::Server> {
    let state = web::Data::new(AppState {
        config,
        cluster,
        policies: Default::default(),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(usize::MAX))
            .route(
                "/_coffer/health",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
            .default_service(web::to(s3::dispatch))
    })
    .workers(workers.max(1))
    .backlog(1024)
    .max_connection_rate(1024)
    .on_connect(|conn, _ext| {
        if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
            let _ = tcp.set_nodelay(true);
        }
    })
    .listen(listener)?
    .run();
    Ok(server)
}
