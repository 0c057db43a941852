//! Multi-row inserts split into statements that stay under both backends' bound-parameter limits.
//! Bulk writers (the importer) cost a few statements per batch instead of a few per row.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Iterable};

use super::Result;

/// Parameters per statement: well under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_PARAMS: usize = 10_000;

fn rows_per_statement<A: ActiveModelTrait>() -> usize {
    let columns = <<A::Entity as EntityTrait>::Column as Iterable>::iter().count();
    (MAX_PARAMS / columns.max(1)).max(1)
}

/// Inserts every row, a chunk per statement.
pub(crate) async fn insert<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<()>
where
    A: ActiveModelTrait + Send,
{
    write(db, rows, None).await
}

/// Inserts every row or, where `on_conflict` matches an existing one, updates it as `on_conflict` says.
pub(crate) async fn upsert<A>(db: &impl ConnectionTrait, rows: Vec<A>, on_conflict: OnConflict) -> Result<()>
where
    A: ActiveModelTrait + Send,
{
    write(db, rows, Some(on_conflict)).await
}

async fn write<A>(db: &impl ConnectionTrait, rows: Vec<A>, on_conflict: Option<OnConflict>) -> Result<()>
where
    A: ActiveModelTrait + Send,
{
    let per_statement = rows_per_statement::<A>();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut statement = A::Entity::insert_many(rows.by_ref().take(per_statement).collect::<Vec<A>>());
        if let Some(on_conflict) = &on_conflict {
            statement = statement.on_conflict(on_conflict.clone());
        }
        statement.exec_without_returning(db).await?;
    }
    Ok(())
}

/// Inserts every row and returns the stored models (with their ids) through `RETURNING`, which both
/// backends support. The order of the returned rows is unspecified: match them by a natural key.
pub(crate) async fn insert_returning<A>(
    db: &impl ConnectionTrait,
    rows: Vec<A>,
) -> Result<Vec<<A::Entity as EntityTrait>::Model>>
where
    A: ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    let per_statement = rows_per_statement::<A>();
    let mut stored = Vec::with_capacity(rows.len());
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        stored.extend(A::Entity::insert_many(chunk).exec_with_returning(db).await?);
    }
    Ok(stored)
}
