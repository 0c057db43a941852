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
