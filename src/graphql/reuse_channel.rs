//! Reuse channels and what each one may take: proof records, cleared assets, snippets.

use async_graphql::{Context, ID, Object, Result};
use entity::reuse_channel;

use super::connection::{Count, CountedConnection, connection, page_request};
use super::node::global_id;
use super::proof_record::{Asset, ProofRecord, ProofRecordOrder, proof_record_connection};
use super::snippet::ProofSnippet;
use crate::error::GqlResult;
use crate::service::{catalog, proof_record::ProofRecordCriteria, snippet};

pub struct ReuseChannel(pub reuse_channel::Model);

#[Object]
impl ReuseChannel {
    pub async fn id(&self) -> ID {
        global_id("ReuseChannel", &self.0.slug)
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
    /// Longest snippet the channel takes, in characters; null means no limit.
    async fn max_chars(&self) -> Option<i32> {
        self.0.max_chars
    }
    /// Whether a snippet needs a credit line to fit this channel (a snippet without one is not offered).
    async fn requires_credit(&self) -> bool {
        self.0.requires_credit
    }
    /// Proof records offered to this channel.
    #[graphql(complexity = "super::page_complexity(child_complexity, first, last)")]
    async fn proof_records(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ProofRecordOrder>,
    ) -> Result<CountedConnection<ProofRecord>> {
        // Their frames, asked for under here, are offered to this channel: its scopes apply, not the page's.
        super::release::offer_to_channel(ctx, self.0.id);
        let filter = ProofRecordCriteria { channel: Some(self.0.slug.clone()), ..Default::default() };
        proof_record_connection(ctx, filter, order_by, page_request(first, after, last, before)).await
    }
    /// Frames from this channel's proof records that are cleared for reuse: in public never PENDING, DENIED or
    /// past their `releaseExpiresAt`, and only frames whose `releaseChannels` are empty or name this channel.
    #[graphql(complexity = "super::page_complexity(child_complexity, first, last)")]
    async fn assets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<CountedConnection<Asset>> {
        let v = super::visibility(ctx);
        let page = page_request(first, after, last, before);
        let page =
            crate::service::proof_record::list_channel_assets(super::db(ctx), v, self.0.id, &page).await.gql()?;
        let rows: Vec<_> = page.items.iter().map(|(_, a)| a).collect();
        super::prefetch::assets(ctx, &super::prefetch::connection_nodes(ctx), &rows).await?;
        // The row past the page counts too: its expiry changes `hasNextPage`.
        super::release::note_frames(ctx, page.items.iter().map(|(_, m)| m).chain(page.beyond.as_ref()));
        Ok(connection(ctx, page, Count::ChannelAssets(v, self.0.id), Asset))
    }
    /// Snippets written for this channel; each fits it (`maxChars`, credit line), and none is stale.
    #[graphql(complexity = "super::page_complexity(child_complexity, first, last)")]
    async fn snippets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<CountedConnection<ProofSnippet>> {
        let v = super::visibility(ctx);
        let page = page_request(first, after, last, before);
        let page = snippet::list_for_channel(super::db(ctx), v, self.0.id, &page).await.gql()?;
        let rows: Vec<_> = page.items.iter().map(|(_, s)| s).collect();
        super::prefetch::snippets(ctx, &super::prefetch::connection_nodes(ctx), &rows).await?;
        Ok(connection(ctx, page, Count::ChannelSnippets(v, self.0.id), ProofSnippet))
    }
}

#[derive(Default)]
pub struct ReuseChannelQuery;

#[Object]
impl ReuseChannelQuery {
    async fn reuse_channel(&self, ctx: &Context<'_>, slug: String) -> Result<Option<ReuseChannel>> {
        super::tags::note(ctx, crate::service::changes::channel(&slug));
        Ok(catalog::channel_by_slug(super::db(ctx), &slug).await.gql()?.map(ReuseChannel))
    }
    async fn reuse_channels(&self, ctx: &Context<'_>) -> Result<Vec<ReuseChannel>> {
        super::tags::note(ctx, crate::service::changes::CHANNELS);
        Ok(catalog::channels(super::db(ctx)).await.gql()?.into_iter().map(ReuseChannel).collect())
    }
}
