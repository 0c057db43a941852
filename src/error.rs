//! The one mapping from layer errors to what clients see: GraphQL `extensions.code`, HTTP status, exit codes.

use async_graphql::ErrorExtensions;

use crate::service::ServiceError;

/// Stable codes clients can branch on.
pub mod code {
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// The request ran out of its time budget (`--request-timeout-ms`); its database work was stopped.
    pub const TIMEOUT: &str = "TIMEOUT";
    /// The answer would exceed `--max-response-bytes`.
    pub const RESPONSE_TOO_LARGE: &str = "RESPONSE_TOO_LARGE";
    /// Too many anonymous requests from one address (`--rate-limit-per-minute`); HTTP 429 with Retry-After.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// An automatic persisted query's hash this process does not know: send the query text with it once.
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    /// `--persisted-queries-only`: a request without a token asked for an operation not on the list.
    pub const PERSISTED_QUERY_NOT_IN_LIST: &str = "PERSISTED_QUERY_NOT_IN_LIST";
}

pub fn bad_input(field: &str, message: &str) -> async_graphql::Error {
    async_graphql::Error::new(format!("{field}: {message}")).extend_with(|_, e| {
        e.set("code", code::BAD_USER_INPUT);
        e.set("field", field);
    })
}

/// Internal detail goes to the log under a reference the client can quote; the client sees only the reference.
pub fn internal(detail: &dyn std::fmt::Display) -> async_graphql::Error {
    let reference = uuid::Uuid::new_v4().simple().to_string();
    // The log line carries the request id through the request's span; the client gets it to quote.
    let request_id = crate::http::observe::current_request_id();
    tracing::error!(error_id = %reference, "internal error: {detail}");
    async_graphql::Error::new(format!("internal server error (reference {reference})")).extend_with(|_, e| {
        e.set("code", code::INTERNAL_SERVER_ERROR);
        e.set("errorId", reference.as_str());
        if let Some(id) = &request_id {
            e.set("requestId", id.as_str());
        }
    })
}

pub fn to_graphql_error(err: ServiceError) -> async_graphql::Error {
    match err {
        ServiceError::BadInput { field, message } => bad_input(&field, &message),
        ServiceError::NotFound { entity, key } => async_graphql::Error::new(format!("{entity} not found: {key}"))
            .extend_with(|_, e| e.set("code", code::NOT_FOUND)),
        ServiceError::Conflict(message) => {
            async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code::CONFLICT))
        }
        ServiceError::StaleVersion { entity, expected, current } => async_graphql::Error::new(format!(
            "{entity} was changed since version {expected}; it is now at version {current}"
        ))
        .extend_with(|_, e| {
            e.set("code", code::CONFLICT);
            e.set("currentVersion", current);
        }),
        ServiceError::Forbidden(message) => {
            async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code::FORBIDDEN))
        }
        ServiceError::Unauthenticated => {
            async_graphql::Error::new(err.to_string()).extend_with(|_, e| e.set("code", code::UNAUTHENTICATED))
        }
        ServiceError::RoleTooLow { field, .. } => async_graphql::Error::new(err.to_string()).extend_with(|_, e| {
            e.set("code", code::FORBIDDEN);
            if let Some(field) = field {
                e.set("field", field);
            }
        }),
        ServiceError::Database(db) if crate::statement_budget::is_timeout(&db) => async_graphql::Error::new(
            "the database could not answer within the request's time budget (a long statement was stopped, or \
                 it waited too long for a connection or for another writer); try again",
        )
        .extend_with(|_, e| e.set("code", code::TIMEOUT)),
        ServiceError::Database(db) => internal(&db),
    }
}

/// `service_call().await.gql()?` — the only way service errors reach GraphQL.
pub trait GqlResult<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResult<T> for Result<T, ServiceError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(to_graphql_error)
    }
}

/// Why a command failed; each maps to an exit code scripts can test.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot open the database: {0}")]
    Database(#[source] sea_orm::DbErr),
    #[error("cannot open the database: {0}")]
    Unreachable(String),
    #[error("{0}")]
    Service(#[from] ServiceError),
    /// Some input files were refused (each reported on its own line before).
    #[error("{0}")]
    Rejected(String),
    #[error("{path}: {message}")]
    Input { path: String, message: String },
    #[error("{0}")]
    Server(String),
    /// `import --server`: the server did not answer.
    #[error("cannot reach the server: {0}")]
    ServerUnreachable(String),
    #[error("{message}")]
    Usage { message: String },
}

impl CliError {
    /// 1 = generic failure, 2 = usage (clap), 3 = the database (unreachable, migration failed, or a statement
    /// failed) or, with `import --server`, the server unreachable, 4 = bad input file.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Database(_) | CliError::Unreachable(_) | CliError::ServerUnreachable(_) => 3,
            CliError::Input { .. } | CliError::Rejected(_) => 4,
            CliError::Usage { .. } => 2,
            CliError::Service(ServiceError::BadInput { .. }) => 4,
            CliError::Service(ServiceError::Database(_)) => 3,
            _ => 1,
        }
    }
}
