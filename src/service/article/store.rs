//! The set-based store of articles: whole documents written as rows and owned rows (sections, questions,
//! links, search entries) in a few multi-row statements, and removed the same way.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{ContentStatus, Stage, article, article_link, article_section, question};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Set,
};

use super::draft::ArticleDraft;
use super::group;
use crate::service::provenance::ArticleContent;
use crate::service::{Result, ServiceError, bulk, new_document_id, now, search};

pub(super) fn not_stored() -> ServiceError {
    ServiceError::Database(sea_orm::DbErr::RecordNotInserted)
}

/// A document's content about to be written as fresh rows (and owned rows) at a stage: its identity,
/// content, version and first publication, and its questions' document ids, which stay the same across
/// stages and, position by position, across edits.
pub(crate) struct NewArticle {
    pub document_id: String,
    pub draft: ArticleDraft,
    pub question_ids: Vec<String>,
    pub version: i32,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl NewArticle {
    /// A new document at version 1.
    pub(crate) fn new(draft: ArticleDraft) -> Self {
        let question_ids = draft.questions.iter().map(|_| new_document_id()).collect();
        let timestamp = now();
        Self {
            document_id: new_document_id(),
            draft,
            question_ids,
            version: 1,
            published_at: None,
            created_at: timestamp,
            updated_at: timestamp,
        }
    }

    /// The next version of the document whose draft row is `existing` and whose questions were `old_questions`.
    pub(crate) fn next(existing: &article::Model, old_questions: &[question::Model], draft: ArticleDraft) -> Self {
        let question_ids = (0..draft.questions.len())
            .map(|i| old_questions.get(i).map(|q| q.document_id.clone()).unwrap_or_else(new_document_id))
            .collect();
        Self {
            document_id: existing.document_id.clone(),
            draft,
            question_ids,
            version: existing.version + 1,
            published_at: existing.published_at,
            created_at: existing.created_at,
            updated_at: now(),
        }
    }

    /// The document exactly as its draft row `row` stores it (same version and dates), for publishing.
    pub(crate) fn copy_of(row: &article::Model, questions: &[question::Model], draft: ArticleDraft) -> Self {
        Self {
            document_id: row.document_id.clone(),
            draft,
            question_ids: questions.iter().map(|q| q.document_id.clone()).collect(),
            version: row.version,
            published_at: row.published_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    fn apply_to(&self, row: &mut article::Model) {
        let draft = &self.draft;
        row.slug = draft.slug.clone();
        row.title = draft.title.clone();
        row.thesis = draft.thesis.clone();
        row.point = draft.point.clone();
        row.audience_summary = draft.audience_summary.clone();
        row.audience_roles = draft.audience_roles.join("\n");
        row.reader_need = draft.reader_need.clone();
        row.real_problem = draft.real_problem.clone();
        row.record_matters = draft.record_matters.clone();
        row.smarter_question = draft.smarter_question.clone();
        row.proves = draft.proves.clone();
        row.collection_id = draft.collection_id;
        row.proof_record_document_id = draft.proof_record_document_id.clone();
        row.version = self.version;
        row.published_at = self.published_at;
        row.created_at = self.created_at;
        row.updated_at = self.updated_at;
    }
}

/// The owned rows of an article, built from its draft (ids are assigned on insert).
struct Children {
    sections: Vec<article_section::Model>,
    questions: Vec<question::Model>,
    links: Vec<article_link::Model>,
}

impl Children {
    fn of(article_id: i32, draft: &ArticleDraft, question_id: impl Fn(usize) -> String) -> Self {
        let sections = draft
            .sections
            .iter()
            .enumerate()
            .map(|(i, s)| article_section::Model {
                id: 0,
                article_id,
                position: i as i32,
                heading: s.heading.clone(),
                body: s.body.clone(),
            })
            .collect();
        let questions = draft
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| question::Model {
                id: 0,
                document_id: question_id(i),
                article_id,
                position: i as i32,
                question: q.question.clone(),
                answer: q.answer.clone(),
            })
            .collect();
        let links = draft
            .related_titles
            .iter()
            .enumerate()
            .map(|(i, title)| article_link::Model {
                id: 0,
                article_id,
                position: i as i32,
                target_slug: crate::domain::slugify(title),
                target_title: title.clone(),
            })
            .collect();
        Children { sections, questions, links }
    }
}

/// Inserts documents as new rows at `stage` with their sections, questions, links and search entries: a
/// few multi-row statements however many there are. Returns the rows in the order of `items`. The caller
/// has validated the drafts and checked that their slugs are free at that stage.
pub(crate) async fn insert_new(
    db: &impl ConnectionTrait,
    items: &[NewArticle],
    stage: Stage,
    status: ContentStatus,
) -> Result<Vec<article::Model>> {
    let rows = items
        .iter()
        .map(|item| {
            let mut row = article::Model {
                id: 0,
                document_id: item.document_id.clone(),
                stage,
                status,
                slug: String::new(),
                title: String::new(),
                thesis: None,
                point: None,
                audience_summary: None,
                audience_roles: String::new(),
                reader_need: None,
                real_problem: None,
                record_matters: None,
                smarter_question: None,
                proves: None,
                collection_id: None,
                proof_record_document_id: None,
                published_at: None,
                created_at: item.created_at,
                updated_at: item.updated_at,
                version: 0,
                publish_at: None,
            };
            item.apply_to(&mut row);
            let mut active = row.into_active_model().reset_all();
            active.id = sea_orm::NotSet;
            active
        })
        .collect();
    let mut stored: HashMap<String, article::Model> =
        bulk::insert_returning(db, rows).await?.into_iter().map(|m| (m.document_id.clone(), m)).collect();
    let rows =
        items.iter().map(|item| stored.remove(&item.document_id).ok_or_else(not_stored)).collect::<Result<Vec<_>>>()?;
    insert_owned(db, &rows, items).await?;
    Ok(rows)
}

/// Replaces the content of existing draft rows (`existing[i]` gets `items[i]`), owned rows included, in a
/// few statements. `publish` also marks them published (the caller writes the published stage).
pub(crate) async fn replace_drafts(
    db: &impl ConnectionTrait,
    existing: Vec<article::Model>,
    items: &[NewArticle],
    publish: bool,
) -> Result<Vec<article::Model>> {
    let ids: Vec<i32> = existing.iter().map(|row| row.id).collect();
    delete_children(db, &ids).await?;
    let rows: Vec<article::Model> = existing
        .into_iter()
        .zip(items)
        .map(|(mut row, item)| {
            item.apply_to(&mut row);
            if publish {
                row.status = ContentStatus::Published;
                row.publish_at = None;
            }
            row
        })
        .collect();
    let updated_columns = <article::Column as sea_orm::Iterable>::iter().filter(|c| !matches!(c, article::Column::Id));
    let on_conflict = OnConflict::column(article::Column::Id).update_columns(updated_columns).to_owned();
    let active = rows.iter().map(|row| row.clone().into_active_model().reset_all()).collect();
    bulk::upsert(db, active, on_conflict).await?;
    insert_owned(db, &rows, items).await?;
    // Snippets quoting a question or section that changed go stale in this same write.
    let changed: Vec<_> = rows
        .iter()
        .zip(items)
        .map(|(row, item)| {
            let content = ArticleContent { draft: &item.draft, question_ids: &item.question_ids };
            (row.document_id.as_str(), content)
        })
        .collect();
    crate::service::provenance::articles_changed(db, &changed).await?;
    Ok(rows)
}

/// Inserts the sections, questions, links and search entries of `rows[i]` from `items[i]`.
async fn insert_owned(db: &impl ConnectionTrait, rows: &[article::Model], items: &[NewArticle]) -> Result<()> {
    let mut all = Children { sections: Vec::new(), questions: Vec::new(), links: Vec::new() };
    for (row, item) in rows.iter().zip(items) {
        let children = Children::of(row.id, &item.draft, |i| item.question_ids[i].clone());
        all.sections.extend(children.sections);
        all.questions.extend(children.questions);
        all.links.extend(children.links);
    }
    let questions = group(insert_children(db, &all.sections, &all.questions, &all.links).await?, |q| q.article_id);
    let sections = group(all.sections, |s| s.article_id);
    let mut docs = Vec::new();
    for row in rows {
        let questions = questions.get(&row.id).map_or(&[][..], Vec::as_slice);
        let sections = sections.get(&row.id).map_or(&[][..], Vec::as_slice);
        docs.extend(search::article_documents(row, sections, questions));
    }
    search::insert_documents(db, docs).await
}

/// Removes the sections, questions, links and search entries of the given article rows.
pub(crate) async fn delete_children(db: &impl ConnectionTrait, article_ids: &[i32]) -> Result<()> {
    if article_ids.is_empty() {
        return Ok(());
    }
    let ids = || article_ids.iter().copied();
    let question_ids: Vec<i32> = question::Entity::find()
        .filter(question::Column::ArticleId.is_in(ids()))
        .select_only()
        .column(question::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    search::remove(db, search::Kind::Question, &question_ids).await?;
    search::remove(db, search::Kind::Article, article_ids).await?;
    article_section::Entity::delete_many().filter(article_section::Column::ArticleId.is_in(ids())).exec(db).await?;
    question::Entity::delete_many().filter(question::Column::ArticleId.is_in(ids())).exec(db).await?;
    article_link::Entity::delete_many().filter(article_link::Column::ArticleId.is_in(ids())).exec(db).await?;
    Ok(())
}

/// Deletes article rows with everything they own.
pub(crate) async fn delete_rows(db: &impl ConnectionTrait, article_ids: &[i32]) -> Result<()> {
    delete_children(db, article_ids).await?;
    if !article_ids.is_empty() {
        article::Entity::delete_many().filter(article::Column::Id.is_in(article_ids.iter().copied())).exec(db).await?;
    }
    Ok(())
}

/// Inserts owned rows (ids are assigned by the database; `id` in the models is ignored) and returns the
/// stored questions, which the search index needs the ids of.
pub(crate) async fn insert_children(
    db: &impl ConnectionTrait,
    sections: &[article_section::Model],
    questions: &[question::Model],
    links: &[article_link::Model],
) -> Result<Vec<question::Model>> {
    let sections = sections.iter().map(|s| article_section::ActiveModel {
        article_id: Set(s.article_id),
        position: Set(s.position),
        heading: Set(s.heading.clone()),
        body: Set(s.body.clone()),
        ..Default::default()
    });
    bulk::insert(db, sections.collect()).await?;
    let questions = questions.iter().map(|q| question::ActiveModel {
        document_id: Set(q.document_id.clone()),
        article_id: Set(q.article_id),
        position: Set(q.position),
        question: Set(q.question.clone()),
        answer: Set(q.answer.clone()),
        ..Default::default()
    });
    let questions = bulk::insert_returning(db, questions.collect()).await?;
    let links = links.iter().map(|l| article_link::ActiveModel {
        article_id: Set(l.article_id),
        position: Set(l.position),
        target_title: Set(l.target_title.clone()),
        target_slug: Set(l.target_slug.clone()),
        ..Default::default()
    });
    bulk::insert(db, links.collect()).await?;
    Ok(questions)
}
