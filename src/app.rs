//! Start-up shared by every command and the tests: connect, migrate, build the router.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::ApiSettings;
use crate::graphql::build_schema;
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

/// Opens the database (WAL and foreign keys on SQLite). Does not migrate.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(normalise_url(url));
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
        });
    Database::connect(options).await
}

/// Applies pending migrations, the same call for `migrate`, `serve`, `import` and the tests.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

pub async fn connect_and_migrate(url: &str) -> Result<DatabaseConnection, DbErr> {
    let db = connect(url).await?;
    migrate(&db).await?;
    Ok(db)
}

/// The router with default settings.
pub fn router(db: DatabaseConnection) -> axum::Router {
    router_with(db, ApiSettings::default())
}

pub fn router_with(db: DatabaseConnection, settings: ApiSettings) -> axum::Router {
    build_router(AppState { schema: build_schema(db.clone(), settings.query_limits()), db, settings })
}
