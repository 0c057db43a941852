//! HTTP wiring, one file per role: `router` (routes and middleware), `graphql` (GraphQL over HTTP at
//! `/graphql`, POST and GET), `auth` (bearer tokens), `graphiql` (the explorer, served from the binary),
//! `bench` (`serve --bench` only), and the server, guard, observe and metrics layers.
//!
//! The GraphQL handler follows the GraphQL-over-HTTP spec closely (media types, status codes for
//! request errors), so generic GraphQL clients and the `graphql-http` audit behave as expected.

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::cache::ResponseCache;
use crate::config::ApiSettings;
use crate::error::code;
use crate::graphql::BacklotSchema;
use crate::service::token::Principal;

mod auth;
mod bench;
mod graphiql;
mod graphql;
pub mod guard;
mod imports;
pub mod metrics;
pub mod observe;
pub mod persisted;
pub mod rest;
mod router;
pub mod server;

pub use router::build_router;

#[derive(Clone)]
pub struct AppState {
    pub schema: BacklotSchema,
    pub db: DatabaseConnection,
    pub settings: ApiSettings,
    /// Set by `serve --bench`: statements run so far, for the per-response header.
    pub sql_statements: Option<Arc<std::sync::atomic::AtomicU64>>,
    /// Public responses, when caching is on.
    pub cache: Option<Arc<ResponseCache>>,
    /// Automatic persisted queries and the optional allow-list.
    pub persisted: Arc<persisted::PersistedQueries>,
    /// `serve --replica-url`: where anonymous reads may go instead of `db` (the primary, for all else).
    pub replica: Option<Arc<crate::service::replica::Replica>>,
}

impl axum::extract::FromRef<AppState> for DatabaseConnection {
    fn from_ref(state: &AppState) -> DatabaseConnection {
        state.db.clone()
    }
}

pub(crate) const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
pub(crate) const JSON: &str = "application/json";

/// What a GraphQL answer depends on besides the URL and body: the media type (Accept), the token
/// (Authorization) and the compression (Accept-Encoding).
pub(crate) const VARY: &str = "Accept-Encoding, Accept, Authorization";

/// One error of a response body, the only shape the HTTP layer writes by hand: `message` and `extensions.code`.
pub(crate) fn coded_error(message: &str, code: &str) -> serde_json::Value {
    json!({ "message": message, "extensions": { "code": code } })
}

pub(crate) fn problem(status: StatusCode, media: &'static str, message: &str) -> axum::response::Response {
    let body = json!({ "errors": [coded_error(message, code::BAD_REQUEST)] });
    (status, [(header::CONTENT_TYPE, media)], body.to_string()).into_response()
}

pub(crate) fn respond(
    status: StatusCode,
    media: &'static str,
    principal: Option<&Principal>,
    body: String,
) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, HeaderValue::from_static(media))], body).into_response();
    let headers = response.headers_mut();
    // Answers differ by token, and a draft must never sit in a shared cache.
    headers.insert(header::VARY, HeaderValue::from_static(VARY));
    if principal.is_some() {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    }
    response
}

pub(crate) fn internal_error(detail: &dyn std::fmt::Display) -> serde_json::Value {
    let masked = crate::error::internal(detail);
    coded_error(&masked.message, code::INTERNAL_SERVER_ERROR)
}
