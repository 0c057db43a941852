//! Questions ("the questions this page should help you ask"), visible exactly when their article is.

use entity::{article, question};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};

use super::pagination::{self, Ordering, SortValue};
use super::{Page, PageRequest, Result, SortDirection, Visibility, search};

#[derive(Debug, Clone, Default)]
pub struct QuestionFilter {
    pub article: Option<String>,
    pub text: Option<String>,
}

/// Questions whose article row is in the caller's stage (question rows belong to one stage row).
fn select_visible(visibility: Visibility) -> Select<question::Entity> {
    question::Entity::find().filter(super::staged::visible_exists::<super::staged::Articles>(
        visibility,
        article::Column::Id,
        (question::Entity, question::Column::ArticleId),
    ))
}

fn filtered(db: &impl ConnectionTrait, visibility: Visibility, filter: &QuestionFilter) -> Select<question::Entity> {
    let mut select = select_visible(visibility);
    if let Some(slug) = &filter.article {
        select = select.filter(
            question::Column::ArticleId.in_subquery(
                Query::select()
                    .column(article::Column::Id)
                    .from(article::Entity)
                    .and_where(article::Column::Slug.eq(slug.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(text) = filter.text.as_deref().filter(|t| !t.trim().is_empty()) {
        select = select.filter(search::row_matches(db.get_database_backend(), search::Kind::Question, text));
    }
    select
}

fn ordering() -> Ordering<question::Model> {
    Ordering {
        key: None,
        id: Expr::col((question::Entity, question::Column::Id)),
        direction: SortDirection::Asc,
        cursor: pagination::CursorKind::Id("questions"),
        key_of: |_| SortValue::None,
        id_of: |m| m.id,
    }
}

pub async fn list(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    filter: &QuestionFilter,
    page: &PageRequest,
) -> Result<Page<question::Model>> {
    let _full_text = search::text_filter_turn("filter.text", filter.text.as_deref()).await?;
    pagination::paginate(db, filtered(db, visibility, filter), &ordering(), page).await
}

pub async fn count(db: &impl ConnectionTrait, visibility: Visibility, filter: &QuestionFilter) -> Result<i64> {
    let _full_text = search::text_filter_turn("filter.text", filter.text.as_deref()).await?;
    pagination::count(db, filtered(db, visibility, filter)).await
}

pub async fn by_document_id(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    id: &str,
) -> Result<Option<question::Model>> {
    Ok(select_visible(visibility).filter(question::Column::DocumentId.eq(id)).one(db).await?)
}

pub async fn by_ids(db: &impl ConnectionTrait, visibility: Visibility, ids: &[i32]) -> Result<Vec<question::Model>> {
    // One probe of each question's article: `IN (visible articles)` would list every visible article first
    // (about 10 ms at 100,000 articles) to check a handful of questions.
    let mut article_visible = super::staged::visible_keys::<super::staged::Articles>(visibility, article::Column::Id);
    article_visible.and_where(
        Expr::col((article::Entity, article::Column::Id)).equals((question::Entity, question::Column::ArticleId)),
    );
    Ok(question::Entity::find()
        .filter(question::Column::Id.is_in(ids.iter().copied()))
        .filter(Expr::exists(article_visible))
        .all(db)
        .await?)
}
