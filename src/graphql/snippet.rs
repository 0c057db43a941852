//! Proof snippets and the marketing pull `proofSnippets(channel:)`.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use entity::proof_snippet;

use super::article::{Article, ArticleSection};
use super::connection::{Count, CountedConnection, connection, page_request};
use super::loaders::{ArticleDoc, ChannelRow, ChannelSlug, ObservationsOf, ProofRecordDoc, QuestionsOf, SectionsOf};
use super::node::global_id;
use super::proof_record::{Observation, ProofRecord};
use super::question::Question;
use super::reuse_channel::ReuseChannel;
use super::staged;
use crate::error::{GqlResult, bad_input};
use crate::service::snippet::{SnippetPatch, SnippetSource as SourcePatch};
use crate::service::token::Role;
use crate::service::{catalog, provenance, snippet};

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
    /// Length of `body` in characters as a reader counts them (extended grapheme clusters: a family emoji or a
    /// letter with a combining accent is 1), the unit of `maxChars`.
    async fn char_count(&self) -> i32 {
        self.0.char_count
    }
    /// The credit line printed with the snippet; channels with `requiresCredit` need one.
    async fn credit(&self) -> Option<&str> {
        self.0.credit.as_deref()
    }
    /// Whether it fits its channel, or the channel `channel` names (would it fit there?): within `maxChars`,
    /// with a credit line where the channel requires one.
    async fn fits(&self, ctx: &Context<'_>, channel: Option<String>) -> Result<bool> {
        let channel = self.channel_or(ctx, channel).await?;
        Ok(channel.is_some_and(|c| snippet::fits(&c, &self.0.body, self.0.credit.as_deref())))
    }
    /// Characters over the `maxChars` of its channel, or of the channel `channel` names (0 when within it).
    async fn overflow_by(&self, ctx: &Context<'_>, channel: Option<String>) -> Result<i32> {
        let channel = self.channel_or(ctx, channel).await?;
        Ok(channel.map_or(0, |c| snippet::overflow_by(&c, &self.0.body)))
    }
    /// Whether its source changed since it was approved (preview token and above). A stale snippet is not
    /// offered to the public until an editor approves it again (`approveSnippet`) or edits it.
    async fn stale(&self, ctx: &Context<'_>) -> Result<bool> {
        super::require(ctx, Role::Preview)?;
        Ok(self.0.stale_reason.is_some())
    }
    /// What changed in its source, e.g. "observation 2 of the proof record was edited" (preview token and above).
    async fn stale_reason(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        super::require(ctx, Role::Preview)?;
        Ok(self.0.stale_reason.as_deref())
    }
    /// When it went stale (preview token and above).
    async fn stale_since(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        super::require(ctx, Role::Preview)?;
        Ok(self.0.stale_since)
    }
    /// What it quotes and when that was approved (preview token and above).
    async fn source(&self, ctx: &Context<'_>) -> Result<SnippetSource<'_>> {
        super::require(ctx, Role::Preview)?;
        Ok(SnippetSource(&self.0))
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

/// Where a snippet's claim comes from: its proof record and, optionally, observations of it, and a question
/// or section of its article; with the record's version and the time it was approved against them.
pub struct SnippetSource<'a>(&'a proof_snippet::Model);

#[Object]
impl SnippetSource<'_> {
    async fn proof_record(&self, ctx: &Context<'_>) -> Result<Option<ProofRecord>> {
        let key = ProofRecordDoc(self.0.proof_record_document_id.clone());
        Ok(super::loader(ctx).load_one(key).await?.flatten().map(ProofRecord))
    }
    /// Positions of the quoted observations; empty when it quotes the record as a whole.
    async fn observation_positions(&self) -> Vec<i32> {
        provenance::positions_from_string(self.0.source_observations.as_deref())
    }
    /// The quoted observations as the record has them now (a removed one is missing).
    async fn observations(&self, ctx: &Context<'_>) -> Result<Vec<Observation>> {
        let positions = provenance::positions_from_string(self.0.source_observations.as_deref());
        let key = ProofRecordDoc(self.0.proof_record_document_id.clone());
        let Some(record) = super::loader(ctx).load_one(key).await?.flatten() else { return Ok(Vec::new()) };
        let all = super::loader(ctx).load_one(ObservationsOf(record.id)).await?.unwrap_or_default();
        Ok(positions
            .iter()
            .filter_map(|p| all.iter().find(|o| o.position == *p).cloned().map(Observation::from))
            .collect())
    }
    /// The quoted question of its article, while it exists.
    async fn question(&self, ctx: &Context<'_>) -> Result<Option<Question>> {
        let (Some(id), Some(article)) = (&self.0.source_question, self.quoted_article(ctx).await?) else {
            return Ok(None);
        };
        let questions = super::loader(ctx).load_one(QuestionsOf(article.id)).await?.unwrap_or_default();
        Ok(questions.into_iter().find(|q| &q.document_id == id).map(Question))
    }
    /// Position of the quoted section of its article.
    async fn section_position(&self) -> Option<i32> {
        self.0.source_section
    }
    /// The quoted section of its article, while it exists.
    async fn section(&self, ctx: &Context<'_>) -> Result<Option<ArticleSection>> {
        let (Some(position), Some(article)) = (self.0.source_section, self.quoted_article(ctx).await?) else {
            return Ok(None);
        };
        let sections = super::loader(ctx).load_one(SectionsOf(article.id)).await?.unwrap_or_default();
        Ok(sections.into_iter().find(|s| s.position == position).map(ArticleSection::from))
    }
    /// The proof record's version when the snippet was last approved (written, published or re-approved).
    async fn record_version(&self) -> Option<i32> {
        self.0.source_version
    }
    async fn approved_at(&self) -> Option<DateTime<Utc>> {
        self.0.approved_at
    }
}

impl SnippetSource<'_> {
    async fn quoted_article(&self, ctx: &Context<'_>) -> Result<Option<entity::article::Model>> {
        let Some(doc) = &self.0.article_document_id else { return Ok(None) };
        Ok(super::loader(ctx).load_one(ArticleDoc(doc.clone())).await?.flatten())
    }
}

impl ProofSnippet {
    /// The reuse channel `slug` names (BAD_USER_INPUT naming `channel` when none does), else its own.
    async fn channel_or(
        &self,
        ctx: &Context<'_>,
        slug: Option<String>,
    ) -> Result<Option<entity::reuse_channel::Model>> {
        match slug {
            None => Ok(super::loader(ctx).load_one(ChannelRow(self.0.channel_id)).await?.flatten()),
            Some(slug) => match super::loader(ctx).load_one(ChannelSlug(slug.clone())).await?.flatten() {
                Some(found) => Ok(Some(found)),
                None => Err(bad_input("channel", &format!("no reuse channel has the slug {slug:?}"))),
            },
        }
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
        super::tags::note(ctx, crate::service::changes::channel(&channel));
        let Some(found) = catalog::channel_by_slug(db, &channel).await.gql()? else {
            return Err(bad_input("channel", &format!("no reuse channel has the slug {channel:?}")));
        };
        let v = super::visibility(ctx);
        let page = snippet::list_for_channel(db, v, found.id, &page_request(first, after, last, before)).await.gql()?;
        Ok(connection(ctx, page, Count::ChannelSnippets(v, found.id), ProofSnippet))
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
    /// The credit line; required by channels with `requiresCredit`. `null` clears.
    credit: MaybeUndefined<String>,
    /// What it quotes, replacing the whole source; left out keeps it. Without one it quotes the whole record.
    source: Option<SnippetSourceInput>,
}

/// What a snippet quotes besides its proof record. Each must exist in that record (or the snippet's article).
#[derive(InputObject)]
pub struct SnippetSourceInput {
    /// Positions of the proof record's observations (`Observation.position`).
    #[graphql(default)]
    observations: Vec<i32>,
    /// A question of the snippet's article, by its ID.
    question: Option<ID>,
    /// Position of a section of the snippet's article (`ArticleSection.position`).
    section: Option<i32>,
}

/// A snippet input names its sources, which may be refused before anything is read.
impl TryFrom<ProofSnippetInput> for SnippetPatch {
    type Error = async_graphql::Error;
    fn try_from(input: ProofSnippetInput) -> Result<SnippetPatch> {
        input.into_patch()
    }
}

impl ProofSnippetInput {
    fn into_patch(self) -> Result<SnippetPatch> {
        let source = match self.source {
            None => None,
            Some(s) => {
                let question = match &s.question {
                    Some(id) => Some(super::node::decode("source.question", id, "Question")?),
                    None => None,
                };
                Some(SourcePatch { observations: s.observations, question, section: s.section })
            }
        };
        Ok(SnippetPatch {
            proof_record: self.proof_record,
            article: super::maybe(self.article),
            channel: self.channel,
            body: self.body,
            credit: super::maybe(self.credit),
            source,
        })
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

/// What only snippets have: approval against their source.
#[derive(Default)]
pub struct SnippetApprovalMutation;

#[Object]
impl SnippetApprovalMutation {
    /// Confirms the snippet still says what its source says now (editor): it stops being stale, and a published
    /// snippet is offered again at once. Records the source's current version.
    async fn approve_snippet(&self, ctx: &Context<'_>, id: ID, expected_version: i32) -> Result<ProofSnippet> {
        let (who, doc) = staged::target::<ProofSnippet>(ctx, Role::Editor, &id)?;
        Ok(ProofSnippet(provenance::approve(super::db(ctx), &who, &doc, expected_version).await.gql()?))
    }
}
