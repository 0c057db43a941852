//! Stores parsed pages: collection, paired proof record, article and its owned rows; each page all or nothing.

use sea_orm::{DatabaseConnection, TransactionTrait};

use super::ParsedPage;
use crate::service::article::{self, ArticleDraft, Saved};
use crate::service::{Result, audit, catalog, generation, proof_record, publish, revision};

/// How revisions written by the importer name their author.
pub const IMPORT_AUTHOR: &str = "import";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    pub document_id: String,
    pub slug: String,
    pub saved: Saved,
    pub published: bool,
}

/// Imports pages in one transaction with a savepoint per page: a page that fails is rolled back alone
/// (nothing of it is written) while the others commit together, which is far cheaper than a commit per
/// page. The outer error means the batch as a whole could not be committed: none of it was written.
pub async fn import_batch(
    db: &DatabaseConnection,
    pages: Vec<ParsedPage>,
    publish: bool,
) -> Result<Vec<Result<ImportOutcome>>> {
    let txn = db.begin().await?;
    let mut outcomes = Vec::with_capacity(pages.len());
    for page in pages {
        let savepoint = txn.begin().await?;
        match write(&savepoint, page, publish, IMPORT_AUTHOR).await {
            Ok(outcome) => {
                let action = match (outcome.saved, outcome.published) {
                    (Saved::Created, false) => "importArticle",
                    (Saved::Created, true) => "importAndPublishArticle",
                    (Saved::Updated, false) => "reimportArticle",
                    (Saved::Updated, true) => "reimportAndPublishArticle",
                };
                audit::record(&savepoint, IMPORT_AUTHOR, action, revision::ARTICLE, &outcome.document_id, None).await?;
                savepoint.commit().await?;
                outcomes.push(Ok(outcome));
            }
            Err(e) => {
                savepoint.rollback().await?;
                outcomes.push(Err(e));
            }
        }
    }
    generation::bump(&txn).await?;
    txn.commit().await?;
    generation::note_local_write();
    Ok(outcomes)
}

/// Stores one page; `author` names the writer in revisions and the audit log.
pub(crate) async fn write(
    db: &impl sea_orm::ConnectionTrait,
    page: ParsedPage,
    publish_now: bool,
    author: &str,
) -> Result<ImportOutcome> {
    let collection_id = match &page.collection {
        Some(name) => Some(catalog::ensure_collection(db, name).await?),
        None => None,
    };
    // The paired record shares the article's slug and starts as a DRAFT, private until an editor publishes it.
    let proof_record_document_id = if page.paired_proof_record {
        Some(proof_record::ensure_draft(db, &page.slug, &page.title, author).await?)
    } else {
        None
    };
    let draft = ArticleDraft {
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
    };
    let (row, saved) = article::save_draft(db, draft, author).await?;
    if publish_now {
        publish::publish_article(db, &row.document_id).await?;
    }
    Ok(ImportOutcome { document_id: row.document_id, slug: row.slug, saved, published: publish_now })
}
