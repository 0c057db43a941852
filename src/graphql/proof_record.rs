//! Proof records, their observations and BTS assets, and the `proofRecord(s)` queries.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{asset, observation, proof_record};

use super::article::Article;
use super::connection::{Count, CountedConnection, connection, page_request};
use super::enums::{AssetKind, ObservationKind, ReleaseStatus};
use super::loaders::{
    ArticlesOfProofRecord, AssetsOf, ChannelRow, ChannelsOf, ObservationsOf, OfferedAssetsOf, ProofRecordRow, ScopeOf,
    SnippetsOf,
};
use super::node::global_id;
use super::reuse_channel::ReuseChannel;
use super::snippet::ProofSnippet;
use super::staged;
use crate::error::GqlResult;
use crate::service::proof_record::{self as service, ProofRecordCriteria, shows_from_string};

/// The production record paired with an article.
pub struct ProofRecord(pub proof_record::Model);

/// Operating context captured during the work.
#[derive(SimpleObject)]
pub struct Observation {
    kind: ObservationKind,
    title: String,
    detail: Option<String>,
    position: i32,
}

impl From<observation::Model> for Observation {
    fn from(m: observation::Model) -> Self {
        Observation { kind: m.kind.into(), title: m.title, detail: m.detail, position: m.position }
    }
}

/// One behind-the-scenes frame or clip.
pub struct Asset(pub asset::Model);

#[Object]
impl Asset {
    pub async fn id(&self) -> ID {
        global_id("Asset", &self.0.document_id)
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    async fn kind(&self) -> AssetKind {
        self.0.kind.into()
    }
    async fn alt(&self) -> Option<&str> {
        self.0.alt.as_deref()
    }
    async fn caption(&self) -> Option<&str> {
        self.0.caption.as_deref()
    }
    async fn credit(&self) -> Option<&str> {
        self.0.credit.as_deref()
    }
    async fn width(&self) -> Option<i32> {
        self.0.width
    }
    async fn height(&self) -> Option<i32> {
        self.0.height
    }
    /// Which kinds of operating context the frame shows.
    async fn shows(&self) -> Vec<ObservationKind> {
        shows_from_string(&self.0.shows).into_iter().map(Into::into).collect()
    }
    /// Model/location release. Public reads only ever see CLEARED and NOT_REQUIRED (and unexpired) frames.
    async fn release(&self) -> ReleaseStatus {
        self.0.release.into()
    }
    /// When the release lapses; after it the frame reads as PENDING and leaves every public path.
    async fn release_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.release_expires_at
    }
    /// The release as it holds now: PENDING once `releaseExpiresAt` has passed, else `release`.
    async fn effective_release(&self) -> ReleaseStatus {
        match self.0.release_expires_at {
            Some(t) if t <= Utc::now() => ReleaseStatus::Pending,
            _ => self.0.release.into(),
        }
    }
    /// The reuse channels the release covers; empty means every channel. The article page counts as
    /// `proof-pages`.
    #[graphql(complexity = "6 * child_complexity")]
    async fn release_channels(&self, ctx: &Context<'_>) -> Result<Vec<ReuseChannel>> {
        let rows = super::loader(ctx).load_one(ScopeOf(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(ReuseChannel).collect())
    }
    async fn captured_at(&self) -> Option<DateTime<Utc>> {
        self.0.captured_at
    }
    async fn proof_record(&self, ctx: &Context<'_>) -> Result<Option<ProofRecord>> {
        Ok(super::loader(ctx).load_one(ProofRecordRow(self.0.proof_record_id)).await?.flatten().map(ProofRecord))
    }
}

#[Object]
impl ProofRecord {
    pub async fn id(&self) -> ID {
        global_id("ProofRecord", &self.0.document_id)
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn client(&self) -> Option<&str> {
        self.0.client.as_deref()
    }
    /// What was made.
    async fn deliverable(&self) -> Option<&str> {
        self.0.deliverable.as_deref()
    }
    /// What it solved.
    async fn problem_solved(&self) -> Option<&str> {
        self.0.problem_solved.as_deref()
    }
    async fn summary(&self) -> Option<&str> {
        self.0.summary.as_deref()
    }
    async fn captured_on(&self) -> Option<NaiveDate> {
        self.0.captured_on
    }
    async fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }
    /// Observations in order, optionally of one kind.
    #[graphql(complexity = "10 * child_complexity")]
    async fn observations(&self, ctx: &Context<'_>, kind: Option<ObservationKind>) -> Result<Vec<Observation>> {
        let rows = super::loader(ctx).load_one(ObservationsOf(self.0.id)).await?.unwrap_or_default();
        let kind: Option<entity::ObservationKind> = kind.map(Into::into);
        Ok(rows.into_iter().filter(|o| kind.is_none_or(|k| o.kind == k)).map(Observation::from).collect())
    }
    /// BTS frames in order. Public reads see only CLEARED and NOT_REQUIRED frames whose release has not
    /// expired and whose channel scope covers the page (`proof-pages`), or under `reuseChannel { proofRecords }`
    /// that channel.
    #[graphql(complexity = "10 * child_complexity")]
    async fn assets(&self, ctx: &Context<'_>) -> Result<Vec<Asset>> {
        let loader = super::loader(ctx);
        let rows = match super::release::offer_here(ctx) {
            crate::service::release::Offer::Channel(channel) => {
                loader.load_one(OfferedAssetsOf(self.0.id, channel)).await?
            }
            _ => loader.load_one(AssetsOf(self.0.id)).await?,
        };
        let rows = rows.unwrap_or_default();
        super::release::note_frames(ctx, &rows);
        Ok(rows.into_iter().map(Asset).collect())
    }
    /// Reuse channels this record is offered to.
    #[graphql(complexity = "6 * child_complexity")]
    async fn channels(&self, ctx: &Context<'_>) -> Result<Vec<ReuseChannel>> {
        let rows = super::loader(ctx).load_one(ChannelsOf(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(ReuseChannel).collect())
    }
    /// Quotable snippets drawn from this record, optionally for one channel (by slug).
    #[graphql(complexity = "10 * child_complexity")]
    async fn snippets(&self, ctx: &Context<'_>, channel: Option<String>) -> Result<Vec<ProofSnippet>> {
        let loader = super::loader(ctx);
        let rows = loader.load_one(SnippetsOf(self.0.document_id.clone())).await?.unwrap_or_default();
        let rows = match channel {
            None => rows,
            Some(slug) => {
                let channels = loader.load_many(rows.iter().map(|s| ChannelRow(s.channel_id))).await?;
                rows.into_iter()
                    .filter(|s| {
                        channels
                            .get(&ChannelRow(s.channel_id))
                            .is_some_and(|c| c.as_ref().is_some_and(|c| c.slug == slug))
                    })
                    .collect()
            }
        };
        Ok(rows.into_iter().map(ProofSnippet).collect())
    }
    /// Articles this record is paired with.
    #[graphql(complexity = "5 * child_complexity")]
    async fn articles(&self, ctx: &Context<'_>) -> Result<Vec<Article>> {
        let rows = super::loader(ctx).load_one(ArticlesOfProofRecord(self.0.document_id.clone())).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Article).collect())
    }
    #[graphql(flatten)]
    async fn lifecycle(&self) -> staged::Lifecycle<'_> {
        staged::StagedObject::lifecycle(self)
    }
}

#[derive(InputObject, Default)]
pub struct ProofRecordFilter {
    client: Option<String>,
    /// Reuse channel slug, e.g. "social-posts".
    channel: Option<String>,
    /// Full-text match on the record's text.
    text: Option<String>,
}

staged::order_input!(ProofRecordOrder, ProofRecordOrderField);

#[derive(Default)]
pub struct ProofRecordQuery;

#[Object]
impl ProofRecordQuery {
    async fn proof_record(&self, ctx: &Context<'_>, slug: String) -> Result<Option<ProofRecord>> {
        super::tags::note(ctx, crate::service::changes::proof_record(&slug));
        Ok(crate::service::staged::by_slug::<crate::service::staged::ProofRecords>(
            super::db(ctx),
            super::visibility(ctx),
            &slug,
        )
        .await
        .gql()?
        .map(ProofRecord))
    }

    #[graphql(complexity = "super::page_complexity(child_complexity, first, last)")]
    #[allow(clippy::too_many_arguments)]
    async fn proof_records(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ProofRecordFilter>,
        order_by: Option<ProofRecordOrder>,
    ) -> Result<CountedConnection<ProofRecord>> {
        let f = filter.unwrap_or_default();
        let filter = ProofRecordCriteria { client: f.client, channel: f.channel, text: f.text };
        proof_record_connection(ctx, filter, order_by, page_request(first, after, last, before)).await
    }
}

pub(crate) async fn proof_record_connection(
    ctx: &Context<'_>,
    filter: ProofRecordCriteria,
    order_by: Option<ProofRecordOrder>,
    page: crate::service::PageRequest,
) -> Result<CountedConnection<ProofRecord>> {
    let (order_by, direction) = ProofRecordOrder::resolve(order_by);
    let query = service::ProofRecordListing { visibility: super::visibility(ctx), filter, order_by, direction };
    let page = service::list(super::db(ctx), &query, &page).await.gql()?;
    super::prefetch::proof_record_page(ctx, &page).await?;
    Ok(connection(ctx, page, Count::ProofRecords(query), ProofRecord))
}

#[derive(InputObject)]
pub struct ObservationInput {
    kind: ObservationKind,
    title: String,
    detail: Option<String>,
}

#[derive(InputObject)]
pub struct AssetInput {
    url: String,
    #[graphql(default_with = "AssetKind::Image")]
    kind: AssetKind,
    alt: Option<String>,
    caption: Option<String>,
    credit: Option<String>,
    width: Option<i32>,
    height: Option<i32>,
    #[graphql(default)]
    shows: Vec<ObservationKind>,
    /// Model/location release; frames that are PENDING or DENIED are never public.
    release: ReleaseStatus,
    captured_at: Option<DateTime<Utc>>,
    /// When the release lapses (optional); after it the frame is treated as PENDING, with no write.
    release_expires_at: Option<DateTime<Utc>>,
    /// Reuse channel slugs the release covers; empty or left out: every channel.
    #[graphql(default)]
    release_channels: Vec<String>,
    /// Why the release, its expiry or its channels changed: recorded in the `releaseChanged` audit entry.
    release_reason: Option<String>,
}

/// Proof record content. On update, a field left out keeps its value and `null` clears it; lists
/// (observations, assets, channels) replace the whole list.
#[derive(InputObject, Default)]
pub struct ProofRecordInput {
    slug: Option<String>,
    title: Option<String>,
    client: MaybeUndefined<String>,
    deliverable: MaybeUndefined<String>,
    problem_solved: MaybeUndefined<String>,
    summary: MaybeUndefined<String>,
    captured_on: MaybeUndefined<NaiveDate>,
    location: MaybeUndefined<String>,
    observations: Option<Vec<ObservationInput>>,
    assets: Option<Vec<AssetInput>>,
    /// Reuse channel slugs.
    channels: Option<Vec<String>>,
}

impl From<ProofRecordInput> for service::ProofRecordPatch {
    fn from(input: ProofRecordInput) -> Self {
        use super::maybe;
        service::ProofRecordPatch {
            slug: input.slug,
            title: input.title,
            client: maybe(input.client),
            deliverable: maybe(input.deliverable),
            problem_solved: maybe(input.problem_solved),
            summary: maybe(input.summary),
            captured_on: maybe(input.captured_on),
            location: maybe(input.location),
            observations: input.observations.map(|list| {
                list.into_iter()
                    .map(|o| service::ObservationInput { kind: o.kind.into(), title: o.title, detail: o.detail })
                    .collect()
            }),
            assets: input.assets.map(|list| {
                list.into_iter()
                    .map(|a| service::AssetInput {
                        url: a.url,
                        kind: a.kind.into(),
                        alt: a.alt,
                        caption: a.caption,
                        credit: a.credit,
                        width: a.width,
                        height: a.height,
                        shows: a.shows.into_iter().map(Into::into).collect(),
                        release: a.release.into(),
                        captured_at: a.captured_at,
                        release_expires_at: a.release_expires_at,
                        release_channels: a.release_channels,
                        release_reason: a.release_reason,
                    })
                    .collect()
            }),
            channels: input.channels,
        }
    }
}

staged::staged_mutations! {
    ProofRecordMutation for ProofRecord {
        input: ProofRecordInput,
        check: staged::editor_input,
        create: "createProofRecord",
        update: "updateProofRecord",
        publish: "publishProofRecord",
        delete: "deleteProofRecord",
        unpublish: "unpublishProofRecord",
        archive: "archiveProofRecord",
        schedule: "scheduleProofRecord",
        restore: "restoreProofRecordRevision",
    }
}
