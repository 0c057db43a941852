//! Proof snippets and the marketing pull `proofSnippets(channel:)`.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use entity::proof_snippet;

use super::article::Article;
use super::connection::{Count, CountedConnection, connection, page_request};
use super::loaders::{ArticleDoc, ChannelRow, ProofRecordDoc};
use super::node::global_id;
use super::proof_record::ProofRecord;
use super::reuse_channel::ReuseChannel;
use super::staged;
use crate::error::{GqlResult, bad_input};
use crate::service::snippet::SnippetPatch;
use crate::service::{catalog, snippet};

/// A short, quotable proof claim with its provenance. A published snippet is offered publicly only
/// while its proof record is published too.
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
    #[graphql(flatten)]
    async fn lifecycle(&self) -> staged::Lifecycle<'_> {
        staged::StagedObject::lifecycle(self)
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
    /// The claim; a body longer than the channel's `maxChars` is refused.
    body: Option<String>,
}

impl From<ProofSnippetInput> for SnippetPatch {
    fn from(input: ProofSnippetInput) -> Self {
        SnippetPatch {
            proof_record: input.proof_record,
            article: super::maybe(input.article),
            channel: input.channel,
            body: input.body,
        }
    }
}

staged::staged_mutations! {
    SnippetMutation for ProofSnippet {
        input: ProofSnippetInput,
        check: staged::editor_input,
        create: "createSnippet",
        update: "updateSnippet",
        publish: "publishSnippet",
        delete: "deleteSnippet",
        unpublish: "unpublishSnippet",
        archive: "archiveSnippet",
        schedule: "scheduleSnippet",
        restore: "restoreSnippetRevision",
    }
}
