//! Revisions: the full content of a document at each version, who wrote it and when.

use entity::revision;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Result, ServiceError, now};

pub const ARTICLE: &str = "article";
pub const PROOF_RECORD: &str = "proof_record";
pub const SNIPPET: &str = "proof_snippet";

pub async fn record<T: Serialize>(
    db: &impl ConnectionTrait,
    entity_type: &str,
    document_id: &str,
    version: i32,
    author: &str,
    content: &T,
) -> Result<()> {
    record_many(db, entity_type, author, [(document_id, version, content)]).await
}

/// Records one revision per `(document id, version, content)`, in a few multi-row statements.
pub async fn record_many<'a, T: Serialize + 'a>(
    db: &impl ConnectionTrait,
    entity_type: &str,
    author: &str,
    revisions: impl IntoIterator<Item = (&'a str, i32, &'a T)>,
) -> Result<()> {
    let created_at = now();
    let rows = revisions
        .into_iter()
        .map(|(document_id, version, content)| {
            let content = serde_json::to_string(content)
                .map_err(|e| ServiceError::Database(sea_orm::DbErr::Custom(format!("revision encoding: {e}"))))?;
            Ok(revision::ActiveModel {
                entity_type: Set(entity_type.to_string()),
                document_id: Set(document_id.to_string()),
                version: Set(version),
                author: Set(author.to_string()),
                content: Set(content),
                created_at: Set(created_at),
                ..Default::default()
            })
        })
        .collect::<Result<Vec<_>>>()?;
    super::bulk::insert(db, rows).await
}

/// Records `version` of a document with the content of its newest revision: a version made by a change
/// that keeps the content (a publish, a schedule). Nothing when the document has no revision yet.
pub async fn record_same_content(
    db: &impl ConnectionTrait,
    entity_type: &str,
    document_id: &str,
    version: i32,
    author: &str,
) -> Result<()> {
    let newest = revision::Entity::find()
        .filter(revision::Column::EntityType.eq(entity_type))
        .filter(revision::Column::DocumentId.eq(document_id))
        .order_by_desc(revision::Column::Version)
        .order_by_desc(revision::Column::Id)
        .one(db)
        .await?;
    let Some(newest) = newest else { return Ok(()) };
    let row = revision::ActiveModel {
        entity_type: Set(entity_type.to_string()),
        document_id: Set(document_id.to_string()),
        version: Set(version),
        author: Set(author.to_string()),
        content: Set(newest.content),
        created_at: Set(now()),
        ..Default::default()
    };
    super::bulk::insert(db, vec![row]).await
}

/// Newest first.
pub async fn list(db: &impl ConnectionTrait, entity_type: &str, document_id: &str) -> Result<Vec<revision::Model>> {
    Ok(revision::Entity::find()
        .filter(revision::Column::EntityType.eq(entity_type))
        .filter(revision::Column::DocumentId.eq(document_id))
        .order_by_desc(revision::Column::Version)
        .order_by_desc(revision::Column::Id)
        .all(db)
        .await?)
}

/// The content stored at `version` of a document.
pub async fn content<T: DeserializeOwned>(
    db: &impl ConnectionTrait,
    entity_type: &str,
    document_id: &str,
    version: i32,
) -> Result<T> {
    let found = revision::Entity::find()
        .filter(revision::Column::EntityType.eq(entity_type))
        .filter(revision::Column::DocumentId.eq(document_id))
        .filter(revision::Column::Version.eq(version))
        .order_by_desc(revision::Column::Id)
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::bad_input("revision", format!("no revision {version} of this document")))?;
    serde_json::from_str(&found.content)
        .map_err(|e| ServiceError::Database(sea_orm::DbErr::Custom(format!("revision decoding: {e}"))))
}

/// Per document: the newest version written by one of `machine_authors` (an import) and the newest
/// written by anyone else (an editor), from the revisions of `document_ids`.
pub async fn newest_by_author_kind(
    db: &impl ConnectionTrait,
    entity_type: &str,
    document_ids: &[String],
    machine_authors: &[&str],
) -> Result<std::collections::HashMap<String, (Option<i32>, Option<i32>)>> {
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    if document_ids.is_empty() {
        return Ok(Default::default());
    }
    let by_machine = || Expr::col(revision::Column::Author).is_in(machine_authors.iter().map(|a| a.to_string()));
    let version_if = |condition: sea_orm::sea_query::SimpleExpr| {
        Func::max(Expr::case(condition, Expr::col(revision::Column::Version)).finally(Expr::null()))
    };
    let rows: Vec<(String, Option<i32>, Option<i32>)> = revision::Entity::find()
        .select_only()
        .column(revision::Column::DocumentId)
        .expr_as(version_if(by_machine()), "imported")
        .expr_as(version_if(by_machine().not()), "edited")
        .filter(revision::Column::EntityType.eq(entity_type))
        .filter(revision::Column::DocumentId.is_in(document_ids.iter().cloned()))
        .group_by(revision::Column::DocumentId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, imported, edited)| (id, (imported, edited))).collect())
}

/// The stored content of each `(document id, version)` (the newest row where a version was recorded twice).
pub async fn contents_at(
    db: &impl ConnectionTrait,
    entity_type: &str,
    wanted: &[(String, i32)],
) -> Result<std::collections::HashMap<(String, i32), String>> {
    if wanted.is_empty() {
        return Ok(Default::default());
    }
    let rows = revision::Entity::find()
        .filter(revision::Column::EntityType.eq(entity_type))
        .filter(revision::Column::DocumentId.is_in(wanted.iter().map(|(id, _)| id.clone())))
        .filter(revision::Column::Version.is_in(wanted.iter().map(|(_, v)| *v)))
        .order_by_asc(revision::Column::Id)
        .all(db)
        .await?;
    let wanted: std::collections::HashSet<&(String, i32)> = wanted.iter().collect();
    Ok(rows
        .into_iter()
        .map(|r| ((r.document_id, r.version), r.content))
        .filter(|key| wanted.contains(&key.0))
        .collect())
}
