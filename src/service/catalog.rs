//! Collections and reuse channels: shared, unstaged reference data.

use entity::{article, collection, reuse_channel};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{Result, ServiceError, now};

pub async fn collections(db: &impl ConnectionTrait) -> Result<Vec<collection::Model>> {
    Ok(collection::Entity::find().order_by_asc(collection::Column::Name).all(db).await?)
}

pub async fn collection_by_slug(db: &impl ConnectionTrait, slug: &str) -> Result<Option<collection::Model>> {
    Ok(collection::Entity::find().filter(collection::Column::Slug.eq(slug)).one(db).await?)
}

pub async fn collections_by_ids(db: &impl ConnectionTrait, ids: &[i32]) -> Result<Vec<collection::Model>> {
    Ok(collection::Entity::find().filter(collection::Column::Id.is_in(ids.iter().copied())).all(db).await?)
}

/// The id of the collection named `name`, created on first mention (the importer's "browse Proof").
pub async fn ensure_collection(db: &impl ConnectionTrait, name: &str) -> Result<i32> {
    let slug = crate::import::slugify(name);
    if slug.is_empty() {
        return Err(ServiceError::bad_input("collection", format!("{name:?} has no letters or digits")));
    }
    if let Some(existing) = collection_by_slug(db, &slug).await? {
        return Ok(existing.id);
    }
    let timestamp = now();
    let created = collection::ActiveModel {
        slug: Set(slug),
        name: Set(name.to_string()),
        description: Set(None),
        created_at: Set(timestamp),
        updated_at: Set(timestamp),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(created.id)
}

pub async fn set_collection_description(db: &impl ConnectionTrait, id: i32, description: &str) -> Result<()> {
    collection::ActiveModel { id: Set(id), description: Set(Some(description.to_string())), ..Default::default() }
        .update(db)
        .await?;
    Ok(())
}

pub async fn channels(db: &impl ConnectionTrait) -> Result<Vec<reuse_channel::Model>> {
    Ok(reuse_channel::Entity::find().order_by_asc(reuse_channel::Column::Position).all(db).await?)
}

pub async fn channel_by_slug(db: &impl ConnectionTrait, slug: &str) -> Result<Option<reuse_channel::Model>> {
    Ok(reuse_channel::Entity::find().filter(reuse_channel::Column::Slug.eq(slug)).one(db).await?)
}

pub async fn channels_by_ids(db: &impl ConnectionTrait, ids: &[i32]) -> Result<Vec<reuse_channel::Model>> {
    Ok(reuse_channel::Entity::find().filter(reuse_channel::Column::Id.is_in(ids.iter().copied())).all(db).await?)
}

/// Ids of the channels named by `slugs`, in the same order; an unknown slug is an error naming it.
pub async fn channel_ids(db: &impl ConnectionTrait, slugs: &[String]) -> Result<Vec<i32>> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let known = channels(db).await?;
    slugs
        .iter()
        .map(|slug| {
            known
                .iter()
                .find(|c| &c.slug == slug)
                .map(|c| c.id)
                .ok_or_else(|| ServiceError::bad_input("channels", format!("unknown reuse channel {slug:?}")))
        })
        .collect()
}

/// Whether any article exists in any stage (the demo loads only into an empty database).
pub async fn has_content(db: &impl ConnectionTrait) -> Result<bool> {
    Ok(article::Entity::find().one(db).await?.is_some())
}
