//! Browsers, proxies and operators, through the real router: CORS, request ids, masked errors that carry
//! them, compression (and the cache's compressed bodies), `/metrics`, `/readyz`, `/healthz`, the panic
//! layer and the request body deadline.

mod common;

use std::collections::HashMap;
use std::io::Read;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{Request, StatusCode};
use backlot::config::{ApiSettings, HttpSettings};
use common::{ORIGINAL_SLUG, TestApp};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

fn settings() -> ApiSettings {
    ApiSettings { cache_poll_ms: 20, ..Default::default() }
}

fn http_settings(f: impl FnOnce(&mut HttpSettings)) -> HttpSettings {
    let mut http = HttpSettings::default();
    f(&mut http);
    http
}

/// The router `serve` builds, with `http` settings, on the test's database.
fn serve_router(app: &TestApp, http: &HttpSettings) -> axum::Router {
    let config =
        backlot::app::AppConfig { api: settings(), http: http.clone(), observe_statements: true, ..Default::default() };
    backlot::app::build(app.db.clone(), &config).router
}

async fn send(router: &axum::Router, request: Request<Body>) -> common::HttpResponse {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = router.clone().oneshot(request).await.expect("router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    common::HttpResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

fn header<'a>(response: &'a common::HttpResponse, name: &str) -> &'a str {
    response.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_preflight_from_an_allowed_origin_succeeds_and_others_get_no_cors_headers() {
    let app = TestApp::new().await;
    let router = serve_router(&app, &http_settings(|h| h.cors_origins = vec!["https://www.example.com".into()]));
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/graphql")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type, authorization, x-request-id")
            .body(Body::empty())
            .unwrap()
    };
    let allowed = send(&router, preflight("https://www.example.com")).await;
    assert!(allowed.status.is_success(), "preflight answered {}", allowed.status);
    assert_eq!(header(&allowed, "access-control-allow-origin"), "https://www.example.com");
    let methods = header(&allowed, "access-control-allow-methods").to_ascii_uppercase();
    assert!(methods.contains("POST") && methods.contains("GET"), "{methods}");
    let headers = header(&allowed, "access-control-allow-headers").to_ascii_lowercase();
    for wanted in ["content-type", "authorization", "x-request-id"] {
        assert!(headers.contains(wanted), "allow-headers lacks {wanted}: {headers}");
    }
    assert!(allowed.headers.get("access-control-allow-credentials").is_none(), "credentials are off by default");

    let refused = send(&router, preflight("https://evil.example")).await;
    assert!(refused.headers.get("access-control-allow-origin").is_none());

    // The actual request from the allowed origin carries the header too.
    let post = Request::post("/graphql")
        .header("origin", "https://www.example.com")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"query":"{ __typename }"}"#))
        .unwrap();
    let answer = send(&router, post).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(header(&answer, "access-control-allow-origin"), "https://www.example.com");
    // The answer differs by origin, so a shared cache must key on it as well as on what it did before.
    let vary = header(&answer, "vary").to_ascii_lowercase();
    for wanted in ["origin", "accept-encoding", "accept", "authorization"] {
        assert!(vary.split(',').any(|v| v.trim() == wanted), "Vary lacks {wanted}: {vary}");
    }

    // Without --cors-origin there are no CORS headers at all.
    let plain = send(&serve_router(&app, &HttpSettings::default()), preflight("https://www.example.com")).await;
    assert!(plain.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_echoed_or_generated_and_masked_errors_carry_them() {
    let app = TestApp::new().await;
    let given =
        app.request(Request::get("/healthz").header("x-request-id", "abc-123").body(Body::empty()).unwrap()).await;
    assert_eq!(header(&given, "x-request-id"), "abc-123");
    let generated = app.request(Request::get("/healthz").body(Body::empty()).unwrap()).await;
    let id = header(&generated, "x-request-id");
    assert!(id.len() >= 16, "a generated id: {id:?}");
    let unsafe_id =
        app.request(Request::get("/healthz").header("x-request-id", "a b\tc").body(Body::empty()).unwrap()).await;
    assert_ne!(header(&unsafe_id, "x-request-id"), "a b\tc", "ids with spaces or controls are replaced");

    // A genuinely unexpected failure (a table gone) is masked, and the mask names the request.
    app.db.execute_unprepared("ALTER TABLE reuse_channels RENAME TO reuse_channels_gone").await.expect("rename");
    let failed = app
        .request(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .header("x-request-id", "trace-me-42")
                .body(Body::from(r#"{"query":"{ reuseChannels { slug } }"}"#))
                .unwrap(),
        )
        .await;
    let body = failed.json();
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "INTERNAL_SERVER_ERROR", "{body:#}");
    assert_eq!(error["extensions"]["requestId"], "trace-me-42", "{body:#}");
    assert!(!failed.body.contains("reuse_channels"), "no SQL detail in the answer: {}", failed.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_becomes_a_masked_500_with_the_request_id() {
    let app = TestApp::new().await;
    let config = backlot::app::AppConfig { api: settings(), bench: true, ..Default::default() };
    let router = backlot::app::build(app.db.clone(), &config).router;
    let response =
        send(&router, Request::get("/bench/panic").header("x-request-id", "panic-7").body(Body::empty()).unwrap())
            .await;
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(header(&response, "x-request-id"), "panic-7");
    let body = response.json();
    assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL_SERVER_ERROR");
    assert_eq!(body["errors"][0]["extensions"]["requestId"], "panic-7");
    assert!(!response.body.contains("deliberate"), "the panic message stays in the log: {}", response.body);
}

fn gunzip(bytes: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes).read_to_string(&mut out).expect("valid gzip");
    out
}

fn unbrotli(bytes: &[u8]) -> String {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &bytes[..], &mut out).expect("valid brotli");
    String::from_utf8(out).expect("UTF-8")
}

async fn raw(router: &axum::Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Bytes) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = router.clone().oneshot(request).await.expect("router answers");
    let (parts, body) = response.into_parts();
    (parts.status, parts.headers, body.collect().await.expect("body").to_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_are_compressed_and_cached_pages_keep_their_compressed_body_and_etag() {
    let app = TestApp::with_demo().await;
    let query = json!({ "query": format!("{{ article(slug: \"{ORIGINAL_SLUG}\") {{ title thesis sections {{ heading body }} }} }}") })
        .to_string();
    let post = |encoding: &str| {
        Request::post("/graphql")
            .header("content-type", "application/json")
            .header("accept-encoding", encoding)
            .body(Body::from(query.clone()))
            .unwrap()
    };
    // Wait for the cache's first generation poll, so the page is cached.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, headers, gz) = raw(&app.router, post("gzip")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(headers["vary"], "Accept-Encoding, Accept, Authorization");
    let plain = gunzip(&gz);
    assert!(plain.contains("\"title\""), "{plain}");

    // A hit in another coding: the cached body, compressed once, under that representation's own ETag.
    let (status, headers, br) = raw(&app.router, post("gzip, br")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-encoding"], "br");
    assert_eq!(unbrotli(&br), plain);
    let etag = headers["etag"].to_str().unwrap().to_string();
    assert!(etag.ends_with("-br\""), "{etag}");
    let (_, _, again) = raw(&app.router, post("br")).await;
    assert_eq!(again, br, "the stored compressed body is served again");

    let mut conditional = post("br");
    conditional.headers_mut().insert("if-none-match", etag.parse().unwrap());
    let (status, headers, _) = raw(&app.router, conditional).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(headers["vary"], "Accept-Encoding, Accept, Authorization");

    // A client that accepts no compression gets the identity body.
    let (status, headers, identity) = raw(&app.router, post("identity")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get("content-encoding").is_none());
    assert_eq!(String::from_utf8(identity.to_vec()).unwrap(), plain);

    // Uncached answers (with a token) are compressed by the layer.
    let token = app.token("reader", backlot::service::token::Role::Preview).await;
    let mut private = post("gzip");
    private.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (status, headers, body) = raw(&app.router, private).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(gunzip(&body), plain);
}

/// A tiny reader of the Prometheus text format: `name{labels}` -> value, and `# TYPE` lines.
fn parse_metrics(text: &str) -> (HashMap<String, f64>, HashMap<String, String>) {
    let mut samples = HashMap::new();
    let mut types = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            types.insert(name.to_string(), kind.to_string());
        } else if line.starts_with('#') || line.is_empty() {
            continue;
        } else {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("sample line: {line}"));
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("numeric value: {line}"));
            if let Some(open) = series.find('{') {
                assert!(series.ends_with('}'), "labels close: {line}");
                let name = &series[..open];
                assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "metric name: {line}");
            }
            samples.insert(series.to_string(), value);
        }
    }
    (samples, types)
}

fn sum_of(samples: &HashMap<String, f64>, prefix: &str, contains: &str) -> f64 {
    samples.iter().filter(|(k, _)| k.starts_with(prefix) && k.contains(contains)).map(|(_, v)| v).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_and_count_requests_cache_statements_and_the_pool() {
    let app = TestApp::with_demo().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let query =
        json!({ "query": format!("{{ article(slug: \"{ORIGINAL_SLUG}\") {{ title questions {{ question }} }} }}") });
    for _ in 0..2 {
        assert_eq!(app.post_json(query.clone()).await.status, StatusCode::OK);
    }
    let scrape = app.request(Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(scrape.status, StatusCode::OK);
    assert!(scrape.content_type().starts_with("text/plain"), "{}", scrape.content_type());
    let (samples, types) = parse_metrics(&scrape.body);
    assert_eq!(types["backlot_http_requests_total"], "counter");
    assert_eq!(types["backlot_http_request_duration_seconds"], "histogram");
    assert_eq!(types["backlot_sql_statements_per_request"], "histogram");
    assert!(sum_of(&samples, "backlot_http_requests_total{", "route=\"/graphql\"") >= 2.0, "{}", scrape.body);
    assert!(sum_of(&samples, "backlot_http_request_duration_seconds_count", "route=\"/graphql\"") >= 2.0);
    assert!(samples["backlot_cache_hits_total"] >= 1.0, "the second request was a hit");
    assert!(samples["backlot_cache_misses_total"] >= 1.0);
    assert!(samples.contains_key("backlot_cache_bytes"));
    assert!(samples.contains_key("backlot_cache_evictions_total"));
    assert!(samples["backlot_sql_statements_per_request_sum"] >= 1.0, "the miss ran statements");
    assert!(samples["backlot_db_pool_connections{state=\"open\"}"] >= 1.0);
    assert!(samples.contains_key("backlot_db_pool_connections{state=\"idle\"}"));
    assert!(types.contains_key("backlot_scheduler_runs_total"));
    assert!(types.contains_key("backlot_import_pages_total"));

    // Invented methods share one label, so they cannot grow the metrics without bound.
    for method in ["FROB", "XYZZYMETHOD"] {
        app.request(Request::builder().method(method).uri("/healthz").body(Body::empty()).unwrap()).await;
    }
    let scrape = app.request(Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert!(!scrape.body.contains("FROB") && !scrape.body.contains("XYZZYMETHOD"), "{}", scrape.body);
    assert!(scrape.body.contains("method=\"other\""), "{}", scrape.body);

    // With --metrics-listen, the main router has no /metrics.
    let split = serve_router(&app, &http_settings(|h| h.metrics_listen = Some("127.0.0.1:0".parse().unwrap())));
    let missing = send(&split, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_checks_the_database_and_migrations_and_healthz_does_not_touch_it() {
    let app = TestApp::new().await;
    let ready = app.request(Request::get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.json()["status"], "ready");

    let (health, statements) =
        app.count_statements(app.request(Request::get("/healthz").body(Body::empty()).unwrap())).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(statements, 0, "liveness must not wait for the database");

    // A migration recorded as not applied: not ready, and says why.
    app.db
        .execute_unprepared("DELETE FROM seaql_migrations WHERE version = (SELECT MAX(version) FROM seaql_migrations)")
        .await
        .expect("forget one migration");
    let pending = app.request(Request::get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(pending.status, StatusCode::SERVICE_UNAVAILABLE);
    let reason = pending.json()["reason"].as_str().unwrap_or("").to_string();
    assert!(reason.contains("migrations pending: 1"), "{reason}");

    // The database gone (the pool closed): not ready, but the process is alive.
    app.db.clone().close().await.expect("close the pool");
    let gone = app.request(Request::get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(gone.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(gone.json()["reason"], "database unreachable");
    let alive = app.request(Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(alive.status, StatusCode::OK, "{}", alive.body);
}

/// A request body that sends `first` and then never finishes.
struct Stalled(Option<Bytes>);

impl HttpBody for Stalled {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        match self.0.take() {
            Some(first) => Poll::Ready(Some(Ok(http_body::Frame::data(first)))),
            None => Poll::Pending,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_arriving_is_answered_408_within_the_deadline() {
    let app = TestApp::new().await;
    let router = serve_router(&app, &http_settings(|h| h.body_read_timeout_seconds = 1));
    let started = Instant::now();
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::new(Stalled(Some(Bytes::from_static(br#"{"query":"{ __typ"#)))))
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(5), send(&router, request)).await.expect("answered");
    assert_eq!(response.status, StatusCode::REQUEST_TIMEOUT, "{}", response.body);
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    let body: Value = response.json();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_graphql_answer_varies_by_accept_encoding_accept_and_authorization() {
    let app = TestApp::new().await;
    let graphiql =
        app.request(Request::get("/graphql").header("accept", "text/html").body(Body::empty()).unwrap()).await;
    assert_eq!(graphiql.status, StatusCode::OK);
    assert_eq!(header(&graphiql, "vary"), "Accept-Encoding, Accept, Authorization");
    let refused = app
        .request(
            Request::post("/graphql")
                .header("accept", "text/csv")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"query":"{ __typename }"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(header(&refused, "vary"), "Accept-Encoding, Accept, Authorization");
}
