//! Articles and their owned rows (sections, questions, related links): the reads here, the draft model in
//! `draft.rs`, the set-based store in `store.rs`.

mod draft;
mod store;

pub use draft::*;
pub(crate) use store::*;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{article, article_link, article_section, collection, question};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};

use super::pagination::{self, SortKey};
use super::staged::{self, Articles};
use super::{Page, PageRequest, Result, SortDirection, Visibility, search};

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

fn check_dates(filter: &ArticleCriteria) -> Result<()> {
    super::check_time("filter.publishedAfter", filter.published_after)?;
    super::check_time("filter.publishedBefore", filter.published_before)
}

pub async fn list(
    db: &impl ConnectionTrait,
    query: &ArticleListing,
    page: &PageRequest,
) -> Result<Page<article::Model>> {
    check_dates(&query.filter)?;
    let _full_text = search::text_filter_turn("filter.text", query.filter.text.as_deref()).await?;
    pagination::paginate(db, filtered(db, query), &staged::ordering::<Articles>(query.order_by, query.direction), page)
        .await
}

pub async fn count(db: &impl ConnectionTrait, query: &ArticleListing) -> Result<i64> {
    check_dates(&query.filter)?;
    let _full_text = search::text_filter_turn("filter.text", query.filter.text.as_deref()).await?;
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
