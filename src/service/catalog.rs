//! Collections and reuse channels: shared reference data. Collections are staged through their articles:
//! the public sees a collection once an article in it is published, so a draft import's "browse X" does
//! not announce a shelf before anything is on it.

use std::collections::HashMap;

use entity::{article, collection, reuse_channel};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Select, Set,
};

use super::{Result, ServiceError, Visibility, now};

/// Collections `visibility` may see: every one in preview, those holding a published article in public.
fn visible_collections(visibility: Visibility) -> Select<collection::Entity> {
    let select = collection::Entity::find();
    if !visibility.is_public() {
        return select;
    }
    let published = super::staged::visible::<super::staged::Articles>(visibility)
        .select_only()
        .column(article::Column::CollectionId)
        .filter(article::Column::CollectionId.is_not_null())
        .into_query();
    select.filter(collection::Column::Id.in_subquery(published))
}

pub async fn visible(db: &impl ConnectionTrait, visibility: Visibility) -> Result<Vec<collection::Model>> {
    Ok(visible_collections(visibility).order_by_asc(collection::Column::Name).all(db).await?)
}

pub async fn visible_by_slug(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    slug: &str,
) -> Result<Option<collection::Model>> {
    Ok(visible_collections(visibility).filter(collection::Column::Slug.eq(slug)).one(db).await?)
}

pub async fn visible_by_ids(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    ids: &[i32],
) -> Result<Vec<collection::Model>> {
    Ok(visible_collections(visibility).filter(collection::Column::Id.is_in(ids.iter().copied())).all(db).await?)
}

/// A collection by slug whatever its visibility (for writes and editors' references).
pub async fn collection_by_slug(db: &impl ConnectionTrait, slug: &str) -> Result<Option<collection::Model>> {
    Ok(collection::Entity::find().filter(collection::Column::Slug.eq(slug)).one(db).await?)
}

/// The slug a collection named `name` gets; a name without letters or digits is refused.
pub fn collection_slug(name: &str) -> Result<String> {
    let slug = crate::domain::slugify(name);
    if slug.is_empty() {
        return Err(ServiceError::bad_input("collection", format!("{name:?} has no letters or digits")));
    }
    Ok(slug)
}

/// The id of the collection named `name`, created on first mention (the importer's "browse Proof").
pub async fn ensure_collection(db: &impl ConnectionTrait, name: &str) -> Result<i32> {
    let ids = ensure_collections(db, &[name]).await?;
    ids.get(name).copied().ok_or_else(|| ServiceError::Database(sea_orm::DbErr::RecordNotInserted))
}

/// The ids of the collections named `names` (by name), creating those not there yet: at most three
/// statements however many names.
pub async fn ensure_collections(db: &impl ConnectionTrait, names: &[&str]) -> Result<HashMap<String, i32>> {
    let mut slugs: HashMap<String, &str> = HashMap::new();
    for &name in names {
        slugs.entry(collection_slug(name)?).or_insert(name);
    }
    if slugs.is_empty() {
        return Ok(HashMap::new());
    }
    let mut ids: HashMap<String, i32> = collection::Entity::find()
        .filter(collection::Column::Slug.is_in(slugs.keys().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.slug, c.id))
        .collect();
    let timestamp = now();
    let missing: Vec<collection::ActiveModel> = slugs
        .iter()
        .filter(|(slug, _)| !ids.contains_key(*slug))
        .map(|(slug, name)| collection::ActiveModel {
            slug: Set(slug.clone()),
            name: Set(name.to_string()),
            description: Set(None),
            version: Set(1),
            created_at: Set(timestamp),
            updated_at: Set(timestamp),
            ..Default::default()
        })
        .collect();
    ids.extend(super::bulk::insert_returning(db, missing).await?.into_iter().map(|c| (c.slug, c.id)));
    names
        .iter()
        .map(|&name| {
            let id = ids.get(&collection_slug(name)?).copied();
            Ok((name.to_string(), id.ok_or_else(|| ServiceError::Database(sea_orm::DbErr::RecordNotInserted))?))
        })
        .collect()
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

pub async fn channels_by_slugs(db: &impl ConnectionTrait, slugs: &[String]) -> Result<Vec<reuse_channel::Model>> {
    Ok(reuse_channel::Entity::find().filter(reuse_channel::Column::Slug.is_in(slugs.iter().cloned())).all(db).await?)
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

#[derive(Debug, Clone, Default)]
pub struct CollectionInput {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct ChannelInput {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub max_chars: Option<Option<i32>>,
    pub requires_credit: Option<bool>,
}

fn stale(entity: &'static str, expected: i32, current: Option<i32>, key: &str) -> ServiceError {
    match current {
        Some(current) => ServiceError::StaleVersion { entity, expected, current },
        None => ServiceError::NotFound { entity, key: key.to_string() },
    }
}

async fn unique_collection_slug(db: &impl ConnectionTrait, slug: &str, except: Option<i32>) -> Result<()> {
    super::article::validate_slug("slug", slug)?;
    match collection_by_slug(db, slug).await? {
        Some(other) if Some(other.id) != except => {
            Err(ServiceError::Conflict(format!("slug: {slug:?} is already used by another collection")))
        }
        _ => Ok(()),
    }
}

pub async fn create_collection(db: &impl ConnectionTrait, input: CollectionInput) -> Result<collection::Model> {
    let name =
        input.name.filter(|n| !n.trim().is_empty()).ok_or_else(|| ServiceError::bad_input("name", "is required"))?;
    let slug = input.slug.unwrap_or_else(|| crate::domain::slugify(&name));
    unique_collection_slug(db, &slug, None).await?;
    let timestamp = now();
    Ok(collection::ActiveModel {
        slug: Set(slug),
        name: Set(name),
        description: Set(input.description.flatten()),
        version: Set(1),
        created_at: Set(timestamp),
        updated_at: Set(timestamp),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn update_collection(
    db: &impl ConnectionTrait,
    slug: &str,
    expected: i32,
    input: CollectionInput,
) -> Result<collection::Model> {
    let current = collection_by_slug(db, slug).await?;
    let Some(current) = current.filter(|c| c.version == expected) else {
        let version = collection_by_slug(db, slug).await?.map(|c| c.version);
        return Err(stale("collection", expected, version, slug));
    };
    let claimed = collection::Entity::update_many()
        .col_expr(collection::Column::Version, sea_orm::sea_query::Expr::value(expected + 1))
        .filter(collection::Column::Id.eq(current.id))
        .filter(collection::Column::Version.eq(expected))
        .exec(db)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(stale("collection", expected, Some(expected + 1), slug));
    }
    if let Some(new_slug) = &input.slug {
        unique_collection_slug(db, new_slug, Some(current.id)).await?;
    }
    if input.name.as_ref().is_some_and(|n| n.trim().is_empty()) {
        return Err(ServiceError::bad_input("name", "must not be empty"));
    }
    let mut active: collection::ActiveModel = current.into();
    if let Some(v) = input.slug {
        active.slug = Set(v);
    }
    if let Some(v) = input.name {
        active.name = Set(v);
    }
    if let Some(v) = input.description {
        active.description = Set(v);
    }
    active.version = Set(expected + 1);
    active.updated_at = Set(now());
    Ok(active.update(db).await?)
}

pub async fn delete_collection(db: &impl ConnectionTrait, slug: &str, expected: i32) -> Result<()> {
    let deleted = collection::Entity::delete_many()
        .filter(collection::Column::Slug.eq(slug))
        .filter(collection::Column::Version.eq(expected))
        .exec(db)
        .await?;
    if deleted.rows_affected == 1 {
        return Ok(());
    }
    let version = collection_by_slug(db, slug).await?.map(|c| c.version);
    Err(stale("collection", expected, version, slug))
}

fn check_max_chars(value: Option<i32>) -> Result<()> {
    match value {
        Some(n) if n < 1 => Err(ServiceError::bad_input("maxChars", "must be at least 1, or null for no limit")),
        _ => Ok(()),
    }
}

pub async fn create_channel(db: &impl ConnectionTrait, input: ChannelInput) -> Result<reuse_channel::Model> {
    let name =
        input.name.filter(|n| !n.trim().is_empty()).ok_or_else(|| ServiceError::bad_input("name", "is required"))?;
    let slug = input.slug.unwrap_or_else(|| crate::domain::slugify(&name));
    super::article::validate_slug("slug", &slug)?;
    if channel_by_slug(db, &slug).await?.is_some() {
        return Err(ServiceError::Conflict(format!("slug: {slug:?} is already used by another reuse channel")));
    }
    let max_chars = input.max_chars.flatten();
    check_max_chars(max_chars)?;
    let position = channels(db).await?.iter().map(|c| c.position + 1).max().unwrap_or(0);
    Ok(reuse_channel::ActiveModel {
        slug: Set(slug),
        name: Set(name),
        description: Set(input.description.flatten()),
        max_chars: Set(max_chars),
        requires_credit: Set(input.requires_credit.unwrap_or(false)),
        position: Set(position),
        version: Set(1),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn update_channel(
    db: &impl ConnectionTrait,
    slug: &str,
    expected: i32,
    input: ChannelInput,
) -> Result<reuse_channel::Model> {
    let claimed = reuse_channel::Entity::update_many()
        .col_expr(reuse_channel::Column::Version, sea_orm::sea_query::Expr::value(expected + 1))
        .filter(reuse_channel::Column::Slug.eq(slug))
        .filter(reuse_channel::Column::Version.eq(expected))
        .exec(db)
        .await?;
    let current = channel_by_slug(db, slug).await?;
    if claimed.rows_affected != 1 {
        return Err(stale("reuse channel", expected, current.map(|c| c.version), slug));
    }
    let current = current.ok_or_else(|| ServiceError::NotFound { entity: "reuse channel", key: slug.into() })?;
    if let Some(new_slug) = &input.slug {
        super::article::validate_slug("slug", new_slug)?;
        if channel_by_slug(db, new_slug).await?.is_some_and(|c| c.id != current.id) {
            return Err(ServiceError::Conflict(format!("slug: {new_slug:?} is already used by another reuse channel")));
        }
    }
    if let Some(max) = input.max_chars {
        check_max_chars(max)?;
        // Invariant: every snippet offered for a channel fits it, so a limit cannot shrink below one.
        if let Some(max) = max {
            let longest = entity::proof_snippet::Entity::find()
                .filter(entity::proof_snippet::Column::ChannelId.eq(current.id))
                .filter(entity::proof_snippet::Column::CharCount.gt(max))
                .one(db)
                .await?;
            if let Some(snippet) = longest {
                return Err(ServiceError::Conflict(format!(
                    "maxChars: a snippet of {} characters is offered for this channel; shorten or move it first",
                    snippet.char_count
                )));
            }
        }
    }
    let mut active: reuse_channel::ActiveModel = current.into();
    if let Some(v) = input.slug {
        active.slug = Set(v);
    }
    if let Some(v) = input.name.filter(|n| !n.trim().is_empty()) {
        active.name = Set(v);
    }
    if let Some(v) = input.description {
        active.description = Set(v);
    }
    if let Some(v) = input.max_chars {
        active.max_chars = Set(v);
    }
    if let Some(v) = input.requires_credit {
        active.requires_credit = Set(v);
    }
    Ok(active.update(db).await?)
}

pub async fn delete_channel(db: &impl ConnectionTrait, slug: &str, expected: i32) -> Result<()> {
    // Dropping a channel from a frame's release scope could leave the scope empty, which means every channel.
    if let Some(channel) = channel_by_slug(db, slug).await?
        && super::release::channel_in_a_scope(db, channel.id).await?
    {
        return Err(ServiceError::Conflict(format!(
            "reuse channel {slug:?} is in the release scope of a frame; change those frames' releaseChannels first"
        )));
    }
    let deleted = reuse_channel::Entity::delete_many()
        .filter(reuse_channel::Column::Slug.eq(slug))
        .filter(reuse_channel::Column::Version.eq(expected))
        .exec(db)
        .await?;
    if deleted.rows_affected == 1 {
        return Ok(());
    }
    let version = channel_by_slug(db, slug).await?.map(|c| c.version);
    Err(stale("reuse channel", expected, version, slug))
}

/// A reuse channel joined to what it belongs to: the join's owner column (a proof record's or a frame's
/// row id) is selected as `owner`.
#[derive(Debug, sea_orm::FromQueryResult)]
pub(crate) struct OwnedChannel {
    owner: i32,
    id: i32,
    slug: String,
    name: String,
    description: Option<String>,
    max_chars: Option<i32>,
    position: i32,
    version: i32,
    requires_credit: bool,
}

/// Joined channel rows grouped by owner, each group in query order.
pub(crate) fn group_by_owner(rows: Vec<OwnedChannel>) -> std::collections::HashMap<i32, Vec<reuse_channel::Model>> {
    let mut map: std::collections::HashMap<i32, Vec<reuse_channel::Model>> = std::collections::HashMap::new();
    for r in rows {
        let channel = reuse_channel::Model {
            id: r.id,
            slug: r.slug,
            name: r.name,
            description: r.description,
            max_chars: r.max_chars,
            position: r.position,
            version: r.version,
            requires_credit: r.requires_credit,
        };
        map.entry(r.owner).or_default().push(channel);
    }
    map
}
