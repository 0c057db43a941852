//! Proof snippets: short quotable claims, each offered to one reuse channel.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{ContentStatus, Stage, proof_snippet, reuse_channel};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, IntoActiveModel, QueryFilter, QueryOrder, Select, Set};

use super::article::group;
use super::pagination::{self, Ordering, SortValue};
use super::staged::{self, Snippets};
use super::{Page, PageRequest, Result, ServiceError, SortDirection, Visibility, catalog, new_document_id, now};

/// Snippets the caller may see: a published snippet of an unpublished record stays private (see
/// [`staged::Snippets`]).
fn select_visible(visibility: Visibility) -> Select<proof_snippet::Entity> {
    staged::visible::<Snippets>(visibility)
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

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
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

/// A change to a snippet: `None` keeps a field. References are slugs, resolved inside the write's transaction.
#[derive(Debug, Clone, Default)]
pub struct SnippetPatch {
    /// Slug of the proof record it quotes (required on create).
    pub proof_record: Option<String>,
    /// Slug of the article it belongs with; `Some(None)` clears.
    pub article: Option<Option<String>>,
    /// Reuse channel slug (required on create).
    pub channel: Option<String>,
    pub body: Option<String>,
}

/// A [`SnippetPatch`] with its references as document ids.
pub struct ResolvedPatch {
    proof_record_document_id: Option<String>,
    article_document_id: Option<Option<String>>,
    channel: Option<String>,
    body: Option<String>,
}

pub(crate) async fn resolve(db: &impl ConnectionTrait, patch: SnippetPatch) -> Result<ResolvedPatch> {
    let preview = Visibility::Preview;
    let proof_record_document_id = match patch.proof_record {
        None => None,
        Some(slug) => {
            let record = staged::by_slug::<super::staged::ProofRecords>(db, preview, &slug).await?;
            let record = record.ok_or_else(|| {
                ServiceError::bad_input("proofRecord", format!("no proof record has the slug {slug:?}"))
            })?;
            Some(record.document_id)
        }
    };
    let article_document_id = match patch.article {
        None => None,
        Some(None) => Some(None),
        Some(Some(slug)) => {
            let article = staged::by_slug::<super::staged::Articles>(db, preview, &slug).await?;
            let article = article
                .ok_or_else(|| ServiceError::bad_input("article", format!("no article has the slug {slug:?}")))?;
            Some(Some(article.document_id))
        }
    };
    // An empty value keeps the current one, as it always has.
    let channel = patch.channel.filter(|c| !c.is_empty());
    let body = patch.body.filter(|b| !b.is_empty());
    Ok(ResolvedPatch { proof_record_document_id, article_document_id, channel, body })
}

impl ResolvedPatch {
    pub(crate) fn apply_to(self, draft: &mut SnippetDraft) {
        if let Some(v) = self.proof_record_document_id {
            draft.proof_record_document_id = v;
        }
        if let Some(v) = self.article_document_id {
            draft.article_document_id = v;
        }
        if let Some(v) = self.channel {
            draft.channel = v;
        }
        if let Some(v) = self.body {
            draft.body = v;
        }
    }
}

async fn channel_for(db: &impl ConnectionTrait, draft: &SnippetDraft) -> Result<reuse_channel::Model> {
    let channel = catalog::channel_by_slug(db, &draft.channel)
        .await?
        .ok_or_else(|| ServiceError::bad_input("channel", format!("unknown reuse channel {:?}", draft.channel)))?;
    check_fits(&channel, &draft.body)?;
    Ok(channel)
}

/// Writes `draft` as the draft stage, over `existing` or as a new DRAFT document; it must fit its channel.
pub(crate) async fn write(
    db: &impl ConnectionTrait,
    existing: Option<proof_snippet::Model>,
    draft: SnippetDraft,
    version: i32,
) -> Result<proof_snippet::Model> {
    let channel = channel_for(db, &draft).await?;
    let timestamp = now();
    let Some(row) = existing else {
        return Ok(proof_snippet::ActiveModel {
            document_id: Set(new_document_id()),
            stage: Set(Stage::Draft),
            status: Set(ContentStatus::Draft),
            proof_record_document_id: Set(draft.proof_record_document_id),
            article_document_id: Set(draft.article_document_id),
            channel_id: Set(channel.id),
            char_count: Set(char_count(&draft.body)),
            body: Set(draft.body),
            published_at: Set(None),
            version: Set(version),
            publish_at: Set(None),
            created_at: Set(timestamp),
            updated_at: Set(timestamp),
            ..Default::default()
        }
        .insert(db)
        .await?);
    };
    let mut active: proof_snippet::ActiveModel = row.into();
    active.proof_record_document_id = Set(draft.proof_record_document_id);
    active.article_document_id = Set(draft.article_document_id);
    active.channel_id = Set(channel.id);
    active.char_count = Set(char_count(&draft.body));
    active.body = Set(draft.body);
    active.version = Set(version);
    active.updated_at = Set(timestamp);
    Ok(active.update(db).await?)
}

/// The draft row of a snippet with its content.
pub async fn load_draft(
    db: &impl ConnectionTrait,
    document_id: &str,
) -> Result<Option<(proof_snippet::Model, SnippetDraft)>> {
    let Some(row) = staged::draft_row::<Snippets>(db, document_id).await? else {
        return Ok(None);
    };
    let channel = catalog::channels_by_ids(db, &[row.channel_id]).await?.into_iter().next().map(|c| c.slug);
    let draft = SnippetDraft {
        proof_record_document_id: row.proof_record_document_id.clone(),
        article_document_id: row.article_document_id.clone(),
        channel: channel.unwrap_or_default(),
        body: row.body.clone(),
    };
    Ok(Some((row, draft)))
}

/// Inserts the published copy of the draft row `draft`.
pub(crate) async fn insert_published(
    db: &impl ConnectionTrait,
    draft: proof_snippet::Model,
    published_at: DateTime<Utc>,
) -> Result<proof_snippet::Model> {
    let mut copy = draft.into_active_model();
    copy.id = sea_orm::NotSet;
    copy.stage = Set(Stage::Published);
    copy.status = Set(ContentStatus::Published);
    copy.published_at = Set(Some(published_at));
    copy.publish_at = Set(None);
    Ok(copy.insert(db).await?)
}

/// Creates a DRAFT snippet at version 1 (no revision: for seeding).
pub async fn create_draft(db: &impl ConnectionTrait, draft: SnippetDraft) -> Result<proof_snippet::Model> {
    write(db, None, draft, 1).await
}
