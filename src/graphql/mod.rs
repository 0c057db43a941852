//! The GraphQL API: one file per domain, merged into one query root.

pub mod article;
pub mod collection;
pub mod connection;
pub mod enums;
pub mod loaders;
pub mod node;
pub mod prefetch;
pub mod proof_record;
pub mod question;
pub mod reuse_channel;
pub mod search;
pub mod snippet;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};
use async_graphql::{Context, EmptyMutation, EmptySubscription, MergedObject, Response, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::service::Visibility;
pub use loaders::{BacklotLoader, new_loader};

pub type BacklotSchema = Schema<QueryRoot, EmptyMutation, EmptySubscription>;

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    article::ArticleQuery,
    proof_record::ProofRecordQuery,
    question::QuestionQuery,
    collection::CollectionQuery,
    reuse_channel::ReuseChannelQuery,
    snippet::SnippetQuery,
    search::SearchQuery,
    node::NodeQuery,
);

/// Query depth that fits the article page (article → proofRecord → assets → fields) with room to spare.
pub const MAX_DEPTH: usize = 16;

fn builder() -> SchemaBuilder<QueryRoot, EmptyMutation, EmptySubscription> {
    Schema::build(QueryRoot::default(), EmptyMutation, EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .extension(ExecutionMarker)
}

/// The schema that `serve` and the tests run.
pub fn build_schema(db: DatabaseConnection) -> BacklotSchema {
    builder().data(db).finish()
}

/// The SDL that `backlot schema` prints and `schema.graphql` holds.
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// What the HTTP layer attaches to each request.
#[derive(Debug, Clone, Copy)]
pub struct RequestScope {
    pub visibility: Visibility,
}

pub(crate) fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

pub(crate) fn visibility(ctx: &Context<'_>) -> Visibility {
    ctx.data_opt::<RequestScope>().map(|s| s.visibility).unwrap_or_default()
}

pub(crate) fn loader<'a>(ctx: &Context<'a>) -> &'a BacklotLoader {
    ctx.data_unchecked::<BacklotLoader>()
}

/// Set by [`ExecutionMarker`] when a request got past parsing, validation and variable coercion.
#[derive(Default)]
pub struct ExecutionStarted(pub AtomicBool);

struct ExecutionMarker;

impl ExtensionFactory for ExecutionMarker {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ExecutionMarker)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ExecutionMarker {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(flag) = ctx.data_opt::<Arc<ExecutionStarted>>() {
            flag.0.store(true, Ordering::Relaxed);
        }
        next.run(ctx, operation_name).await
    }
}
