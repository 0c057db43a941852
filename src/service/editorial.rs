//! Editorial writes as units of work: each function opens its transaction (whose first write is the
//! version claim), resolves references inside it, records the revision and audit entry, and commits.
//! The steps themselves are the staged-document layer's ([`super::staged`]).
//!
//! Each also says what the public could see change, and declares that complete ([`changes::complete`]): a
//! draft write nothing (what it does to the published copy, a tightened release or a stale snippet, is noted
//! where it happens); a publish, take-down or delete the document as it was named before and after.

use chrono::{DateTime, Utc};
use entity::{ContentStatus, article};
use sea_orm::DatabaseConnection;

pub use super::staged::{Actor, Articles, ContentKind, ProofRecords, Row, Snippets, Staged};
use super::{Result, ServiceError, changes, staged, transaction};

/// Creates a DRAFT document (and schedules it when the patch says so).
pub async fn create<D: Staged>(db: &DatabaseConnection, actor: &Actor, patch: D::Patch) -> Result<Row<D>> {
    D::check_new(&patch)?;
    let actor = actor.clone();
    transaction(db, move |txn| {
        Box::pin(async move {
            changes::complete();
            staged::create::<D>(txn, &actor, patch).await
        })
    })
    .await
}

/// Changes the draft; the public keeps the published version until the next publish.
pub async fn update<D: Staged>(
    db: &DatabaseConnection,
    actor: &Actor,
    document_id: &str,
    expected: i32,
    patch: D::Patch,
) -> Result<Row<D>> {
    let (actor, id) = (actor.clone(), document_id.to_string());
    transaction(db, move |txn| {
        Box::pin(async move {
            changes::complete();
            staged::update::<D>(txn, &actor, &id, expected, patch).await
        })
    })
    .await
}

/// Deletes the document, draft and published.
pub async fn delete<D: Staged>(db: &DatabaseConnection, actor: &Actor, document_id: &str, expected: i32) -> Result<()> {
    let (actor, id) = (actor.clone(), document_id.to_string());
    transaction(db, move |txn| {
        Box::pin(async move {
            changes::complete();
            changes::note_document::<D>(txn, &id).await?;
            staged::delete::<D>(txn, &actor, &id, expected).await
        })
    })
    .await
}

/// Publishes the current draft; returns the draft row.
pub async fn publish<D: Staged>(
    db: &DatabaseConnection,
    actor: &Actor,
    document_id: &str,
    expected: i32,
) -> Result<Row<D>> {
    let (actor, id) = (actor.clone(), document_id.to_string());
    transaction(db, move |txn| {
        Box::pin(async move {
            changes::complete();
            changes::note_document::<D>(txn, &id).await?;
            let row = staged::publish::<D>(txn, &actor, &id, expected).await?;
            changes::note_document::<D>(txn, &id).await?;
            Ok(row)
        })
    })
    .await
}

/// Publishes the article; with `with_proof_record`, its paired proof record too, in the same unit of work.
pub async fn publish_article(
    db: &DatabaseConnection,
    actor: &Actor,
    document_id: &str,
    expected: i32,
    with_proof_record: bool,
) -> Result<article::Model> {
    if !with_proof_record {
        return publish::<Articles>(db, actor, document_id, expected).await;
    }
    let (actor, id) = (actor.clone(), document_id.to_string());
    transaction(db, move |txn| {
        Box::pin(async move {
            staged::claim_unchanged::<Articles>(txn, &actor, &id, expected).await?;
            changes::complete();
            changes::note_document::<Articles>(txn, &id).await?;
            let published = staged::copy_to_published::<Articles>(txn, &id).await?;
            changes::note_document::<Articles>(txn, &id).await?;
            super::events::staged::<Articles>(txn, super::events::Change::Published, &id).await?;
            let record = published
                .proof_record_document_id
                .ok_or_else(|| ServiceError::bad_input("withProofRecord", "this article has no paired proof record"))?;
            changes::note_document::<ProofRecords>(txn, &record).await?;
            staged::publish_with::<ProofRecords>(txn, &actor, &record).await?;
            changes::note_document::<ProofRecords>(txn, &record).await?;
            staged::log::<Articles>(txn, &actor, "publishArticle", &id).await?;
            staged::draft::<Articles>(txn, &id).await
        })
    })
    .await
}

/// Withdraws the published version (`status` DRAFT: unpublish; ARCHIVED: archive); the draft stays.
pub async fn take_down<D: Staged>(
    db: &DatabaseConnection,
    actor: &Actor,
    document_id: &str,
    expected: i32,
    status: ContentStatus,
) -> Result<Row<D>> {
    let (actor, id) = (actor.clone(), document_id.to_string());
    transaction(db, move |txn| {
        Box::pin(async move {
            changes::complete();
            changes::note_document::<D>(txn, &id).await?;
            staged::take_down::<D>(txn, &actor, &id, expected, status).await
        })
    })
    .await
}

/// Publishes the draft at `at`, or cancels the schedule with `None`.
pub async fn schedule<D: Staged>(
    db: &DatabaseConnection,
    actor: &Actor,
    document_id: &str,
    expected: i32,
    at: Option<DateTime<Utc>>,
) -> Result<Row<D>> {
    let (actor, id) = (actor.clone(), document_id.to_string());
    transaction(db, move |txn| {
        Box::pin(async move {
            changes::complete();
            staged::schedule::<D>(txn, &actor, &id, expected, at).await
        })
    })
    .await
}

/// Makes an older revision's content the draft again, as a new revision.
pub async fn restore<D: Staged>(
    db: &DatabaseConnection,
    actor: &Actor,
    document_id: &str,
    expected: i32,
    revision: i32,
) -> Result<Row<D>> {
    let (actor, id) = (actor.clone(), document_id.to_string());
    transaction(db, move |txn| {
        Box::pin(async move {
            changes::complete();
            staged::restore::<D>(txn, &actor, &id, expected, revision).await
        })
    })
    .await
}

/// Publishes one due document of `kind`, in its own transaction; whether this call published it.
pub async fn publish_due(db: &DatabaseConnection, kind: ContentKind, document_id: &str) -> Result<bool> {
    let id = document_id.to_string();
    transaction(db, move |txn| {
        Box::pin(async move {
            match kind {
                ContentKind::Article => publish_if_due::<Articles>(txn, &id).await,
                ContentKind::ProofRecord => publish_if_due::<ProofRecords>(txn, &id).await,
                ContentKind::Snippet => publish_if_due::<Snippets>(txn, &id).await,
            }
        })
    })
    .await
}

async fn publish_if_due<D: Staged>(txn: &sea_orm::DatabaseTransaction, id: &str) -> Result<bool> {
    changes::complete();
    changes::note_document::<D>(txn, id).await?;
    let published = staged::publish_if_due::<D>(txn, id).await?;
    changes::note_document::<D>(txn, id).await?;
    Ok(published)
}

/// Drafts of every kind whose `publish_at` has passed.
pub async fn due(db: &DatabaseConnection) -> Result<Vec<(ContentKind, String)>> {
    let mut found: Vec<(ContentKind, String)> = Vec::new();
    found.extend(staged::due::<Articles>(db).await?.into_iter().map(|id| (ContentKind::Article, id)));
    found.extend(staged::due::<ProofRecords>(db).await?.into_iter().map(|id| (ContentKind::ProofRecord, id)));
    found.extend(staged::due::<Snippets>(db).await?.into_iter().map(|id| (ContentKind::Snippet, id)));
    Ok(found)
}
