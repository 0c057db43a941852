//! The router: every route and the middleware around them.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

use super::{AppState, JSON, bench, graphiql, graphql, guard, imports, metrics, observe, problem, rest};
use crate::config::HttpSettings;

/// The router and its middleware, outermost first: request id, span and access log; panics to masked
/// 500s; CORS; compression; the per-IP rate limit; the body read deadline. CORS origins are checked
/// by `serve` before this is called (see `guard::cors`).
pub fn build_router(state: AppState, http: &HttpSettings) -> Router {
    let body_limit = state.settings.max_body_bytes;
    let router = if state.sql_statements.is_some() { bench::routes() } else { Router::new() };
    let router = if http.metrics_listen.is_none() { router.route("/metrics", get(metrics::metrics)) } else { router };
    let router = router
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphiql/{file}", get(graphiql::asset))
        .route("/healthz", get(healthz))
        .route("/api/v1/imports", axum::routing::post(imports::post))
        .route("/readyz", get(metrics::readyz));
    let mut router =
        rest::routes(router).fallback(not_found).layer(DefaultBodyLimit::max(body_limit)).with_state(state);
    let body_timeout = std::time::Duration::from_secs(http.body_read_timeout_seconds.max(1));
    router = router.layer(axum::middleware::from_fn_with_state((body_timeout, body_limit), guard::body_deadline));
    if http.rate_limit_per_minute > 0 {
        let limiter = guard::RateLimiter::new(http.rate_limit_per_minute);
        router = router.layer(axum::middleware::from_fn_with_state(limiter, guard::rate_limit));
    }
    // Inside compression, outside the guards: their refusals under /api/v1 become problem+json.
    router = router.layer(axum::middleware::from_fn(rest::problems));
    // Level 4 keeps large pages cheap to compress on every miss; cached pages are compressed once, harder.
    router = router
        .layer(tower_http::compression::CompressionLayer::new().quality(tower_http::CompressionLevel::Precise(4)));
    if let Ok(Some(cors)) = guard::cors(&http.cors_origins) {
        router = router.layer(cors);
    }
    router
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(observe::panic_response))
        .layer(axum::middleware::from_fn(observe::observe))
}

/// Liveness: the process answers. It does not touch the database (that is `/readyz`), so a busy pool
/// never gets a live server restarted.
async fn healthz() -> axum::response::Response {
    (StatusCode::OK, axum::Json(json!({ "status": "ok" }))).into_response()
}

pub(super) async fn not_found() -> axum::response::Response {
    problem(StatusCode::NOT_FOUND, JSON, "no such endpoint; GraphQL is at /graphql")
}
