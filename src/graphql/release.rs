//! Frame releases in the API: the request's earliest frame expiry (so a cached answer stops at it) and the
//! editors' chase list.

use std::sync::atomic::{AtomicI64, Ordering};

use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};
use entity::asset;

use super::enums::ReleaseStatus;
use super::proof_record::{Asset, ProofRecord};
use crate::error::GqlResult;
use crate::service::release;
use crate::service::token::Role;

/// The earliest frame expiry an answer depends on, gathered while it resolves: a cached copy of the answer
/// must not be served past it (the frame then reads as PENDING). One per request.
#[derive(Debug)]
pub struct ReleaseDeadline(AtomicI64);

impl Default for ReleaseDeadline {
    fn default() -> Self {
        ReleaseDeadline(AtomicI64::new(i64::MAX))
    }
}

impl ReleaseDeadline {
    pub fn note(&self, at: Option<DateTime<Utc>>) {
        if let Some(at) = at {
            self.0.fetch_min(at.timestamp_micros(), Ordering::Relaxed);
        }
    }

    /// The instant an answer stops being true, if any frame in it expires.
    pub fn at(&self) -> Option<DateTime<Utc>> {
        match self.0.load(Ordering::Relaxed) {
            i64::MAX => None,
            micros => DateTime::from_timestamp_micros(micros),
        }
    }
}

/// The reuse channel each `reuseChannel { proofRecords }` field of a request offers its records' frames to,
/// by the field's response path, so `proofRecords { assets }` under it follows that channel's scopes.
#[derive(Debug, Default)]
pub struct OfferedChannels(std::sync::Mutex<std::collections::HashMap<String, i32>>);

/// Marks the field being resolved (a channel's `proofRecords`) as offering frames to `channel_id`.
pub(crate) fn offer_to_channel(ctx: &Context<'_>, channel_id: i32) {
    if let (Some(offered), Some(path)) = (ctx.data_opt::<std::sync::Arc<OfferedChannels>>(), ctx.path_node.as_ref()) {
        offered.0.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_string(), channel_id);
    }
}

/// Where the frames resolved here are offered: the channel of the nearest enclosing `reuseChannel {
/// proofRecords }`, else the article page (`proof-pages`).
pub(crate) fn offer_here(ctx: &Context<'_>) -> release::Offer {
    let Some(offered) = ctx.data_opt::<std::sync::Arc<OfferedChannels>>() else {
        return release::Offer::ProofPages;
    };
    let offered = offered.0.lock().unwrap_or_else(|e| e.into_inner());
    if offered.is_empty() {
        return release::Offer::ProofPages;
    }
    let mut node = ctx.path_node.as_ref();
    while let Some(here) = node {
        if let Some(&channel_id) = offered.get(&here.to_string()) {
            return release::Offer::Channel(channel_id);
        }
        node = here.parent;
    }
    release::Offer::ProofPages
}

/// Notes the frames an answer shows (or counts) for the request's [`ReleaseDeadline`].
pub(crate) fn note_frames<'a>(ctx: &Context<'_>, frames: impl IntoIterator<Item = &'a asset::Model>) {
    note_expiry(ctx, release::next_expiry(frames));
}

pub(crate) fn note_expiry(ctx: &Context<'_>, at: Option<DateTime<Utc>>) {
    if let Some(deadline) = ctx.data_opt::<std::sync::Arc<ReleaseDeadline>>() {
        deadline.note(at);
    }
}

/// A frame whose release someone should chase: PENDING, DENIED, or expiring soon (or already expired).
pub struct FrameToChase(asset::Model);

#[Object]
impl FrameToChase {
    /// The frame (draft stage), with its caption, credit, release and scope.
    async fn asset(&self) -> Asset {
        Asset(self.0.clone())
    }
    /// The proof record (draft) the frame belongs to.
    async fn proof_record(&self, ctx: &Context<'_>) -> Result<Option<ProofRecord>> {
        let row = super::loader(ctx).load_one(super::loaders::ProofRecordRow(self.0.proof_record_id)).await?;
        Ok(row.flatten().map(ProofRecord))
    }
    async fn credit(&self) -> Option<&str> {
        self.0.credit.as_deref()
    }
    async fn release(&self) -> ReleaseStatus {
        self.0.release.into()
    }
    async fn release_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.release_expires_at
    }
    /// Whether the expiry has passed (the frame already reads as PENDING in public).
    async fn expired(&self) -> bool {
        self.0.release_expires_at.is_some_and(|t| t <= Utc::now())
    }
}

#[derive(Default)]
pub struct ReleaseQuery;

#[Object]
impl ReleaseQuery {
    /// Frames whose release needs chasing (editor): PENDING or DENIED, or expiring within `withinDays`
    /// (0 to 3650; already expired included). Soonest expiry first, then by proof record; at most 500.
    #[graphql(complexity = "10 * child_complexity")]
    async fn release_chase(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 14)] within_days: i32,
    ) -> Result<Vec<FrameToChase>> {
        super::require(ctx, Role::Editor)?;
        let frames = release::chase(super::db(ctx), within_days).await.gql()?;
        Ok(frames.into_iter().map(FrameToChase).collect())
    }
}
