//! Proof snippets: short quotable claims, each offered to one reuse channel.

use std::collections::HashMap;

use entity::{ContentStatus, Stage, proof_record, proof_snippet, reuse_channel};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select, Set};

use super::article::group;
use super::pagination::{self, Ordering, SortValue};
use super::{Page, PageRequest, Result, ServiceError, SortDirection, Visibility, catalog, new_document_id, now};

/// Snippets in the caller's stage whose proof record is visible too: a published snippet of an
/// unpublished record stays private.
fn select_visible(visibility: Visibility) -> Select<proof_snippet::Entity> {
    proof_snippet::Entity::find().filter(proof_snippet::Column::Stage.eq(visibility.stage())).filter(
        proof_snippet::Column::ProofRecordDocumentId.in_subquery(
            Query::select()
                .column(proof_record::Column::DocumentId)
                .from(proof_record::Entity)
                .and_where(proof_record::Column::Stage.eq(visibility.stage()))
                .to_owned(),
        ),
    )
}

fn for_channel(visibility: Visibility, channel_id: i32) -> Select<proof_snippet::Entity> {
    select_visible(visibility).filter(proof_snippet::Column::ChannelId.eq(channel_id))
}

fn ordering() -> Ordering<proof_snippet::Model> {
    Ordering {
        key: None,
        id: Expr::col((proof_snippet::Entity, proof_snippet::Column::Id)),
        direction: SortDirection::Asc,
        cursor: pagination::CursorKind::Id("snippets"),
        key_of: |_| SortValue::None,
        id_of: |m| m.id,
    }
}

pub async fn list_for_channel(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    channel_id: i32,
    page: &PageRequest,
) -> Result<Page<proof_snippet::Model>> {
    pagination::paginate(db, for_channel(visibility, channel_id), &ordering(), page).await
}

pub async fn count_for_channel(db: &impl ConnectionTrait, visibility: Visibility, channel_id: i32) -> Result<i64> {
    pagination::count(db, for_channel(visibility, channel_id)).await
}

pub async fn by_document_id(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    id: &str,
) -> Result<Option<proof_snippet::Model>> {
    Ok(select_visible(visibility).filter(proof_snippet::Column::DocumentId.eq(id)).one(db).await?)
}

pub async fn of_proof_records(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    proof_record_document_ids: &[String],
) -> Result<HashMap<String, Vec<proof_snippet::Model>>> {
    let rows = select_visible(visibility)
        .filter(proof_snippet::Column::ProofRecordDocumentId.is_in(proof_record_document_ids.iter().cloned()))
        .order_by_asc(proof_snippet::Column::Id)
        .all(db)
        .await?;
    Ok(group(rows, |r| r.proof_record_document_id.clone()))
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SnippetDraft {
    pub proof_record_document_id: String,
    pub article_document_id: Option<String>,
    pub channel: String,
    pub body: String,
}

/// Characters as a reader counts them (Unicode scalar values), the unit of a channel's `maxChars`.
pub fn char_count(body: &str) -> i32 {
    body.chars().count() as i32
}

pub fn check_fits(channel: &reuse_channel::Model, body: &str) -> Result<()> {
    let count = char_count(body);
    if body.trim().is_empty() {
        return Err(ServiceError::bad_input("body", "must not be empty"));
    }
    match channel.max_chars {
        Some(max) if count > max => Err(ServiceError::bad_input(
            "body",
            format!("is {count} characters; channel {:?} takes at most {max}", channel.slug),
        )),
        _ => Ok(()),
    }
}

/// Creates a DRAFT snippet; it must fit its channel.
pub async fn create_draft(db: &impl ConnectionTrait, draft: SnippetDraft) -> Result<proof_snippet::Model> {
    let channel = catalog::channel_by_slug(db, &draft.channel)
        .await?
        .ok_or_else(|| ServiceError::bad_input("channel", format!("unknown reuse channel {:?}", draft.channel)))?;
    check_fits(&channel, &draft.body)?;
    let timestamp = now();
    Ok(proof_snippet::ActiveModel {
        document_id: Set(new_document_id()),
        stage: Set(Stage::Draft),
        status: Set(ContentStatus::Draft),
        proof_record_document_id: Set(draft.proof_record_document_id),
        article_document_id: Set(draft.article_document_id),
        channel_id: Set(channel.id),
        char_count: Set(char_count(&draft.body)),
        body: Set(draft.body),
        published_at: Set(None),
        version: Set(1),
        publish_at: Set(None),
        created_at: Set(timestamp),
        updated_at: Set(timestamp),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn load_draft(db: &impl ConnectionTrait, document_id: &str) -> Result<Option<SnippetDraft>> {
    let Some(row) = proof_snippet::Entity::find()
        .filter(proof_snippet::Column::DocumentId.eq(document_id))
        .filter(proof_snippet::Column::Stage.eq(Stage::Draft))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let channel = catalog::channels_by_ids(db, &[row.channel_id]).await?.into_iter().next().map(|c| c.slug);
    Ok(Some(SnippetDraft {
        proof_record_document_id: row.proof_record_document_id,
        article_document_id: row.article_document_id,
        channel: channel.unwrap_or_default(),
        body: row.body,
    }))
}

/// Rewrites the draft stage of a snippet; it must still fit its channel.
pub async fn write_draft(
    db: &impl ConnectionTrait,
    document_id: &str,
    draft: &SnippetDraft,
) -> Result<proof_snippet::Model> {
    let channel = catalog::channel_by_slug(db, &draft.channel)
        .await?
        .ok_or_else(|| ServiceError::bad_input("channel", format!("unknown reuse channel {:?}", draft.channel)))?;
    check_fits(&channel, &draft.body)?;
    let row = proof_snippet::Entity::find()
        .filter(proof_snippet::Column::DocumentId.eq(document_id))
        .filter(proof_snippet::Column::Stage.eq(Stage::Draft))
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::NotFound { entity: "proof snippet", key: document_id.to_string() })?;
    let mut active: proof_snippet::ActiveModel = row.into();
    active.proof_record_document_id = Set(draft.proof_record_document_id.clone());
    active.article_document_id = Set(draft.article_document_id.clone());
    active.channel_id = Set(channel.id);
    active.body = Set(draft.body.clone());
    active.char_count = Set(char_count(&draft.body));
    active.updated_at = Set(now());
    Ok(active.update(db).await?)
}
