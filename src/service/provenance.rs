//! Where a snippet's claim comes from, and drift. A snippet quotes its proof record (the whole record, or some
//! of its observations by position) and optionally a question or section of its article. When it is approved
//! (written, published or re-approved) each quoted part's fingerprint is stored; a later write that changes
//! or removes a part marks every snippet row that quoted it stale, with the reason, in that write's
//! transaction. Public reads do not offer a stale snippet ([`super::staged::Snippets`]'s `narrow`).
//!
//! Parts are compared with the sources' *draft* content, which is what editors see and approve against: an
//! edit stales a snippet at once, and publishing unchanged content changes nothing.

use std::collections::BTreeMap;

use entity::{proof_snippet, reuse_channel};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use sha2::{Digest, Sha256};

use super::article::ArticleDraft;
use super::proof_record::{ObservationInput, ProofRecordDraft};
use super::snippet::SnippetDraft;
use super::staged::{self, Actor, Snippets};
use super::{Result, ServiceError, now, transaction};

/// Fingerprint per quoted part: `record` (the whole record), `observation:N`, `question:ID`, `section:N`.
pub type Hashes = BTreeMap<String, String>;

/// An article's draft content with its questions' document ids (by position).
#[derive(Clone, Copy)]
pub struct ArticleContent<'a> {
    pub draft: &'a ArticleDraft,
    pub question_ids: &'a [String],
}

/// The drafts a snippet's source is read from.
pub struct Sources {
    pub record: ProofRecordDraft,
    pub record_version: i32,
    pub article: Option<(ArticleDraft, Vec<String>)>,
}

impl Sources {
    fn article(&self) -> Option<ArticleContent<'_>> {
        self.article.as_ref().map(|(draft, question_ids)| ArticleContent { draft, question_ids })
    }
}

/// What a snippet quotes, from its draft content or a stored row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quote {
    pub observations: Vec<i32>,
    pub question: Option<String>,
    pub section: Option<i32>,
}

impl Quote {
    pub fn of_draft(draft: &SnippetDraft) -> Self {
        Quote {
            observations: draft.source_observations.clone(),
            question: draft.source_question.clone(),
            section: draft.source_section,
        }
    }

    pub fn of_row(row: &proof_snippet::Model) -> Self {
        Quote {
            observations: positions_from_string(row.source_observations.as_deref()),
            question: row.source_question.clone(),
            section: row.source_section,
        }
    }

    fn quotes_article(&self) -> bool {
        self.question.is_some() || self.section.is_some()
    }
}

pub fn positions_to_string(positions: &[i32]) -> Option<String> {
    (!positions.is_empty()).then(|| positions.iter().map(i32::to_string).collect::<Vec<_>>().join(","))
}

pub fn positions_from_string(text: Option<&str>) -> Vec<i32> {
    text.unwrap_or_default().split(',').filter_map(|p| p.trim().parse().ok()).collect()
}

/// A fingerprint of the listed fields (named explicitly, so a field added to a draft type later does not
/// change every fingerprint and stale every snippet).
fn digest(value: &impl serde::Serialize) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    Sha256::digest(&bytes).iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn observation_text(o: &ObservationInput) -> impl serde::Serialize + '_ {
    (o.kind, &o.title, &o.detail)
}

/// The record's quoted parts: `Some(fingerprint)`, or `None` for a part that no longer exists.
fn record_parts(quote: &Quote, record: &ProofRecordDraft) -> BTreeMap<String, Option<String>> {
    if quote.observations.is_empty() {
        // The whole record's claims; frames and channels are rights and routing, not what a snippet quotes.
        let text = (
            &record.title,
            &record.client,
            &record.deliverable,
            &record.problem_solved,
            &record.summary,
            &record.captured_on,
            &record.location,
            record.observations.iter().map(observation_text).collect::<Vec<_>>(),
        );
        return BTreeMap::from([("record".to_string(), Some(digest(&text)))]);
    }
    quote
        .observations
        .iter()
        .map(|&p| {
            let found = usize::try_from(p).ok().and_then(|i| record.observations.get(i));
            (format!("observation:{p}"), found.map(|o| digest(&observation_text(o))))
        })
        .collect()
}

/// The article's quoted parts (none when the snippet quotes no question or section).
fn article_parts(quote: &Quote, article: Option<ArticleContent<'_>>) -> BTreeMap<String, Option<String>> {
    let mut parts = BTreeMap::new();
    if let Some(id) = &quote.question {
        let found = article.and_then(|a| {
            let i = a.question_ids.iter().position(|q| q == id)?;
            a.draft.questions.get(i)
        });
        parts.insert(format!("question:{id}"), found.map(|q| digest(&(&q.question, &q.answer))));
    }
    if let Some(p) = quote.section {
        let found = article.and_then(|a| usize::try_from(p).ok().and_then(|i| a.draft.sections.get(i)));
        parts.insert(format!("section:{p}"), found.map(|s| digest(&(&s.heading, &s.body))));
    }
    parts
}

/// Why the parts differ from what was approved, in words; empty when they match.
fn drift(approved: &Hashes, current: &BTreeMap<String, Option<String>>) -> Vec<String> {
    let mut reasons = Vec::new();
    for (key, now) in current {
        let Some(then) = approved.get(key) else { continue };
        let what = describe(key);
        match now {
            None => reasons.push(format!("{what} was removed")),
            Some(now) if now != then => reasons.push(format!("{what} was edited")),
            Some(_) => {}
        }
    }
    reasons
}

fn describe(key: &str) -> String {
    match key.split_once(':') {
        Some(("observation", p)) => format!("observation {p} of the proof record"),
        Some(("question", _)) => "the quoted question of the article".to_string(),
        Some(("section", p)) => format!("section {p} of the article"),
        _ => "the proof record".to_string(),
    }
}

/// Checks that every part `quote` names exists in `sources`, naming the input field when one does not.
pub fn check(quote: &Quote, sources: &Sources) -> Result<()> {
    let record_slug = &sources.record.slug;
    for (i, &p) in quote.observations.iter().enumerate() {
        if usize::try_from(p).ok().and_then(|i| sources.record.observations.get(i)).is_none() {
            return Err(ServiceError::bad_input(
                format!("source.observations[{i}]"),
                format!("the proof record {record_slug:?} has no observation at position {p}"),
            ));
        }
    }
    if !quote.quotes_article() {
        return Ok(());
    }
    let Some(article) = sources.article() else {
        let field = if quote.question.is_some() { "source.question" } else { "source.section" };
        return Err(ServiceError::bad_input(field, "quotes an article: set the snippet's article first"));
    };
    let slug = &article.draft.slug;
    if let Some(id) = &quote.question
        && !article.question_ids.contains(id)
    {
        return Err(ServiceError::bad_input("source.question", format!("is not a question of the article {slug:?}")));
    }
    if let Some(p) = quote.section
        && usize::try_from(p).ok().and_then(|i| article.draft.sections.get(i)).is_none()
    {
        return Err(ServiceError::bad_input(
            "source.section",
            format!("the article {slug:?} has no section at position {p}"),
        ));
    }
    Ok(())
}

/// The fingerprints of every part `quote` names (call after [`check`]).
pub fn fingerprint(quote: &Quote, sources: &Sources) -> Hashes {
    let mut parts = record_parts(quote, &sources.record);
    parts.extend(article_parts(quote, sources.article()));
    parts.into_iter().filter_map(|(k, v)| Some((k, v?))).collect()
}

/// The draft content of the proof record and (when given) the article a snippet quotes.
pub async fn load_sources(
    db: &impl ConnectionTrait,
    record_document_id: &str,
    article_document_id: Option<&str>,
) -> Result<Sources> {
    let Some((row, record)) = super::proof_record::load_draft(db, record_document_id).await? else {
        return Err(ServiceError::bad_input("proofRecord", "the proof record no longer exists"));
    };
    let article = match article_document_id {
        None => None,
        Some(id) => load_article(db, id).await?,
    };
    Ok(Sources { record, record_version: row.version, article })
}

async fn load_article(db: &impl ConnectionTrait, document_id: &str) -> Result<Option<(ArticleDraft, Vec<String>)>> {
    let Some((row, draft)) = super::article::load_draft(db, document_id).await? else { return Ok(None) };
    let questions = super::article::questions_of(db, &[row.id]).await?.remove(&row.id).unwrap_or_default();
    Ok(Some((draft, questions.into_iter().map(|q| q.document_id).collect())))
}

/// Sets the approval columns of `row` for `sources`: fingerprints, the record's version, the time, not stale.
pub fn approve_row(row: &mut proof_snippet::ActiveModel, quote: &Quote, sources: &Sources) {
    row.source_hashes = Set(serde_json::to_string(&fingerprint(quote, sources)).ok());
    row.source_version = Set(Some(sources.record_version));
    row.approved_at = Set(Some(now()));
    row.stale_reason = Set(None);
    row.stale_since = Set(None);
}

// ---- drift: called by the writes that change a source ---------------------------------------

async fn mark_drifted(
    db: &impl ConnectionTrait,
    rows: Vec<proof_snippet::Model>,
    current: impl Fn(&proof_snippet::Model, &Quote) -> BTreeMap<String, Option<String>>,
) -> Result<()> {
    for row in rows {
        let Some(approved) = row.source_hashes.as_deref().and_then(|h| serde_json::from_str::<Hashes>(h).ok()) else {
            continue;
        };
        let reasons = drift(&approved, &current(&row, &Quote::of_row(&row)));
        if reasons.is_empty() {
            continue;
        }
        // A stale snippet leaves the public lists: the same write names them.
        super::changes::note([super::changes::snippet(&row.document_id), super::changes::SNIPPETS.to_string()]);
        let mut active = row.into_active_model();
        active.stale_reason = Set(Some(reasons.join("; ")));
        active.stale_since = Set(Some(now()));
        active.update(db).await?;
    }
    Ok(())
}

/// Snippet rows (both stages) that may drift: approved and not stale yet.
fn approved_rows() -> sea_orm::Select<proof_snippet::Entity> {
    proof_snippet::Entity::find()
        .filter(proof_snippet::Column::SourceHashes.is_not_null())
        .filter(proof_snippet::Column::StaleReason.is_null())
}

/// After the draft of proof record `document_id` was written with `content`.
pub async fn record_changed(db: &impl ConnectionTrait, document_id: &str, content: &ProofRecordDraft) -> Result<()> {
    let rows = approved_rows().filter(proof_snippet::Column::ProofRecordDocumentId.eq(document_id)).all(db).await?;
    mark_drifted(db, rows, |_, quote| record_parts(quote, content)).await
}

/// After the drafts of articles were written: `(document id, content)` each.
pub async fn articles_changed(db: &impl ConnectionTrait, changed: &[(&str, ArticleContent<'_>)]) -> Result<()> {
    if changed.is_empty() {
        return Ok(());
    }
    let quoting = Condition::any()
        .add(proof_snippet::Column::SourceQuestion.is_not_null())
        .add(proof_snippet::Column::SourceSection.is_not_null());
    let rows = approved_rows()
        .filter(proof_snippet::Column::ArticleDocumentId.is_in(changed.iter().map(|(id, _)| id.to_string())))
        .filter(quoting)
        .all(db)
        .await?;
    mark_drifted(db, rows, |row, quote| {
        let content = changed.iter().find(|(id, _)| Some(*id) == row.article_document_id.as_deref()).map(|(_, c)| *c);
        article_parts(quote, content)
    })
    .await
}

/// After article `document_id` was deleted: what its snippets quoted from it is gone.
pub async fn article_removed(db: &impl ConnectionTrait, document_id: &str) -> Result<()> {
    let rows = approved_rows().filter(proof_snippet::Column::ArticleDocumentId.eq(document_id)).all(db).await?;
    mark_drifted(db, rows, |_, quote| article_parts(quote, None)).await
}

// ---- re-approval ----------------------------------------------------------------------------

/// An editor confirms the snippet still says what its source says: both stages record the sources' current
/// fingerprints and stop being stale, so a published snippet is offered again at once. A source part that no
/// longer exists cannot be approved: edit the snippet's `source` instead.
pub async fn approve(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
    document_id: &str,
    expected: i32,
) -> Result<proof_snippet::Model> {
    let (actor, id) = (actor.clone(), document_id.to_string());
    transaction(db, move |txn| {
        Box::pin(async move {
            staged::claim_unchanged::<Snippets>(txn, &actor, &id, expected).await?;
            super::changes::note([super::changes::snippet(&id), super::changes::SNIPPETS.to_string()]);
            super::changes::complete();
            let rows = proof_snippet::Entity::find()
                .filter(proof_snippet::Column::DocumentId.eq(id.as_str()))
                .all(txn)
                .await?;
            for row in rows {
                let sources =
                    load_sources(txn, &row.proof_record_document_id, row.article_document_id.as_deref()).await?;
                let quote = Quote::of_row(&row);
                check(&quote, &sources)?;
                let mut active = row.into_active_model();
                approve_row(&mut active, &quote, &sources);
                active.update(txn).await?;
            }
            staged::log::<Snippets>(txn, &actor, "approveSnippet", &id).await?;
            staged::draft::<Snippets>(txn, &id).await
        })
    })
    .await
}

/// The public offer of snippets: not stale, and carrying a credit line where its channel requires one.
pub fn offered() -> Condition {
    // Correlated, so each candidate snippet is one lookup (an `IN (subquery)` is collected whole per read).
    let credit_required = Query::select()
        .expr(Expr::cust("1"))
        .from(reuse_channel::Entity)
        .and_where(
            Expr::col((reuse_channel::Entity, reuse_channel::Column::Id))
                .equals((proof_snippet::Entity, proof_snippet::Column::ChannelId)),
        )
        .and_where(Expr::col((reuse_channel::Entity, reuse_channel::Column::RequiresCredit)).eq(true))
        .to_owned();
    Condition::all()
        .add(proof_snippet::Column::StaleReason.is_null())
        .add(Condition::any().add(proof_snippet::Column::Credit.is_not_null()).add(Expr::not_exists(credit_required)))
}
