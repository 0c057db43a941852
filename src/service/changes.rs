//! What a write changed, named as cache tags: the same keys a public answer is tagged with for what it
//! read (see `graphql::tags`), sent as `Surrogate-Key` headers and in webhook `purge` lists.
//!
//! A document is tagged by kind and public identity (`article:<slug>`, `proof-record:<slug>`,
//! `snippet:<document id>`, `collection:<slug>`, `channel:<slug>`); a list, count or search over a kind by
//! the kind's plural (`articles`, `proof-records`, `snippets`, `collections`, `channels`, `search`). A
//! lookup that found nothing is tagged with the key it looked for (a slug) or, when it has no such key,
//! with the kind's plural, so the document's later arrival invalidates it.
//!
//! Writes note their tags while their transaction runs ([`note`]); [`super::transaction`] collects them.
//! Only a unit of work that declares its notes [`complete`] keeps the rest of the cache: any other write is
//! taken to have changed anything ([`Changed::Everything`]), whatever its steps noted on the way (a step
//! that marks snippets stale notes them, but cannot know what else its caller changed).

use std::cell::RefCell;
use std::collections::BTreeSet;

use entity::{article, collection, proof_record};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::Result;
use super::staged::{ContentKind, Staged};

pub const ARTICLES: &str = "articles";
pub const PROOF_RECORDS: &str = "proof-records";
pub const SNIPPETS: &str = "snippets";
pub const COLLECTIONS: &str = "collections";
pub const CHANNELS: &str = "channels";
pub const SEARCH: &str = "search";

pub fn article(slug: &str) -> String {
    format!("article:{slug}")
}

pub fn proof_record(slug: &str) -> String {
    format!("proof-record:{slug}")
}

pub fn snippet(document_id: &str) -> String {
    format!("snippet:{document_id}")
}

pub fn collection(slug: &str) -> String {
    format!("collection:{slug}")
}

pub fn channel(slug: &str) -> String {
    format!("channel:{slug}")
}

/// What one committed write changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// Only answers tagged with one of these.
    Tags(BTreeSet<String>),
    /// Anything: every cached answer is stale.
    Everything,
}

impl Changed {
    /// The change log's column: the tags separated by spaces, NULL for everything.
    pub fn to_column(&self) -> Option<String> {
        match self {
            Changed::Tags(tags) => Some(tags.iter().map(String::as_str).collect::<Vec<_>>().join(" ")),
            Changed::Everything => None,
        }
    }

    pub fn from_column(column: Option<&str>) -> Changed {
        match column {
            Some(tags) => Changed::Tags(tags.split(' ').filter(|t| !t.is_empty()).map(str::to_string).collect()),
            None => Changed::Everything,
        }
    }
}

#[derive(Default)]
struct Noted {
    tags: BTreeSet<String>,
    complete: bool,
}

tokio::task_local! {
    /// The tags noted by the write transaction running on this task.
    static NOTED: RefCell<Noted>;
}

/// Notes that the running write changed what these tags name. Outside a write transaction it does nothing.
pub fn note<I, S>(tags: I)
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let _ = NOTED.try_with(|noted| noted.borrow_mut().tags.extend(tags.into_iter().map(Into::into)));
}

/// What the running write has noted so far (its document under the names it had before the change, say).
pub fn noted() -> Vec<String> {
    NOTED.try_with(|noted| noted.borrow().tags.iter().cloned().collect()).unwrap_or_default()
}

/// Declares that what the running unit of work notes (before or after this call) is all it changes that a
/// public answer can show: nothing, for a draft edit, a token or a webhook. Called by the unit of work
/// itself (see `editorial.rs`), never by a step it is made of.
pub fn complete() {
    let _ = NOTED.try_with(|noted| noted.borrow_mut().complete = true);
}

/// Runs `work` collecting what it notes.
pub(super) async fn collect<T>(work: impl std::future::Future<Output = T>) -> (T, Changed) {
    NOTED
        .scope(RefCell::new(Noted::default()), async move {
            let out = work.await;
            let noted = NOTED.with(|noted| std::mem::take(&mut *noted.borrow_mut()));
            (out, if noted.complete { Changed::Tags(noted.tags) } else { Changed::Everything })
        })
        .await
}

/// Notes the tags of the staged document `document_id` of kind `D` as its rows name it now (draft and
/// published, so a slug the publish is about to replace is named too), and the lists its kind is in.
/// Call it before and after a change that reaches the published copy.
pub async fn note_document<D: Staged>(db: &impl ConnectionTrait, document_id: &str) -> Result<()> {
    note(document_tags(db, D::KIND, document_id).await?);
    Ok(())
}

/// [`note_document`] for the articles with any of `slugs` (in any stage), found in batches: an import's pages.
pub async fn note_articles_by_slugs(db: &impl ConnectionTrait, slugs: &[String]) -> Result<()> {
    for batch in slugs.chunks(500) {
        let documents = sea_orm::sea_query::Query::select()
            .column(article::Column::DocumentId)
            .from(article::Entity)
            .and_where(article::Column::Slug.is_in(batch.iter().cloned()))
            .to_owned();
        note(article_tags(db, article::Column::DocumentId.in_subquery(documents)).await?);
        // The slugs themselves too: a page new to the database is looked up by its slug before it exists.
        note(batch.iter().map(|s| self::article(s)));
    }
    Ok(())
}

/// The tags of the article rows `rows` selects: their slugs, their collections (a public collection is one
/// with a published article, so publishing can show or hide it), and the lists articles are in.
async fn article_tags(db: &impl ConnectionTrait, rows: sea_orm::sea_query::SimpleExpr) -> Result<Vec<String>> {
    let found: Vec<(String, Option<i32>)> = article::Entity::find()
        .select_only()
        .column(article::Column::Slug)
        .column(article::Column::CollectionId)
        .filter(rows)
        .into_tuple()
        .all(db)
        .await?;
    let collection_ids: BTreeSet<i32> = found.iter().filter_map(|(_, c)| *c).collect();
    let collections: Vec<String> = if collection_ids.is_empty() {
        Vec::new()
    } else {
        collection::Entity::find()
            .select_only()
            .column(collection::Column::Slug)
            .filter(collection::Column::Id.is_in(collection_ids))
            .into_tuple()
            .all(db)
            .await?
    };
    let mut tags: Vec<String> = found.iter().map(|(slug, _)| self::article(slug)).collect();
    tags.extend(collections.iter().map(|slug| self::collection(slug)));
    tags.extend([ARTICLES, COLLECTIONS, SEARCH].map(str::to_string));
    Ok(tags)
}

pub(super) async fn document_tags(
    db: &impl ConnectionTrait,
    kind: ContentKind,
    document_id: &str,
) -> Result<Vec<String>> {
    /// The slugs of every stage of a document, in `E`'s table.
    async fn slugs<E: EntityTrait>(
        db: &impl ConnectionTrait,
        slug: E::Column,
        document: E::Column,
        document_id: &str,
    ) -> Result<Vec<String>> {
        Ok(E::find().select_only().column(slug).filter(document.eq(document_id)).into_tuple().all(db).await?)
    }
    let (mut tags, lists): (Vec<String>, &[&str]) = match kind {
        ContentKind::Article => (article_tags(db, article::Column::DocumentId.eq(document_id)).await?, &[]),
        ContentKind::ProofRecord => {
            let (slug, document) = (proof_record::Column::Slug, proof_record::Column::DocumentId);
            let found = slugs::<proof_record::Entity>(db, slug, document, document_id);
            // A record owns its frames and snippets: their lists change with it.
            (found.await?.iter().map(|s| self::proof_record(s)).collect(), &[PROOF_RECORDS, SNIPPETS, SEARCH])
        }
        ContentKind::Snippet => (vec![snippet(document_id)], &[SNIPPETS]),
    };
    tags.extend(lists.iter().map(|l| l.to_string()));
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_a_write_that_declares_its_notes_complete_changed_only_what_it_noted() {
        let ((), changed) = collect(async {}).await;
        assert_eq!(changed, Changed::Everything);
        let ((), changed) = collect(async { note([SNIPPETS]) }).await;
        assert_eq!(changed, Changed::Everything, "a step's notes alone do not describe the whole write");
        let ((), changed) = collect(async { complete() }).await;
        assert_eq!(changed, Changed::Tags(BTreeSet::new()));
        let ((), changed) = collect(async {
            note([article("a"), ARTICLES.to_string()]);
            complete();
            note([article("a")]);
        })
        .await;
        assert_eq!(changed, Changed::Tags([article("a"), ARTICLES.to_string()].into_iter().collect()));
        assert_eq!(Changed::from_column(changed.to_column().as_deref()), changed);
        assert_eq!(Changed::from_column(None), Changed::Everything);
    }
}
