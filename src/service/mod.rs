//! All database access. Resolvers, the importer and the CLI call these functions; every read takes the
//! caller's [`Visibility`], applied in one place ([`staged::visible`]), and every write is a unit of work
//! that opens its own transaction ([`transaction`]; see `editorial.rs` and `admin.rs`).

pub mod admin;
pub mod article;
pub mod audit;
pub(crate) mod bulk;
pub mod bundle;
pub mod catalog;
pub mod changes;
pub mod editorial;
pub mod events;
pub mod generation;
pub mod pagination;
pub mod proof_record;
pub mod provenance;
pub mod question;
pub mod release;
pub mod replica;
pub mod revision;
pub mod scheduler;
pub mod search;
pub mod snippet;
pub mod staged;
pub mod token;
pub mod webhook;
pub mod webhook_delivery;

use chrono::{DateTime, SubsecRound, Utc};
use entity::Stage;

pub use pagination::{Page, PageRequest, SortDirection};

/// Who is reading: the public sees the published stage only; preview sees the latest drafts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Visibility {
    #[default]
    Public,
    Preview,
}

impl Visibility {
    /// Only [`staged::visible`] (and the search index's pre-filter) read this: see there.
    pub(crate) fn stage(self) -> Stage {
        match self {
            Visibility::Public => Stage::Published,
            Visibility::Preview => Stage::Draft,
        }
    }

    pub fn is_public(self) -> bool {
        self == Visibility::Public
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{field}: {message}")]
    BadInput { field: String, message: String },
    #[error("{entity} not found: {key}")]
    NotFound { entity: &'static str, key: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{entity} was changed since version {expected}; it is now at version {current}")]
    StaleVersion { entity: &'static str, expected: i32, current: i32 },
    #[error("{0}")]
    Forbidden(String),
    #[error("this operation needs a token: send Authorization: Bearer <token>")]
    Unauthenticated,
    /// The caller's role is below what the operation (or, with `field`, one of its inputs) needs.
    #[error("{}", role_message(*.field, *.needed, *.has))]
    RoleTooLow { field: Option<&'static str>, needed: token::Role, has: token::Role },
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl ServiceError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::BadInput { field: field.into(), message: message.into() }
    }
}

fn role_message(field: Option<&str>, needed: token::Role, has: token::Role) -> String {
    let prefix = field.map(|f| format!("{f}: ")).unwrap_or_default();
    format!("{prefix}this operation needs the {} role; your token has {}", needed.as_str(), has.as_str())
}

/// The caller, if their role is at least `needed`: UNAUTHENTICATED without a token, FORBIDDEN below it.
pub fn require(principal: Option<&token::Principal>, needed: token::Role) -> Result<&token::Principal> {
    let principal = principal.ok_or(ServiceError::Unauthenticated)?;
    if principal.role < needed {
        return Err(ServiceError::RoleTooLow { field: None, needed, has: principal.role });
    }
    Ok(principal)
}

/// Applies one field of a patch: `None` keeps `target`, `Some(v)` replaces it.
pub(crate) fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *target = v;
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// The current time at the precision both backends store (microseconds), so
/// values read back compare equal to values written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A time a client gave must lie in years 1 to 9999: both backends store and compare times in that range
/// (SQLite compares their text, where "+10000-…" sorts before "2026-…").
pub fn check_time(field: &str, at: Option<DateTime<Utc>>) -> Result<()> {
    use chrono::Datelike;
    match at {
        Some(t) if !(1..=9999).contains(&t.year()) => {
            Err(ServiceError::bad_input(field, format!("must be between the years 1 and 9999 (got {t})")))
        }
        _ => Ok(()),
    }
}

pub fn new_document_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Opens a write transaction. On SQLite it first waits for this process's turn to write (one writer at a
/// time, waiting without holding a pooled connection, so writers queued behind a long import never starve
/// the readers of connections), then takes the write lock up front (`BEGIN IMMEDIATE`), waiting behind other
/// processes' writers (the busy timeout); a deferred transaction that read first could not upgrade once
/// another writer committed (`database is locked`, code 517) and would fail instead of waiting.
pub async fn begin_write(db: &sea_orm::DatabaseConnection) -> Result<WriteTransaction> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let turn = writer_turn(db).await;
    let options =
        TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() };
    Ok(WriteTransaction { txn: db.begin_with_options(options).await?, _turn: turn })
}

/// This process's turn to write to a SQLite database (`None` on PostgreSQL, whose row locks need no turn).
/// Held until the write is done; dropping the waiting future (a request past its budget) leaves the queue.
pub async fn writer_turn(db: &sea_orm::DatabaseConnection) -> Option<tokio::sync::OwnedSemaphorePermit> {
    static WRITER: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
        std::sync::LazyLock::new(|| std::sync::Arc::new(tokio::sync::Semaphore::new(1)));
    if db.get_database_backend() != sea_orm::DbBackend::Sqlite {
        return None;
    }
    WRITER.clone().acquire_owned().await.ok()
}

/// A write transaction together with the process's turn to write; use it through `&*txn`.
pub struct WriteTransaction {
    txn: sea_orm::DatabaseTransaction,
    _turn: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl std::ops::Deref for WriteTransaction {
    type Target = sea_orm::DatabaseTransaction;

    fn deref(&self) -> &Self::Target {
        &self.txn
    }
}

impl WriteTransaction {
    pub async fn commit(self) -> Result<()> {
        Ok(self.txn.commit().await?)
    }

    pub async fn rollback(self) -> Result<()> {
        Ok(self.txn.rollback().await?)
    }
}

/// The future a unit of work returns: boxed, so it may borrow its transaction.
pub type BoxFuture<'c, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'c>>;

/// Runs `work` in one transaction: committed when it succeeds, rolled back (nothing written) when it
/// fails. Every content write goes through here, so here is where cached responses learn they are stale:
/// what the work noted it changed ([`changes::note`]), or everything when it noted nothing.
pub async fn transaction<T, F>(db: &sea_orm::DatabaseConnection, work: F) -> Result<T>
where
    T: Send,
    F: for<'c> FnOnce(&'c sea_orm::DatabaseTransaction) -> BoxFuture<'c, Result<T>> + Send,
{
    let txn = begin_write(db).await?;
    // On any error the transaction is dropped uncommitted, which rolls it back.
    let (out, changed) = changes::collect(work(&txn)).await;
    let out = out?;
    generation::bump(&*txn, &changed).await?;
    txn.commit().await?;
    generation::note_local_write(&changed);
    Ok(out)
}

/// An error with its causes, as one line ("error sending request: ... connection refused"), for messages
/// about failures of other systems (HTTP clients).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
