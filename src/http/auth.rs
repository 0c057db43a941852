//! Who is calling: the bearer token of a request.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use super::{AppState, respond};
use crate::error::code;
use crate::service::token::{self, Principal};

/// A request whose token was refused: the status to send and the coded error (a 401 also sends
/// `WWW-Authenticate: Bearer`).
pub(super) struct Refusal {
    pub status: StatusCode,
    pub error: async_graphql::Error,
}

/// The caller behind `Authorization: Bearer`, `Ok(None)` without the header, or why the token is refused.
pub(super) async fn principal(state: &AppState, headers: &HeaderMap) -> Result<Option<Principal>, Refusal> {
    use async_graphql::ErrorExtensions;
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let unauthenticated = |message: &str| Refusal {
        status: StatusCode::UNAUTHORIZED,
        error: async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code::UNAUTHENTICATED)),
    };
    // The scheme is case-insensitive (RFC 9110 §11.1): "bearer", "BEARER" and "Bearer" are the same.
    let credentials = value.to_str().ok().and_then(|v| v.trim().split_once(' '));
    let Some(secret) =
        credentials.filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")).map(|(_, secret)| secret.trim())
    else {
        return Err(unauthenticated("the Authorization header must be \"Bearer <token>\""));
    };
    match token::authenticate(&state.db, secret).await {
        Ok(Ok(principal)) => Ok(Some(principal)),
        Ok(Err(reason)) => Err(unauthenticated(&reason.to_string())),
        Err(e) => {
            // A database too busy to look the token up within the budget is a 503 the client may retry.
            let status = match &e {
                crate::service::ServiceError::Database(db) if crate::statement_budget::is_timeout(db) => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            Err(Refusal { status, error: crate::error::to_graphql_error(e) })
        }
    }
}

/// [`principal`], with a refusal as the GraphQL-shaped response to send.
pub(super) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    media: &'static str,
) -> Result<Option<Principal>, Response> {
    principal(state, headers).await.map_err(|Refusal { status, error }| {
        let body = json!({ "errors": [{ "message": error.message, "extensions": error.extensions }] });
        let mut response = respond(status, media, None, body.to_string());
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    })
}
