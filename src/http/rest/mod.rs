//! The REST/JSON reads under `/api/v1/`. Each route runs one fixed GraphQL document (see `routes`) on the
//! same schema as `/graphql`, through the same visibility, loaders, limits, budgets and response cache,
//! so both APIs answer with the same names and shapes by construction. The answer is reshaped: the root
//! field unwrapped, connections as `{ "items", "totalCount", "nextCursor" }` with a `Link: rel="next"`
//! header, and errors as `application/problem+json` (RFC 9457) whose `code` is GraphQL's `extensions.code`.

pub mod openapi;
pub mod routes;

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use async_graphql::{Name, Value};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, get};
use serde_json::json;

use super::graphql::{
    Budget, CacheHints, Executed, from_cache, run_one, serialize_within, with_statement_count, with_surrogate_keys,
};
use super::{AppState, JSON};
use crate::error::code;
use crate::service::token::Principal;
use routes::{DEFAULT_LIMIT, MAX_LIMIT, ORDERS, Param, ROUTES, Route, Shape};

pub(crate) const PROBLEM: &str = "application/problem+json";
pub(crate) const LD_JSON: &str = "application/ld+json";

/// Adds every `/api/v1` read to `router`; unknown paths under `/api/v1/` answer a problem+json 404.
pub(super) fn routes(mut router: Router<AppState>) -> Router<AppState> {
    for route in ROUTES {
        let handler = move |state: State<AppState>,
                            headers: HeaderMap,
                            path: Result<Path<HashMap<String, String>>, PathRejection>,
                            query: RawQuery| { read(route, state, headers, path, query) };
        router = router.route(route.path, read_only(get(handler)));
    }
    router
        .route(openapi::PATH, read_only(get(openapi::serve)))
        .route("/api/v1", any(|| async { not_found_endpoint() }))
        .route("/api/v1/", any(|| async { not_found_endpoint() }))
        .route("/api/v1/{*rest}", any(|| async { not_found_endpoint() }))
}

/// Only GET (and HEAD) are routed; any other method is a problem+json 405 naming the allowed ones.
fn read_only(router: MethodRouter<AppState>) -> MethodRouter<AppState> {
    router.fallback(|| async {
        let mut response =
            problem(StatusCode::METHOD_NOT_ALLOWED, code::BAD_REQUEST, "this endpoint only reads: use GET");
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        response
    })
}

/// Refusals the guards and the token check give themselves (429, 413, 401) come in GraphQL's error shape;
/// under `/api/v1/` they become problem+json like every other error there, keeping their headers
/// (`Retry-After`, `WWW-Authenticate`).
pub(super) async fn problems(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let rest = request.uri().path().starts_with("/api/v1/");
    let response = next.run(request).await;
    let json = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes() == JSON.as_bytes());
    if !rest || response.status().is_success() || !json {
        return response;
    }
    // The refusals this converts are small; a large error answer is a handler's own (a 422 with the results
    // of thousands of files) and passes untouched, never buffered or cut.
    const REFUSAL_BYTES: usize = 64 * 1024;
    let small = axum::body::HttpBody::size_hint(response.body()).upper().is_some_and(|n| n <= REFUSAL_BYTES as u64);
    if !small {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, REFUSAL_BYTES).await else {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, code::INTERNAL_SERVER_ERROR, "the answer could not be read");
    };
    // Only the GraphQL error shape is converted; a handler's own JSON (per-file import results) passes as is.
    let shaped = serde_json::from_slice::<serde_json::Value>(&bytes)
        .is_ok_and(|v| v["errors"][0]["extensions"]["code"].is_string() && v.get("data").is_none());
    if !shaped {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    let mut converted = problem_from_errors(&String::from_utf8_lossy(&bytes), parts.status);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            converted.headers_mut().insert(name, value.clone());
        }
    }
    converted
}

fn not_found_endpoint() -> Response {
    problem(StatusCode::NOT_FOUND, code::NOT_FOUND, "no such endpoint; the routes are listed at /api/v1/openapi.json")
}

/// An RFC 9457 problem: `type`, `title`, `status`, `detail`, and GraphQL's stable `code`.
pub(crate) fn problem(status: StatusCode, code: &str, detail: &str) -> Response {
    let body = json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
        "code": code,
    });
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM))], body.to_string()).into_response()
}

/// The HTTP status for an error code (the one mapping, shared with every route).
pub(crate) fn status_of(code: &str) -> StatusCode {
    match code {
        code::NOT_FOUND => StatusCode::NOT_FOUND,
        code::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
        code::FORBIDDEN => StatusCode::FORBIDDEN,
        code::CONFLICT => StatusCode::CONFLICT,
        code::RATE_LIMITED => StatusCode::TOO_MANY_REQUESTS,
        code::TIMEOUT => StatusCode::SERVICE_UNAVAILABLE,
        code::INTERNAL_SERVER_ERROR => StatusCode::INTERNAL_SERVER_ERROR,
        // Bad input, bad paging, a too complex or too large answer: the client can ask differently.
        _ => StatusCode::BAD_REQUEST,
    }
}

/// A GraphQL-shaped error body (`{"errors":[{message, extensions.code}]}`) as a problem.
fn problem_from_errors(body: &str, fallback: StatusCode) -> Response {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let error = &value["errors"][0];
    let code = error["extensions"]["code"].as_str().unwrap_or(code::INTERNAL_SERVER_ERROR);
    let detail = error["message"].as_str().unwrap_or("the request failed");
    let status = if fallback.is_success() { status_of(code) } else { fallback };
    problem(status, code, detail)
}

/// Whether the client accepts `media` (or JSON in general).
fn acceptable(headers: &HeaderMap, media: &str) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    accept
        .split(',')
        .map(|t| t.split(';').next().unwrap_or("").trim())
        .any(|t| t == media || t == JSON || t == PROBLEM || t == "*/*" || t == "application/*" || t.is_empty())
}

/// The GraphQL variables for a request, or the 400 naming the parameter that is wrong.
fn variables(route: &Route, path: &HashMap<String, String>, raw: &str) -> Result<serde_json::Value, String> {
    let uri: axum::http::Uri = format!("/?{raw}").parse().map_err(|_| "the query string is malformed".to_string())?;
    let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map_err(|_| "the query string is malformed".to_string())?
        .0;
    let mut given: HashMap<&str, &str> = HashMap::new();
    for (name, value) in &pairs {
        let Some(param) = route.params.iter().find(|p| p.name() == name) else {
            let known: Vec<&str> = route.params.iter().map(|p| p.name()).collect();
            return Err(if known.is_empty() {
                format!("{name}: unknown parameter; this route takes none")
            } else {
                format!("{name}: unknown parameter; this route takes {}", known.join(", "))
            });
        };
        if given.insert(param.name(), value.as_str()).is_some() {
            return Err(format!("{name}: given more than once"));
        }
    }
    let mut vars = serde_json::Map::new();
    let mut filter = serde_json::Map::new();
    if let Some(key) = route.key {
        let value = path.get(key.name()).map(String::as_str).unwrap_or_default();
        vars.insert(key.name().into(), json!(value));
    }
    for param in route.params {
        let value = given.get(param.name()).copied();
        match param {
            Param::Limit => {
                let limit = match value {
                    None => DEFAULT_LIMIT,
                    Some(v) => v
                        .parse::<i64>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| format!("limit: must be a whole number from 1 to {MAX_LIMIT}, not {v:?}"))?,
                };
                vars.insert("first".into(), json!(limit));
            }
            Param::After => {
                if let Some(v) = value {
                    vars.insert("after".into(), json!(v));
                }
            }
            Param::Search => {
                let v =
                    value.map(str::trim).filter(|v| !v.is_empty()).ok_or("q: is required (the words to search for)")?;
                vars.insert("query".into(), json!(v));
            }
            Param::Collection | Param::Text | Param::Article => {
                if let Some(v) = value {
                    let key = match param {
                        Param::Collection => "collection",
                        Param::Article => "article",
                        _ => "text",
                    };
                    filter.insert(key.into(), json!(v));
                }
            }
            Param::PublishedAfter | Param::PublishedBefore => {
                if let Some(v) = value {
                    chrono::DateTime::parse_from_rfc3339(v).map_err(|_| {
                        format!(
                            "{}: must be an RFC 3339 date-time such as 2026-01-31T00:00:00Z, not {v:?}",
                            param.name()
                        )
                    })?;
                    filter.insert(param.name().into(), json!(v));
                }
            }
            Param::Order => {
                if let Some(v) = value {
                    if !ORDERS.contains(&v) {
                        return Err(format!("order: must be one of {}, not {v:?}", ORDERS.join(", ")));
                    }
                    let (direction, field) = match v.strip_prefix('-') {
                        Some(field) => ("DESC", field),
                        None => ("ASC", v),
                    };
                    let field = if field == "title" { "TITLE" } else { "PUBLISHED_AT" };
                    vars.insert("orderBy".into(), json!({ "field": field, "direction": direction }));
                }
            }
        }
    }
    if !filter.is_empty() {
        vars.insert("filter".into(), serde_json::Value::Object(filter));
    }
    Ok(serde_json::Value::Object(vars))
}

/// A connection (`nodes` + `pageInfo`) as `{ items, totalCount, nextCursor }`; everything else as is.
fn reshape(value: Value) -> Value {
    match value {
        Value::Object(map) if map.contains_key("nodes") && map.contains_key("pageInfo") => {
            let mut map = map;
            let items = map.shift_remove("nodes").unwrap_or(Value::Null);
            let info = map.shift_remove("pageInfo").unwrap_or(Value::Null);
            let next = match &info {
                Value::Object(info) if info.get("hasNextPage") == Some(&Value::Boolean(true)) => {
                    info.get("endCursor").cloned().unwrap_or(Value::Null)
                }
                _ => Value::Null,
            };
            let mut out = async_graphql::indexmap::IndexMap::new();
            out.insert(Name::new("items"), reshape(items));
            if let Some(total) = map.shift_remove("totalCount") {
                out.insert(Name::new("totalCount"), total);
            }
            out.insert(Name::new("nextCursor"), next);
            Value::Object(out)
        }
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, reshape(v))).collect()),
        Value::List(items) => Value::List(items.into_iter().map(reshape).collect()),
        other => other,
    }
}

/// The route's body from GraphQL's `data`; `None` when a field on the way is null (not found, or not visible).
fn unwrap(route: &Route, data: Value) -> Option<Value> {
    let mut value = data;
    for field in route.unwrap {
        value = match value {
            Value::Object(mut map) => map.shift_remove(*field).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        if value == Value::Null {
            return None;
        }
    }
    Some(match route.shape {
        Shape::List => {
            let mut out = async_graphql::indexmap::IndexMap::new();
            out.insert(Name::new("items"), reshape(value));
            Value::Object(out)
        }
        Shape::JsonLd => value,
        _ => reshape(value),
    })
}

/// Where the next page is, read back from a body (cached bodies carry no headers of their own).
fn next_cursor(route: &Route, body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Paged {
        #[serde(rename = "nextCursor")]
        next_cursor: Option<String>,
    }
    match route.shape {
        Shape::Page => serde_json::from_slice::<Paged>(body).ok()?.next_cursor,
        Shape::PageAt(field) => {
            let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
            value.get_mut(field)?.get_mut("nextCursor")?.as_str().map(str::to_string)
        }
        _ => None,
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `Link: <same path and query, `after` replaced>; rel="next"` when there is a next page.
fn with_link(route: &Route, uri_path: &str, raw: &str, body: &[u8], response: &mut Response) {
    let Some(cursor) = next_cursor(route, body) else { return };
    let mut query: Vec<String> =
        raw.split('&').filter(|p| !p.is_empty() && !p.starts_with("after=")).map(str::to_string).collect();
    query.push(format!("after={}", percent_encode(&cursor)));
    let link = format!("<{uri_path}?{}>; rel=\"next\"", query.join("&"));
    if let Ok(value) = HeaderValue::from_str(&link) {
        response.headers_mut().insert(header::LINK, value);
    }
}

/// The path as the client sent it, slug and all (for the Link header).
fn request_path(route: &Route, path: &HashMap<String, String>) -> String {
    match route.key {
        Some(key) => {
            let value = path.get(key.name()).map(String::as_str).unwrap_or_default();
            route.path.replace(&format!("{{{}}}", key.name()), &percent_encode(value))
        }
        None => route.path.to_string(),
    }
}

async fn read(
    route: &'static Route,
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<HashMap<String, String>>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Response {
    let path = match (path, route.key) {
        (Ok(Path(path)), _) => path,
        (Err(_), None) => HashMap::new(),
        (Err(e), Some(key)) => {
            return problem(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, &format!("{}: {e}", key.name()));
        }
    };
    let media = if route.shape == Shape::JsonLd { LD_JSON } else { JSON };
    if !acceptable(&headers, media) {
        return problem(StatusCode::NOT_ACCEPTABLE, code::BAD_REQUEST, &format!("this endpoint answers {media}"));
    }
    let raw = raw.unwrap_or_default();
    let vars = match variables(route, &path, &raw) {
        Ok(v) => v,
        Err(message) => return problem(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, &message),
    };
    let uri_path = request_path(route, &path);
    let anonymous = !headers.contains_key(header::AUTHORIZATION);
    let cache = state.cache.as_ref().filter(|_| anonymous);
    // The key names the route's document by its path and holds the exact query; GraphQL's keys start
    // with the method instead, so the two never collide.
    let key = format!("{media} REST {uri_path}?{raw}").into_bytes();
    if let Some(cache) = cache
        && let Some(hit) = cache.get(&key)
    {
        let mut response = from_cache(cache, &hit, media, &headers);
        if response.status() == StatusCode::OK {
            with_link(route, &uri_path, &raw, &hit.body, &mut response);
        }
        return response;
    }
    let principal = match super::auth::authenticate(&state, &headers, JSON).await {
        Ok(p) => p,
        Err(refused) => return refused_as_problem(refused).await,
    };
    let stamp = cache.and_then(|c| c.stamp());
    let before = state.sql_statements.as_ref().map(|c| c.load(Ordering::Relaxed));
    let request = async_graphql::Request::new(route.document).variables(async_graphql::Variables::from_json(vars));
    let mut budget = Budget::new(&state.settings);
    let mut response = match execute(&state, route, principal.as_ref(), request, &mut budget).await {
        Err(response) => response,
        Ok((body, hints)) => match (cache, stamp) {
            (Some(cache), Some(stamp)) => {
                let entry = cache.put(key, stamp, Bytes::from(body), hints.expires_at, hints.tags);
                let mut response = from_cache(cache, &entry, media, &headers);
                if response.status() == StatusCode::OK {
                    with_link(route, &uri_path, &raw, &entry.body, &mut response);
                }
                response
            }
            _ => {
                let mut response = super::respond(StatusCode::OK, media, principal.as_ref(), body.clone());
                with_link(route, &uri_path, &raw, body.as_bytes(), &mut response);
                if principal.is_none() {
                    with_surrogate_keys(&hints.tags, &mut response);
                }
                response
            }
        },
    };
    if principal.is_some() {
        // Drafts (and their errors) never sit in a shared cache.
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    }
    with_statement_count(&state, before, &mut response);
    response
}

/// Runs the route's document: its body with what a cached copy must know, or the problem to send.
async fn execute(
    state: &AppState,
    route: &Route,
    principal: Option<&Principal>,
    request: async_graphql::Request,
    budget: &mut Budget,
) -> Result<(String, CacheHints), Response> {
    let from_executed = |done: Executed| problem_from_errors(&done.body, done.status);
    let (response, hints) = run_one(state, JSON, principal, request, budget).await.map_err(from_executed)?;
    if let Some(error) = response.errors.first() {
        let code = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .and_then(|c| match c {
                Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| code::INTERNAL_SERVER_ERROR.to_string());
        // A message names the GraphQL argument at fault; here the query parameter that filled it is named.
        let renamed = route.params.iter().find_map(|p| {
            let rest = error.message.strip_prefix(p.graphql_name())?.strip_prefix(':')?;
            Some(format!("{}:{rest}", p.name()))
        });
        return Err(problem(status_of(&code), &code, renamed.as_deref().unwrap_or(&error.message)));
    }
    let body = match unwrap(route, response.data) {
        Some(body) => body,
        None => {
            let detail = format!("{} not found, or not visible to you", route.entity());
            return Err(problem(StatusCode::NOT_FOUND, code::NOT_FOUND, &detail));
        }
    };
    Ok((serialize_within(state, &body, budget).map_err(from_executed)?, hints))
}

/// A refused token (401, or 503 when the store is busy) as a problem, keeping `WWW-Authenticate`.
async fn refused_as_problem(refused: Response) -> Response {
    let status = refused.status();
    let challenge = refused.headers().get(header::WWW_AUTHENTICATE).cloned();
    let body = axum::body::to_bytes(refused.into_body(), 64 * 1024).await.unwrap_or_default();
    let mut response = problem_from_errors(&String::from_utf8_lossy(&body), status);
    if let Some(challenge) = challenge {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}
