//! Admin writes as units of work: tokens, collections and reuse channels, each in its own transaction
//! with its audit entry.

use entity::{api_token, collection, reuse_channel};
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use super::catalog::{self, ChannelInput, CollectionInput};
use super::staged::Actor;
use super::token::{self, Role};
use super::{Result, audit, transaction};

type Work<T> = Box<dyn for<'c> FnOnce(&'c DatabaseTransaction) -> super::BoxFuture<'c, Result<T>> + Send + 'static>;

/// Runs `work` in one transaction with the audit entry `action` on `entity_type` `key`.
async fn audited<T: Send + 'static>(
    db: &DatabaseConnection,
    actor: &Actor,
    action: &'static str,
    entity_type: &'static str,
    key: String,
    work: Work<T>,
) -> Result<T> {
    let who = actor.0.clone();
    transaction(db, move |txn| {
        Box::pin(async move {
            let out = work(txn).await?;
            audit::record(txn, &who, action, entity_type, &key, None).await?;
            Ok(out)
        })
    })
    .await
}

/// Creates a token; the secret is in the answer and nowhere else.
pub async fn create_api_token(
    db: &DatabaseConnection,
    actor: &Actor,
    name: String,
    role: Role,
    expires_in: Option<chrono::Duration>,
) -> Result<(api_token::Model, String)> {
    let key = name.clone();
    let work: Work<_> = Box::new(move |txn| {
        Box::pin(async move {
            super::changes::complete();
            token::create(txn, &name, role, expires_in).await
        })
    });
    audited(db, actor, "createApiToken", "api_token", key, work).await
}

pub async fn revoke_api_token(db: &DatabaseConnection, actor: &Actor, name: String) -> Result<api_token::Model> {
    let key = name.clone();
    let work: Work<_> = Box::new(move |txn| {
        Box::pin(async move {
            super::changes::complete();
            token::revoke(txn, &name).await
        })
    });
    audited(db, actor, "revokeApiToken", "api_token", key, work).await
}

pub async fn create_collection(
    db: &DatabaseConnection,
    actor: &Actor,
    input: CollectionInput,
) -> Result<collection::Model> {
    let key = input.slug.clone().or(input.name.clone()).unwrap_or_default();
    let work: Work<_> = Box::new(move |txn| Box::pin(async move { catalog::create_collection(txn, input).await }));
    audited(db, actor, "createCollection", "collection", key, work).await
}

pub async fn update_collection(
    db: &DatabaseConnection,
    actor: &Actor,
    slug: String,
    expected: i32,
    input: CollectionInput,
) -> Result<collection::Model> {
    let key = slug.clone();
    let work: Work<_> =
        Box::new(move |txn| Box::pin(async move { catalog::update_collection(txn, &slug, expected, input).await }));
    audited(db, actor, "updateCollection", "collection", key, work).await
}

/// Deletes a collection; its articles stay, outside any collection.
pub async fn delete_collection(db: &DatabaseConnection, actor: &Actor, slug: String, expected: i32) -> Result<()> {
    let key = slug.clone();
    let work: Work<_> =
        Box::new(move |txn| Box::pin(async move { catalog::delete_collection(txn, &slug, expected).await }));
    audited(db, actor, "deleteCollection", "collection", key, work).await
}

pub async fn create_reuse_channel(
    db: &DatabaseConnection,
    actor: &Actor,
    input: ChannelInput,
) -> Result<reuse_channel::Model> {
    let key = input.slug.clone().or(input.name.clone()).unwrap_or_default();
    let work: Work<_> = Box::new(move |txn| Box::pin(async move { catalog::create_channel(txn, input).await }));
    audited(db, actor, "createReuseChannel", "reuse_channel", key, work).await
}

/// Changes a channel; `maxChars` cannot shrink below a snippet already offered for it.
pub async fn update_reuse_channel(
    db: &DatabaseConnection,
    actor: &Actor,
    slug: String,
    expected: i32,
    input: ChannelInput,
) -> Result<reuse_channel::Model> {
    let key = slug.clone();
    let work: Work<_> =
        Box::new(move |txn| Box::pin(async move { catalog::update_channel(txn, &slug, expected, input).await }));
    audited(db, actor, "updateReuseChannel", "reuse_channel", key, work).await
}

/// Deletes a channel and the snippets written for it.
pub async fn delete_reuse_channel(db: &DatabaseConnection, actor: &Actor, slug: String, expected: i32) -> Result<()> {
    let key = slug.clone();
    let work: Work<_> =
        Box::new(move |txn| Box::pin(async move { catalog::delete_channel(txn, &slug, expected).await }));
    audited(db, actor, "deleteReuseChannel", "reuse_channel", key, work).await
}
