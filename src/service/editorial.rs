//! Editorial writes: version-checked edits, publishing, scheduling and revisions for articles, proof
//! records and snippets. Each function is one unit of work; callers run it inside a transaction whose
//! first statement is the version claim, so concurrent edits of one document serialise on that row.

use chrono::{DateTime, Utc};
use entity::{ContentStatus, Stage, article, proof_record, proof_snippet};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::article::{self as articles, ArticleDraft};
use super::proof_record::{self as proof_records, ProofRecordDraft};
use super::snippet::{self as snippets, SnippetDraft};
use super::{Result, ServiceError, audit, now, publish, revision};

/// Who is writing; recorded in revisions and the audit log.
#[derive(Debug, Clone)]
pub struct Actor(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Article,
    ProofRecord,
    Snippet,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Article => "article",
            Kind::ProofRecord => "proof record",
            Kind::Snippet => "proof snippet",
        }
    }

    fn revision_type(self) -> &'static str {
        match self {
            Kind::Article => revision::ARTICLE,
            Kind::ProofRecord => revision::PROOF_RECORD,
            Kind::Snippet => revision::SNIPPET,
        }
    }
}

async fn current_version(db: &impl ConnectionTrait, kind: Kind, document_id: &str) -> Result<Option<i32>> {
    Ok(match kind {
        Kind::Article => article::Entity::find()
            .filter(article::Column::DocumentId.eq(document_id))
            .filter(article::Column::Stage.eq(Stage::Draft))
            .one(db)
            .await?
            .map(|m| m.version),
        Kind::ProofRecord => proof_record::Entity::find()
            .filter(proof_record::Column::DocumentId.eq(document_id))
            .filter(proof_record::Column::Stage.eq(Stage::Draft))
            .one(db)
            .await?
            .map(|m| m.version),
        Kind::Snippet => proof_snippet::Entity::find()
            .filter(proof_snippet::Column::DocumentId.eq(document_id))
            .filter(proof_snippet::Column::Stage.eq(Stage::Draft))
            .one(db)
            .await?
            .map(|m| m.version),
    })
}

/// Atomically moves the draft from `expected` to `expected + 1`; fails with CONFLICT (and the current
/// version) when another write got there first, or NOT_FOUND. Must be a transaction's first statement.
pub async fn claim(db: &impl ConnectionTrait, kind: Kind, document_id: &str, expected: i32) -> Result<i32> {
    let affected = match kind {
        Kind::Article => {
            article::Entity::update_many()
                .col_expr(article::Column::Version, Expr::col(article::Column::Version).add(1))
                .filter(article::Column::DocumentId.eq(document_id))
                .filter(article::Column::Stage.eq(Stage::Draft))
                .filter(article::Column::Version.eq(expected))
                .exec(db)
                .await?
                .rows_affected
        }
        Kind::ProofRecord => {
            proof_record::Entity::update_many()
                .col_expr(proof_record::Column::Version, Expr::col(proof_record::Column::Version).add(1))
                .filter(proof_record::Column::DocumentId.eq(document_id))
                .filter(proof_record::Column::Stage.eq(Stage::Draft))
                .filter(proof_record::Column::Version.eq(expected))
                .exec(db)
                .await?
                .rows_affected
        }
        Kind::Snippet => {
            proof_snippet::Entity::update_many()
                .col_expr(proof_snippet::Column::Version, Expr::col(proof_snippet::Column::Version).add(1))
                .filter(proof_snippet::Column::DocumentId.eq(document_id))
                .filter(proof_snippet::Column::Stage.eq(Stage::Draft))
                .filter(proof_snippet::Column::Version.eq(expected))
                .exec(db)
                .await?
                .rows_affected
        }
    };
    if affected == 1 {
        return Ok(expected + 1);
    }
    match current_version(db, kind, document_id).await? {
        Some(current) => Err(ServiceError::StaleVersion { entity: kind.name(), expected, current }),
        None => Err(ServiceError::NotFound { entity: kind.name(), key: document_id.to_string() }),
    }
}

/// [`claim`] for a change that keeps the content (publish, take-down, schedule): the new version is still
/// recorded as a revision, with the content it carries, so `revisions` lists every version.
async fn claim_unchanged(
    db: &impl ConnectionTrait,
    actor: &Actor,
    kind: Kind,
    document_id: &str,
    expected: i32,
) -> Result<i32> {
    let version = claim(db, kind, document_id, expected).await?;
    revision::record_same_content(db, kind.revision_type(), document_id, version, &actor.0).await?;
    Ok(version)
}

async fn log(db: &impl ConnectionTrait, actor: &Actor, action: &str, kind: Kind, id: &str) -> Result<()> {
    audit::record(db, &actor.0, action, kind.revision_type(), id, None).await
}

// ---- create, update, restore: the same for every versioned document type ------------------

/// A document type with a draft stage, versions and revisions.
pub trait Document {
    /// Its editable content, as stored in revisions.
    type Draft: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync;
    type Row: Send;
    const KIND: Kind;
    const CREATE: &'static str;
    const UNPUBLISH: &'static str;
    const ARCHIVE: &'static str;

    fn document_id(row: &Self::Row) -> &str;
    /// The document's draft row.
    fn draft(
        db: &impl ConnectionTrait,
        document_id: &str,
    ) -> impl std::future::Future<Output = Result<Self::Row>> + Send;
    /// Removes the published stage and marks the draft `status`.
    fn take_down_stage(
        db: &impl ConnectionTrait,
        document_id: &str,
        status: ContentStatus,
    ) -> impl std::future::Future<Output = Result<()>> + Send;
    fn load(
        db: &impl ConnectionTrait,
        document_id: &str,
    ) -> impl std::future::Future<Output = Result<Option<(Self::Row, Self::Draft)>>> + Send;
    fn write(
        db: &impl ConnectionTrait,
        existing: Option<Self::Row>,
        draft: Self::Draft,
        version: i32,
    ) -> impl std::future::Future<Output = Result<Self::Row>> + Send;
}

pub struct Articles;

impl Document for Articles {
    type Draft = ArticleDraft;
    type Row = article::Model;
    const KIND: Kind = Kind::Article;
    const CREATE: &'static str = "createArticle";
    const UNPUBLISH: &'static str = "unpublishArticle";
    const ARCHIVE: &'static str = "archiveArticle";

    fn document_id(row: &article::Model) -> &str {
        &row.document_id
    }
    fn draft(
        db: &impl ConnectionTrait,
        document_id: &str,
    ) -> impl std::future::Future<Output = Result<article::Model>> + Send {
        draft_article(db, document_id)
    }
    fn take_down_stage(
        db: &impl ConnectionTrait,
        document_id: &str,
        status: ContentStatus,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        publish::take_down_article(db, document_id, status)
    }
    fn load(
        db: &impl ConnectionTrait,
        document_id: &str,
    ) -> impl std::future::Future<Output = Result<Option<(article::Model, ArticleDraft)>>> + Send {
        articles::load_draft(db, document_id)
    }
    fn write(
        db: &impl ConnectionTrait,
        existing: Option<article::Model>,
        draft: ArticleDraft,
        version: i32,
    ) -> impl std::future::Future<Output = Result<article::Model>> + Send {
        articles::write(db, existing, draft, version)
    }
}

pub struct ProofRecords;

impl Document for ProofRecords {
    type Draft = ProofRecordDraft;
    type Row = proof_record::Model;
    const KIND: Kind = Kind::ProofRecord;
    const CREATE: &'static str = "createProofRecord";
    const UNPUBLISH: &'static str = "unpublishProofRecord";
    const ARCHIVE: &'static str = "archiveProofRecord";

    fn document_id(row: &proof_record::Model) -> &str {
        &row.document_id
    }
    fn draft(
        db: &impl ConnectionTrait,
        document_id: &str,
    ) -> impl std::future::Future<Output = Result<proof_record::Model>> + Send {
        draft_proof_record(db, document_id)
    }
    fn take_down_stage(
        db: &impl ConnectionTrait,
        document_id: &str,
        status: ContentStatus,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        publish::take_down_proof_record(db, document_id, status)
    }
    fn load(
        db: &impl ConnectionTrait,
        document_id: &str,
    ) -> impl std::future::Future<Output = Result<Option<(proof_record::Model, ProofRecordDraft)>>> + Send {
        proof_records::load_draft(db, document_id)
    }
    fn write(
        db: &impl ConnectionTrait,
        existing: Option<proof_record::Model>,
        draft: ProofRecordDraft,
        version: i32,
    ) -> impl std::future::Future<Output = Result<proof_record::Model>> + Send {
        proof_records::write(db, existing, draft, version)
    }
}

/// Creates a document at version 1 with its first revision.
pub async fn create<D: Document>(db: &impl ConnectionTrait, actor: &Actor, draft: D::Draft) -> Result<D::Row> {
    let row = D::write(db, None, draft.clone(), 1).await?;
    let id = D::document_id(&row).to_string();
    revision::record(db, D::KIND.revision_type(), &id, 1, &actor.0, &draft).await?;
    log(db, actor, D::CREATE, D::KIND, &id).await?;
    Ok(row)
}

/// Applies `change` to the current draft content and stores it as the next version.
pub async fn update<D: Document>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
    change: impl FnOnce(&mut D::Draft) -> Result<()>,
    action: &str,
) -> Result<D::Row> {
    let version = claim(db, D::KIND, document_id, expected).await?;
    let (row, mut draft) = D::load(db, document_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound { entity: D::KIND.name(), key: document_id.into() })?;
    change(&mut draft)?;
    let row = D::write(db, Some(row), draft.clone(), version).await?;
    revision::record(db, D::KIND.revision_type(), document_id, version, &actor.0, &draft).await?;
    log(db, actor, action, D::KIND, document_id).await?;
    Ok(row)
}

/// Makes the content of revision `from_version` the draft again, as a new revision.
pub async fn restore<D: Document>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
    from_version: i32,
    action: &str,
) -> Result<D::Row> {
    let restored: D::Draft = revision::content(db, D::KIND.revision_type(), document_id, from_version).await?;
    let replace = |d: &mut D::Draft| {
        *d = restored;
        Ok(())
    };
    update::<D>(db, actor, document_id, expected, replace, action).await
}

/// Withdraws the published version (`status` DRAFT: unpublish; ARCHIVED: archive); the draft stays.
pub async fn take_down<D: Document>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
    status: ContentStatus,
) -> Result<D::Row> {
    claim_unchanged(db, actor, D::KIND, document_id, expected).await?;
    D::take_down_stage(db, document_id, status).await?;
    let action = if status == ContentStatus::Archived { D::ARCHIVE } else { D::UNPUBLISH };
    log(db, actor, action, D::KIND, document_id).await?;
    D::draft(db, document_id).await
}

// ---- articles -------------------------------------------------------------------------------

pub async fn delete_article(db: &impl ConnectionTrait, actor: &Actor, document_id: &str, expected: i32) -> Result<()> {
    claim(db, Kind::Article, document_id, expected).await?;
    publish::take_down_article(db, document_id, ContentStatus::Draft).await?;
    if let Some(row) = articles::by_document_id(db, super::Visibility::Preview, document_id).await? {
        articles::delete_children(db, &[row.id]).await?;
        article::Entity::delete_by_id(row.id).exec(db).await?;
    }
    log(db, actor, "deleteArticle", Kind::Article, document_id).await
}

/// Publishes the article; with `with_proof_record`, its paired proof record too, in the same unit of work.
pub async fn publish_article(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
    with_proof_record: bool,
) -> Result<article::Model> {
    claim_unchanged(db, actor, Kind::Article, document_id, expected).await?;
    let published = publish::publish_article(db, document_id).await?;
    if with_proof_record {
        let record = published
            .proof_record_document_id
            .clone()
            .ok_or_else(|| ServiceError::bad_input("withProofRecord", "this article has no paired proof record"))?;
        publish::publish_proof_record(db, &record).await?;
        bump(db, actor, Kind::ProofRecord, &record).await?;
        log(db, actor, "publishProofRecord", Kind::ProofRecord, &record).await?;
    }
    log(db, actor, "publishArticle", Kind::Article, document_id).await?;
    draft_article(db, document_id).await
}

pub async fn draft_article(db: &impl ConnectionTrait, document_id: &str) -> Result<article::Model> {
    articles::by_document_id(db, super::Visibility::Preview, document_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound { entity: "article", key: document_id.into() })
}

// ---- proof records --------------------------------------------------------------------------

pub async fn delete_proof_record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
) -> Result<()> {
    claim(db, Kind::ProofRecord, document_id, expected).await?;
    publish::take_down_proof_record(db, document_id, ContentStatus::Draft).await?;
    if let Some(row) = proof_records::by_document_id(db, super::Visibility::Preview, document_id).await? {
        proof_records::delete_children(db, row.id).await?;
        proof_record::Entity::delete_by_id(row.id).exec(db).await?;
    }
    // Its snippets go with it; articles keep a dangling pairing that reads as "no proof record".
    proof_snippet::Entity::delete_many()
        .filter(proof_snippet::Column::ProofRecordDocumentId.eq(document_id))
        .exec(db)
        .await?;
    log(db, actor, "deleteProofRecord", Kind::ProofRecord, document_id).await
}

pub async fn publish_proof_record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
) -> Result<proof_record::Model> {
    claim_unchanged(db, actor, Kind::ProofRecord, document_id, expected).await?;
    publish::publish_proof_record(db, document_id).await?;
    log(db, actor, "publishProofRecord", Kind::ProofRecord, document_id).await?;
    draft_proof_record(db, document_id).await
}

pub async fn draft_proof_record(db: &impl ConnectionTrait, document_id: &str) -> Result<proof_record::Model> {
    proof_records::by_document_id(db, super::Visibility::Preview, document_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound { entity: "proof record", key: document_id.into() })
}

// ---- snippets -------------------------------------------------------------------------------

pub async fn create_snippet(
    db: &impl ConnectionTrait,
    actor: &Actor,
    draft: SnippetDraft,
) -> Result<proof_snippet::Model> {
    let row = snippets::create_draft(db, draft.clone()).await?;
    revision::record(db, revision::SNIPPET, &row.document_id, 1, &actor.0, &draft).await?;
    log(db, actor, "createSnippet", Kind::Snippet, &row.document_id).await?;
    Ok(row)
}

pub async fn update_snippet(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
    change: impl FnOnce(&mut SnippetDraft) -> Result<()>,
) -> Result<proof_snippet::Model> {
    let version = claim(db, Kind::Snippet, document_id, expected).await?;
    let mut draft = snippets::load_draft(db, document_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound { entity: "proof snippet", key: document_id.into() })?;
    change(&mut draft)?;
    let row = snippets::write_draft(db, document_id, &draft).await?;
    revision::record(db, revision::SNIPPET, document_id, version, &actor.0, &draft).await?;
    log(db, actor, "updateSnippet", Kind::Snippet, document_id).await?;
    Ok(row)
}

pub async fn delete_snippet(db: &impl ConnectionTrait, actor: &Actor, document_id: &str, expected: i32) -> Result<()> {
    claim(db, Kind::Snippet, document_id, expected).await?;
    proof_snippet::Entity::delete_many().filter(proof_snippet::Column::DocumentId.eq(document_id)).exec(db).await?;
    log(db, actor, "deleteSnippet", Kind::Snippet, document_id).await
}

pub async fn publish_snippet(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
) -> Result<proof_snippet::Model> {
    claim_unchanged(db, actor, Kind::Snippet, document_id, expected).await?;
    publish::publish_snippet(db, document_id).await?;
    log(db, actor, "publishSnippet", Kind::Snippet, document_id).await?;
    draft_snippet(db, document_id).await
}

pub async fn take_down_snippet(
    db: &impl ConnectionTrait,
    actor: &Actor,
    document_id: &str,
    expected: i32,
    status: ContentStatus,
) -> Result<proof_snippet::Model> {
    claim_unchanged(db, actor, Kind::Snippet, document_id, expected).await?;
    publish::take_down_snippet(db, document_id, status).await?;
    let action = if status == ContentStatus::Archived { "archiveSnippet" } else { "unpublishSnippet" };
    log(db, actor, action, Kind::Snippet, document_id).await?;
    draft_snippet(db, document_id).await
}

pub async fn draft_snippet(db: &impl ConnectionTrait, document_id: &str) -> Result<proof_snippet::Model> {
    proof_snippet::Entity::find()
        .filter(proof_snippet::Column::DocumentId.eq(document_id))
        .filter(proof_snippet::Column::Stage.eq(Stage::Draft))
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::NotFound { entity: "proof snippet", key: document_id.into() })
}

// ---- scheduling -----------------------------------------------------------------------------

/// Sets (or with `None` clears) when the draft is published. The time must be in the future.
pub async fn schedule(
    db: &impl ConnectionTrait,
    actor: &Actor,
    kind: Kind,
    document_id: &str,
    expected: i32,
    at: Option<DateTime<Utc>>,
) -> Result<()> {
    super::check_time("publishAt", at)?;
    if at.is_some_and(|t| t <= now()) {
        return Err(ServiceError::bad_input("publishAt", "must be in the future"));
    }
    claim_unchanged(db, actor, kind, document_id, expected).await?;
    let value = Expr::value(at);
    match kind {
        Kind::Article => {
            article::Entity::update_many()
                .col_expr(article::Column::PublishAt, value)
                .filter(article::Column::DocumentId.eq(document_id))
                .filter(article::Column::Stage.eq(Stage::Draft))
                .exec(db)
                .await?;
        }
        Kind::ProofRecord => {
            proof_record::Entity::update_many()
                .col_expr(proof_record::Column::PublishAt, value)
                .filter(proof_record::Column::DocumentId.eq(document_id))
                .filter(proof_record::Column::Stage.eq(Stage::Draft))
                .exec(db)
                .await?;
        }
        Kind::Snippet => {
            proof_snippet::Entity::update_many()
                .col_expr(proof_snippet::Column::PublishAt, value)
                .filter(proof_snippet::Column::DocumentId.eq(document_id))
                .filter(proof_snippet::Column::Stage.eq(Stage::Draft))
                .exec(db)
                .await?;
        }
    }
    let action = if at.is_some() { "schedule" } else { "unschedule" };
    log(db, actor, action, kind, document_id).await
}

/// Adds one to a document's version without other change (a publish done on its behalf).
async fn bump(db: &impl ConnectionTrait, actor: &Actor, kind: Kind, document_id: &str) -> Result<()> {
    if let Some(current) = current_version(db, kind, document_id).await? {
        claim_unchanged(db, actor, kind, document_id, current).await?;
    }
    Ok(())
}

/// Drafts whose `publish_at` has passed, as (kind, document id).
pub async fn due(db: &impl ConnectionTrait) -> Result<Vec<(Kind, String)>> {
    let at = now();
    let mut found: Vec<(Kind, String)> = Vec::new();
    for m in article::Entity::find()
        .filter(article::Column::Stage.eq(Stage::Draft))
        .filter(article::Column::PublishAt.lte(at))
        .all(db)
        .await?
    {
        found.push((Kind::Article, m.document_id));
    }
    for m in proof_record::Entity::find()
        .filter(proof_record::Column::Stage.eq(Stage::Draft))
        .filter(proof_record::Column::PublishAt.lte(at))
        .all(db)
        .await?
    {
        found.push((Kind::ProofRecord, m.document_id));
    }
    for m in proof_snippet::Entity::find()
        .filter(proof_snippet::Column::Stage.eq(Stage::Draft))
        .filter(proof_snippet::Column::PublishAt.lte(at))
        .all(db)
        .await?
    {
        found.push((Kind::Snippet, m.document_id));
    }
    Ok(found)
}

/// Takes the schedule of one due draft (only one process can: the update is conditional) and
/// publishes it. Returns whether this call did the publish. Run inside a transaction.
pub async fn publish_if_due(db: &impl ConnectionTrait, kind: Kind, document_id: &str) -> Result<bool> {
    let at = now();
    let none = Expr::value(Option::<DateTime<Utc>>::None);
    let taken = match kind {
        Kind::Article => {
            article::Entity::update_many()
                .col_expr(article::Column::PublishAt, none)
                .col_expr(article::Column::Version, Expr::col(article::Column::Version).add(1))
                .filter(article::Column::DocumentId.eq(document_id))
                .filter(article::Column::Stage.eq(Stage::Draft))
                .filter(article::Column::PublishAt.lte(at))
                .exec(db)
                .await?
                .rows_affected
        }
        Kind::ProofRecord => {
            proof_record::Entity::update_many()
                .col_expr(proof_record::Column::PublishAt, none)
                .col_expr(proof_record::Column::Version, Expr::col(proof_record::Column::Version).add(1))
                .filter(proof_record::Column::DocumentId.eq(document_id))
                .filter(proof_record::Column::Stage.eq(Stage::Draft))
                .filter(proof_record::Column::PublishAt.lte(at))
                .exec(db)
                .await?
                .rows_affected
        }
        Kind::Snippet => {
            proof_snippet::Entity::update_many()
                .col_expr(proof_snippet::Column::PublishAt, none)
                .col_expr(proof_snippet::Column::Version, Expr::col(proof_snippet::Column::Version).add(1))
                .filter(proof_snippet::Column::DocumentId.eq(document_id))
                .filter(proof_snippet::Column::Stage.eq(Stage::Draft))
                .filter(proof_snippet::Column::PublishAt.lte(at))
                .exec(db)
                .await?
                .rows_affected
        }
    };
    if taken != 1 {
        return Ok(false);
    }
    match kind {
        Kind::Article => {
            publish::publish_article(db, document_id).await?;
        }
        Kind::ProofRecord => {
            publish::publish_proof_record(db, document_id).await?;
        }
        Kind::Snippet => {
            publish::publish_snippet(db, document_id).await?;
        }
    }
    let scheduler = Actor("scheduler".into());
    if let Some(version) = current_version(db, kind, document_id).await? {
        revision::record_same_content(db, kind.revision_type(), document_id, version, &scheduler.0).await?;
    }
    log(db, &scheduler, "scheduledPublish", kind, document_id).await?;
    Ok(true)
}
