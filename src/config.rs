//! Settings shared by the commands: flags first, then environment, then the defaults.

use std::net::SocketAddr;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://backlot.db";

/// Every default, written once: the flags' `default_value_t` and the `Default` impls both read these.
pub mod defaults {
    pub const MAX_DEPTH: usize = 16;
    pub const MAX_COMPLEXITY: usize = 20_000;
    pub const MAX_ALIASES: usize = 30;
    pub const MAX_BODY_BYTES: usize = 256 * 1024;
    pub const MAX_BATCH: usize = 10;
    pub const CACHE_MB: usize = 64;
    pub const CACHE_POLL_MS: u64 = 200;
    pub const REQUEST_TIMEOUT_MS: u64 = 10_000;
    pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
    pub const HEADER_READ_TIMEOUT_SECONDS: u64 = 10;
    pub const BODY_READ_TIMEOUT_SECONDS: u64 = 10;
    pub const SHUTDOWN_GRACE_SECONDS: u64 = 10;
    pub const RATE_LIMIT_PER_MINUTE: u32 = 0;
}

/// Limits on what one query may ask; the defaults fit the article page and the index of 100 articles
/// with room to spare.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits { max_depth: defaults::MAX_DEPTH, max_complexity: defaults::MAX_COMPLEXITY }
    }
}

/// A database URL Backlot can use: `sqlite://PATH` (or `sqlite::memory:`) or `postgres://…`.
fn database_url(url: &str) -> Result<String, String> {
    let sqlite_path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"));
    match sqlite_path {
        Some(path) if path.split('?').next().is_none_or(|p| p.trim().is_empty()) => {
            Err("a SQLite URL needs a file path, such as sqlite://backlot.db".into())
        }
        Some(_) => Ok(url.to_string()),
        None if url.starts_with("postgres://") || url.starts_with("postgresql://") => Ok(url.to_string()),
        None => Err("use sqlite://PATH or postgres://USER:PASSWORD@HOST/DATABASE".into()),
    }
}

/// A read replica's URL: PostgreSQL only (SQLite has no streaming replicas).
fn replica_url(url: &str) -> Result<String, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(url.to_string())
    } else {
        Err("a read replica is a PostgreSQL streaming replica: use postgres://USER:PASSWORD@HOST/DATABASE".into())
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct DatabaseConfig {
    /// Database to use: sqlite://PATH (created if missing) or postgres://USER:PASS@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true, value_parser = database_url, hide_env_values = true)]
    pub database_url: String,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "BACKLOT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Load the demo content set into an empty database before serving.
    #[arg(long)]
    pub demo: bool,
    /// How often to publish drafts whose publishAt has passed, in milliseconds.
    #[arg(long, env = "BACKLOT_SCHEDULE_INTERVAL_MS", default_value_t = 1000)]
    pub schedule_interval_ms: u64,
    #[command(flatten)]
    pub api: ApiSettings,
    #[command(flatten)]
    pub http: HttpSettings,
    /// An Apollo persisted query manifest (JSON): its operations are known by their SHA-256 from the start.
    #[arg(long, env = "BACKLOT_PERSISTED_QUERIES", value_name = "FILE")]
    pub persisted_queries: Option<std::path::PathBuf>,
    /// Requests without a token may run only the manifest's operations (an allow-list for production).
    #[arg(long, env = "BACKLOT_PERSISTED_QUERIES_ONLY", requires = "persisted_queries")]
    pub persisted_queries_only: bool,
    #[command(flatten)]
    pub webhooks: WebhookSettings,
    /// A PostgreSQL streaming replica of --database-url (postgres://...): anonymous reads go to it while it
    /// has replayed every change this process has seen, else to the primary; writes, token holders, the
    /// scheduler, webhooks and imports always use the primary. PostgreSQL only.
    #[arg(long, env = "BACKLOT_REPLICA_URL", value_name = "URL", value_parser = replica_url, hide_env_values = true)]
    pub replica_url: Option<String>,
    /// Benchmark aids: serve static JSON bodies at /bench/static/{bytes} (the baseline) and report each
    /// response's SQL statement count in an `x-backlot-sql-statements` header (exact only without concurrency).
    #[arg(long, hide = true)]
    pub bench: bool,
}

/// How the HTTP server treats connections, browsers and operators (timeouts, CORS, metrics, rate limit).
#[derive(clap::Args, Debug, Clone)]
pub struct HttpSettings {
    /// Seconds a client may take to send a request's headers before the connection is closed.
    #[arg(long, env = "BACKLOT_HEADER_READ_TIMEOUT_SECONDS", default_value_t = defaults::HEADER_READ_TIMEOUT_SECONDS)]
    pub header_read_timeout_seconds: u64,
    /// Seconds a client may take to send a request's body before it is answered 408.
    #[arg(long, env = "BACKLOT_BODY_READ_TIMEOUT_SECONDS", default_value_t = defaults::BODY_READ_TIMEOUT_SECONDS)]
    pub body_read_timeout_seconds: u64,
    /// On SIGTERM or Ctrl-C, seconds to let requests in flight finish before exiting anyway.
    #[arg(long, env = "BACKLOT_SHUTDOWN_GRACE_SECONDS", default_value_t = defaults::SHUTDOWN_GRACE_SECONDS)]
    pub shutdown_grace_seconds: u64,
    /// A browser origin allowed to call the API (CORS), e.g. https://www.example.com; repeat the flag or
    /// give a comma-separated list. None by default: no CORS headers at all.
    #[arg(long = "cors-origin", env = "BACKLOT_CORS_ORIGINS", value_name = "ORIGIN", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Serve /metrics (Prometheus) on this address instead of on the main one.
    #[arg(long, env = "BACKLOT_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// Requests per minute one client IP may send without a token (0 = no limit). For deployments
    /// without a proxy: behind one, every client shares the proxy's IP.
    #[arg(long, env = "BACKLOT_RATE_LIMIT_PER_MINUTE", default_value_t = defaults::RATE_LIMIT_PER_MINUTE)]
    pub rate_limit_per_minute: u32,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            header_read_timeout_seconds: defaults::HEADER_READ_TIMEOUT_SECONDS,
            body_read_timeout_seconds: defaults::BODY_READ_TIMEOUT_SECONDS,
            shutdown_grace_seconds: defaults::SHUTDOWN_GRACE_SECONDS,
            cors_origins: Vec::new(),
            metrics_listen: None,
            rate_limit_per_minute: defaults::RATE_LIMIT_PER_MINUTE,
        }
    }
}

/// Log output, for every command.
#[derive(clap::Args, Debug, Clone)]
pub struct LogConfig {
    /// text (for people) or json (one object per line, for log shippers).
    #[arg(long, env = "BACKLOT_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"], global = true)]
    pub log_format: String,
}

/// Limits and exposure of the GraphQL endpoint. The defaults fit the article page and the
/// 100-article index with room to spare.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct ApiSettings {
    /// Deepest selection nesting a query may have.
    #[arg(long, env = "BACKLOT_MAX_DEPTH", default_value_t = defaults::MAX_DEPTH, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1000))]
    pub max_depth: usize,
    /// Highest query complexity (each field costs 1; a connection multiplies its fields by its page size).
    #[arg(long, env = "BACKLOT_MAX_COMPLEXITY", default_value_t = defaults::MAX_COMPLEXITY, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_complexity: usize,
    /// Most aliases one query may use.
    #[arg(long, env = "BACKLOT_MAX_ALIASES", default_value_t = defaults::MAX_ALIASES, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=10000))]
    pub max_aliases: usize,
    /// Largest request body, in bytes (larger gets HTTP 413).
    #[arg(long, env = "BACKLOT_MAX_BODY_BYTES", default_value_t = defaults::MAX_BODY_BYTES, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..))]
    pub max_body_bytes: usize,
    /// Most operations in one batched (JSON array) request.
    #[arg(long, env = "BACKLOT_MAX_BATCH", default_value_t = defaults::MAX_BATCH, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1000))]
    pub max_batch: usize,
    /// Allow introspection without a token.
    #[arg(long, env = "BACKLOT_PUBLIC_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub public_introspection: bool,
    /// Serve GraphiQL to browsers without a token.
    #[arg(long, env = "BACKLOT_PUBLIC_GRAPHIQL", default_value_t = true, action = clap::ArgAction::Set)]
    pub public_graphiql: bool,
    /// Memory for cached public responses, in MiB (0 turns the cache off).
    #[arg(long, env = "BACKLOT_CACHE_MB", default_value_t = defaults::CACHE_MB)]
    pub cache_mb: usize,
    /// How often to check whether another process changed content, in milliseconds.
    #[arg(long, env = "BACKLOT_CACHE_POLL_MS", default_value_t = defaults::CACHE_POLL_MS)]
    pub cache_poll_ms: u64,
    /// Time budget of one request, in milliseconds: past it the request answers TIMEOUT and its database
    /// statement is stopped (SQLite interrupt, PostgreSQL statement_timeout).
    #[arg(long, env = "BACKLOT_REQUEST_TIMEOUT_MS", default_value_t = defaults::REQUEST_TIMEOUT_MS, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub request_timeout_ms: u64,
    /// Largest response body one request may produce, in bytes (a batch shares it); past it the answer is
    /// a RESPONSE_TOO_LARGE error.
    #[arg(long, env = "BACKLOT_MAX_RESPONSE_BYTES", default_value_t = defaults::MAX_RESPONSE_BYTES, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..))]
    pub max_response_bytes: usize,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            max_depth: defaults::MAX_DEPTH,
            max_complexity: defaults::MAX_COMPLEXITY,
            max_aliases: defaults::MAX_ALIASES,
            max_body_bytes: defaults::MAX_BODY_BYTES,
            max_batch: defaults::MAX_BATCH,
            public_introspection: true,
            public_graphiql: true,
            cache_mb: defaults::CACHE_MB,
            cache_poll_ms: defaults::CACHE_POLL_MS,
            request_timeout_ms: defaults::REQUEST_TIMEOUT_MS,
            max_response_bytes: defaults::MAX_RESPONSE_BYTES,
        }
    }
}

impl ApiSettings {
    /// The database workload of a serving pool: its statements share the request's time budget.
    pub fn workload(&self) -> crate::app::Workload {
        crate::app::Workload::Serve { statement_budget: std::time::Duration::from_millis(self.request_timeout_ms) }
    }

    pub fn query_limits(&self) -> QueryLimits {
        QueryLimits { max_depth: self.max_depth, max_complexity: self.max_complexity }
    }
}

/// The webhook delivery worker's settings (`serve`).
#[derive(clap::Args, Debug, Clone)]
pub struct WebhookSettings {
    /// Allow webhook URLs that are or resolve to loopback, private, link-local or metadata addresses (local
    /// development and tests); refused by default.
    #[arg(long, env = "BACKLOT_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,
    /// Waits before each retry of a failed webhook delivery (each gets up to 20% jitter); after the last the
    /// delivery is marked failed. Units: ms, s, m, h, d.
    #[arg(long, env = "BACKLOT_WEBHOOK_RETRY_SCHEDULE", default_value = "5s,5m,30m,2h,5h,10h", value_parser = duration_list)]
    pub webhook_retry_schedule: DurationList,
    /// Pause a webhook automatically once all its deliveries have failed for this long.
    #[arg(long, env = "BACKLOT_WEBHOOK_PAUSE_AFTER", default_value = "3d", value_parser = duration)]
    pub webhook_pause_after: std::time::Duration,
    /// How often to look for webhook deliveries that are due, in milliseconds.
    #[arg(long, env = "BACKLOT_WEBHOOK_POLL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..))]
    pub webhook_poll_ms: u64,
    /// Seconds a process holds the deliveries it claimed; those of a process that died are sent by another
    /// (or the restarted one) after this. Keep it above the 10 s request timeout.
    #[arg(long, env = "BACKLOT_WEBHOOK_LEASE_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub webhook_lease_seconds: u64,
}

impl WebhookSettings {
    pub fn delivery(&self) -> crate::service::webhook_delivery::DeliverySettings {
        crate::service::webhook_delivery::DeliverySettings {
            allow_private: self.webhook_allow_private,
            retry_schedule: self.webhook_retry_schedule.0.clone(),
            pause_after: self.webhook_pause_after,
            poll_interval: std::time::Duration::from_millis(self.webhook_poll_ms),
            lease: std::time::Duration::from_secs(self.webhook_lease_seconds),
        }
    }
}

/// Durations separated by commas (`5s,5m,30m`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationList(pub Vec<std::time::Duration>);

fn duration_list(text: &str) -> Result<DurationList, String> {
    text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(duration).collect::<Result<_, _>>().map(DurationList)
}

/// A duration such as `250ms`, `5s`, `30m`, `2h` or `3d`.
pub fn duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("{text:?} must be a number and a unit: 250ms, 5s, 30m, 2h, 3d"))?;
    let millis = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("{text:?} needs a unit: ms, s, m, h or d")),
    };
    n.checked_mul(millis).map(std::time::Duration::from_millis).ok_or_else(|| format!("{text:?} is too long"))
}
