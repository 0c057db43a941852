//! Proof snippets and the marketing pull `proofSnippets(channel:)`.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use entity::proof_snippet;

use super::article::Article;
use super::connection::{Count, CountedConnection, connection, page_request};
use super::enums::ContentStatus;
use super::loaders::{ArticleDoc, ChannelRow, ProofRecordDoc};
use super::node::global_id;
use super::proof_record::ProofRecord;
use super::reuse_channel::ReuseChannel;
use crate::error::{GqlResult, bad_input};
use crate::service::editorial;
use crate::service::snippet::SnippetDraft;
use crate::service::token::Role;
use crate::service::{catalog, snippet, transaction};

/// A short, quotable proof claim with its provenance.
pub struct ProofSnippet(pub proof_snippet::Model);

#[Object]
impl ProofSnippet {
    pub async fn id(&self) -> ID {
        global_id("ProofSnippet", &self.0.document_id)
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Length of `body` in characters (Unicode scalar values), the unit of `maxChars`.
    async fn char_count(&self) -> i32 {
        self.0.char_count
    }
    async fn channel(&self, ctx: &Context<'_>) -> Result<Option<ReuseChannel>> {
        Ok(super::loader(ctx).load_one(ChannelRow(self.0.channel_id)).await?.flatten().map(ReuseChannel))
    }
    async fn proof_record(&self, ctx: &Context<'_>) -> Result<Option<ProofRecord>> {
        let key = ProofRecordDoc(self.0.proof_record_document_id.clone());
        Ok(super::loader(ctx).load_one(key).await?.flatten().map(ProofRecord))
    }
    async fn article(&self, ctx: &Context<'_>) -> Result<Option<Article>> {
        let Some(doc) = &self.0.article_document_id else { return Ok(None) };
        Ok(super::loader(ctx).load_one(ArticleDoc(doc.clone())).await?.flatten().map(Article))
    }
    async fn status(&self) -> ContentStatus {
        self.0.status.into()
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    /// Bumped by every change; send it back as `expectedVersion`.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

#[derive(Default)]
pub struct SnippetQuery;

#[Object]
impl SnippetQuery {
    /// Snippets for a reuse channel (by slug, e.g. "social-posts"), oldest first.
    #[graphql(complexity = "super::page_complexity(child_complexity, first, last)")]
    async fn proof_snippets(
        &self,
        ctx: &Context<'_>,
        channel: String,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<CountedConnection<ProofSnippet>> {
        let db = super::db(ctx);
        let Some(found) = catalog::channel_by_slug(db, &channel).await.gql()? else {
            return Err(bad_input("channel", &format!("no reuse channel has the slug {channel:?}")));
        };
        let v = super::visibility(ctx);
        let page = snippet::list_for_channel(db, v, found.id, &page_request(first, after, last, before)).await.gql()?;
        Ok(connection(page, Count::ChannelSnippets(v, found.id), ProofSnippet))
    }
}

/// Snippet content. On update, a field left out keeps its value.
#[derive(InputObject)]
pub struct ProofSnippetInput {
    /// Slug of the proof record it quotes (required on create).
    proof_record: Option<String>,
    /// Slug of the article it belongs with; `null` clears.
    article: MaybeUndefined<String>,
    /// Reuse channel slug (required on create); the body must fit its `maxChars`.
    channel: Option<String>,
    body: Option<String>,
}

async fn resolve(ctx: &Context<'_>, input: ProofSnippetInput, draft: &mut SnippetDraft) -> Result<()> {
    let db = super::db(ctx);
    let preview = crate::service::Visibility::Preview;
    if let Some(slug) = input.proof_record {
        let record = crate::service::proof_record::by_slug(db, preview, &slug).await.gql()?;
        let record =
            record.ok_or_else(|| bad_input("proofRecord", &format!("no proof record has the slug {slug:?}")))?;
        draft.proof_record_document_id = record.document_id;
    }
    match input.article {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => draft.article_document_id = None,
        MaybeUndefined::Value(slug) => {
            let article = crate::service::article::by_slug(db, preview, &slug).await.gql()?;
            let article = article.ok_or_else(|| bad_input("article", &format!("no article has the slug {slug:?}")))?;
            draft.article_document_id = Some(article.document_id);
        }
    }
    if let Some(channel) = input.channel {
        draft.channel = channel;
    }
    if let Some(body) = input.body {
        draft.body = body;
    }
    Ok(())
}

#[derive(Default)]
pub struct SnippetMutation;

#[Object]
impl SnippetMutation {
    /// Creates a DRAFT snippet (editor). A body longer than the channel's `maxChars` is refused.
    async fn create_snippet(&self, ctx: &Context<'_>, input: ProofSnippetInput) -> Result<ProofSnippet> {
        let who = super::actor(super::require(ctx, Role::Editor)?);
        if input.proof_record.is_none() {
            return Err(bad_input("proofRecord", "is required"));
        }
        if input.channel.is_none() {
            return Err(bad_input("channel", "is required"));
        }
        let mut draft = SnippetDraft {
            proof_record_document_id: String::new(),
            article_document_id: None,
            channel: String::new(),
            body: String::new(),
        };
        resolve(ctx, input, &mut draft).await?;
        let row = transaction(super::db(ctx), move |txn| {
            Box::pin(async move { editorial::create_snippet(txn, &who, draft).await })
        })
        .await
        .gql()?;
        Ok(ProofSnippet(row))
    }

    async fn update_snippet(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: ProofSnippetInput,
    ) -> Result<ProofSnippet> {
        let who = super::actor(super::require(ctx, Role::Editor)?);
        let doc = super::node::decode("id", &id, "ProofSnippet")?;
        let mut patch = SnippetDraft {
            proof_record_document_id: String::new(),
            article_document_id: None,
            channel: String::new(),
            body: String::new(),
        };
        let touches_article = !input.article.is_undefined();
        resolve(ctx, input, &mut patch).await?;
        let row = transaction(super::db(ctx), move |txn| {
            Box::pin(async move {
                let change = |d: &mut SnippetDraft| {
                    if !patch.proof_record_document_id.is_empty() {
                        d.proof_record_document_id = patch.proof_record_document_id;
                    }
                    if touches_article {
                        d.article_document_id = patch.article_document_id;
                    }
                    if !patch.channel.is_empty() {
                        d.channel = patch.channel;
                    }
                    if !patch.body.is_empty() {
                        d.body = patch.body;
                    }
                    Ok(())
                };
                editorial::update_snippet(txn, &who, &doc, expected_version, change).await
            })
        })
        .await
        .gql()?;
        Ok(ProofSnippet(row))
    }

    async fn delete_snippet(&self, ctx: &Context<'_>, id: ID, expected_version: i32) -> Result<ID> {
        let who = super::actor(super::require(ctx, Role::Editor)?);
        let doc = super::node::decode("id", &id, "ProofSnippet")?;
        transaction(super::db(ctx), move |txn| {
            Box::pin(async move { editorial::delete_snippet(txn, &who, &doc, expected_version).await })
        })
        .await
        .gql()?;
        Ok(id)
    }

    /// Publishes the snippet (publisher). It is offered publicly only while its proof record is published too.
    async fn publish_snippet(&self, ctx: &Context<'_>, id: ID, expected_version: i32) -> Result<ProofSnippet> {
        let who = super::actor(super::require(ctx, Role::Publisher)?);
        let doc = super::node::decode("id", &id, "ProofSnippet")?;
        let row = transaction(super::db(ctx), move |txn| {
            Box::pin(async move { editorial::publish_snippet(txn, &who, &doc, expected_version).await })
        })
        .await
        .gql()?;
        Ok(ProofSnippet(row))
    }

    async fn unpublish_snippet(&self, ctx: &Context<'_>, id: ID, expected_version: i32) -> Result<ProofSnippet> {
        take_down(ctx, id, expected_version, entity::ContentStatus::Draft).await
    }

    async fn archive_snippet(&self, ctx: &Context<'_>, id: ID, expected_version: i32) -> Result<ProofSnippet> {
        take_down(ctx, id, expected_version, entity::ContentStatus::Archived).await
    }
}

async fn take_down(
    ctx: &Context<'_>,
    id: ID,
    expected_version: i32,
    status: entity::ContentStatus,
) -> Result<ProofSnippet> {
    let who = super::actor(super::require(ctx, Role::Publisher)?);
    let doc = super::node::decode("id", &id, "ProofSnippet")?;
    let row = transaction(super::db(ctx), move |txn| {
        Box::pin(async move { editorial::take_down_snippet(txn, &who, &doc, expected_version, status).await })
    })
    .await
    .gql()?;
    Ok(ProofSnippet(row))
}
