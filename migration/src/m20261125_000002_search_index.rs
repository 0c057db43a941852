//! The full-text index over `search_documents`: FTS5 on SQLite, a weighted tsvector with GIN on PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_documents', content_rowid='id', \
     tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN \
     INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN \
     INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN \
     INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); \
     INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS search_documents_au",
    "DROP TRIGGER IF EXISTS search_documents_ad",
    "DROP TRIGGER IF EXISTS search_documents_ai",
    "DROP TABLE IF EXISTS search_fts",
];

const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE search_documents ADD COLUMN tsv tsvector GENERATED ALWAYS AS \
     (setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')) STORED",
    "CREATE INDEX ix_search_documents_tsv ON search_documents USING GIN (tsv)",
];

const POSTGRES_DOWN: &[&str] =
    &["DROP INDEX IF EXISTS ix_search_documents_tsv", "ALTER TABLE search_documents DROP COLUMN IF EXISTS tsv"];

async fn run_all(manager: &SchemaManager<'_>, sql: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for stmt in sql {
        db.execute_unprepared(stmt).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => run_all(manager, SQLITE_UP).await,
            DbBackend::Postgres => run_all(manager, POSTGRES_UP).await,
            other => Err(DbErr::Migration(format!("unsupported database backend {other:?}"))),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => run_all(manager, SQLITE_DOWN).await,
            DbBackend::Postgres => run_all(manager, POSTGRES_DOWN).await,
            other => Err(DbErr::Migration(format!("unsupported database backend {other:?}"))),
        }
    }
}
