//! Proof snippets: short quotable claims, each offered to one reuse channel.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{ContentStatus, Stage, proof_snippet, reuse_channel};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, IntoActiveModel, QueryFilter, QueryOrder, Select, Set};

use super::article::group;
use super::pagination::{self, Ordering, SortValue};
use super::provenance::{self, Quote};
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
    // Revisions written before provenance existed lack these fields.
    #[serde(default)]
    pub credit: Option<String>,
    /// Positions of the quoted observations of the proof record; none = the whole record.
    #[serde(default)]
    pub source_observations: Vec<i32>,
    /// Document id of the quoted question of the article.
    #[serde(default)]
    pub source_question: Option<String>,
    /// Position of the quoted section of the article.
    #[serde(default)]
    pub source_section: Option<i32>,
}

/// Characters as a reader counts them: extended grapheme clusters (a family emoji, or a letter with a
/// combining accent, is one), the unit of a channel's `maxChars`.
pub fn char_count(body: &str) -> i32 {
    use unicode_segmentation::UnicodeSegmentation;
    i32::try_from(body.graphemes(true).count()).unwrap_or(i32::MAX)
}

/// How many characters `body` is over the channel's `maxChars` (0 when within it).
pub fn overflow_by(channel: &reuse_channel::Model, body: &str) -> i32 {
    channel.max_chars.map_or(0, |max| (char_count(body) - max).max(0))
}

/// Whether a snippet can be offered to the channel: within `maxChars`, with a credit line where required.
pub fn fits(channel: &reuse_channel::Model, body: &str, credit: Option<&str>) -> bool {
    overflow_by(channel, body) == 0 && (!channel.requires_credit || credit.is_some_and(|c| !c.trim().is_empty()))
}

pub fn check_fits(channel: &reuse_channel::Model, body: &str, credit: Option<&str>) -> Result<()> {
    let count = char_count(body);
    if body.trim().is_empty() {
        return Err(ServiceError::bad_input("body", "must not be empty"));
    }
    if let Some(max) = channel.max_chars
        && count > max
    {
        return Err(ServiceError::bad_input(
            "body",
            format!("is {count} characters; channel {:?} takes at most {max}", channel.slug),
        ));
    }
    if !fits(channel, body, credit) {
        return Err(ServiceError::bad_input("credit", format!("channel {:?} requires a credit line", channel.slug)));
    }
    Ok(())
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
    /// `Some(None)` clears.
    pub credit: Option<Option<String>>,
    /// What it quotes; replaces the whole source (`Some(default)`: the whole proof record).
    pub source: Option<SnippetSource>,
}

/// What a snippet quotes besides its proof record (question as a document id).
#[derive(Debug, Clone, Default)]
pub struct SnippetSource {
    pub observations: Vec<i32>,
    pub question: Option<String>,
    pub section: Option<i32>,
}

/// A [`SnippetPatch`] with its references as document ids.
pub struct ResolvedPatch {
    proof_record_document_id: Option<String>,
    article_document_id: Option<Option<String>>,
    channel: Option<String>,
    body: Option<String>,
    credit: Option<Option<String>>,
    source: Option<SnippetSource>,
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
    // A blank credit is no credit.
    let credit = patch.credit.map(|c| c.filter(|c| !c.trim().is_empty()));
    Ok(ResolvedPatch { proof_record_document_id, article_document_id, channel, body, credit, source: patch.source })
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
        if let Some(v) = self.credit {
            draft.credit = v;
        }
        if let Some(v) = self.source {
            draft.source_observations = v.observations;
            draft.source_question = v.question;
            draft.source_section = v.section;
        }
    }
}

async fn channel_for(db: &impl ConnectionTrait, draft: &SnippetDraft) -> Result<reuse_channel::Model> {
    let channel = catalog::channel_by_slug(db, &draft.channel)
        .await?
        .ok_or_else(|| ServiceError::bad_input("channel", format!("unknown reuse channel {:?}", draft.channel)))?;
    check_fits(&channel, &draft.body, draft.credit.as_deref())?;
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
    // Writing a snippet approves it against its source as it is now.
    let quote = Quote::of_draft(&draft);
    let sources =
        provenance::load_sources(db, &draft.proof_record_document_id, draft.article_document_id.as_deref()).await?;
    provenance::check(&quote, &sources)?;
    let timestamp = now();
    let Some(row) = existing else {
        let mut row = proof_snippet::ActiveModel {
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
            credit: Set(draft.credit),
            source_observations: Set(provenance::positions_to_string(&quote.observations)),
            source_question: Set(quote.question.clone()),
            source_section: Set(quote.section),
            ..Default::default()
        };
        provenance::approve_row(&mut row, &quote, &sources);
        return Ok(row.insert(db).await?);
    };
    let mut active: proof_snippet::ActiveModel = row.into();
    active.proof_record_document_id = Set(draft.proof_record_document_id);
    active.article_document_id = Set(draft.article_document_id);
    active.channel_id = Set(channel.id);
    active.char_count = Set(char_count(&draft.body));
    active.body = Set(draft.body);
    active.version = Set(version);
    active.updated_at = Set(timestamp);
    active.credit = Set(draft.credit);
    active.source_observations = Set(provenance::positions_to_string(&quote.observations));
    active.source_question = Set(quote.question.clone());
    active.source_section = Set(quote.section);
    provenance::approve_row(&mut active, &quote, &sources);
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
        credit: row.credit.clone(),
        source_observations: provenance::positions_from_string(row.source_observations.as_deref()),
        source_question: row.source_question.clone(),
        source_section: row.source_section,
    };
    Ok(Some((row, draft)))
}

/// Inserts the published copy of the draft row `draft`.
pub(crate) async fn insert_published(
    db: &impl ConnectionTrait,
    draft: proof_snippet::Model,
    published_at: DateTime<Utc>,
) -> Result<proof_snippet::Model> {
    // Publishing approves the snippet against its source as it is now, unless a quoted part is gone (then
    // the copy stays stale, as the draft is, until the snippet's source is edited).
    let quote = Quote::of_row(&draft);
    let sources =
        provenance::load_sources(db, &draft.proof_record_document_id, draft.article_document_id.as_deref()).await?;
    let current = provenance::check(&quote, &sources).is_ok();
    if current {
        let mut approved = draft.clone().into_active_model();
        provenance::approve_row(&mut approved, &quote, &sources);
        approved.update(db).await?;
    }
    let mut copy = draft.into_active_model();
    copy.id = sea_orm::NotSet;
    copy.stage = Set(Stage::Published);
    copy.status = Set(ContentStatus::Published);
    copy.published_at = Set(Some(published_at));
    copy.publish_at = Set(None);
    if current {
        provenance::approve_row(&mut copy, &quote, &sources);
    }
    Ok(copy.insert(db).await?)
}

/// Creates a DRAFT snippet at version 1 (no revision: for seeding).
pub async fn create_draft(db: &impl ConnectionTrait, draft: SnippetDraft) -> Result<proof_snippet::Model> {
    write(db, None, draft, 1).await
}
