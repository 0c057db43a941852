//! What the article, proof record and snippet mutations share. Each is: check the role, decode the ID,
//! call one service function (which owns the transaction), wrap the row.

use async_graphql::{Context, ID, Result};
use chrono::{DateTime, Utc};
use entity::ContentStatus;

use crate::error::GqlResult;
use crate::service::editorial::{self, Actor, Row, Staged};
use crate::service::token::Role;

/// A GraphQL object over a staged document's row.
pub(crate) trait StagedObject: Sized {
    type Doc: Staged;
    /// Its type name, as its global IDs carry it.
    const TYPE_NAME: &'static str;
    fn wrap(row: Row<Self::Doc>) -> Self;
}

impl StagedObject for super::article::Article {
    type Doc = editorial::Articles;
    const TYPE_NAME: &'static str = "Article";
    fn wrap(row: entity::article::Model) -> Self {
        Self(row)
    }
}

impl StagedObject for super::proof_record::ProofRecord {
    type Doc = editorial::ProofRecords;
    const TYPE_NAME: &'static str = "ProofRecord";
    fn wrap(row: entity::proof_record::Model) -> Self {
        Self(row)
    }
}

impl StagedObject for super::snippet::ProofSnippet {
    type Doc = editorial::Snippets;
    const TYPE_NAME: &'static str = "ProofSnippet";
    fn wrap(row: entity::proof_snippet::Model) -> Self {
        Self(row)
    }
}

/// The caller (at least `role`) and the document `id` names.
pub(crate) fn target<O: StagedObject>(ctx: &Context<'_>, role: Role, id: &ID) -> Result<(Actor, String)> {
    let who = super::actor(super::require(ctx, role)?);
    Ok((who, super::node::decode("id", id, O::TYPE_NAME)?))
}

/// Creates a DRAFT (editor).
pub(crate) async fn create<O: StagedObject>(ctx: &Context<'_>, patch: <O::Doc as Staged>::Patch) -> Result<O> {
    let who = super::actor(super::require(ctx, Role::Editor)?);
    Ok(O::wrap(editorial::create::<O::Doc>(super::db(ctx), &who, patch).await.gql()?))
}

/// Changes the draft (editor).
pub(crate) async fn update<O: StagedObject>(
    ctx: &Context<'_>,
    id: &ID,
    expected: i32,
    patch: <O::Doc as Staged>::Patch,
) -> Result<O> {
    let (who, doc) = target::<O>(ctx, Role::Editor, id)?;
    Ok(O::wrap(editorial::update::<O::Doc>(super::db(ctx), &who, &doc, expected, patch).await.gql()?))
}

/// Deletes the document (editor); answers its ID.
pub(crate) async fn delete<O: StagedObject>(ctx: &Context<'_>, id: ID, expected: i32) -> Result<ID> {
    let (who, doc) = target::<O>(ctx, Role::Editor, &id)?;
    editorial::delete::<O::Doc>(super::db(ctx), &who, &doc, expected).await.gql()?;
    Ok(id)
}

/// Publishes the draft (publisher).
pub(crate) async fn publish<O: StagedObject>(ctx: &Context<'_>, id: &ID, expected: i32) -> Result<O> {
    let (who, doc) = target::<O>(ctx, Role::Publisher, id)?;
    Ok(O::wrap(editorial::publish::<O::Doc>(super::db(ctx), &who, &doc, expected).await.gql()?))
}

/// Withdraws the published version: unpublish (`status` DRAFT) or archive (publisher).
pub(crate) async fn take_down<O: StagedObject>(
    ctx: &Context<'_>,
    id: &ID,
    expected: i32,
    status: ContentStatus,
) -> Result<O> {
    let (who, doc) = target::<O>(ctx, Role::Publisher, id)?;
    Ok(O::wrap(editorial::take_down::<O::Doc>(super::db(ctx), &who, &doc, expected, status).await.gql()?))
}

/// Schedules a publish, or cancels it with `None` (publisher).
pub(crate) async fn schedule<O: StagedObject>(
    ctx: &Context<'_>,
    id: &ID,
    expected: i32,
    at: Option<DateTime<Utc>>,
) -> Result<O> {
    let (who, doc) = target::<O>(ctx, Role::Publisher, id)?;
    Ok(O::wrap(editorial::schedule::<O::Doc>(super::db(ctx), &who, &doc, expected, at).await.gql()?))
}

/// Makes an older revision's content the draft again (editor).
pub(crate) async fn restore<O: StagedObject>(ctx: &Context<'_>, id: &ID, expected: i32, revision: i32) -> Result<O> {
    let (who, doc) = target::<O>(ctx, Role::Editor, id)?;
    Ok(O::wrap(editorial::restore::<O::Doc>(super::db(ctx), &who, &doc, expected, revision).await.gql()?))
}

/// Every stored version of the document, newest first (preview token and above).
pub(crate) async fn revisions<O: StagedObject>(
    ctx: &Context<'_>,
    document_id: &str,
) -> Result<Vec<super::admin::Revision>> {
    super::require(ctx, Role::Preview)?;
    super::admin::revisions(ctx, O::Doc::REVISION_TYPE, document_id).await
}
