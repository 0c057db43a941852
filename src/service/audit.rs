//! The audit log: one row per write made through the API or the CLI.

use entity::audit_entry;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use super::pagination::{self, Ordering, SortValue};
use super::{Page, PageRequest, Result, SortDirection, now};

pub async fn record(
    db: &impl ConnectionTrait,
    actor: &str,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    detail: Option<String>,
) -> Result<()> {
    audit_entry::ActiveModel {
        token_name: Set(actor.to_string()),
        action: Set(action.to_string()),
        entity_type: Set(entity_type.to_string()),
        entity_id: Set(entity_id.to_string()),
        detail: Set(detail),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Newest first.
pub async fn list(db: &impl ConnectionTrait, page: &PageRequest) -> Result<Page<audit_entry::Model>> {
    let ordering = Ordering {
        key: None,
        id: Expr::col((audit_entry::Entity, audit_entry::Column::Id)),
        direction: SortDirection::Desc,
        key_of: |_| SortValue::None,
        id_of: |m: &audit_entry::Model| m.id,
    };
    pagination::paginate(db, audit_entry::Entity::find(), &ordering, page).await
}
