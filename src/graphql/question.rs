//! Questions with their answers, across all visible articles.

use async_graphql::{Context, ID, InputObject, Object, Result};
use entity::question;

use super::article::Article;
use super::connection::{Count, CountedConnection, connection, page_request};
use super::loaders::ArticleRow;
use super::node::global_id;
use crate::error::GqlResult;
use crate::service::question::{self as service, QuestionFilter as Filter};

pub struct Question(pub question::Model);

#[Object]
impl Question {
    pub async fn id(&self) -> ID {
        global_id("Question", &self.0.document_id)
    }
    /// Order within its article, from 0.
    async fn position(&self) -> i32 {
        self.0.position
    }
    async fn question(&self) -> &str {
        &self.0.question
    }
    async fn answer(&self) -> &str {
        &self.0.answer
    }
    async fn article(&self, ctx: &Context<'_>) -> Result<Option<Article>> {
        Ok(super::loader(ctx).load_one(ArticleRow(self.0.article_id)).await?.flatten().map(Article))
    }
}

#[derive(InputObject, Default)]
pub struct QuestionFilter {
    /// Slug of the article the questions belong to.
    article: Option<String>,
    /// Full-text match on question and answer.
    text: Option<String>,
}

#[derive(Default)]
pub struct QuestionQuery;

#[Object]
impl QuestionQuery {
    #[graphql(complexity = "super::page_complexity(child_complexity, first, last)")]
    async fn questions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<QuestionFilter>,
    ) -> Result<CountedConnection<Question>> {
        let filter = filter.unwrap_or_default();
        let filter = Filter { article: filter.article, text: filter.text };
        let v = super::visibility(ctx);
        let page = service::list(super::db(ctx), v, &filter, &page_request(first, after, last, before)).await.gql()?;
        let rows: Vec<_> = page.items.iter().map(|(_, q)| q).collect();
        super::prefetch::questions(ctx, &super::prefetch::connection_nodes(ctx), &rows).await?;
        Ok(connection(ctx, page, Count::Questions(v, filter), Question))
    }
}
