//! The GraphQL API: one file per domain, merged into one query root.

pub mod admin;
pub mod article;
mod budget;
pub mod collection;
pub mod connection;
pub mod enums;
pub mod import;
pub mod jsonld;
pub mod loaders;
pub mod node;
pub mod order;
pub mod prefetch;
pub mod proof_record;
pub mod question;
pub mod release;
pub mod request_errors;
pub mod reuse_channel;
pub mod search;
pub mod snippet;
mod staged;
pub mod tags;
pub mod webhook;

use async_graphql::{Context, EmptySubscription, MergedObject, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::config::QueryLimits;
use crate::service::Visibility;
use crate::service::token::{Principal, Role};
pub use budget::{BatchCost, ResponseBytes, RootFieldGate};
pub use loaders::{BacklotLoader, new_loader};
pub use request_errors::ExecutionStarted;

pub type BacklotSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

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
    admin::AdminQuery,
    webhook::WebhookQuery,
    release::ReleaseQuery,
);

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    article::ArticleMutation,
    article::ArticlePublishMutation,
    proof_record::ProofRecordMutation,
    snippet::SnippetMutation,
    snippet::SnippetApprovalMutation,
    admin::AdminMutation,
    webhook::WebhookMutation,
    import::ImportMutation,
);

fn builder(limits: QueryLimits) -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(QueryRoot::default(), MutationRoot::default(), EmptySubscription)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        // One extension: each adds a boxed future to every field resolved.
        .extension(request_errors::RequestErrors { limits })
}

/// The schema that `serve` and the tests run.
pub fn build_schema(db: DatabaseConnection, limits: QueryLimits) -> BacklotSchema {
    build_schema_with(db, limits, webhook::Policy::default())
}

/// [`build_schema`] with the webhook policy `serve` was started with.
pub fn build_schema_with(db: DatabaseConnection, limits: QueryLimits, webhooks: webhook::Policy) -> BacklotSchema {
    builder(limits).data(db).data(webhooks).finish()
}

/// The SDL that `backlot schema` prints and `schema.graphql` holds.
pub fn sdl() -> String {
    builder(QueryLimits::default()).finish().sdl()
}

/// What the HTTP layer attaches to each request: who is calling and so what they may see.
#[derive(Debug, Clone, Default)]
pub struct RequestScope {
    pub visibility: Visibility,
    pub principal: Option<Principal>,
}

impl RequestScope {
    pub fn for_principal(principal: Option<Principal>) -> Self {
        let visibility = if principal.is_some() { Visibility::Preview } else { Visibility::Public };
        RequestScope { visibility, principal }
    }
}

/// The caller, if their role is at least `role`: UNAUTHENTICATED without a token, FORBIDDEN below the role.
pub(crate) fn require<'a>(ctx: &Context<'a>, role: Role) -> async_graphql::Result<&'a Principal> {
    use crate::error::GqlResult;
    crate::service::require(ctx.data_opt::<RequestScope>().and_then(|s| s.principal.as_ref()), role).gql()
}

/// [`require`] for one input field that needs a higher role than its operation (FORBIDDEN names the field).
pub(crate) fn require_for_field(ctx: &Context<'_>, role: Role, field: &'static str) -> async_graphql::Result<()> {
    use crate::error::GqlResult;
    let principal = ctx.data_opt::<RequestScope>().and_then(|s| s.principal.as_ref());
    let checked = crate::service::require(principal, role).map_err(|e| match e {
        crate::service::ServiceError::RoleTooLow { needed, has, .. } => {
            crate::service::ServiceError::RoleTooLow { field: Some(field), needed, has }
        }
        other => other,
    });
    checked.map(|_| ()).gql()
}

pub(crate) fn actor(principal: &Principal) -> crate::service::editorial::Actor {
    crate::service::editorial::Actor(principal.token_name.clone())
}

pub(crate) fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

pub(crate) fn visibility(ctx: &Context<'_>) -> Visibility {
    ctx.data_opt::<RequestScope>().map(|s| s.visibility).unwrap_or_default()
}

/// An update input's nullable field: absent keeps the value (`None`), `null` clears it (`Some(None)`).
pub(crate) fn maybe<T>(v: async_graphql::MaybeUndefined<T>) -> Option<Option<T>> {
    match v {
        async_graphql::MaybeUndefined::Undefined => None,
        async_graphql::MaybeUndefined::Null => Some(None),
        async_graphql::MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

/// A connection field's complexity: its page size times what each node asks for.
pub(crate) fn page_complexity(child: usize, first: Option<i32>, last: Option<i32>) -> usize {
    let size = first.or(last).unwrap_or(crate::service::pagination::DEFAULT_PAGE_SIZE).clamp(1, 100) as usize;
    size.saturating_mul(child).saturating_add(1)
}

pub(crate) fn loader<'a>(ctx: &Context<'a>) -> &'a BacklotLoader {
    ctx.data_unchecked::<BacklotLoader>()
}
