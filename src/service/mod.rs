//! All database access. Resolvers, the importer and the CLI call these functions;
//! every read takes the caller's [`Visibility`], the one place that decides which stage it sees.

pub mod admin;
pub mod article;
pub mod audit;
pub(crate) mod bulk;
pub mod catalog;
pub mod editorial;
pub mod generation;
pub mod pagination;
pub mod proof_record;
pub mod question;
pub mod revision;
pub mod scheduler;
pub mod search;
pub mod snippet;
pub mod staged;
pub mod token;

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

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// The current time at the precision both backends store (microseconds), so
/// values read back compare equal to values written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub fn new_document_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Opens a write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`), waiting its turn
/// behind other writers (the busy timeout); a deferred transaction that read first could not upgrade once
/// another writer committed (`database is locked`, code 517) and would fail instead of waiting.
pub async fn begin_write(db: &sea_orm::DatabaseConnection) -> Result<sea_orm::DatabaseTransaction> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let options =
        TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() };
    Ok(db.begin_with_options(options).await?)
}

/// The future a unit of work returns: boxed, so it may borrow its transaction.
pub type BoxFuture<'c, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'c>>;

/// Runs `work` in one transaction: committed when it succeeds, rolled back (nothing written) when it
/// fails. Every content write goes through here, so here is where cached responses learn they are stale.
pub async fn transaction<T, F>(db: &sea_orm::DatabaseConnection, work: F) -> Result<T>
where
    T: Send,
    F: for<'c> FnOnce(&'c sea_orm::DatabaseTransaction) -> BoxFuture<'c, Result<T>> + Send,
{
    let txn = begin_write(db).await?;
    // On any error the transaction is dropped uncommitted, which rolls it back.
    let out = work(&txn).await?;
    generation::bump(&txn).await?;
    txn.commit().await?;
    generation::note_local_write();
    Ok(out)
}
