//! Stores parsed pages: collection, paired proof record, article and its owned rows; each page all or nothing.

use std::collections::{HashMap, HashSet};

use entity::{ContentStatus, Stage};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, TransactionTrait};

use super::ParsedPage;
use crate::service::article::{self, ArticleDraft, NewArticle, Saved};
use crate::service::audit::{self, Entry};
use crate::service::{Result, ServiceError, Visibility, catalog, changes, now, proof_record, revision, staged};

/// How revisions written by the importer name their author.
pub const IMPORT_AUTHOR: &str = "import";

/// Authors of revisions the importer wrote (the demo loader imports too): a newer revision by anyone
/// else is an editor's change, which a re-import does not overwrite unless forced.
const IMPORTERS: &[&str] = &[IMPORT_AUTHOR, crate::demo::DEMO_AUTHOR];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    pub document_id: String,
    pub slug: String,
    pub saved: Saved,
    /// Whether this import published the page.
    pub published: bool,
    /// Whether the page is public after the import (published now, or before, with this text in its draft).
    pub public: bool,
}

impl ImportOutcome {
    fn audit_entry(&self) -> Entry<'_> {
        let action = match (self.saved, self.published) {
            (Saved::Created, false) => "importArticle",
            (Saved::Created, true) => "importAndPublishArticle",
            (Saved::Updated, false) => "reimportArticle",
            (Saved::Updated, true) => "reimportAndPublishArticle",
        };
        Entry { action, entity_type: revision::ARTICLE, entity_id: &self.document_id, detail: None }
    }
}

/// Imports pages in one transaction; outcomes come back in the order of `pages`.
///
/// Valid pages are written together, each kind of row in a few multi-row statements for the whole batch.
/// A slug repeated within the batch, a page that fails validation, and every page of a batch the
/// database refused as a whole are then written one at a time in a savepoint each, in file order, so a
/// page that fails is rolled back alone (nothing of it is written) while the others commit. The outer
/// error means the batch as a whole could not be committed: none of it was written.
///
/// A page whose draft an editor changed since it was last imported fails with a conflict, unless `force`.
///
/// `actor` names the caller in the audit log (a token's name over HTTP); revisions name the importer, so
/// that a later import still tells its own writes from an editor's.
pub async fn import_batch(
    db: &DatabaseConnection,
    pages: Vec<ParsedPage>,
    publish: bool,
    force: bool,
    actor: &str,
) -> Result<Vec<Result<ImportOutcome>>> {
    let actor = actor.to_string();
    // The service's unit of work: the write lock up front, one content-generation bump, one commit.
    crate::service::transaction(db, move |txn| {
        Box::pin(async move {
            // What the pages were named before and after (a publish may replace an older public slug), with
            // their collections then and now.
            let slugs: Vec<String> = pages.iter().map(|p| p.slug.clone()).collect();
            changes::note_articles_by_slugs(txn, &slugs).await?;
            changes::complete();
            let outcomes = write_batch(txn, pages, publish, force, actor).await?;
            changes::note_articles_by_slugs(txn, &slugs).await?;
            Ok(outcomes)
        })
    })
    .await
}

async fn write_batch(
    txn: &DatabaseTransaction,
    pages: Vec<ParsedPage>,
    publish: bool,
    force: bool,
    actor: String,
) -> Result<Vec<Result<ImportOutcome>>> {
    let mut outcomes: Vec<Option<Result<ImportOutcome>>> = pages.iter().map(|_| None).collect();
    let slugs: Vec<String> = pages.iter().map(|p| p.slug.clone()).collect();
    // Locked from here to the commit, so the versions checked are the versions overwritten.
    let drafts = article::drafts_for_update(txn, &slugs).await?;
    let edited = if force { HashMap::new() } else { edited_since_import(txn, &drafts).await? };
    let mut seen = HashSet::new();
    let mut pending = Vec::new();
    for (i, page) in pages.into_iter().enumerate() {
        match edited.get(&page.slug) {
            Some(message) => outcomes[i] = Some(Err(ServiceError::Conflict(message.clone()))),
            None => pending.push((i, page)),
        }
    }
    let (together, mut one_by_one): (Vec<_>, Vec<_>) =
        pending.into_iter().partition(|(_, page)| seen.insert(page.slug.clone()) && is_valid(page));
    if !together.is_empty() {
        let savepoint = txn.begin().await?;
        match write_all(&savepoint, &together, publish, &actor).await {
            Ok(written) => {
                savepoint.commit().await?;
                for ((i, _), outcome) in together.iter().zip(written) {
                    outcomes[*i] = Some(Ok(outcome));
                }
            }
            Err(e) => {
                // Something only the database could see (a concurrent writer took a slug, say): retry
                // page by page so the failure is pinned to its file.
                tracing::debug!("set-based import fell back to one page at a time: {e}");
                savepoint.rollback().await?;
                one_by_one.extend(together);
                one_by_one.sort_by_key(|(i, _)| *i);
            }
        }
    }
    for (i, page) in one_by_one {
        let savepoint = txn.begin().await?;
        let outcome = async {
            let outcome = write(&savepoint, page, publish, IMPORT_AUTHOR).await?;
            audit::record_many(&savepoint, &actor, [outcome.audit_entry()]).await?;
            Ok(outcome)
        }
        .await;
        if outcome.is_ok() {
            savepoint.commit().await?;
        } else {
            savepoint.rollback().await?;
        }
        outcomes[i] = Some(outcome);
    }
    let outcomes: Vec<Result<ImportOutcome>> =
        outcomes.into_iter().map(|o| o.unwrap_or_else(|| Err(not_written()))).collect();
    let written: Vec<(String, String, bool)> =
        outcomes.iter().flatten().map(|o| (o.document_id.clone(), o.slug.clone(), o.public)).collect();
    let published: Vec<String> =
        outcomes.iter().flatten().filter(|o| o.published).map(|o| o.document_id.clone()).collect();
    crate::service::events::published_by_import::<crate::service::staged::Articles>(txn, &published).await?;
    crate::service::events::import_completed(txn, &written).await?;
    Ok(outcomes)
}

/// Slug → why, for the drafts an editor changed after the importer last wrote them: the newest revision
/// (the draft as it is) differs from what the last import wrote. A publish or a schedule since then
/// records the same content, so it is no change.
async fn edited_since_import(
    db: &impl ConnectionTrait,
    drafts: &[entity::article::Model],
) -> Result<HashMap<String, String>> {
    let ids: Vec<String> = drafts.iter().map(|d| d.document_id.clone()).collect();
    let newest = revision::newest_by_author_kind(db, revision::ARTICLE, &ids, IMPORTERS).await?;
    // Only documents someone else wrote after the last import can differ from it.
    let candidates: Vec<(&entity::article::Model, Option<i32>, i32)> = drafts
        .iter()
        .filter_map(|draft| {
            let (imported, other) = newest.get(&draft.document_id).copied().unwrap_or_default();
            let other = other.filter(|o| imported.is_none_or(|i| *o > i))?;
            Some((draft, imported, other))
        })
        .collect();
    let wanted: Vec<(String, i32)> = candidates
        .iter()
        .flat_map(|(d, imported, other)| {
            [Some((d.document_id.clone(), *other)), imported.map(|i| (d.document_id.clone(), i))].into_iter().flatten()
        })
        .collect();
    let contents = revision::contents_at(db, revision::ARTICLE, &wanted).await?;
    let content = |id: &str, version: i32| contents.get(&(id.to_string(), version));
    Ok(candidates
        .into_iter()
        .filter(|(d, imported, other)| {
            imported.is_none_or(|i| content(&d.document_id, i) != content(&d.document_id, *other))
        })
        .map(|(draft, imported, _)| {
            let since = imported.map_or("it was created, not by an import".to_string(), |v| {
                format!("the last import wrote version {v}")
            });
            let message = format!(
                "the article {:?} was edited (it is at version {}) since {since}; nothing was written. Re-import with \
                 --force to overwrite the edit",
                draft.slug, draft.version
            );
            (draft.slug.clone(), message)
        })
        .collect())
}

fn not_written() -> ServiceError {
    ServiceError::Database(sea_orm::DbErr::RecordNotInserted)
}

/// Whether a page passes every check the database does not make; pages that do not are left to the
/// one-at-a-time path, which reports why.
fn is_valid(page: &ParsedPage) -> bool {
    page.collection.as_deref().is_none_or(|name| catalog::collection_slug(name).is_ok())
        && article::validate(&to_draft(page.clone(), None, None)).is_ok()
}

fn to_draft(page: ParsedPage, collection_id: Option<i32>, proof_record_document_id: Option<String>) -> ArticleDraft {
    ArticleDraft {
        slug: page.slug,
        title: page.title,
        thesis: Some(page.thesis),
        point: page.point,
        audience_summary: page.audience_summary,
        audience_roles: page.audience_roles,
        reader_need: page.reader_need,
        real_problem: page.real_problem,
        record_matters: page.record_matters,
        smarter_question: page.smarter_question,
        proves: page.proves,
        sections: page.sections,
        questions: page.questions,
        related_titles: page.related_titles,
        collection_id,
        proof_record_document_id,
    }
}

/// Writes valid pages with distinct slugs, creating or updating each, with the same result as
/// [`write`] page after page: collections, paired proof records, drafts, revisions, published copies
/// and audit entries, each kind in a few multi-row statements. Outcomes in the order of `pages`.
async fn write_all(
    db: &impl ConnectionTrait,
    pages: &[(usize, ParsedPage)],
    publish: bool,
    actor: &str,
) -> Result<Vec<ImportOutcome>> {
    let names: Vec<&str> = pages.iter().filter_map(|(_, p)| p.collection.as_deref()).collect();
    let collections = catalog::ensure_collections(db, &names).await?;
    let paired: Vec<(&str, &str)> =
        pages.iter().filter(|(_, p)| p.paired_proof_record).map(|(_, p)| (p.slug.as_str(), p.title.as_str())).collect();
    let mut records = proof_record::ensure_drafts(db, &paired, IMPORT_AUTHOR).await?;
    let slugs: Vec<String> = pages.iter().map(|(_, p)| p.slug.clone()).collect();
    let mut existing: HashMap<String, entity::article::Model> =
        article::by_slugs(db, Visibility::Preview, &slugs).await?.into_iter().map(|r| (r.slug.clone(), r)).collect();
    let existing_ids: Vec<i32> = existing.values().map(|r| r.id).collect();
    let mut old_questions = article::questions_of(db, &existing_ids).await?;

    let (mut fresh, mut updated, mut rows) = (Vec::new(), Vec::new(), Vec::new());
    for (_, page) in pages {
        let collection_id = page.collection.as_ref().and_then(|name| collections.get(name).copied());
        // The paired record shares the article's slug and starts as a DRAFT, private until an editor publishes it.
        let record = if page.paired_proof_record { records.remove(&page.slug) } else { None };
        let draft = to_draft(page.clone(), collection_id, record);
        match existing.remove(&page.slug) {
            Some(row) => {
                let questions = old_questions.remove(&row.id).unwrap_or_default();
                updated.push(NewArticle::next(&row, &questions, draft));
                rows.push(row);
            }
            None => fresh.push(NewArticle::new(draft)),
        }
    }
    let mut previous_published = Vec::new();
    if publish {
        // A document keeps the date it was first published.
        let document_ids: Vec<String> = updated.iter().map(|item| item.document_id.clone()).collect();
        let published = staged::by_document_ids::<staged::Articles>(db, Visibility::Public, &document_ids).await?;
        let first_published: HashMap<&str, _> =
            published.iter().map(|row| (row.document_id.as_str(), row.published_at)).collect();
        let timestamp = now();
        for item in fresh.iter_mut().chain(updated.iter_mut()) {
            let previous = first_published.get(item.document_id.as_str()).copied().flatten();
            item.published_at = Some(previous.or(item.published_at).unwrap_or(timestamp));
        }
        previous_published = published.into_iter().map(|row| row.id).collect();
    }
    let status = if publish { ContentStatus::Published } else { ContentStatus::Draft };
    let created = article::insert_new(db, &fresh, Stage::Draft, status).await?;
    let replaced = article::replace_drafts(db, rows, &updated, publish).await?;
    let revisions = fresh.iter().chain(&updated).map(|item| (item.document_id.as_str(), item.version, &item.draft));
    revision::record_many(db, revision::ARTICLE, IMPORT_AUTHOR, revisions).await?;
    if publish {
        article::delete_rows(db, &previous_published).await?;
        let all: Vec<NewArticle> = fresh.into_iter().chain(updated).collect();
        article::insert_new(db, &all, Stage::Published, ContentStatus::Published).await?;
    }
    let mut written: HashMap<String, (String, Saved, bool)> = created
        .into_iter()
        .map(|row| (row.slug, (row.document_id, Saved::Created, publish)))
        .chain(replaced.into_iter().map(|row| {
            let public = publish || row.status == ContentStatus::Published;
            (row.slug, (row.document_id, Saved::Updated, public))
        }))
        .collect();
    let outcomes = pages
        .iter()
        .map(|(_, page)| {
            let (document_id, saved, public) = written.remove(&page.slug).ok_or_else(not_written)?;
            Ok(ImportOutcome { document_id, slug: page.slug.clone(), saved, published: publish, public })
        })
        .collect::<Result<Vec<_>>>()?;
    audit::record_many(db, actor, outcomes.iter().map(ImportOutcome::audit_entry)).await?;
    Ok(outcomes)
}

/// Stores one page; `author` names the writer in revisions and the audit log.
pub(crate) async fn write(
    db: &impl ConnectionTrait,
    page: ParsedPage,
    publish_now: bool,
    author: &str,
) -> Result<ImportOutcome> {
    let collection_id = match &page.collection {
        Some(name) => Some(catalog::ensure_collection(db, name).await?),
        None => None,
    };
    let proof_record_document_id = if page.paired_proof_record {
        Some(proof_record::ensure_draft(db, &page.slug, &page.title, author).await?)
    } else {
        None
    };
    let (row, saved) = article::save_draft(db, to_draft(page, collection_id, proof_record_document_id), author).await?;
    if publish_now {
        staged::copy_to_published::<staged::Articles>(db, &row.document_id).await?;
    }
    let public = publish_now || row.status == ContentStatus::Published;
    Ok(ImportOutcome { document_id: row.document_id, slug: row.slug, saved, published: publish_now, public })
}
