//! Per-request observability: the request id, a tracing span around the request, the access log line,
//! request metrics, and panics turned into masked 500 answers carrying the request id.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;
use tracing::Instrument;

use super::metrics::METRICS;
use crate::error::code;

pub const REQUEST_ID: &str = "x-request-id";

/// What one request did, filled in as it runs and read by the access log.
pub struct RequestContext {
    pub id: String,
    statements: AtomicU64,
    /// 0 = the cache was not consulted, 1 = hit, 2 = miss.
    cache: AtomicU8,
}

tokio::task_local! {
    static REQUEST: Arc<RequestContext>;
}

/// The id of the request this task serves, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST.try_with(|r| r.id.clone()).ok()
}

/// Counts one SQL statement against the current request (call from the database's metric callback).
pub fn count_statement() {
    let _ = REQUEST.try_with(|r| r.statements.fetch_add(1, Ordering::Relaxed));
}

/// Notes whether the response cache answered the current request.
pub fn note_cache(hit: bool) {
    let _ = REQUEST.try_with(|r| r.cache.store(if hit { 1 } else { 2 }, Ordering::Relaxed));
    if hit { METRICS.cache_hits.inc() } else { METRICS.cache_misses.inc() }
}

/// Spawns `future` on the runtime, still counted against the current request (for DataLoader batches,
/// which run on tasks of their own).
pub fn spawn_in_request<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    match REQUEST.try_with(Arc::clone) {
        Ok(context) => tokio::spawn(REQUEST.scope(context, future)),
        Err(_) => tokio::spawn(future),
    }
}

/// A request id the client sent is kept when it is short and printable, so ids can be joined across
/// services; anything else is replaced, so logs never carry a client's arbitrary bytes.
fn request_id(request: &Request) -> String {
    request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

/// The outermost middleware: request id in, span around, id echoed, access log and metrics out.
pub async fn observe(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&request);
    if let Ok(value) = HeaderValue::from_str(&id) {
        request.headers_mut().insert(REQUEST_ID, value);
    }
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let route = request.extensions().get::<MatchedPath>().map_or("other", |p| p.as_str()).to_string();
    let context = Arc::new(RequestContext { id: id.clone(), statements: AtomicU64::new(0), cache: AtomicU8::new(0) });
    let span = tracing::info_span!("request", id = %id);
    let mut response = REQUEST.scope(context.clone(), next.run(request).instrument(span.clone())).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    if route == "/graphql" {
        // Every answer there (GraphiQL or JSON, either media type, errors too) depends on these.
        merge_vary(response.headers_mut(), super::VARY);
    }
    let latency = started.elapsed();
    let status = response.status().as_u16();
    let statements = context.statements.load(Ordering::Relaxed);
    let cache = match context.cache.load(Ordering::Relaxed) {
        1 => "hit",
        2 => "miss",
        _ => "-",
    };
    METRICS.requests.with_label_values(&[route.as_str(), method_label(&method), &status.to_string()]).inc();
    METRICS.latency.with_label_values(&[route.as_str()]).observe(latency.as_secs_f64());
    if route == "/graphql" {
        METRICS.statements.observe(statements as f64);
    }
    span.in_scope(|| {
        tracing::info!(
            target: "backlot::access",
            method = %method,
            path = %path,
            status,
            latency_ms = (latency.as_secs_f64() * 1_000_000.0).round() / 1000.0,
            cache,
            statements,
            "{method} {path} {status}"
        )
    });
    response
}

/// A metrics label for the method: the standard ones by name, anything else as `other`, so a client
/// inventing methods cannot grow the metrics without bound.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        _ => "other",
    }
}

/// Adds `ours` to the response's `Vary` without dropping what other layers put there (CORS adds `Origin`:
/// with a list of origins the answer differs by it, and a shared cache must know).
fn merge_vary(headers: &mut axum::http::HeaderMap, ours: &str) {
    let mut names: Vec<String> = Vec::new();
    let existing = headers.get_all(header::VARY).iter().filter_map(|v| v.to_str().ok().map(str::to_string));
    let existing: Vec<String> = existing.collect();
    for name in ours.split(',').chain(existing.iter().flat_map(|v| v.split(','))) {
        let name = name.trim();
        if !name.is_empty() && !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            names.push(name.to_string());
        }
    }
    if let Ok(value) = HeaderValue::from_str(&names.join(", ")) {
        headers.insert(header::VARY, value);
    }
}

/// The masked 500 for a handler that panicked: the detail goes to the log, the client gets the request id.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a handler panicked");
    METRICS.panics.inc();
    let masked = crate::error::internal(&format!("panic: {detail}"));
    let body = json!({ "errors": [{ "message": masked.message, "extensions": masked.extensions }] });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A JSON error in the GraphQL-over-HTTP error shape, for answers the middleware gives itself.
pub fn error_response(status: StatusCode, message: &str) -> Response {
    let code = if status == StatusCode::TOO_MANY_REQUESTS { code::RATE_LIMITED } else { code::BAD_REQUEST };
    let body = json!({ "errors": [super::coded_error(message, code)] });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
