//! Articles and their owned rows (sections, questions, related links).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{ContentStatus, Stage, article, article_link, article_section, collection, question};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    Select, Set,
};

use super::pagination::{self, SortKey};
use super::staged::{self, Articles};
use super::{Page, PageRequest, Result, ServiceError, SortDirection, Visibility, bulk, new_document_id, now, search};

#[derive(Debug, Clone, Default)]
pub struct ArticleCriteria {
    pub collection: Option<String>,
    pub text: Option<String>,
    pub published_after: Option<DateTime<Utc>>,
    pub published_before: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct ArticleListing {
    pub visibility: Visibility,
    pub filter: ArticleCriteria,
    pub order_by: SortKey,
    pub direction: SortDirection,
}

fn select_visible(visibility: Visibility) -> Select<article::Entity> {
    staged::visible::<Articles>(visibility)
}

fn filtered(db: &impl ConnectionTrait, query: &ArticleListing) -> Select<article::Entity> {
    let mut select = select_visible(query.visibility);
    let f = &query.filter;
    if let Some(slug) = &f.collection {
        select = select.filter(
            article::Column::CollectionId.in_subquery(
                Query::select()
                    .column(collection::Column::Id)
                    .from(collection::Entity)
                    .and_where(collection::Column::Slug.eq(slug.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(text) = f.text.as_deref().filter(|t| !t.trim().is_empty()) {
        select = select.filter(search::row_matches(db.get_database_backend(), search::Kind::Article, text));
    }
    if let Some(after) = f.published_after {
        select = select.filter(article::Column::PublishedAt.gte(after));
    }
    if let Some(before) = f.published_before {
        select = select.filter(article::Column::PublishedAt.lt(before));
    }
    select
}

pub async fn list(
    db: &impl ConnectionTrait,
    query: &ArticleListing,
    page: &PageRequest,
) -> Result<Page<article::Model>> {
    search::check_text_filter("filter.text", query.filter.text.as_deref())?;
    pagination::paginate(db, filtered(db, query), &staged::ordering::<Articles>(query.order_by, query.direction), page)
        .await
}

pub async fn count(db: &impl ConnectionTrait, query: &ArticleListing) -> Result<i64> {
    search::check_text_filter("filter.text", query.filter.text.as_deref())?;
    pagination::count(db, filtered(db, query)).await
}

/// How many articles `visibility` sees (preview: every document, as each has a draft).
pub async fn count_all(db: &impl ConnectionTrait, visibility: Visibility) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(select_visible(visibility).count(db).await?)
}

/// The slugs of every article `visibility` sees.
pub async fn slugs(db: &impl ConnectionTrait, visibility: Visibility) -> Result<Vec<String>> {
    Ok(select_visible(visibility).select_only().column(article::Column::Slug).into_tuple().all(db).await?)
}

pub async fn by_slug(db: &impl ConnectionTrait, visibility: Visibility, slug: &str) -> Result<Option<article::Model>> {
    staged::by_slug::<Articles>(db, visibility, slug).await
}

pub async fn by_document_id(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    document_id: &str,
) -> Result<Option<article::Model>> {
    staged::by_document_id::<Articles>(db, visibility, document_id).await
}

pub async fn by_ids(db: &impl ConnectionTrait, visibility: Visibility, ids: &[i32]) -> Result<Vec<article::Model>> {
    staged::by_ids::<Articles>(db, visibility, ids).await
}

pub async fn by_document_ids(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    ids: &[String],
) -> Result<Vec<article::Model>> {
    staged::by_document_ids::<Articles>(db, visibility, ids).await
}

pub async fn by_slugs(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    slugs: &[String],
) -> Result<Vec<article::Model>> {
    Ok(select_visible(visibility).filter(article::Column::Slug.is_in(slugs.iter().cloned())).all(db).await?)
}

/// The draft rows with these slugs, locked until the transaction ends (`FOR UPDATE` on PostgreSQL; SQLite
/// has one writer at a time anyway), so the version a writer read is still the version when it writes:
/// two writers never both make version N+1.
pub(crate) async fn drafts_for_update(db: &impl ConnectionTrait, slugs: &[String]) -> Result<Vec<article::Model>> {
    Ok(select_visible(Visibility::Preview)
        .filter(article::Column::Slug.is_in(slugs.iter().cloned()))
        .lock_exclusive()
        .all(db)
        .await?)
}

pub async fn by_proof_record_documents(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    ids: &[String],
) -> Result<Vec<article::Model>> {
    Ok(select_visible(visibility)
        .filter(article::Column::ProofRecordDocumentId.is_in(ids.iter().cloned()))
        .order_by_asc(article::Column::Id)
        .all(db)
        .await?)
}

/// Sections of the given article rows, each list in page order.
pub async fn sections_of(
    db: &impl ConnectionTrait,
    article_ids: &[i32],
) -> Result<HashMap<i32, Vec<article_section::Model>>> {
    let rows = article_section::Entity::find()
        .filter(article_section::Column::ArticleId.is_in(article_ids.iter().copied()))
        .order_by_asc(article_section::Column::ArticleId)
        .order_by_asc(article_section::Column::Position)
        .all(db)
        .await?;
    Ok(group(rows, |r| r.article_id))
}

pub async fn questions_of(
    db: &impl ConnectionTrait,
    article_ids: &[i32],
) -> Result<HashMap<i32, Vec<question::Model>>> {
    let rows = question::Entity::find()
        .filter(question::Column::ArticleId.is_in(article_ids.iter().copied()))
        .order_by_asc(question::Column::ArticleId)
        .order_by_asc(question::Column::Position)
        .all(db)
        .await?;
    Ok(group(rows, |r| r.article_id))
}

pub async fn links_of(
    db: &impl ConnectionTrait,
    article_ids: &[i32],
) -> Result<HashMap<i32, Vec<article_link::Model>>> {
    let rows = article_link::Entity::find()
        .filter(article_link::Column::ArticleId.is_in(article_ids.iter().copied()))
        .order_by_asc(article_link::Column::ArticleId)
        .order_by_asc(article_link::Column::Position)
        .all(db)
        .await?;
    Ok(group(rows, |r| r.article_id))
}

pub(crate) fn group<K: std::hash::Hash + Eq, M>(rows: Vec<M>, key: impl Fn(&M) -> K) -> HashMap<K, Vec<M>> {
    let mut map: HashMap<K, Vec<M>> = HashMap::new();
    for row in rows {
        map.entry(key(&row)).or_default().push(row);
    }
    map
}

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
        Some(Some(slug)) => match super::catalog::collection_by_slug(db, &slug).await? {
            Some(c) => Some(Some(c.id)),
            None => return Err(ServiceError::bad_input("collection", format!("no collection has the slug {slug:?}"))),
        },
    };
    let proof_record_document_id = match patch.proof_record.take() {
        None => None,
        Some(None) => Some(None),
        Some(Some(slug)) => match super::proof_record::by_slug(db, Visibility::Preview, &slug).await? {
            Some(r) => Some(Some(r.document_id)),
            None => {
                return Err(ServiceError::bad_input("proofRecord", format!("no proof record has the slug {slug:?}")));
            }
        },
    };
    Ok(ResolvedPatch { patch, collection_id, proof_record_document_id })
}

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *target = v;
    }
}

impl ResolvedPatch {
    pub(crate) fn apply_to(self, draft: &mut ArticleDraft) {
        let p = self.patch;
        set(&mut draft.title, p.title);
        if let Some(v) = p.slug {
            draft.slug = v;
        } else if draft.slug.is_empty() {
            draft.slug = crate::domain::slugify(&draft.title);
        }
        set(&mut draft.thesis, p.thesis);
        set(&mut draft.point, p.point);
        if let Some(audience) = p.audience {
            let a = audience.unwrap_or_default();
            draft.audience_summary = a.summary;
            draft.audience_roles = a.roles;
            draft.reader_need = a.reader_need;
        }
        set(&mut draft.real_problem, p.real_problem);
        set(&mut draft.record_matters, p.record_matters);
        set(&mut draft.smarter_question, p.smarter_question);
        set(&mut draft.proves, p.proves);
        set(&mut draft.sections, p.sections);
        set(&mut draft.questions, p.questions);
        set(&mut draft.related_titles, p.related_titles);
        set(&mut draft.collection_id, self.collection_id);
        set(&mut draft.proof_record_document_id, self.proof_record_document_id);
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
    super::revision::record(db, super::revision::ARTICLE, &row.document_id, row.version, author, &draft).await?;
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
    let Some(row) = by_document_id(db, Visibility::Preview, document_id).await? else {
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
    if let Some(other) = by_slug(db, Visibility::Preview, &draft.slug).await?
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

fn not_stored() -> ServiceError {
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
