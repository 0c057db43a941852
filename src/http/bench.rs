//! Routes that exist only under `serve --bench`: the static baseline, a panic and a slow request.

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::{AppState, JSON, VARY};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/bench/static/{bytes}", get(bench_static).post(bench_static))
        .route("/bench/panic", get(bench_panic))
        .route("/bench/sleep/{ms}", get(bench_sleep))
}

/// `serve --bench`: a request that takes `ms` milliseconds (at most 10 s), for shutdown under load.
async fn bench_sleep(Path(ms): Path<u64>) -> Response {
    tokio::time::sleep(std::time::Duration::from_millis(ms.min(10_000))).await;
    (StatusCode::OK, axum::Json(json!({ "slept_ms": ms.min(10_000) }))).into_response()
}

/// `serve --bench`: a handler that panics, to show the panic layer's answer.
async fn bench_panic() -> Response {
    panic!("bench: deliberate panic")
}

/// A JSON body of exactly `bytes` bytes, built once per size: the benchmark's ceiling for this stack.
async fn bench_static(Path(bytes): Path<usize>) -> Response {
    static BODIES: std::sync::Mutex<Vec<(usize, Bytes)>> = std::sync::Mutex::new(Vec::new());
    const FRAME: &str = r#"{"data":{"padding":""}}"#;
    let bytes = bytes.clamp(FRAME.len(), 16 * 1024 * 1024);
    let body = {
        let mut cache = BODIES.lock().unwrap_or_else(|e| e.into_inner());
        match cache.iter().find(|(size, _)| *size == bytes) {
            Some((_, body)) => body.clone(),
            None => {
                let padding = "x".repeat(bytes - FRAME.len());
                let body = Bytes::from(format!(r#"{{"data":{{"padding":"{padding}"}}}}"#));
                cache.push((bytes, body.clone()));
                body
            }
        }
    };
    let headers =
        [(header::CONTENT_TYPE, HeaderValue::from_static(JSON)), (header::VARY, HeaderValue::from_static(VARY))];
    (headers, body).into_response()
}
