//! Publishing: copy a document's draft stage over its published stage. Callers run these inside a transaction.

use entity::{ContentStatus, Stage, article, proof_record, proof_snippet};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};

use super::article::NewArticle;
use super::{Result, ServiceError, Visibility, article as articles, now, proof_record as proof_records, search};

fn missing(entity: &'static str, id: &str) -> ServiceError {
    ServiceError::NotFound { entity, key: id.to_string() }
}

/// Slugs are unique per stage, and a draft may have been renamed to the slug another document still has
/// published: say so, rather than letting the database refuse the copy.
fn slug_taken(entity: &str, slug: &str, other_title: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "slug: {slug:?} is the slug of another published {entity} ({other_title:?}); rename this draft, or rename and \
         republish (or unpublish) that {entity} first"
    ))
}

pub async fn publish_article(db: &impl ConnectionTrait, document_id: &str) -> Result<article::Model> {
    let (draft, content, questions) =
        articles::load_draft_with_questions(db, document_id).await?.ok_or_else(|| missing("article", document_id))?;
    if let Some(other) = articles::by_slug(db, Visibility::Public, &draft.slug).await?
        && other.document_id != document_id
    {
        return Err(slug_taken("article", &draft.slug, &other.title));
    }
    let previous = articles::by_document_id(db, Visibility::Public, document_id).await?;
    let published_at = previous.as_ref().and_then(|p| p.published_at).or(draft.published_at).unwrap_or_else(now);
    if let Some(previous) = previous {
        articles::delete_rows(db, &[previous.id]).await?;
    }
    let copy = NewArticle { published_at: Some(published_at), ..NewArticle::copy_of(&draft, &questions, content) };
    let mut copies = articles::insert_new(db, &[copy], Stage::Published, ContentStatus::Published).await?;
    let copy = copies.pop().ok_or(ServiceError::Database(sea_orm::DbErr::RecordNotInserted))?;

    let mut draft = draft.into_active_model();
    draft.status = Set(ContentStatus::Published);
    draft.published_at = Set(Some(published_at));
    draft.publish_at = Set(None);
    draft.update(db).await?;
    Ok(copy)
}

pub async fn publish_proof_record(db: &impl ConnectionTrait, document_id: &str) -> Result<proof_record::Model> {
    let draft = proof_records::by_document_id(db, Visibility::Preview, document_id)
        .await?
        .ok_or_else(|| missing("proof record", document_id))?;
    if let Some(other) = proof_records::by_slug(db, Visibility::Public, &draft.slug).await?
        && other.document_id != document_id
    {
        return Err(slug_taken("proof record", &draft.slug, &other.title));
    }
    let previous = proof_records::by_document_id(db, Visibility::Public, document_id).await?;
    let published_at = previous.as_ref().and_then(|p| p.published_at).or(draft.published_at).unwrap_or_else(now);
    if let Some(previous) = previous {
        proof_records::delete_children(db, previous.id).await?;
        proof_record::Entity::delete_by_id(previous.id).exec(db).await?;
    }
    let mut copy = draft.clone().into_active_model();
    copy.id = sea_orm::NotSet;
    copy.stage = Set(Stage::Published);
    copy.status = Set(ContentStatus::Published);
    copy.published_at = Set(Some(published_at));
    copy.publish_at = Set(None);
    let copy = copy.insert(db).await?;

    let observations = proof_records::observations_of(db, &[draft.id]).await?.remove(&draft.id).unwrap_or_default();
    let assets =
        proof_records::assets_of(db, Visibility::Preview, &[draft.id]).await?.remove(&draft.id).unwrap_or_default();
    let channel_ids: Vec<i32> = proof_records::channels_of(db, &[draft.id])
        .await?
        .remove(&draft.id)
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.id)
        .collect();
    proof_records::insert_children(db, copy.id, &observations, &assets, &channel_ids).await?;
    search::index_proof_record(db, &copy, &observations).await?;

    let mut draft = draft.into_active_model();
    draft.status = Set(ContentStatus::Published);
    draft.published_at = Set(Some(published_at));
    draft.publish_at = Set(None);
    draft.update(db).await?;
    Ok(copy)
}

pub async fn publish_snippet(db: &impl ConnectionTrait, document_id: &str) -> Result<proof_snippet::Model> {
    let draft = proof_snippet::Entity::find()
        .filter(proof_snippet::Column::DocumentId.eq(document_id))
        .filter(proof_snippet::Column::Stage.eq(Stage::Draft))
        .one(db)
        .await?
        .ok_or_else(|| missing("proof snippet", document_id))?;
    let previous = proof_snippet::Entity::find()
        .filter(proof_snippet::Column::DocumentId.eq(document_id))
        .filter(proof_snippet::Column::Stage.eq(Stage::Published))
        .one(db)
        .await?;
    let published_at = previous.as_ref().and_then(|p| p.published_at).unwrap_or_else(now);
    if let Some(previous) = previous {
        proof_snippet::Entity::delete_by_id(previous.id).exec(db).await?;
    }
    let mut copy = draft.clone().into_active_model();
    copy.id = sea_orm::NotSet;
    copy.stage = Set(Stage::Published);
    copy.status = Set(ContentStatus::Published);
    copy.published_at = Set(Some(published_at));
    copy.publish_at = Set(None);
    let copy = copy.insert(db).await?;
    let mut draft = draft.into_active_model();
    draft.status = Set(ContentStatus::Published);
    draft.published_at = Set(Some(published_at));
    draft.publish_at = Set(None);
    draft.update(db).await?;
    Ok(copy)
}

/// Removes the published stage of an article (its draft stays) and marks the document `status`.
pub async fn take_down_article(db: &impl ConnectionTrait, document_id: &str, status: ContentStatus) -> Result<()> {
    if let Some(previous) = articles::by_document_id(db, Visibility::Public, document_id).await? {
        articles::delete_rows(db, &[previous.id]).await?;
    }
    article::Entity::update_many()
        .col_expr(article::Column::Status, sea_orm::sea_query::Expr::value(status))
        .col_expr(
            article::Column::PublishAt,
            sea_orm::sea_query::Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(article::Column::DocumentId.eq(document_id))
        .filter(article::Column::Stage.eq(Stage::Draft))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn take_down_proof_record(db: &impl ConnectionTrait, document_id: &str, status: ContentStatus) -> Result<()> {
    if let Some(previous) = proof_records::by_document_id(db, Visibility::Public, document_id).await? {
        proof_records::delete_children(db, previous.id).await?;
        proof_record::Entity::delete_by_id(previous.id).exec(db).await?;
    }
    proof_record::Entity::update_many()
        .col_expr(proof_record::Column::Status, sea_orm::sea_query::Expr::value(status))
        .col_expr(
            proof_record::Column::PublishAt,
            sea_orm::sea_query::Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(proof_record::Column::DocumentId.eq(document_id))
        .filter(proof_record::Column::Stage.eq(Stage::Draft))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn take_down_snippet(db: &impl ConnectionTrait, document_id: &str, status: ContentStatus) -> Result<()> {
    proof_snippet::Entity::delete_many()
        .filter(proof_snippet::Column::DocumentId.eq(document_id))
        .filter(proof_snippet::Column::Stage.eq(Stage::Published))
        .exec(db)
        .await?;
    proof_snippet::Entity::update_many()
        .col_expr(proof_snippet::Column::Status, sea_orm::sea_query::Expr::value(status))
        .col_expr(
            proof_snippet::Column::PublishAt,
            sea_orm::sea_query::Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(proof_snippet::Column::DocumentId.eq(document_id))
        .filter(proof_snippet::Column::Stage.eq(Stage::Draft))
        .exec(db)
        .await?;
    Ok(())
}
