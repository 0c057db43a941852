//! Collections: browsable shelves of articles.

use async_graphql::{Context, ID, Object, Result};
use entity::collection;

use super::article::{Article, ArticleFilter, ArticleOrder, article_connection, article_query};
use super::connection::{CountedConnection, page_request};
use super::node::global_id;
use crate::error::GqlResult;
use crate::service::catalog;

pub struct Collection(pub collection::Model);

#[Object]
impl Collection {
    pub async fn id(&self) -> ID {
        global_id("Collection", &self.0.slug)
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Bumped by every change; send it back as `expectedVersion`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The collection's articles you may see.
    #[graphql(complexity = "super::page_complexity(child_complexity, first, last)")]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ArticleOrder>,
    ) -> Result<CountedConnection<Article>> {
        let filter = ArticleFilter { collection: Some(self.0.slug.clone()), ..Default::default() };
        let query = article_query(ctx, Some(filter), order_by);
        article_connection(ctx, query, page_request(first, after, last, before)).await
    }
}

#[derive(Default)]
pub struct CollectionQuery;

#[Object]
impl CollectionQuery {
    async fn collection(&self, ctx: &Context<'_>, slug: String) -> Result<Option<Collection>> {
        super::tags::note(ctx, crate::service::changes::collection(&slug));
        Ok(catalog::visible_by_slug(super::db(ctx), super::visibility(ctx), &slug).await.gql()?.map(Collection))
    }
    async fn collections(&self, ctx: &Context<'_>) -> Result<Vec<Collection>> {
        super::tags::note(ctx, crate::service::changes::COLLECTIONS);
        Ok(catalog::visible(super::db(ctx), super::visibility(ctx)).await.gql()?.into_iter().map(Collection).collect())
    }
}
