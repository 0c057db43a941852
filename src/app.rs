//! Start-up shared by every command and the tests: connect, migrate, and [`build`] the application.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};

use crate::cache::ResponseCache;
use crate::config::{ApiSettings, HttpSettings, ServeConfig};
use crate::http::{AppState, build_router};

/// SQLite URLs get `mode=rwc` so a fresh clone creates its database file on first run.
fn normalise_url(url: &str) -> String {
    if url.starts_with("sqlite:") && !url.contains("mode=") && !url.contains(":memory:") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}mode=rwc")
    } else {
        url.to_string()
    }
}

/// What a connection pool is for: SQLite's page cache, the pool size and the statement budget follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Many short reads on several connections: SQLite's default 2 MB cache each keeps RSS low, and no
    /// statement may run longer than the budget (it is interrupted, so one request cannot hold the database).
    Serve { statement_budget: Duration },
    /// Long write transactions (import, generate): a 64 MB cache keeps the growing indexes in memory, no budget.
    Bulk,
}

/// The longest a statement may run for a request unless `--request-timeout-ms` says otherwise.
pub const DEFAULT_STATEMENT_BUDGET: Duration = Duration::from_millis(crate::config::defaults::REQUEST_TIMEOUT_MS);

/// Connections in a serving pool. SQLite in WAL mode reads on all of them at once; writes still take turns
/// (see [`crate::service::transaction`]).
const SERVE_CONNECTIONS: u32 = 8;

/// How long a bulk writer (import, generate) waits for another process's writer before giving up. A serving
/// pool waits no longer than its statement budget: a request past its budget has given up anyway.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Opens the database (WAL and foreign keys on SQLite). Does not migrate.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_for(url, Workload::Serve { statement_budget: DEFAULT_STATEMENT_BUDGET }).await
}

pub async fn connect_for(url: &str, workload: Workload) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(normalise_url(url));
    let budget = match workload {
        Workload::Serve { statement_budget } => Some(statement_budget),
        Workload::Bulk => None,
    };
    let in_memory = url.contains(":memory:");
    options
        .sqlx_logging(false)
        // An in-memory SQLite database exists once per connection, so it must stay at one.
        .max_connections(if in_memory || budget.is_none() { 1 } else { SERVE_CONNECTIONS })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        // A ping on every checkout doubled the cost of each statement; only connections idle long
        // enough to have been dropped by a server or proxy are checked.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .map_sqlx_sqlite_opts(move |o| {
            let o = o
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(budget.map_or(BUSY_TIMEOUT, |budget| budget.min(BUSY_TIMEOUT)));
            match workload {
                Workload::Serve { .. } => o,
                Workload::Bulk => o.pragma("cache_size", "-65536"),
            }
        })
        .map_sqlx_postgres_opts(move |o| match budget {
            // The server stops the statement itself, so an abandoned request leaves no work behind.
            Some(budget) => o.options([("statement_timeout", format!("{}ms", budget.as_millis()))]),
            None => o,
        });
    if let Some(budget) = budget {
        options.map_sqlx_sqlite_pool_opts(move |pool| {
            pool.after_connect(move |conn, _| Box::pin(crate::statement_budget::install(conn, budget)))
        });
    }
    Database::connect(options).await
}

/// Applies pending migrations, the same call for `migrate`, `serve`, `import` and the tests.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

pub async fn connect_and_migrate(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_and_migrate_for(url, Workload::Serve { statement_budget: DEFAULT_STATEMENT_BUDGET }).await
}

pub async fn connect_and_migrate_for(url: &str, workload: Workload) -> Result<DatabaseConnection, DbErr> {
    if workload == Workload::Bulk {
        let db = connect_for(url, workload).await?;
        migrate(&db).await?;
        return Ok(db);
    }
    migrate_database(url).await?;
    connect_for(url, workload).await
}

/// After a bulk write on SQLite: moves the write-ahead log into the database and empties it, so the next
/// process to open the file does not first read back what the bulk write left in the log (about 100 ms at
/// 10,000 generated articles). Best effort: a reader holding the log open only leaves it as it was.
pub async fn checkpoint(db: &DatabaseConnection) {
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite
        && let Err(e) = db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await
    {
        tracing::debug!("write-ahead log not checkpointed: {e}");
    }
}

/// Migrates on a connection of its own, outside any statement budget (building an index on a large
/// table may take longer than a request may), then closes it.
pub async fn migrate_database(url: &str) -> Result<(), DbErr> {
    let db = connect_for(url, Workload::Bulk).await?;
    let migrated = migrate(&db).await;
    db.close().await?;
    migrated
}

/// What [`build`] needs: the API and HTTP settings, and what only `serve` turns on.
#[derive(Debug, Clone, Default)]
pub struct AppConfig {
    pub api: ApiSettings,
    pub http: HttpSettings,
    /// Report each SQL statement to the request's access log and metrics (`serve`; the tests install a
    /// counting callback of their own before building).
    pub observe_statements: bool,
    /// `serve --bench`: count SQL statements per response (`x-backlot-sql-statements`) and add the bench routes.
    pub bench: bool,
    /// Publish scheduled drafts this often, as a background task; `None` runs no scheduler.
    pub schedule_interval: Option<Duration>,
    /// Automatic persisted queries, with `serve`'s manifest and allow-list mode if given.
    pub persisted: std::sync::Arc<crate::http::persisted::PersistedQueries>,
    /// Run the webhook delivery worker with these settings; `None` sends nothing (events still queue).
    pub webhooks: Option<crate::service::webhook_delivery::DeliverySettings>,
    /// Whether `createWebhook` accepts URLs of internal addresses (`--webhook-allow-private`).
    pub webhook_allow_private: bool,
    /// `serve --replica-url`: the streaming replica anonymous reads may use (see [`crate::service::replica`]).
    pub replica: Option<crate::service::replica::ReplicaConnection>,
}

impl From<&ServeConfig> for AppConfig {
    fn from(config: &ServeConfig) -> Self {
        AppConfig {
            api: config.api,
            http: config.http.clone(),
            observe_statements: true,
            bench: config.bench,
            schedule_interval: Some(Duration::from_millis(config.schedule_interval_ms.max(10))),
            persisted: Default::default(),
            webhooks: Some(config.webhooks.delivery()),
            webhook_allow_private: config.webhooks.webhook_allow_private,
            // Connected by `serve` (it is async), not here.
            replica: None,
        }
    }
}

/// The application `serve` runs and the tests drive: its router and the background tasks started for it.
pub struct App {
    pub router: axum::Router,
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl App {
    /// Stops the background tasks (at shutdown).
    pub fn stop_tasks(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The one start-up path after connecting: schema, response cache, router, background tasks. Used by
/// `serve` and by the tests alike.
pub fn build(mut db: DatabaseConnection, config: &AppConfig) -> App {
    let mut tasks = Vec::new();
    if let Some(interval) = config.schedule_interval {
        tasks.push(crate::service::scheduler::spawn(db.clone(), interval));
    }
    if let Some(settings) = &config.webhooks {
        tasks.push(crate::service::webhook_delivery::spawn(db.clone(), settings.clone()));
    }
    // The callback must be set before the pool is shared with the schema and the cache; the replica's
    // statements count as the primary's do.
    let mut replica = config.replica.clone();
    let sql_statements = if config.bench {
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let hook = counter.clone();
        let callback = move |info: &sea_orm::metric::Info<'_>| {
            // The cache's generation poll runs on a timer, not for any request.
            let sql = &info.statement.sql;
            // `RUST_LOG=backlot::sql=debug`: each statement with its time, to see where a request's time goes.
            tracing::debug!(target: "backlot::sql", elapsed_us = info.elapsed.as_micros() as u64, sql = %sql);
            if !sql.starts_with(crate::service::generation::POLL_SQL)
                && !sql.starts_with(crate::service::webhook_delivery::DUE_SQL)
            {
                hook.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                crate::http::observe::count_statement();
            }
        };
        if let Some(replica) = &mut replica {
            replica.db.set_metric_callback(callback.clone());
        }
        db.set_metric_callback(callback);
        Some(counter)
    } else {
        if config.observe_statements {
            db.set_metric_callback(|_| crate::http::observe::count_statement());
            if let Some(replica) = &mut replica {
                replica.db.set_metric_callback(|_| crate::http::observe::count_statement());
            }
        }
        None
    };
    let replica = replica.map(|replica| crate::service::replica::Replica::new(db.clone(), replica));
    let cache = response_cache(&db, &config.api);
    let webhook_policy = crate::graphql::webhook::Policy { allow_private: config.webhook_allow_private };
    let schema = crate::graphql::build_schema_with(db.clone(), config.api.query_limits(), webhook_policy);
    let persisted = config.persisted.clone();
    let state = AppState { schema, db, settings: config.api, sql_statements, cache, persisted, replica };
    App { router: build_router(state, &config.http), tasks }
}

fn response_cache(db: &DatabaseConnection, settings: &ApiSettings) -> Option<std::sync::Arc<ResponseCache>> {
    (settings.cache_mb > 0).then(|| {
        let cache = ResponseCache::new(settings.cache_mb * 1024 * 1024);
        cache.spawn_poller(db.clone(), Duration::from_millis(settings.cache_poll_ms.max(10)));
        cache
    })
}
