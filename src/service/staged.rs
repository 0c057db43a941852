//! The staged-document layer: what articles, proof records and snippets share. Each exists per stage (draft,
//! published); reads pick a stage through [`visible`], writes claim the draft's version first, and a publish
//! copies the draft stage over the published one. The per-kind [`Staged`] impls keep only what differs: the
//! content a draft carries, the rows it owns and how they are copied.

use chrono::{DateTime, Utc};
use entity::{ContentStatus, Stage, article, proof_record, proof_snippet};
use sea_orm::sea_query::{Expr, ExprTrait, Func, IntoColumnRef, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Select};

use super::article::{ArticleDraft, ArticlePatch};
use super::events::{self, Change};
use super::pagination::{CursorKind, Ordering, SortKey, SortValue};
use super::proof_record::{ProofRecordDraft, ProofRecordPatch};
use super::snippet::{SnippetDraft, SnippetPatch};
use super::{Result, ServiceError, SortDirection, Visibility, audit, now, revision};

/// Which kind of staged document: the runtime tag for the scheduler's mixed list of due documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Article,
    ProofRecord,
    Snippet,
}

impl ContentKind {
    pub fn name(self) -> &'static str {
        match self {
            ContentKind::Article => Articles::NAME,
            ContentKind::ProofRecord => ProofRecords::NAME,
            ContentKind::Snippet => Snippets::NAME,
        }
    }
}

/// Who is writing; recorded in revisions and the audit log.
#[derive(Debug, Clone)]
pub struct Actor(pub String);

/// The columns every staged table has.
#[derive(Debug, Clone, Copy)]
pub enum Col {
    Id,
    DocumentId,
    Stage,
    Version,
    Status,
    PublishAt,
    PublishedAt,
}

pub type Row<D> = <<D as Staged>::Entity as EntityTrait>::Model;

/// A document type with a draft and a published stage, versions and revisions.
pub trait Staged: Send + Sync + 'static {
    type Entity: EntityTrait<Model: Sync + Clone>;
    /// Its editable content, as stored in revisions.
    type Draft: serde::Serialize + serde::de::DeserializeOwned + Clone + Default + Send + Sync;
    /// A change as callers send it: references by slug, `None` = keep.
    type Patch: Send;
    /// A patch whose references were resolved inside the write's transaction.
    type Resolved: Send;
    const KIND: ContentKind;
    /// As errors name it: "article".
    const NAME: &'static str;
    const REVISION_TYPE: &'static str;
    /// The suffix of its audit actions: "Article" in "createArticle", "publishArticle" ...
    const ACTION: &'static str;
    /// Republishing keeps the first publication date (snippets take a new one each time).
    const KEEPS_FIRST_PUBLISHED_AT: bool = true;

    fn col(c: Col) -> <Self::Entity as EntityTrait>::Column;
    fn id(row: &Row<Self>) -> i32;
    fn document_id(row: &Row<Self>) -> &str;
    fn version(row: &Row<Self>) -> i32;
    fn published_at(row: &Row<Self>) -> Option<DateTime<Utc>>;
    /// Before a publish: the draft's slug is not another document's published slug (kinds with slugs).
    fn check_slug_free(
        _db: &impl ConnectionTrait,
        _draft: &Row<Self>,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }
    /// Narrows a stage's rows to what a reader of that stage may see (snippets: their record's stage too).
    fn narrow(select: Select<Self::Entity>, _visibility: Visibility) -> Select<Self::Entity> {
        select
    }

    /// What a create needs before anything is read.
    fn check_new(_patch: &Self::Patch) -> Result<()> {
        Ok(())
    }
    /// A schedule change carried by the patch (`Some(None)` cancels).
    fn publish_at(_patch: &Self::Patch) -> Option<Option<DateTime<Utc>>> {
        None
    }
    fn resolve(
        db: &impl ConnectionTrait,
        patch: Self::Patch,
    ) -> impl std::future::Future<Output = Result<Self::Resolved>> + Send;
    fn apply(resolved: Self::Resolved, draft: &mut Self::Draft);

    fn load(
        db: &impl ConnectionTrait,
        document_id: &str,
    ) -> impl std::future::Future<Output = Result<Option<(Row<Self>, Self::Draft)>>> + Send;
    /// Writes `draft` as the draft stage: over `existing` or as a new document at `version`.
    fn write(
        db: &impl ConnectionTrait,
        existing: Option<Row<Self>>,
        draft: Self::Draft,
        version: i32,
    ) -> impl std::future::Future<Output = Result<Row<Self>>> + Send;
    /// Deletes stage rows with everything they own.
    fn delete_rows(db: &impl ConnectionTrait, ids: Vec<i32>) -> impl std::future::Future<Output = Result<()>> + Send;
    /// Inserts the published copy of the draft row `draft` (and of what it owns).
    fn insert_published(
        db: &impl ConnectionTrait,
        draft: Row<Self>,
        published_at: DateTime<Utc>,
    ) -> impl std::future::Future<Output = Result<Row<Self>>> + Send;
    /// Audit entries of their own that a change of the draft content calls for (a frame's release).
    fn audit_change(
        _db: &impl ConnectionTrait,
        _actor: &Actor,
        _document_id: &str,
        _before: &Self::Draft,
        _after: &Self::Draft,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }
    /// Removes what cannot live without the document, when it is deleted.
    fn delete_dependents(
        _db: &impl ConnectionTrait,
        _document_id: &str,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }
}

// ---- reads ----------------------------------------------------------------------------------

fn in_stage<D: Staged>(stage: Stage) -> Select<D::Entity> {
    D::Entity::find().filter(D::col(Col::Stage).eq(stage))
}

/// The one visibility choke point: the rows of `D` that `visibility` may see (the public: the published
/// stage only; preview: the drafts). Every read of staged content starts here or at [`visible_keys`].
pub fn visible<D: Staged>(visibility: Visibility) -> Select<D::Entity> {
    D::narrow(in_stage::<D>(visibility.stage()), visibility)
}

/// The `column` values of the rows [`visible`] returns, for `IN (subquery)` filters of owned or linked rows.
pub fn visible_keys<D: Staged>(visibility: Visibility, column: <D::Entity as EntityTrait>::Column) -> SelectStatement {
    visible::<D>(visibility).select_only().column(column).into_query()
}

/// [`visible_keys`] as a correlated `EXISTS`: whether the row of `D` whose `column` equals `outer` (a column
/// of the enclosing query) is visible. SQLite builds an `IN (subquery)` whole on every statement (every
/// visible key, thousands of rows at 10,000 documents); `EXISTS` looks up one row per candidate by index,
/// so a page stops after its rows.
pub fn visible_exists<D: Staged>(
    visibility: Visibility,
    column: <D::Entity as EntityTrait>::Column,
    outer: impl IntoColumnRef,
) -> SimpleExpr {
    let mut query = visible::<D>(visibility).select_only().expr(Expr::cust("1")).into_query();
    query.and_where(Expr::col((D::Entity::default(), column)).equals(outer));
    Expr::exists(query)
}

/// The document's draft row, if it exists (whatever its record's stage: writes see every draft).
pub(crate) async fn draft_row<D: Staged>(db: &impl ConnectionTrait, document_id: &str) -> Result<Option<Row<D>>> {
    Ok(in_stage::<D>(Stage::Draft).filter(D::col(Col::DocumentId).eq(document_id)).one(db).await?)
}

/// The document's draft row, or NOT_FOUND.
pub async fn draft<D: Staged>(db: &impl ConnectionTrait, document_id: &str) -> Result<Row<D>> {
    draft_row::<D>(db, document_id).await?.ok_or_else(|| missing::<D>(document_id))
}

fn missing<D: Staged>(document_id: &str) -> ServiceError {
    ServiceError::NotFound { entity: D::NAME, key: document_id.to_string() }
}

fn draft_rows<D: Staged>(document_id: &str) -> sea_orm::UpdateMany<D::Entity> {
    D::Entity::update_many().filter(D::col(Col::DocumentId).eq(document_id)).filter(D::col(Col::Stage).eq(Stage::Draft))
}

// ---- lookups, each through `visible` -------------------------------------------------------

pub async fn by_document_id<D: Staged>(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    document_id: &str,
) -> Result<Option<Row<D>>> {
    Ok(visible::<D>(visibility).filter(D::col(Col::DocumentId).eq(document_id)).one(db).await?)
}

pub async fn by_document_ids<D: Staged>(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    document_ids: &[String],
) -> Result<Vec<Row<D>>> {
    Ok(visible::<D>(visibility).filter(D::col(Col::DocumentId).is_in(document_ids.iter().cloned())).all(db).await?)
}

pub async fn by_ids<D: Staged>(db: &impl ConnectionTrait, visibility: Visibility, ids: &[i32]) -> Result<Vec<Row<D>>> {
    Ok(visible::<D>(visibility).filter(D::col(Col::Id).is_in(ids.iter().copied())).all(db).await?)
}

pub async fn by_slug<D: Listed>(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    slug: &str,
) -> Result<Option<Row<D>>> {
    Ok(visible::<D>(visibility).filter(D::slug_col().eq(slug)).one(db).await?)
}

/// A staged document with a slug and a title, listed by publication date or title (articles, proof records).
pub trait Listed: Staged {
    /// Cursor names of its two orderings, by publication date and by title.
    const CURSORS: (&'static str, &'static str);
    fn slug_col() -> <Self::Entity as EntityTrait>::Column;
    fn title_col() -> <Self::Entity as EntityTrait>::Column;
    fn created_at_col() -> <Self::Entity as EntityTrait>::Column;
    fn created_at(row: &Row<Self>) -> DateTime<Utc>;
    fn title(row: &Row<Self>) -> &str;
    fn slug(row: &Row<Self>) -> &str;
}

fn published_key<D: Listed>(row: &Row<D>) -> SortValue {
    SortValue::Time(D::published_at(row).unwrap_or_else(|| D::created_at(row)))
}

fn title_key<D: Listed>(row: &Row<D>) -> SortValue {
    SortValue::Text(D::title(row).to_string())
}

/// The list order: by first publication (a draft not yet published by its creation time) or by title, then id.
pub fn ordering<D: Listed>(key: SortKey, direction: SortDirection) -> Ordering<Row<D>> {
    let column = |c: <D::Entity as EntityTrait>::Column| Expr::col((D::Entity::default(), c));
    let id = column(D::col(Col::Id));
    match key {
        SortKey::PublishedAt => Ordering {
            key: Some(Func::coalesce([column(D::col(Col::PublishedAt)), column(D::created_at_col())]).into()),
            id,
            direction,
            cursor: CursorKind::Time(D::CURSORS.0),
            key_of: published_key::<D>,
            id_of: D::id,
        },
        SortKey::Title => Ordering {
            key: Some(column(D::title_col())),
            id,
            direction,
            cursor: CursorKind::Text(D::CURSORS.1),
            key_of: title_key::<D>,
            id_of: D::id,
        },
    }
}

// ---- versions -------------------------------------------------------------------------------

/// Atomically moves the draft from `expected` to `expected + 1`; fails with CONFLICT (and the current
/// version) when another write got there first, or NOT_FOUND. Must be the first write of its transaction,
/// so concurrent edits of one document serialise on that row.
pub async fn claim<D: Staged>(db: &impl ConnectionTrait, document_id: &str, expected: i32) -> Result<i32> {
    let version = D::col(Col::Version);
    let affected = draft_rows::<D>(document_id)
        .col_expr(version, Expr::col(version).add(1))
        .filter(version.eq(expected))
        .exec(db)
        .await?
        .rows_affected;
    if affected == 1 {
        return Ok(expected + 1);
    }
    match current_version::<D>(db, document_id).await? {
        Some(current) => Err(ServiceError::StaleVersion { entity: D::NAME, expected, current }),
        None => Err(missing::<D>(document_id)),
    }
}

async fn current_version<D: Staged>(db: &impl ConnectionTrait, document_id: &str) -> Result<Option<i32>> {
    Ok(draft_row::<D>(db, document_id).await?.map(|row| D::version(&row)))
}

/// [`claim`] for a change that keeps the content (publish, take-down, schedule): the new version is still
/// recorded as a revision, with the content it carries, so `revisions` lists every version.
pub(crate) async fn claim_unchanged<D: Staged>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
) -> Result<i32> {
    let version = claim::<D>(db, document_id, expected).await?;
    revision::record_same_content(db, D::REVISION_TYPE, document_id, version, &actor.0).await?;
    Ok(version)
}

/// Adds one to a document's version without other change (a publish done on its behalf).
async fn bump<D: Staged>(db: &impl ConnectionTrait, actor: &Actor, document_id: &str) -> Result<()> {
    if let Some(current) = current_version::<D>(db, document_id).await? {
        claim_unchanged::<D>(db, actor, document_id, current).await?;
    }
    Ok(())
}

pub(crate) async fn log<D: Staged>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    document_id: &str,
) -> Result<()> {
    audit::record(db, &actor.0, action, D::REVISION_TYPE, document_id, None).await
}

// ---- content: create, update, restore, delete ----------------------------------------------

/// Creates a document at version 1 with its first revision (and the schedule its patch asks for).
pub async fn create<D: Staged>(db: &impl ConnectionTrait, actor: &Actor, patch: D::Patch) -> Result<Row<D>> {
    let publish_at = D::publish_at(&patch);
    let resolved = D::resolve(db, patch).await?;
    let mut draft = D::Draft::default();
    D::apply(resolved, &mut draft);
    let row = D::write(db, None, draft.clone(), 1).await?;
    let id = D::document_id(&row).to_string();
    revision::record(db, D::REVISION_TYPE, &id, 1, &actor.0, &draft).await?;
    log::<D>(db, actor, &format!("create{}", D::ACTION), &id).await?;
    match publish_at {
        Some(Some(at)) => schedule::<D>(db, actor, &id, 1, Some(at)).await,
        _ => Ok(row),
    }
}

/// Applies `patch` to the current draft content and stores it as the next version.
pub async fn update<D: Staged>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
    patch: D::Patch,
) -> Result<Row<D>> {
    let publish_at = D::publish_at(&patch);
    let resolved = D::resolve(db, patch).await?;
    let action = format!("update{}", D::ACTION);
    let row = change::<D>(db, actor, document_id, expected, |d| D::apply(resolved, d), &action).await?;
    match publish_at {
        Some(at) => schedule::<D>(db, actor, document_id, D::version(&row), at).await,
        None => Ok(row),
    }
}

async fn change<D: Staged>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
    change: impl FnOnce(&mut D::Draft),
    action: &str,
) -> Result<Row<D>> {
    let version = claim::<D>(db, document_id, expected).await?;
    let (row, mut draft) = D::load(db, document_id).await?.ok_or_else(|| missing::<D>(document_id))?;
    let before = draft.clone();
    change(&mut draft);
    let row = D::write(db, Some(row), draft.clone(), version).await?;
    revision::record(db, D::REVISION_TYPE, document_id, version, &actor.0, &draft).await?;
    log::<D>(db, actor, action, document_id).await?;
    D::audit_change(db, actor, document_id, &before, &draft).await?;
    Ok(row)
}

/// Makes the content of revision `from_version` the draft again, as a new revision.
pub async fn restore<D: Staged>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
    from_version: i32,
) -> Result<Row<D>> {
    let restored: D::Draft = revision::content(db, D::REVISION_TYPE, document_id, from_version).await?;
    let action = format!("restore{}Revision", D::ACTION);
    change::<D>(db, actor, document_id, expected, |d| *d = restored, &action).await
}

/// Deletes the document, draft and published, with what depends on it.
pub async fn delete<D: Staged>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
) -> Result<()> {
    claim::<D>(db, document_id, expected).await?;
    events::staged::<D>(db, Change::Deleted, document_id).await?;
    let ids: Vec<i32> =
        D::Entity::find().filter(D::col(Col::DocumentId).eq(document_id)).all(db).await?.iter().map(D::id).collect();
    D::delete_rows(db, ids).await?;
    D::delete_dependents(db, document_id).await?;
    log::<D>(db, actor, &format!("delete{}", D::ACTION), document_id).await
}

// ---- stages: publish, take down, schedule ---------------------------------------------------

/// Slugs are unique per stage, and a draft may have been renamed to the slug another document still has
/// published: say so, rather than letting the database refuse the copy.
fn slug_taken(entity: &str, slug: &str, other_title: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "slug: {slug:?} is the slug of another published {entity} ({other_title:?}); rename this draft, or rename and \
         republish (or unpublish) that {entity} first"
    ))
}

/// [`Staged::check_slug_free`] for kinds with a slug.
async fn slug_free<D: Listed>(db: &impl ConnectionTrait, draft: &Row<D>) -> Result<()> {
    let slug = D::slug(draft);
    let other = visible::<D>(Visibility::Public)
        .filter(D::slug_col().eq(slug))
        .one(db)
        .await?
        .filter(|other| D::document_id(other) != D::document_id(draft));
    match other {
        Some(other) => Err(slug_taken(D::NAME, slug, D::title(&other))),
        None => Ok(()),
    }
}

/// Copies the draft stage over the published stage and marks the document PUBLISHED. Returns the copy.
pub async fn copy_to_published<D: Staged>(db: &impl ConnectionTrait, document_id: &str) -> Result<Row<D>> {
    let draft = draft::<D>(db, document_id).await?;
    D::check_slug_free(db, &draft).await?;
    let previous = in_stage::<D>(Stage::Published).filter(D::col(Col::DocumentId).eq(document_id)).one(db).await?;
    let first = previous.as_ref().and_then(D::published_at);
    let first = if D::KEEPS_FIRST_PUBLISHED_AT { first.or(D::published_at(&draft)) } else { first };
    let published_at = first.unwrap_or_else(now);
    if let Some(previous) = previous {
        D::delete_rows(db, vec![D::id(&previous)]).await?;
    }
    let copy = D::insert_published(db, draft, published_at).await?;
    draft_rows::<D>(document_id)
        .col_expr(D::col(Col::Status), Expr::value(ContentStatus::Published))
        .col_expr(D::col(Col::PublishedAt), Expr::value(Some(published_at)))
        .col_expr(D::col(Col::PublishAt), Expr::value(Option::<DateTime<Utc>>::None))
        .exec(db)
        .await?;
    Ok(copy)
}

/// Publishes the draft (claiming `expected`), as `publish{Kind}`. Returns the draft row.
pub async fn publish<D: Staged>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
) -> Result<Row<D>> {
    claim_unchanged::<D>(db, actor, document_id, expected).await?;
    copy_to_published::<D>(db, document_id).await?;
    events::staged::<D>(db, Change::Published, document_id).await?;
    log::<D>(db, actor, &format!("publish{}", D::ACTION), document_id).await?;
    draft::<D>(db, document_id).await
}

/// Publishes a document on behalf of another's publish (an article's paired proof record).
pub async fn publish_with<D: Staged>(db: &impl ConnectionTrait, actor: &Actor, document_id: &str) -> Result<()> {
    copy_to_published::<D>(db, document_id).await?;
    bump::<D>(db, actor, document_id).await?;
    events::staged::<D>(db, Change::Published, document_id).await?;
    log::<D>(db, actor, &format!("publish{}", D::ACTION), document_id).await
}

/// Removes the published stage (the draft stays) and marks the document `status`.
pub async fn remove_published<D: Staged>(
    db: &impl ConnectionTrait,
    document_id: &str,
    status: ContentStatus,
) -> Result<()> {
    let published: Vec<i32> = in_stage::<D>(Stage::Published)
        .filter(D::col(Col::DocumentId).eq(document_id))
        .all(db)
        .await?
        .iter()
        .map(D::id)
        .collect();
    D::delete_rows(db, published).await?;
    draft_rows::<D>(document_id)
        .col_expr(D::col(Col::Status), Expr::value(status))
        .col_expr(D::col(Col::PublishAt), Expr::value(Option::<DateTime<Utc>>::None))
        .exec(db)
        .await?;
    Ok(())
}

/// Withdraws the published version (`status` DRAFT: unpublish; ARCHIVED: archive); the draft stays.
pub async fn take_down<D: Staged>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
    status: ContentStatus,
) -> Result<Row<D>> {
    claim_unchanged::<D>(db, actor, document_id, expected).await?;
    events::staged::<D>(db, Change::taken_down(status), document_id).await?;
    remove_published::<D>(db, document_id, status).await?;
    let action = if status == ContentStatus::Archived { "archive" } else { "unpublish" };
    log::<D>(db, actor, &format!("{action}{}", D::ACTION), document_id).await?;
    draft::<D>(db, document_id).await
}

/// Sets (or with `None` clears) when the draft is published. The time must be in the future.
pub async fn schedule<D: Staged>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
    at: Option<DateTime<Utc>>,
) -> Result<Row<D>> {
    super::check_time("publishAt", at)?;
    if at.is_some_and(|t| t <= now()) {
        return Err(ServiceError::bad_input("publishAt", "must be in the future"));
    }
    claim_unchanged::<D>(db, actor, document_id, expected).await?;
    draft_rows::<D>(document_id).col_expr(D::col(Col::PublishAt), Expr::value(at)).exec(db).await?;
    if at.is_some() {
        events::staged::<D>(db, Change::Scheduled, document_id).await?;
    }
    let action = if at.is_some() { "schedule" } else { "unschedule" };
    log::<D>(db, actor, action, document_id).await?;
    draft::<D>(db, document_id).await
}

/// Document ids of the drafts whose `publish_at` has passed.
pub async fn due<D: Staged>(db: &impl ConnectionTrait) -> Result<Vec<String>> {
    let rows = in_stage::<D>(Stage::Draft).filter(D::col(Col::PublishAt).lte(now())).all(db).await?;
    Ok(rows.iter().map(|r| D::document_id(r).to_string()).collect())
}

/// Takes the schedule of one due draft (only one process can: the update is conditional) and publishes
/// it. Returns whether this call did the publish. Run inside a transaction.
pub async fn publish_if_due<D: Staged>(db: &impl ConnectionTrait, document_id: &str) -> Result<bool> {
    let version = D::col(Col::Version);
    let taken = draft_rows::<D>(document_id)
        .col_expr(D::col(Col::PublishAt), Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(version, Expr::col(version).add(1))
        .filter(D::col(Col::PublishAt).lte(now()))
        .exec(db)
        .await?
        .rows_affected;
    if taken != 1 {
        return Ok(false);
    }
    copy_to_published::<D>(db, document_id).await?;
    let scheduler = Actor("scheduler".into());
    if let Some(version) = current_version::<D>(db, document_id).await? {
        revision::record_same_content(db, D::REVISION_TYPE, document_id, version, &scheduler.0).await?;
    }
    events::staged::<D>(db, Change::Published, document_id).await?;
    log::<D>(db, &scheduler, "scheduledPublish", document_id).await?;
    Ok(true)
}

// ---- the three kinds ------------------------------------------------------------------------

pub struct Articles;
pub struct ProofRecords;
pub struct Snippets;

impl Staged for Articles {
    type Entity = article::Entity;
    type Draft = ArticleDraft;
    type Patch = ArticlePatch;
    type Resolved = super::article::ResolvedPatch;
    const KIND: ContentKind = ContentKind::Article;
    const NAME: &'static str = "article";
    const REVISION_TYPE: &'static str = revision::ARTICLE;
    const ACTION: &'static str = "Article";

    fn col(c: Col) -> article::Column {
        match c {
            Col::Id => article::Column::Id,
            Col::DocumentId => article::Column::DocumentId,
            Col::Stage => article::Column::Stage,
            Col::Version => article::Column::Version,
            Col::Status => article::Column::Status,
            Col::PublishAt => article::Column::PublishAt,
            Col::PublishedAt => article::Column::PublishedAt,
        }
    }
    fn id(row: &article::Model) -> i32 {
        row.id
    }
    fn document_id(row: &article::Model) -> &str {
        &row.document_id
    }
    fn version(row: &article::Model) -> i32 {
        row.version
    }
    fn published_at(row: &article::Model) -> Option<DateTime<Utc>> {
        row.published_at
    }
    fn check_slug_free(
        db: &impl ConnectionTrait,
        draft: &article::Model,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        slug_free::<Self>(db, draft)
    }
    fn check_new(patch: &ArticlePatch) -> Result<()> {
        if patch.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
            return Err(ServiceError::bad_input("title", "is required"));
        }
        Ok(())
    }
    fn publish_at(patch: &ArticlePatch) -> Option<Option<DateTime<Utc>>> {
        patch.publish_at
    }
    fn resolve(
        db: &impl ConnectionTrait,
        patch: ArticlePatch,
    ) -> impl std::future::Future<Output = Result<Self::Resolved>> + Send {
        super::article::resolve(db, patch)
    }
    fn apply(resolved: Self::Resolved, draft: &mut ArticleDraft) {
        resolved.apply_to(draft)
    }
    fn load(
        db: &impl ConnectionTrait,
        document_id: &str,
    ) -> impl std::future::Future<Output = Result<Option<(article::Model, ArticleDraft)>>> + Send {
        super::article::load_draft(db, document_id)
    }
    fn write(
        db: &impl ConnectionTrait,
        existing: Option<article::Model>,
        draft: ArticleDraft,
        version: i32,
    ) -> impl std::future::Future<Output = Result<article::Model>> + Send {
        super::article::write(db, existing, draft, version)
    }
    async fn delete_rows(db: &impl ConnectionTrait, ids: Vec<i32>) -> Result<()> {
        super::article::delete_rows(db, &ids).await
    }
    fn insert_published(
        db: &impl ConnectionTrait,
        draft: article::Model,
        published_at: DateTime<Utc>,
    ) -> impl std::future::Future<Output = Result<article::Model>> + Send {
        super::article::insert_published(db, draft, published_at)
    }
    /// Snippets that quoted its questions or sections go stale.
    async fn delete_dependents(db: &impl ConnectionTrait, document_id: &str) -> Result<()> {
        super::provenance::article_removed(db, document_id).await
    }
}

impl Listed for Articles {
    const CURSORS: (&'static str, &'static str) = ("articles.publishedAt", "articles.title");
    fn slug_col() -> article::Column {
        article::Column::Slug
    }
    fn title_col() -> article::Column {
        article::Column::Title
    }
    fn created_at_col() -> article::Column {
        article::Column::CreatedAt
    }
    fn created_at(row: &article::Model) -> DateTime<Utc> {
        row.created_at
    }
    fn title(row: &article::Model) -> &str {
        &row.title
    }
    fn slug(row: &article::Model) -> &str {
        &row.slug
    }
}

impl Staged for ProofRecords {
    type Entity = proof_record::Entity;
    type Draft = ProofRecordDraft;
    type Patch = ProofRecordPatch;
    type Resolved = ProofRecordPatch;
    const KIND: ContentKind = ContentKind::ProofRecord;
    const NAME: &'static str = "proof record";
    const REVISION_TYPE: &'static str = revision::PROOF_RECORD;
    const ACTION: &'static str = "ProofRecord";

    fn col(c: Col) -> proof_record::Column {
        match c {
            Col::Id => proof_record::Column::Id,
            Col::DocumentId => proof_record::Column::DocumentId,
            Col::Stage => proof_record::Column::Stage,
            Col::Version => proof_record::Column::Version,
            Col::Status => proof_record::Column::Status,
            Col::PublishAt => proof_record::Column::PublishAt,
            Col::PublishedAt => proof_record::Column::PublishedAt,
        }
    }
    fn id(row: &proof_record::Model) -> i32 {
        row.id
    }
    fn document_id(row: &proof_record::Model) -> &str {
        &row.document_id
    }
    fn version(row: &proof_record::Model) -> i32 {
        row.version
    }
    fn published_at(row: &proof_record::Model) -> Option<DateTime<Utc>> {
        row.published_at
    }
    fn check_slug_free(
        db: &impl ConnectionTrait,
        draft: &proof_record::Model,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        slug_free::<Self>(db, draft)
    }
    fn check_new(patch: &ProofRecordPatch) -> Result<()> {
        if patch.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
            return Err(ServiceError::bad_input("title", "is required"));
        }
        Ok(())
    }
    async fn resolve(_db: &impl ConnectionTrait, patch: ProofRecordPatch) -> Result<ProofRecordPatch> {
        Ok(patch)
    }
    fn apply(resolved: ProofRecordPatch, draft: &mut ProofRecordDraft) {
        resolved.apply_to(draft)
    }
    fn load(
        db: &impl ConnectionTrait,
        document_id: &str,
    ) -> impl std::future::Future<Output = Result<Option<(proof_record::Model, ProofRecordDraft)>>> + Send {
        super::proof_record::load_draft(db, document_id)
    }
    fn write(
        db: &impl ConnectionTrait,
        existing: Option<proof_record::Model>,
        draft: ProofRecordDraft,
        version: i32,
    ) -> impl std::future::Future<Output = Result<proof_record::Model>> + Send {
        super::proof_record::write(db, existing, draft, version)
    }
    async fn delete_rows(db: &impl ConnectionTrait, ids: Vec<i32>) -> Result<()> {
        super::proof_record::delete_rows(db, &ids).await
    }
    fn insert_published(
        db: &impl ConnectionTrait,
        draft: proof_record::Model,
        published_at: DateTime<Utc>,
    ) -> impl std::future::Future<Output = Result<proof_record::Model>> + Send {
        super::proof_record::insert_published(db, draft, published_at)
    }
    async fn audit_change(
        db: &impl ConnectionTrait,
        actor: &Actor,
        document_id: &str,
        before: &ProofRecordDraft,
        after: &ProofRecordDraft,
    ) -> Result<()> {
        super::release::audit_changes(db, &actor.0, document_id, before, after).await
    }
    /// Its snippets go with it; articles keep a dangling pairing that reads as "no proof record".
    async fn delete_dependents(db: &impl ConnectionTrait, document_id: &str) -> Result<()> {
        proof_snippet::Entity::delete_many()
            .filter(proof_snippet::Column::ProofRecordDocumentId.eq(document_id))
            .exec(db)
            .await?;
        Ok(())
    }
}

impl Listed for ProofRecords {
    const CURSORS: (&'static str, &'static str) = ("proofRecords.publishedAt", "proofRecords.title");
    fn slug_col() -> proof_record::Column {
        proof_record::Column::Slug
    }
    fn title_col() -> proof_record::Column {
        proof_record::Column::Title
    }
    fn created_at_col() -> proof_record::Column {
        proof_record::Column::CreatedAt
    }
    fn created_at(row: &proof_record::Model) -> DateTime<Utc> {
        row.created_at
    }
    fn title(row: &proof_record::Model) -> &str {
        &row.title
    }
    fn slug(row: &proof_record::Model) -> &str {
        &row.slug
    }
}

impl Staged for Snippets {
    type Entity = proof_snippet::Entity;
    type Draft = SnippetDraft;
    type Patch = SnippetPatch;
    type Resolved = super::snippet::ResolvedPatch;
    const KIND: ContentKind = ContentKind::Snippet;
    const NAME: &'static str = "proof snippet";
    const REVISION_TYPE: &'static str = revision::SNIPPET;
    const ACTION: &'static str = "Snippet";
    const KEEPS_FIRST_PUBLISHED_AT: bool = false;

    fn col(c: Col) -> proof_snippet::Column {
        match c {
            Col::Id => proof_snippet::Column::Id,
            Col::DocumentId => proof_snippet::Column::DocumentId,
            Col::Stage => proof_snippet::Column::Stage,
            Col::Version => proof_snippet::Column::Version,
            Col::Status => proof_snippet::Column::Status,
            Col::PublishAt => proof_snippet::Column::PublishAt,
            Col::PublishedAt => proof_snippet::Column::PublishedAt,
        }
    }
    fn id(row: &proof_snippet::Model) -> i32 {
        row.id
    }
    fn document_id(row: &proof_snippet::Model) -> &str {
        &row.document_id
    }
    fn version(row: &proof_snippet::Model) -> i32 {
        row.version
    }
    fn published_at(row: &proof_snippet::Model) -> Option<DateTime<Utc>> {
        row.published_at
    }
    /// A published snippet of an unpublished record stays private; the public is not offered a stale one, nor
    /// one without the credit line its channel requires.
    fn narrow(select: Select<proof_snippet::Entity>, visibility: Visibility) -> Select<proof_snippet::Entity> {
        let select = select.filter(visible_exists::<ProofRecords>(
            visibility,
            proof_record::Column::DocumentId,
            (proof_snippet::Entity, proof_snippet::Column::ProofRecordDocumentId),
        ));
        if visibility.is_public() { select.filter(super::provenance::offered()) } else { select }
    }
    fn check_new(patch: &SnippetPatch) -> Result<()> {
        if patch.proof_record.is_none() {
            return Err(ServiceError::bad_input("proofRecord", "is required"));
        }
        if patch.channel.is_none() {
            return Err(ServiceError::bad_input("channel", "is required"));
        }
        Ok(())
    }
    fn resolve(
        db: &impl ConnectionTrait,
        patch: SnippetPatch,
    ) -> impl std::future::Future<Output = Result<Self::Resolved>> + Send {
        super::snippet::resolve(db, patch)
    }
    fn apply(resolved: Self::Resolved, draft: &mut SnippetDraft) {
        resolved.apply_to(draft)
    }
    fn load(
        db: &impl ConnectionTrait,
        document_id: &str,
    ) -> impl std::future::Future<Output = Result<Option<(proof_snippet::Model, SnippetDraft)>>> + Send {
        super::snippet::load_draft(db, document_id)
    }
    fn write(
        db: &impl ConnectionTrait,
        existing: Option<proof_snippet::Model>,
        draft: SnippetDraft,
        version: i32,
    ) -> impl std::future::Future<Output = Result<proof_snippet::Model>> + Send {
        super::snippet::write(db, existing, draft, version)
    }
    async fn delete_rows(db: &impl ConnectionTrait, ids: Vec<i32>) -> Result<()> {
        if !ids.is_empty() {
            proof_snippet::Entity::delete_many().filter(proof_snippet::Column::Id.is_in(ids)).exec(db).await?;
        }
        Ok(())
    }
    fn insert_published(
        db: &impl ConnectionTrait,
        draft: proof_snippet::Model,
        published_at: DateTime<Utc>,
    ) -> impl std::future::Future<Output = Result<proof_snippet::Model>> + Send {
        super::snippet::insert_published(db, draft, published_at)
    }
}

#[cfg(test)]
mod tests {
    /// Stage filters are written here and nowhere else: the one visibility choke point. (The search index
    /// pre-filters its hits by stage; the rows it returns are then read through [`super::visible`].)
    #[test]
    fn stage_filters_live_only_in_the_staged_layer() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).expect("readable source dir") {
                let path = entry.expect("dir entry").path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        walk(&root, &mut files);
        let allowed = [root.join("service/staged.rs"), root.join("service/mod.rs")];
        let offenders: Vec<_> = files
            .iter()
            .filter(|f| !allowed.contains(f))
            .filter(|f| {
                let text = std::fs::read_to_string(f).expect("readable source");
                text.contains("Column::Stage") || (text.contains(".stage()") && !f.ends_with("service/search.rs"))
            })
            .collect();
        assert!(offenders.is_empty(), "stage filters outside service/staged.rs: {offenders:?}");
    }
}
