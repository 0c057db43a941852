//! The audit log: one row per write made through the API or the CLI.

use entity::audit_entry;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, EntityTrait, Set};

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
    record_many(db, actor, [Entry { action, entity_type, entity_id, detail }]).await
}

/// One audited write.
pub struct Entry<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub detail: Option<String>,
}

/// Records several writes by `actor` in a few multi-row statements.
pub async fn record_many<'a>(
    db: &impl ConnectionTrait,
    actor: &str,
    entries: impl IntoIterator<Item = Entry<'a>>,
) -> Result<()> {
    let created_at = now();
    let rows = entries
        .into_iter()
        .map(|e| audit_entry::ActiveModel {
            token_name: Set(actor.to_string()),
            action: Set(e.action.to_string()),
            entity_type: Set(e.entity_type.to_string()),
            entity_id: Set(e.entity_id.to_string()),
            detail: Set(e.detail),
            created_at: Set(created_at),
            ..Default::default()
        })
        .collect();
    super::bulk::insert(db, rows).await
}

/// Newest first.
pub async fn list(db: &impl ConnectionTrait, page: &PageRequest) -> Result<Page<audit_entry::Model>> {
    let ordering = Ordering {
        key: None,
        id: Expr::col((audit_entry::Entity, audit_entry::Column::Id)),
        direction: SortDirection::Desc,
        cursor: pagination::CursorKind::Id("auditLog"),
        key_of: |_| SortValue::None,
        id_of: |m: &audit_entry::Model| m.id,
    };
    pagination::paginate(db, audit_entry::Entity::find(), &ordering, page).await
}
