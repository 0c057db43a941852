//! The draft model of an article: its editable content, a patch to it, validation, and how a draft is
//! loaded from and written to its stage rows.

use chrono::{DateTime, Utc};
use entity::{ContentStatus, Stage, article, question};
use sea_orm::ConnectionTrait;

use super::store::{NewArticle, insert_new, not_stored, replace_drafts};
use super::{drafts_for_update, links_of, questions_of, sections_of};
use crate::service::staged::{self, Articles, ProofRecords};
use crate::service::{Result, ServiceError, Visibility};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SectionInput {
    pub heading: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QuestionInput {
    pub question: String,
    pub answer: String,
}

/// The editable content of an article: what the importer and the editorial API write, and what a revision stores.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ArticleDraft {
    pub slug: String,
    pub title: String,
    pub thesis: Option<String>,
    pub point: Option<String>,
    pub audience_summary: Option<String>,
    pub audience_roles: Vec<String>,
    pub reader_need: Option<String>,
    pub real_problem: Option<String>,
    pub record_matters: Option<String>,
    pub smarter_question: Option<String>,
    pub proves: Option<String>,
    pub sections: Vec<SectionInput>,
    pub questions: Vec<QuestionInput>,
    pub related_titles: Vec<String>,
    pub collection_id: Option<i32>,
    pub proof_record_document_id: Option<String>,
}

/// Who the page helps, as an edit sets it.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    pub summary: Option<String>,
    pub roles: Vec<String>,
    pub reader_need: Option<String>,
}

/// A change to an article: `None` keeps a field, `Some(None)` clears it; lists replace the whole list.
/// References are slugs, resolved inside the write's transaction.
#[derive(Debug, Clone, Default)]
pub struct ArticlePatch {
    /// Defaults to the title's slug on create.
    pub slug: Option<String>,
    pub title: Option<String>,
    pub thesis: Option<Option<String>>,
    pub point: Option<Option<String>>,
    pub audience: Option<Option<Audience>>,
    pub real_problem: Option<Option<String>>,
    pub record_matters: Option<Option<String>>,
    pub smarter_question: Option<Option<String>>,
    pub proves: Option<Option<String>>,
    pub sections: Option<Vec<SectionInput>>,
    pub questions: Option<Vec<QuestionInput>>,
    pub related_titles: Option<Vec<String>>,
    /// Collection slug.
    pub collection: Option<Option<String>>,
    /// Slug of the paired proof record.
    pub proof_record: Option<Option<String>>,
    /// When to publish; `Some(None)` cancels a schedule.
    pub publish_at: Option<Option<DateTime<Utc>>>,
}

/// An [`ArticlePatch`] whose references are storage keys.
pub struct ResolvedPatch {
    patch: ArticlePatch,
    collection_id: Option<Option<i32>>,
    proof_record_document_id: Option<Option<String>>,
}

/// Resolves the patch's collection and proof record slugs (BAD_USER_INPUT naming the field when unknown).
pub(crate) async fn resolve(db: &impl ConnectionTrait, mut patch: ArticlePatch) -> Result<ResolvedPatch> {
    let collection_id = match patch.collection.take() {
        None => None,
        Some(None) => Some(None),
        Some(Some(slug)) => match crate::service::catalog::collection_by_slug(db, &slug).await? {
            Some(c) => Some(Some(c.id)),
            None => return Err(ServiceError::bad_input("collection", format!("no collection has the slug {slug:?}"))),
        },
    };
    let proof_record_document_id = match patch.proof_record.take() {
        None => None,
        Some(None) => Some(None),
        Some(Some(slug)) => match staged::by_slug::<ProofRecords>(db, Visibility::Preview, &slug).await? {
            Some(r) => Some(Some(r.document_id)),
            None => {
                return Err(ServiceError::bad_input("proofRecord", format!("no proof record has the slug {slug:?}")));
            }
        },
    };
    Ok(ResolvedPatch { patch, collection_id, proof_record_document_id })
}

impl ResolvedPatch {
    pub(crate) fn apply_to(self, draft: &mut ArticleDraft) {
        let p = self.patch;
        crate::service::set(&mut draft.title, p.title);
        if let Some(v) = p.slug {
            draft.slug = v;
        } else if draft.slug.is_empty() {
            draft.slug = crate::domain::slugify(&draft.title);
        }
        crate::service::set(&mut draft.thesis, p.thesis);
        crate::service::set(&mut draft.point, p.point);
        if let Some(audience) = p.audience {
            let a = audience.unwrap_or_default();
            draft.audience_summary = a.summary;
            draft.audience_roles = a.roles;
            draft.reader_need = a.reader_need;
        }
        crate::service::set(&mut draft.real_problem, p.real_problem);
        crate::service::set(&mut draft.record_matters, p.record_matters);
        crate::service::set(&mut draft.smarter_question, p.smarter_question);
        crate::service::set(&mut draft.proves, p.proves);
        crate::service::set(&mut draft.sections, p.sections);
        crate::service::set(&mut draft.questions, p.questions);
        crate::service::set(&mut draft.related_titles, p.related_titles);
        crate::service::set(&mut draft.collection_id, self.collection_id);
        crate::service::set(&mut draft.proof_record_document_id, self.proof_record_document_id);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Created,
    Updated,
}

pub fn validate_slug(field: &str, slug: &str) -> Result<()> {
    let ok = !slug.is_empty()
        && slug.len() <= 200
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if ok {
        Ok(())
    } else {
        Err(ServiceError::bad_input(field, "must be lower-case ASCII letters, digits and single hyphens"))
    }
}

/// Creates or updates the draft stage of the article with `draft.slug` (the importer's upsert), bumping
/// its version and recording a revision by `author`. Call inside a transaction.
pub async fn save_draft(
    db: &impl ConnectionTrait,
    draft: ArticleDraft,
    author: &str,
) -> Result<(article::Model, Saved)> {
    let existing = drafts_for_update(db, std::slice::from_ref(&draft.slug)).await?.pop();
    let saved = if existing.is_some() { Saved::Updated } else { Saved::Created };
    let version = existing.as_ref().map_or(1, |m| m.version + 1);
    let row = write(db, existing, draft.clone(), version).await?;
    crate::service::revision::record(
        db,
        crate::service::revision::ARTICLE,
        &row.document_id,
        row.version,
        author,
        &draft,
    )
    .await?;
    Ok((row, saved))
}

pub fn validate(draft: &ArticleDraft) -> Result<()> {
    validate_slug("slug", &draft.slug)?;
    if draft.title.trim().is_empty() {
        return Err(ServiceError::bad_input("title", "must not be empty"));
    }
    for (i, s) in draft.sections.iter().enumerate() {
        if s.heading.trim().is_empty() {
            return Err(ServiceError::bad_input(format!("sections[{i}].heading"), "must not be empty"));
        }
    }
    for (i, q) in draft.questions.iter().enumerate() {
        if q.question.trim().is_empty() {
            return Err(ServiceError::bad_input(format!("questions[{i}].question"), "must not be empty"));
        }
        if q.answer.trim().is_empty() {
            return Err(ServiceError::bad_input(format!("questions[{i}].answer"), "must not be empty"));
        }
    }
    Ok(())
}

/// The draft row of a document with its content as an [`ArticleDraft`].
pub async fn load_draft(
    db: &impl ConnectionTrait,
    document_id: &str,
) -> Result<Option<(article::Model, ArticleDraft)>> {
    let Some(row) = staged::by_document_id::<Articles>(db, Visibility::Preview, document_id).await? else {
        return Ok(None);
    };
    let (draft, _) = content_of(db, &row).await?;
    Ok(Some((row, draft)))
}

/// The content of the article row `row`, with its stored questions.
async fn content_of(db: &impl ConnectionTrait, row: &article::Model) -> Result<(ArticleDraft, Vec<question::Model>)> {
    let sections = sections_of(db, &[row.id]).await?.remove(&row.id).unwrap_or_default();
    let stored_questions = questions_of(db, &[row.id]).await?.remove(&row.id).unwrap_or_default();
    let questions = stored_questions.clone();
    let links = links_of(db, &[row.id]).await?.remove(&row.id).unwrap_or_default();
    let draft = ArticleDraft {
        slug: row.slug.clone(),
        title: row.title.clone(),
        thesis: row.thesis.clone(),
        point: row.point.clone(),
        audience_summary: row.audience_summary.clone(),
        audience_roles: row.audience_roles.lines().filter(|l| !l.is_empty()).map(str::to_string).collect(),
        reader_need: row.reader_need.clone(),
        real_problem: row.real_problem.clone(),
        record_matters: row.record_matters.clone(),
        smarter_question: row.smarter_question.clone(),
        proves: row.proves.clone(),
        sections: sections.into_iter().map(|s| SectionInput { heading: s.heading, body: s.body }).collect(),
        questions: questions.into_iter().map(|q| QuestionInput { question: q.question, answer: q.answer }).collect(),
        related_titles: links.into_iter().map(|l| l.target_title).collect(),
        collection_id: row.collection_id,
        proof_record_document_id: row.proof_record_document_id.clone(),
    };
    Ok((draft, stored_questions))
}

/// Writes `draft` as the draft stage: over `existing` (replacing its owned rows) or as a new document.
pub(crate) async fn write(
    db: &impl ConnectionTrait,
    existing: Option<article::Model>,
    draft: ArticleDraft,
    version: i32,
) -> Result<article::Model> {
    validate(&draft)?;
    if let Some(other) = staged::by_slug::<Articles>(db, Visibility::Preview, &draft.slug).await?
        && existing.as_ref().is_none_or(|e| e.id != other.id)
    {
        return Err(ServiceError::Conflict(format!("slug: {:?} is already used by another article", draft.slug)));
    }
    let Some(model) = existing else {
        let item = NewArticle { version, ..NewArticle::new(draft) };
        let mut rows = insert_new(db, &[item], Stage::Draft, ContentStatus::Draft).await?;
        return rows.pop().ok_or_else(not_stored);
    };
    let old_questions = questions_of(db, &[model.id]).await?.remove(&model.id).unwrap_or_default();
    let item = NewArticle { version, ..NewArticle::next(&model, &old_questions, draft) };
    let mut rows = replace_drafts(db, vec![model], &[item], false).await?;
    rows.pop().ok_or_else(not_stored)
}

/// Inserts the published copy of the draft row `draft` with its content, through the set-based writer.
pub(crate) async fn insert_published(
    db: &impl ConnectionTrait,
    draft: article::Model,
    published_at: DateTime<Utc>,
) -> Result<article::Model> {
    let (content, questions) = content_of(db, &draft).await?;
    let copy = NewArticle { published_at: Some(published_at), ..NewArticle::copy_of(&draft, &questions, content) };
    let mut copies = insert_new(db, &[copy], Stage::Published, ContentStatus::Published).await?;
    copies.pop().ok_or_else(not_stored)
}
