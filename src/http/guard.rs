//! What the server enforces before a handler runs: CORS, the request body deadline, the per-IP rate limit.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::metrics::METRICS;
use super::observe::{REQUEST_ID, error_response};

/// CORS for the configured origins, or `None` (no CORS headers at all) when there are none.
/// Credentials stay off: tokens travel in `Authorization`, which needs no cookies.
pub fn cors(origins: &[String]) -> Result<Option<CorsLayer>, String> {
    let origins: Vec<&str> = origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()).collect();
    if origins.is_empty() {
        return Ok(None);
    }
    let allow = if origins.contains(&"*") {
        AllowOrigin::any()
    } else {
        let mut values = Vec::with_capacity(origins.len());
        for origin in origins {
            let origin = origin.trim_end_matches('/');
            let host = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
            if host.is_none_or(|h| h.is_empty() || h.contains('/')) {
                return Err(format!("--cors-origin: {origin:?} is not an origin such as https://www.example.com"));
            }
            values.push(HeaderValue::from_str(origin).map_err(|_| format!("--cors-origin: {origin:?} is not valid"))?);
        }
        AllowOrigin::list(values)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, HeaderName::from_static(REQUEST_ID)])
            .expose_headers([HeaderName::from_static(REQUEST_ID), header::ETAG])
            .max_age(Duration::from_secs(600)),
    ))
}

/// Reads the whole request body within `timeout`: a client that sends headers and then trickles (or
/// stops) gets 408 instead of holding a worker. Bodies over `max_bytes` get 413.
pub async fn body_deadline(
    State((timeout, max_bytes)): State<(Duration, usize)>,
    request: Request,
    next: Next,
) -> Response {
    use axum::body::HttpBody as _;
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let limited = http_body_util::Limited::new(body, max_bytes);
    match tokio::time::timeout(timeout, limited.collect()).await {
        Ok(Ok(collected)) => next.run(Request::from_parts(parts, Body::from(collected.to_bytes()))).await,
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            let message = format!("the request body is over {max_bytes} bytes (--max-body-bytes)");
            // The JSON API answers with problem+json (RFC 9457); GraphQL keeps its `errors` shape.
            if parts.uri.path().starts_with("/api/") {
                super::imports::problem_json(StatusCode::PAYLOAD_TOO_LARGE, crate::error::code::BAD_REQUEST, &message)
            } else {
                error_response(StatusCode::PAYLOAD_TOO_LARGE, &message)
            }
        }
        Ok(Err(e)) => {
            tracing::debug!("cannot read the request body: {e}");
            error_response(StatusCode::BAD_REQUEST, "the request body could not be read")
        }
        Err(_) => {
            let mut response = error_response(
                StatusCode::REQUEST_TIMEOUT,
                &format!("the request body did not arrive within {} s", timeout.as_secs()),
            );
            // The rest of the body may still be on its way: do not try to read the next request after it.
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// A token bucket per client IP: `per_minute` requests, refilled evenly over the minute.
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

/// Forget idle clients past this many, so the table stays bounded.
const MAX_TRACKED: usize = 100_000;

impl RateLimiter {
    pub fn new(per_minute: u32) -> Arc<RateLimiter> {
        Arc::new(RateLimiter { per_minute, buckets: Mutex::new(HashMap::new()) })
    }

    /// `Ok` to go ahead, or the seconds to wait before the next request is allowed.
    fn check(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&ip) {
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * per_second < capacity);
        }
        let (tokens, at) = buckets.entry(ip).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * per_second).min(capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / per_second).ceil().max(1.0) as u64)
        }
    }
}

/// Limits anonymous requests per client IP; requests with a token are the operator's own and pass.
pub async fn rate_limit(State(limiter): State<Arc<RateLimiter>>, request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    // Probes from a load balancer or Prometheus must never be refused.
    let probe = matches!(request.uri().path(), "/healthz" | "/readyz" | "/metrics");
    if let Some(ip) = peer
        && !probe
        && !request.headers().contains_key(header::AUTHORIZATION)
        && let Err(wait) = limiter.check(ip, Instant::now())
    {
        METRICS.rate_limited.inc();
        let mut response = error_response(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("too many requests from this address; retry in {wait} s"),
        );
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return response;
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_refills_over_the_minute() {
        let limiter = RateLimiter::new(2);
        let ip: IpAddr = [127, 0, 0, 1].into();
        let start = Instant::now();
        assert!(limiter.check(ip, start).is_ok());
        assert!(limiter.check(ip, start).is_ok());
        assert_eq!(limiter.check(ip, start), Err(30));
        assert!(limiter.check(ip, start + Duration::from_secs(30)).is_ok());
        assert!(limiter.check([10, 0, 0, 1].into(), start).is_ok(), "other clients have their own bucket");
    }
}
