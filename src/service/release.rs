//! Frame releases as rights data: which frames a public read may offer where (release, expiry, channel
//! scope, all checked in [`visible_frames`] against the current time), tightening applied to the published
//! copy in the same write, `releaseChanged` audit entries, and the editors' chase list.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entity::{ReleaseStatus, asset, asset_channel, reuse_channel};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    Select, Set,
};

use super::staged::{self, ProofRecords};
use super::{Result, ServiceError, Visibility, audit, now};

/// The channel an article page (a proof record's public frames) counts as, for channel scopes.
pub const PROOF_PAGES: &str = "proof-pages";

/// Where a frame is being offered, for its channel scope (a frame with no scope is offered everywhere).
#[derive(Debug, Clone, Copy)]
pub enum Offer {
    /// The article page and `proofRecord { assets }`: the `proof-pages` channel.
    ProofPages,
    /// `reuseChannel { assets }` of this channel id.
    Channel(i32),
    /// A frame asked for by its id: offered if any channel may have it.
    Anywhere,
}

/// Frames `visibility` may see where `offer` says. The one place public frame rules live: the public sees
/// a frame only while its release is CLEARED or NOT_REQUIRED, its `release_expires_at` (if any) is still
/// ahead (compared with the current time on every read, so an expiry needs no write), and its scope is
/// empty or names the channel. Preview sees every frame, with its release, to chase it.
pub(crate) fn visible_frames(visibility: Visibility, offer: Offer) -> Select<asset::Entity> {
    let select = asset::Entity::find();
    if !visibility.is_public() {
        return select;
    }
    select
        .filter(asset::Column::Release.is_in(ReleaseStatus::PUBLIC.iter().map(|r| r.to_value())))
        .filter(unexpired(now()))
        .filter(in_scope(offer))
}

fn unexpired(at: DateTime<Utc>) -> Condition {
    Condition::any().add(asset::Column::ReleaseExpiresAt.is_null()).add(asset::Column::ReleaseExpiresAt.gt(at))
}

/// The scope rows of the outer query's frame, correlated so each candidate frame is one index lookup (an
/// `IN (subquery)` makes SQLite collect every scope row of every frame on each read).
fn scoped_frames() -> SelectStatement {
    Query::select()
        .expr(Expr::cust("1"))
        .from(asset_channel::Entity)
        .and_where(
            Expr::col((asset_channel::Entity, asset_channel::Column::AssetId))
                .equals((asset::Entity, asset::Column::Id)),
        )
        .to_owned()
}

fn in_scope(offer: Offer) -> Condition {
    let unscoped = Expr::not_exists(scoped_frames());
    let covering = match offer {
        Offer::Anywhere => return Condition::all(),
        Offer::Channel(channel_id) => scoped_frames()
            .and_where(Expr::col((asset_channel::Entity, asset_channel::Column::ChannelId)).eq(channel_id))
            .to_owned(),
        Offer::ProofPages => scoped_frames()
            .inner_join(
                reuse_channel::Entity,
                Expr::col((reuse_channel::Entity, reuse_channel::Column::Id))
                    .equals((asset_channel::Entity, asset_channel::Column::ChannelId)),
            )
            .and_where(Expr::col((reuse_channel::Entity, reuse_channel::Column::Slug)).eq(PROOF_PAGES))
            .to_owned(),
    };
    Condition::any().add(unscoped).add(Expr::exists(covering))
}

/// The earliest expiry still ahead among `frames`: when an answer showing them stops being true.
pub fn next_expiry<'a>(frames: impl IntoIterator<Item = &'a asset::Model>) -> Option<DateTime<Utc>> {
    let at = Utc::now();
    frames.into_iter().filter_map(|f| f.release_expires_at).filter(|t| *t > at).min()
}

/// The channel scope of each frame row (in channel order; a frame with no scope has no entry).
pub async fn scopes_of(
    db: &impl ConnectionTrait,
    asset_ids: &[i32],
) -> Result<HashMap<i32, Vec<reuse_channel::Model>>> {
    if asset_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = reuse_channel::Entity::find()
        .column_as(Expr::col((asset_channel::Entity, asset_channel::Column::AssetId)), "owner")
        .join(JoinType::InnerJoin, scope_relation().rev())
        .filter(asset_channel::Column::AssetId.is_in(asset_ids.iter().copied()))
        .order_by_asc(reuse_channel::Column::Position)
        .into_model::<super::catalog::OwnedChannel>()
        .all(db)
        .await?;
    Ok(super::catalog::group_by_owner(rows))
}

fn scope_relation() -> sea_orm::RelationDef {
    asset_channel::Entity::belongs_to(reuse_channel::Entity)
        .from(asset_channel::Column::ChannelId)
        .to(reuse_channel::Column::Id)
        .into()
}

/// Channel ids of frame `i`'s scope slugs among the `known` channels, without repeats; an unknown slug is bad
/// input naming the frame's field.
pub(crate) fn resolve_scope(known: &[reuse_channel::Model], i: usize, slugs: &[String]) -> Result<Vec<i32>> {
    let mut ids = Vec::new();
    for slug in slugs {
        let id = known.iter().find(|c| &c.slug == slug).map(|c| c.id).ok_or_else(|| {
            ServiceError::bad_input(format!("assets[{i}].releaseChannels"), format!("unknown reuse channel {slug:?}"))
        })?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Writes the scope rows of stored frames: `(asset row id, channel ids)`.
pub(crate) async fn insert_scopes(db: &impl ConnectionTrait, scopes: Vec<(i32, Vec<i32>)>) -> Result<()> {
    let rows = scopes
        .into_iter()
        .flat_map(|(asset_id, channels)| {
            channels.into_iter().map(move |channel_id| asset_channel::ActiveModel {
                asset_id: Set(asset_id),
                channel_id: Set(channel_id),
                ..Default::default()
            })
        })
        .collect();
    super::bulk::insert(db, rows).await
}

/// A release is rights data: what the draft tightens applies to the published copy in the same
/// transaction, without waiting for a publish, and the write's generation bump empties every process's
/// response cache within its poll interval. Tightening is a release withdrawn (PENDING or DENIED), an
/// expiry set or moved earlier, or a channel scope narrowed. Loosening (PENDING to CLEARED, an expiry moved
/// later or removed, a scope widened) waits for the next publish, like any other edit. Frames match by id.
pub(crate) async fn apply_tightened(db: &impl ConnectionTrait, draft: &entity::proof_record::Model) -> Result<()> {
    let Some(published) = staged::by_document_id::<ProofRecords>(db, Visibility::Public, &draft.document_id).await?
    else {
        return Ok(());
    };
    let frames =
        asset::Entity::find().filter(asset::Column::ProofRecordId.is_in([draft.id, published.id])).all(db).await?;
    let scopes = scopes_of(db, &frames.iter().map(|f| f.id).collect::<Vec<_>>()).await?;
    let scope = |id: i32| -> BTreeSet<i32> { scopes.get(&id).into_iter().flatten().map(|c| c.id).collect() };
    let drafts: HashMap<&str, &asset::Model> =
        frames.iter().filter(|f| f.proof_record_id == draft.id).map(|f| (f.document_id.as_str(), f)).collect();
    let mut noted = false;
    for public in frames.iter().filter(|f| f.proof_record_id == published.id) {
        let Some(edited) = drafts.get(public.document_id.as_str()) else { continue };
        let mut release = (!ReleaseStatus::PUBLIC.contains(&edited.release)
            && ReleaseStatus::PUBLIC.contains(&public.release))
        .then_some(edited.release);
        let expiry = edited.release_expires_at.filter(|e| public.release_expires_at.is_none_or(|p| e < &p));
        let (was, now_scope) = (scope(public.id), scope(edited.id));
        let narrowed = !now_scope.is_empty() && (was.is_empty() || !was.is_subset(&now_scope));
        if narrowed {
            let kept: BTreeSet<i32> =
                if was.is_empty() { now_scope.clone() } else { was.intersection(&now_scope).copied().collect() };
            asset_channel::Entity::delete_many().filter(asset_channel::Column::AssetId.eq(public.id)).exec(db).await?;
            if kept.is_empty() {
                // No channel both scopes allow: offered nowhere until the next publish.
                if release.is_none() && ReleaseStatus::PUBLIC.contains(&public.release) {
                    release = Some(ReleaseStatus::Pending);
                }
            } else {
                insert_scopes(db, vec![(public.id, kept.into_iter().collect())]).await?;
            }
        }
        if release.is_some() || expiry.is_some() || narrowed {
            // The published copy changes in this (draft) write: its answers go stale now (noted once).
            if !std::mem::replace(&mut noted, true) {
                super::changes::note_document::<ProofRecords>(db, &published.document_id).await?;
            }
            // Before the update: the event names frames the public copy still offers.
            let (frame, now_release) = (std::slice::from_ref(&public.document_id), release.unwrap_or(public.release));
            let expires_at = expiry.or(public.release_expires_at);
            super::events::asset_release_changed(db, &published, frame, now_release, expires_at).await?;
        }
        if release.is_some() || expiry.is_some() {
            let mut update = asset::Entity::update_many().filter(asset::Column::Id.eq(public.id));
            if let Some(release) = release {
                update = update.col_expr(asset::Column::Release, Expr::value(release));
            }
            if let Some(expiry) = expiry {
                update = update.col_expr(asset::Column::ReleaseExpiresAt, Expr::value(expiry));
            }
            update.exec(db).await?;
        }
    }
    Ok(())
}

/// What a frame's release was or became, as a `releaseChanged` audit entry records it.
#[derive(serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct ReleaseState<'a> {
    /// As the API spells it: "CLEARED".
    release: String,
    expires_at: Option<String>,
    channels: &'a [String],
}

fn state(frame: &super::proof_record::AssetInput) -> ReleaseState<'_> {
    ReleaseState {
        release: frame.release.to_value(),
        expires_at: frame.release_expires_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        channels: &frame.release_channels,
    }
}

/// One `releaseChanged` audit entry (entity: the frame) for each frame, matched by position, whose release,
/// expiry or channel scope the change from `before` to `after` altered: from, to and the editor's reason.
pub(crate) async fn audit_changes(
    db: &impl ConnectionTrait,
    actor: &str,
    document_id: &str,
    before: &super::proof_record::ProofRecordDraft,
    after: &super::proof_record::ProofRecordDraft,
) -> Result<()> {
    let changed: Vec<(usize, serde_json::Value)> = after
        .assets
        .iter()
        .enumerate()
        .filter_map(|(i, now)| {
            let was = before.assets.get(i)?;
            let (from, to) = (state(was), state(now));
            (from != to).then(|| {
                let detail = serde_json::json!({
                    "proofRecord": document_id,
                    "position": i,
                    "from": from,
                    "to": to,
                    "reason": now.release_reason,
                });
                (i, detail)
            })
        })
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let Some(row) = staged::draft_row::<ProofRecords>(db, document_id).await? else {
        return Ok(());
    };
    let ids: HashMap<i32, String> = asset::Entity::find()
        .filter(asset::Column::ProofRecordId.eq(row.id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.position, a.document_id))
        .collect();
    let entries: Vec<(String, String)> = changed
        .into_iter()
        .filter_map(|(i, detail)| ids.get(&(i as i32)).map(|id| (id.clone(), detail.to_string())))
        .collect();
    audit::record_many(
        db,
        actor,
        entries.iter().map(|(id, detail)| audit::Entry {
            action: "releaseChanged",
            entity_type: "Asset",
            entity_id: id,
            detail: Some(detail.clone()),
        }),
    )
    .await
}

/// Longest look-ahead the chase list takes, in days.
pub const MAX_CHASE_DAYS: i32 = 3650;
/// At most this many frames come back from one chase query (the most urgent first).
pub const MAX_CHASE_FRAMES: u64 = 500;

/// The frames of every proof record's draft whose release needs chasing: PENDING, DENIED, or expiring within
/// `within_days` (or already expired); soonest expiry first, then by record and position.
pub async fn chase(db: &impl ConnectionTrait, within_days: i32) -> Result<Vec<asset::Model>> {
    if !(0..=MAX_CHASE_DAYS).contains(&within_days) {
        return Err(ServiceError::bad_input("withinDays", format!("must be between 0 and {MAX_CHASE_DAYS}")));
    }
    let horizon = now() + chrono::Duration::days(i64::from(within_days));
    let drafts = staged::visible_keys::<ProofRecords>(Visibility::Preview, entity::proof_record::Column::Id);
    let pending = [ReleaseStatus::Pending, ReleaseStatus::Denied].map(|r| r.to_value());
    Ok(asset::Entity::find()
        .filter(asset::Column::ProofRecordId.in_subquery(drafts))
        .filter(
            Condition::any()
                .add(asset::Column::Release.is_in(pending))
                .add(asset::Column::ReleaseExpiresAt.lte(horizon)),
        )
        .order_by_asc(Expr::col(asset::Column::ReleaseExpiresAt).is_null())
        .order_by_asc(asset::Column::ReleaseExpiresAt)
        .order_by_asc(asset::Column::ProofRecordId)
        .order_by_asc(asset::Column::Position)
        .limit(MAX_CHASE_FRAMES)
        .all(db)
        .await?)
}

/// Whether a frame's scope names `channel_id` (for refusing to delete a channel: that would widen the scope).
pub async fn channel_in_a_scope(db: &impl ConnectionTrait, channel_id: i32) -> Result<bool> {
    Ok(asset_channel::Entity::find().filter(asset_channel::Column::ChannelId.eq(channel_id)).one(db).await?.is_some())
}
