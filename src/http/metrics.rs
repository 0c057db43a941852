//! Prometheus metrics (`/metrics`) and the readiness check (`/readyz`).
//!
//! One registry per process: the cache, the scheduler and the request middleware all report to it.

use std::sync::LazyLock;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use sea_orm::DatabaseConnection;
use serde_json::json;

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    pub statements: Histogram,
    pub cache_hits: IntCounter,
    pub cache_misses: IntCounter,
    pub cache_evictions: IntCounter,
    pub cache_bytes: IntGauge,
    pub cache_entries: IntGauge,
    pub pool: IntGaugeVec,
    pub scheduler_runs: IntCounterVec,
    pub imported: IntCounterVec,
    pub rate_limited: IntCounter,
    pub panics: IntCounter,
    pub public_reads: IntCounterVec,
    pub replica_checks: IntCounter,
}

fn build() -> Result<Metrics, prometheus::Error> {
    let registry = Registry::new_custom(Some("backlot".into()), None)?;
    let requests = IntCounterVec::new(
        Opts::new("http_requests_total", "HTTP requests answered, by route, method and status"),
        &["route", "method", "status"],
    )?;
    let latency = HistogramVec::new(
        HistogramOpts::new("http_request_duration_seconds", "Time to answer a request, by route")
            .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
        &["route"],
    )?;
    let statements = Histogram::with_opts(
        HistogramOpts::new("sql_statements_per_request", "SQL statements one request ran")
            .buckets(vec![0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]),
    )?;
    let cache_hits = IntCounter::new("cache_hits_total", "Public responses served from the response cache")?;
    let cache_misses = IntCounter::new("cache_misses_total", "Public requests the response cache could not answer")?;
    let cache_evictions = IntCounter::new("cache_evictions_total", "Cached responses dropped (stale or over budget)")?;
    let cache_bytes = IntGauge::new("cache_bytes", "Bytes held by the response cache")?;
    let cache_entries = IntGauge::new("cache_entries", "Responses held by the response cache")?;
    let pool = IntGaugeVec::new(Opts::new("db_pool_connections", "Database pool connections, by state"), &["state"])?;
    let scheduler_runs =
        IntCounterVec::new(Opts::new("scheduler_runs_total", "Scheduled-publishing passes, by outcome"), &["outcome"])?;
    let imported = IntCounterVec::new(Opts::new("import_pages_total", "Pages imported, by outcome"), &["outcome"])?;
    let rate_limited = IntCounter::new("rate_limited_total", "Anonymous requests refused with 429")?;
    let panics = IntCounter::new("panics_total", "Handler panics turned into masked 500 answers")?;
    let public_reads = IntCounterVec::new(
        Opts::new(
            "public_reads_total",
            "Anonymous GraphQL/REST executions with --replica-url, by the database that ran them",
        ),
        &["database"],
    )?;
    let replica_checks =
        IntCounter::new("replica_checks_total", "Reads of the replica's replayed content generation (--replica-url)")?;
    registry.register(Box::new(requests.clone()))?;
    registry.register(Box::new(latency.clone()))?;
    registry.register(Box::new(statements.clone()))?;
    registry.register(Box::new(cache_hits.clone()))?;
    registry.register(Box::new(cache_misses.clone()))?;
    registry.register(Box::new(cache_evictions.clone()))?;
    registry.register(Box::new(cache_bytes.clone()))?;
    registry.register(Box::new(cache_entries.clone()))?;
    registry.register(Box::new(pool.clone()))?;
    registry.register(Box::new(scheduler_runs.clone()))?;
    registry.register(Box::new(imported.clone()))?;
    registry.register(Box::new(rate_limited.clone()))?;
    registry.register(Box::new(panics.clone()))?;
    registry.register(Box::new(public_reads.clone()))?;
    registry.register(Box::new(replica_checks.clone()))?;
    // Every series exists from the start, so dashboards and alerts see zeros rather than gaps.
    for outcome in ["ok", "failed"] {
        scheduler_runs.with_label_values(&[outcome]);
    }
    for outcome in ["created", "updated", "failed"] {
        imported.with_label_values(&[outcome]);
    }
    for database in ["primary", "replica"] {
        public_reads.with_label_values(&[database]);
    }
    Ok(Metrics {
        registry,
        requests,
        latency,
        statements,
        cache_hits,
        cache_misses,
        cache_evictions,
        cache_bytes,
        cache_entries,
        pool,
        scheduler_runs,
        imported,
        rate_limited,
        panics,
        public_reads,
        replica_checks,
    })
}

/// The process's metrics. The names and options above are fixed, so building them cannot fail at run time.
pub static METRICS: LazyLock<Metrics> =
    LazyLock::new(|| build().expect("metric names and label sets are static and valid"));

/// Records the database pool's state (read at scrape time, so it is current).
fn observe_pool(db: &DatabaseConnection) {
    // Only sqlx pools are ever built here (`app::connect`), one of these two backends.
    let (size, idle) = match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => return,
    };
    let idle = i64::try_from(idle).unwrap_or(i64::MAX);
    METRICS.pool.with_label_values(&["open"]).set(i64::from(size));
    METRICS.pool.with_label_values(&["idle"]).set(idle);
    METRICS.pool.with_label_values(&["in_use"]).set((i64::from(size) - idle).max(0));
}

/// `GET /metrics`: the Prometheus text format.
pub async fn metrics(State(db): State<DatabaseConnection>) -> Response {
    observe_pool(&db);
    let mut body = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&METRICS.registry.gather(), &mut body) {
        tracing::error!("cannot encode metrics: {e}");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let media = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    ([(header::CONTENT_TYPE, media)], body).into_response()
}

/// `GET /readyz`: 200 when the database answers and every migration is applied, else 503 and why.
pub async fn readyz(State(db): State<DatabaseConnection>) -> Response {
    use migration::{Migrator, MigratorTrait};
    let not_ready = |reason: String| {
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({ "status": "not ready", "reason": reason })))
            .into_response()
    };
    if let Err(e) = db.ping().await {
        tracing::warn!("readiness: database unreachable: {e}");
        return not_ready("database unreachable".into());
    }
    match Migrator::get_pending_migrations(&db).await {
        Ok(pending) if pending.is_empty() => (StatusCode::OK, axum::Json(json!({ "status": "ready" }))).into_response(),
        Ok(pending) => not_ready(format!("migrations pending: {}; run `backlot migrate`", pending.len())),
        Err(e) => {
            tracing::warn!("readiness: cannot read the migration table: {e}");
            not_ready("cannot read the migration state".into())
        }
    }
}

/// A router serving only `/metrics`, for `--metrics-listen`.
pub fn metrics_router(db: DatabaseConnection) -> axum::Router {
    axum::Router::new().route("/metrics", axum::routing::get(metrics)).with_state(db)
}
