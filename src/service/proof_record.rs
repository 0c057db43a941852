//! Proof records and their owned rows (observations, BTS assets, reuse channels).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    AssetKind, ContentStatus, ObservationKind, ReleaseStatus, Stage, asset, observation, proof_record,
    proof_record_channel, reuse_channel,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, JoinType, QueryFilter,
    QueryOrder, QuerySelect, Select, Set,
};

use super::article::{group, validate_slug};
use super::pagination::{self, Ordering, SortKey, SortValue};
use super::release::{self, Offer};
use super::staged::{self, ProofRecords};
use super::{
    Page, PageRequest, Result, ServiceError, SortDirection, Visibility, catalog, new_document_id, now, search,
};

#[derive(Debug, Clone, Default)]
pub struct ProofRecordCriteria {
    pub client: Option<String>,
    pub channel: Option<String>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ProofRecordListing {
    pub visibility: Visibility,
    pub filter: ProofRecordCriteria,
    pub order_by: SortKey,
    pub direction: SortDirection,
}

fn select_visible(visibility: Visibility) -> Select<proof_record::Entity> {
    staged::visible::<ProofRecords>(visibility)
}

/// The frame's proof record row is visible (a correlated lookup, see [`staged::visible_exists`]).
fn record_visible(visibility: Visibility) -> sea_orm::sea_query::SimpleExpr {
    staged::visible_exists::<ProofRecords>(
        visibility,
        proof_record::Column::Id,
        (asset::Entity, asset::Column::ProofRecordId),
    )
}

/// Proof record rows linked to the reuse channel `slug`.
fn in_channel(slug: &str) -> sea_orm::sea_query::SimpleExpr {
    Expr::col((proof_record::Entity, proof_record::Column::Id)).in_subquery(
        Query::select()
            .column((proof_record_channel::Entity, proof_record_channel::Column::ProofRecordId))
            .from(proof_record_channel::Entity)
            .inner_join(
                reuse_channel::Entity,
                Expr::col((reuse_channel::Entity, reuse_channel::Column::Id))
                    .equals((proof_record_channel::Entity, proof_record_channel::Column::ChannelId)),
            )
            .and_where(Expr::col((reuse_channel::Entity, reuse_channel::Column::Slug)).eq(slug))
            .to_owned(),
    )
}

fn filtered(db: &impl ConnectionTrait, query: &ProofRecordListing) -> Select<proof_record::Entity> {
    let mut select = select_visible(query.visibility);
    let f = &query.filter;
    if let Some(client) = &f.client {
        select = select.filter(proof_record::Column::Client.eq(client.as_str()));
    }
    if let Some(channel) = &f.channel {
        select = select.filter(in_channel(channel));
    }
    if let Some(text) = f.text.as_deref().filter(|t| !t.trim().is_empty()) {
        select = select.filter(search::row_matches(db.get_database_backend(), search::Kind::ProofRecord, text));
    }
    select
}

pub async fn list(
    db: &impl ConnectionTrait,
    query: &ProofRecordListing,
    page: &PageRequest,
) -> Result<Page<proof_record::Model>> {
    let _full_text = search::text_filter_turn("filter.text", query.filter.text.as_deref()).await?;
    pagination::paginate(
        db,
        filtered(db, query),
        &staged::ordering::<ProofRecords>(query.order_by, query.direction),
        page,
    )
    .await
}

pub async fn count(db: &impl ConnectionTrait, query: &ProofRecordListing) -> Result<i64> {
    let _full_text = search::text_filter_turn("filter.text", query.filter.text.as_deref()).await?;
    pagination::count(db, filtered(db, query)).await
}

pub async fn observations_of(
    db: &impl ConnectionTrait,
    proof_record_ids: &[i32],
) -> Result<HashMap<i32, Vec<observation::Model>>> {
    let rows = observation::Entity::find()
        .filter(observation::Column::ProofRecordId.is_in(proof_record_ids.iter().copied()))
        .order_by_asc(observation::Column::ProofRecordId)
        .order_by_asc(observation::Column::Position)
        .all(db)
        .await?;
    Ok(group(rows, |r| r.proof_record_id))
}

/// Frames of the given proof record rows as their article page offers them (the `proof-pages` channel).
pub async fn assets_of(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    proof_record_ids: &[i32],
) -> Result<HashMap<i32, Vec<asset::Model>>> {
    offered_assets_of(db, visibility, Offer::ProofPages, proof_record_ids).await
}

/// Frames of the given proof record rows as `offer` may show them, in position order.
pub async fn offered_assets_of(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    offer: Offer,
    proof_record_ids: &[i32],
) -> Result<HashMap<i32, Vec<asset::Model>>> {
    let rows = release::visible_frames(visibility, offer)
        .filter(asset::Column::ProofRecordId.is_in(proof_record_ids.iter().copied()))
        .order_by_asc(asset::Column::ProofRecordId)
        .order_by_asc(asset::Column::Position)
        .all(db)
        .await?;
    Ok(group(rows, |r| r.proof_record_id))
}

pub async fn assets_by_document_ids(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    ids: &[String],
) -> Result<Vec<asset::Model>> {
    Ok(release::visible_frames(visibility, Offer::Anywhere)
        .filter(asset::Column::DocumentId.is_in(ids.iter().cloned()))
        .filter(record_visible(visibility))
        .all(db)
        .await?)
}

fn channel_link_relation() -> sea_orm::RelationDef {
    proof_record_channel::Entity::belongs_to(reuse_channel::Entity)
        .from(proof_record_channel::Column::ChannelId)
        .to(reuse_channel::Column::Id)
        .into()
}

/// Reuse channels of the given proof record rows, in channel order (one joined query).
pub async fn channels_of(
    db: &impl ConnectionTrait,
    proof_record_ids: &[i32],
) -> Result<HashMap<i32, Vec<reuse_channel::Model>>> {
    let rows = reuse_channel::Entity::find()
        .column_as(Expr::col((proof_record_channel::Entity, proof_record_channel::Column::ProofRecordId)), "owner")
        .join(JoinType::InnerJoin, channel_link_relation().rev())
        .filter(proof_record_channel::Column::ProofRecordId.is_in(proof_record_ids.iter().copied()))
        .order_by_asc(reuse_channel::Column::Position)
        .into_model::<super::catalog::OwnedChannel>()
        .all(db)
        .await?;
    Ok(super::catalog::group_by_owner(rows))
}

/// Cleared (or release-free) assets of visible proof records offered to a channel, for `reuseChannel { assets }`.
fn channel_assets(visibility: Visibility, channel_id: i32) -> Select<asset::Entity> {
    release::visible_frames(visibility, Offer::Channel(channel_id)).filter(record_visible(visibility)).filter(
        Expr::exists(
            Query::select()
                .expr(Expr::cust("1"))
                .from(proof_record_channel::Entity)
                .and_where(
                    Expr::col((proof_record_channel::Entity, proof_record_channel::Column::ProofRecordId))
                        .equals((asset::Entity, asset::Column::ProofRecordId)),
                )
                .and_where(
                    Expr::col((proof_record_channel::Entity, proof_record_channel::Column::ChannelId)).eq(channel_id),
                )
                .to_owned(),
        ),
    )
}

fn asset_ordering() -> Ordering<asset::Model> {
    Ordering {
        key: None,
        id: Expr::col((asset::Entity, asset::Column::Id)),
        direction: SortDirection::Asc,
        cursor: pagination::CursorKind::Id("channelAssets"),
        key_of: |_| SortValue::None,
        id_of: |m| m.id,
    }
}

pub async fn list_channel_assets(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    channel_id: i32,
    page: &PageRequest,
) -> Result<Page<asset::Model>> {
    pagination::paginate(db, channel_assets(visibility, channel_id), &asset_ordering(), page).await
}

/// How many frames the channel offers, and the earliest expiry still ahead among them (when the count changes).
pub async fn count_channel_assets(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    channel_id: i32,
) -> Result<(i64, Option<DateTime<Utc>>)> {
    let counted: Option<(i64, Option<DateTime<Utc>>)> = channel_assets(visibility, channel_id)
        .select_only()
        .column_as(Expr::col((asset::Entity, asset::Column::Id)).count(), "n")
        .column_as(
            Expr::from(sea_orm::sea_query::Func::min(Expr::col((asset::Entity, asset::Column::ReleaseExpiresAt)))),
            "next_expiry",
        )
        .into_tuple()
        .one(db)
        .await?;
    Ok(counted.unwrap_or((0, None)))
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ObservationInput {
    pub kind: ObservationKind,
    pub title: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AssetInput {
    pub url: String,
    pub kind: AssetKind,
    pub alt: Option<String>,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub shows: Vec<ObservationKind>,
    pub release: ReleaseStatus,
    pub captured_at: Option<DateTime<Utc>>,
    /// After this instant the frame reads as PENDING on every public path.
    #[serde(default)]
    pub release_expires_at: Option<DateTime<Utc>>,
    /// Reuse channel slugs the release covers; empty: every channel.
    #[serde(default)]
    pub release_channels: Vec<String>,
    /// Why the release changed, for the `releaseChanged` audit entry; not stored with the frame.
    #[serde(skip)]
    pub release_reason: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProofRecordDraft {
    pub slug: String,
    pub title: String,
    pub client: Option<String>,
    pub deliverable: Option<String>,
    pub problem_solved: Option<String>,
    pub summary: Option<String>,
    pub captured_on: Option<NaiveDate>,
    pub location: Option<String>,
    pub observations: Vec<ObservationInput>,
    pub assets: Vec<AssetInput>,
    /// Reuse channel slugs.
    pub channels: Vec<String>,
}

/// A change to a proof record: `None` keeps a field, `Some(None)` clears it; lists replace the whole list.
#[derive(Debug, Clone, Default)]
pub struct ProofRecordPatch {
    /// Defaults to the title's slug on create.
    pub slug: Option<String>,
    pub title: Option<String>,
    pub client: Option<Option<String>>,
    pub deliverable: Option<Option<String>>,
    pub problem_solved: Option<Option<String>>,
    pub summary: Option<Option<String>>,
    pub captured_on: Option<Option<NaiveDate>>,
    pub location: Option<Option<String>>,
    pub observations: Option<Vec<ObservationInput>>,
    pub assets: Option<Vec<AssetInput>>,
    /// Reuse channel slugs.
    pub channels: Option<Vec<String>>,
}

impl ProofRecordPatch {
    pub(crate) fn apply_to(self, draft: &mut ProofRecordDraft) {
        super::set(&mut draft.title, self.title);
        if let Some(v) = self.slug {
            draft.slug = v;
        } else if draft.slug.is_empty() {
            draft.slug = crate::domain::slugify(&draft.title);
        }
        super::set(&mut draft.client, self.client);
        super::set(&mut draft.deliverable, self.deliverable);
        super::set(&mut draft.problem_solved, self.problem_solved);
        super::set(&mut draft.summary, self.summary);
        super::set(&mut draft.captured_on, self.captured_on);
        super::set(&mut draft.location, self.location);
        super::set(&mut draft.observations, self.observations);
        super::set(&mut draft.assets, self.assets);
        super::set(&mut draft.channels, self.channels);
    }
}

/// The document id of the draft proof record with `slug`, creating an empty DRAFT titled `title` if there is none.
pub async fn ensure_draft(db: &impl ConnectionTrait, slug: &str, title: &str, author: &str) -> Result<String> {
    let ids = ensure_drafts(db, &[(slug, title)], author).await?;
    ids.get(slug).cloned().ok_or_else(|| ServiceError::Database(sea_orm::DbErr::RecordNotInserted))
}

/// [`ensure_draft`] for many `(slug, title)` pairs in a few statements: document ids by slug.
pub async fn ensure_drafts(
    db: &impl ConnectionTrait,
    records: &[(&str, &str)],
    author: &str,
) -> Result<HashMap<String, String>> {
    if records.is_empty() {
        return Ok(HashMap::new());
    }
    for (slug, _) in records {
        validate_slug("slug", slug)?;
    }
    let mut ids: HashMap<String, String> = select_visible(Visibility::Preview)
        .filter(proof_record::Column::Slug.is_in(records.iter().map(|(slug, _)| slug.to_string())))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.slug, r.document_id))
        .collect();
    let mut drafts: Vec<(String, ProofRecordDraft)> = Vec::new();
    for &(slug, title) in records {
        if !ids.contains_key(slug) && !drafts.iter().any(|(_, d)| d.slug == slug) {
            let draft = ProofRecordDraft { slug: slug.to_string(), title: title.to_string(), ..Default::default() };
            drafts.push((new_document_id(), draft));
        }
    }
    let items: Vec<NewProofRecord> =
        drafts.iter().map(|(document_id, draft)| NewProofRecord::new(document_id.clone(), draft.clone(), 1)).collect();
    let stored = insert_new(db, &items, Stage::Draft, ContentStatus::Draft).await?;
    let revisions = drafts.iter().map(|(document_id, draft)| (document_id.as_str(), 1, draft));
    super::revision::record_many(db, super::revision::PROOF_RECORD, author, revisions).await?;
    ids.extend(stored.into_iter().map(|r| (r.slug, r.document_id)));
    Ok(ids)
}

/// The draft-stage row of a new document.
fn new_row(
    document_id: &str,
    draft: &ProofRecordDraft,
    version: i32,
    timestamp: DateTime<Utc>,
) -> proof_record::ActiveModel {
    proof_record::ActiveModel {
        document_id: Set(document_id.to_string()),
        stage: Set(Stage::Draft),
        status: Set(ContentStatus::Draft),
        slug: Set(draft.slug.clone()),
        title: Set(draft.title.clone()),
        client: Set(draft.client.clone()),
        deliverable: Set(draft.deliverable.clone()),
        problem_solved: Set(draft.problem_solved.clone()),
        summary: Set(draft.summary.clone()),
        captured_on: Set(draft.captured_on),
        location: Set(draft.location.clone()),
        published_at: Set(None),
        version: Set(version),
        publish_at: Set(None),
        created_at: Set(timestamp),
        updated_at: Set(timestamp),
        ..Default::default()
    }
}

/// A proof record's content about to be written as fresh rows at a stage, with its owned rows: the
/// set-based writer, as [`super::article`]'s `NewArticle` is for articles. Frames keep their document ids
/// (`asset_ids`, by position) across edits and stages.
pub(crate) struct NewProofRecord {
    pub document_id: String,
    pub draft: ProofRecordDraft,
    pub asset_ids: Vec<String>,
    pub version: i32,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl NewProofRecord {
    pub(crate) fn new(document_id: String, draft: ProofRecordDraft, version: i32) -> Self {
        let timestamp = now();
        let asset_ids = draft.assets.iter().map(|_| new_document_id()).collect();
        Self {
            document_id,
            draft,
            asset_ids,
            version,
            published_at: None,
            created_at: timestamp,
            updated_at: timestamp,
        }
    }

    /// The document exactly as its draft row `row` stores it (same version and dates), for publishing.
    fn copy_of(row: &proof_record::Model, draft: ProofRecordDraft, asset_ids: Vec<String>) -> Self {
        Self {
            document_id: row.document_id.clone(),
            draft,
            asset_ids,
            version: row.version,
            published_at: row.published_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

fn not_stored() -> ServiceError {
    ServiceError::Database(sea_orm::DbErr::RecordNotInserted)
}

/// Inserts documents as new rows at `stage` with their observations, frames, channels and search entries:
/// a few multi-row statements however many there are. Returns the rows in the order of `items`. The caller
/// has validated the drafts and checked that their slugs are free at that stage.
pub(crate) async fn insert_new(
    db: &impl ConnectionTrait,
    items: &[NewProofRecord],
    stage: Stage,
    status: ContentStatus,
) -> Result<Vec<proof_record::Model>> {
    let rows = items
        .iter()
        .map(|item| {
            let mut row = new_row(&item.document_id, &item.draft, item.version, item.created_at);
            row.stage = Set(stage);
            row.status = Set(status);
            row.published_at = Set(item.published_at);
            row.updated_at = Set(item.updated_at);
            row
        })
        .collect();
    let mut stored: HashMap<String, proof_record::Model> =
        super::bulk::insert_returning(db, rows).await?.into_iter().map(|m| (m.document_id.clone(), m)).collect();
    let rows =
        items.iter().map(|item| stored.remove(&item.document_id).ok_or_else(not_stored)).collect::<Result<Vec<_>>>()?;
    insert_owned(db, &rows, items).await?;
    Ok(rows)
}

/// Inserts the observations, frames, channel links and search entries of `rows[i]` from `items[i]`.
async fn insert_owned(db: &impl ConnectionTrait, rows: &[proof_record::Model], items: &[NewProofRecord]) -> Result<()> {
    let slugs: Vec<String> = items.iter().flat_map(|item| item.draft.channels.iter().cloned()).collect();
    let mut channel_ids = catalog::channel_ids(db, &slugs).await?.into_iter();
    let scoped = items.iter().any(|item| item.draft.assets.iter().any(|a| !a.release_channels.is_empty()));
    let known = if scoped { catalog::channels(db).await? } else { Vec::new() };
    let mut scopes = Vec::new();
    for (row, item) in rows.iter().zip(items) {
        for (i, frame) in item.draft.assets.iter().enumerate() {
            let scope = release::resolve_scope(&known, i, &frame.release_channels)?;
            if !scope.is_empty() {
                scopes.push(((row.id, i as i32), scope));
            }
        }
    }
    let (mut observations, mut assets, mut links, mut docs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (row, item) in rows.iter().zip(items) {
        let own: Vec<observation::Model> = item
            .draft
            .observations
            .iter()
            .enumerate()
            .map(|(i, o)| observation::Model {
                id: 0,
                proof_record_id: row.id,
                position: i as i32,
                kind: o.kind,
                title: o.title.clone(),
                detail: o.detail.clone(),
            })
            .collect();
        docs.push(search::proof_record_document(row, &own));
        observations.extend(own.into_iter().map(|o| {
            let mut active = o.into_active_model();
            active.id = sea_orm::NotSet;
            active
        }));
        assets.extend(item.draft.assets.iter().enumerate().map(|(i, a)| asset::ActiveModel {
            document_id: Set(item.asset_ids.get(i).cloned().unwrap_or_else(new_document_id)),
            proof_record_id: Set(row.id),
            position: Set(i as i32),
            url: Set(a.url.clone()),
            kind: Set(a.kind),
            alt: Set(a.alt.clone()),
            caption: Set(a.caption.clone()),
            credit: Set(a.credit.clone()),
            width: Set(a.width),
            height: Set(a.height),
            shows: Set(shows_to_string(&a.shows)),
            release: Set(a.release),
            captured_at: Set(a.captured_at),
            release_expires_at: Set(a.release_expires_at),
            ..Default::default()
        }));
        for channel_id in channel_ids.by_ref().take(item.draft.channels.len()) {
            links.push(proof_record_channel::ActiveModel {
                proof_record_id: Set(row.id),
                channel_id: Set(channel_id),
                ..Default::default()
            });
        }
    }
    super::bulk::insert(db, observations).await?;
    if scopes.is_empty() {
        super::bulk::insert(db, assets).await?;
    } else {
        // Scope rows need the frames' ids.
        let ids: HashMap<(i32, i32), i32> = super::bulk::insert_returning(db, assets)
            .await?
            .into_iter()
            .map(|a| ((a.proof_record_id, a.position), a.id))
            .collect();
        let scopes = scopes.into_iter().filter_map(|(key, s)| ids.get(&key).map(|&id| (id, s))).collect();
        release::insert_scopes(db, scopes).await?;
    }
    super::bulk::insert(db, links).await?;
    search::insert_documents(db, docs).await
}

pub fn shows_to_string(shows: &[ObservationKind]) -> String {
    shows.iter().map(|k| k.to_value()).collect::<Vec<_>>().join(",")
}

pub fn shows_from_string(shows: &str) -> Vec<ObservationKind> {
    shows.split(',').filter_map(|s| ObservationKind::try_from_value(&s.to_string()).ok()).collect()
}

/// Creates or replaces the draft stage of the proof record with `draft.slug`, bumping its version and
/// recording a revision by `author`. Call inside a transaction.
pub async fn save_draft(
    db: &impl ConnectionTrait,
    draft: ProofRecordDraft,
    author: &str,
) -> Result<proof_record::Model> {
    let existing = staged::by_slug::<ProofRecords>(db, Visibility::Preview, &draft.slug).await?;
    let version = existing.as_ref().map_or(1, |m| m.version + 1);
    let row = write(db, existing, draft.clone(), version).await?;
    super::revision::record(db, super::revision::PROOF_RECORD, &row.document_id, row.version, author, &draft).await?;
    Ok(row)
}

pub fn validate(draft: &ProofRecordDraft) -> Result<()> {
    validate_slug("slug", &draft.slug)?;
    if draft.title.trim().is_empty() {
        return Err(ServiceError::bad_input("title", "must not be empty"));
    }
    for (i, o) in draft.observations.iter().enumerate() {
        if o.title.trim().is_empty() {
            return Err(ServiceError::bad_input(format!("observations[{i}].title"), "must not be empty"));
        }
    }
    for (i, a) in draft.assets.iter().enumerate() {
        if a.url.trim().is_empty() {
            return Err(ServiceError::bad_input(format!("assets[{i}].url"), "must not be empty"));
        }
        if a.width.is_some_and(|w| w <= 0) || a.height.is_some_and(|h| h <= 0) {
            return Err(ServiceError::bad_input(format!("assets[{i}]"), "width and height must be positive"));
        }
        super::check_time(&format!("assets[{i}].releaseExpiresAt"), a.release_expires_at)?;
    }
    Ok(())
}

/// The draft row of a document with its content as a [`ProofRecordDraft`].
pub async fn load_draft(
    db: &impl ConnectionTrait,
    document_id: &str,
) -> Result<Option<(proof_record::Model, ProofRecordDraft)>> {
    let Some(row) = staged::by_document_id::<ProofRecords>(db, Visibility::Preview, document_id).await? else {
        return Ok(None);
    };
    let (draft, _) = content_of(db, &row).await?;
    Ok(Some((row, draft)))
}

/// The content of the proof record row `row`, with its frames' document ids in position order.
async fn content_of(db: &impl ConnectionTrait, row: &proof_record::Model) -> Result<(ProofRecordDraft, Vec<String>)> {
    let observations = observations_of(db, &[row.id]).await?.remove(&row.id).unwrap_or_default();
    let assets = assets_of(db, Visibility::Preview, &[row.id]).await?.remove(&row.id).unwrap_or_default();
    let channels = channels_of(db, &[row.id]).await?.remove(&row.id).unwrap_or_default();
    let mut scopes = release::scopes_of(db, &assets.iter().map(|a| a.id).collect::<Vec<_>>()).await?;
    let asset_ids = assets.iter().map(|a| a.document_id.clone()).collect();
    let draft = ProofRecordDraft {
        slug: row.slug.clone(),
        title: row.title.clone(),
        client: row.client.clone(),
        deliverable: row.deliverable.clone(),
        problem_solved: row.problem_solved.clone(),
        summary: row.summary.clone(),
        captured_on: row.captured_on,
        location: row.location.clone(),
        observations: observations
            .into_iter()
            .map(|o| ObservationInput { kind: o.kind, title: o.title, detail: o.detail })
            .collect(),
        assets: assets
            .into_iter()
            .map(|a| AssetInput {
                release_channels: scopes.remove(&a.id).unwrap_or_default().into_iter().map(|c| c.slug).collect(),
                release_expires_at: a.release_expires_at,
                release_reason: None,
                shows: shows_from_string(&a.shows),
                url: a.url,
                kind: a.kind,
                alt: a.alt,
                caption: a.caption,
                credit: a.credit,
                width: a.width,
                height: a.height,
                release: a.release,
                captured_at: a.captured_at,
            })
            .collect(),
        channels: channels.into_iter().map(|c| c.slug).collect(),
    };
    Ok((draft, asset_ids))
}

/// Writes `draft` as the draft stage: over `existing` (replacing its owned rows) or as a new document.
pub(crate) async fn write(
    db: &impl ConnectionTrait,
    existing: Option<proof_record::Model>,
    draft: ProofRecordDraft,
    version: i32,
) -> Result<proof_record::Model> {
    validate(&draft)?;
    if let Some(other) = staged::by_slug::<ProofRecords>(db, Visibility::Preview, &draft.slug).await?
        && existing.as_ref().is_none_or(|e| e.id != other.id)
    {
        return Err(ServiceError::Conflict(format!("slug: {:?} is already used by another proof record", draft.slug)));
    }
    let Some(model) = existing else {
        let item = NewProofRecord::new(new_document_id(), draft, version);
        let mut rows = insert_new(db, &[item], Stage::Draft, ContentStatus::Draft).await?;
        return rows.pop().ok_or_else(not_stored);
    };
    // A frame keeps its ID across edits while it keeps its place, as questions do.
    let (_, old_asset_ids) = content_of(db, &model).await?;
    let item = NewProofRecord {
        asset_ids: old_asset_ids,
        version,
        updated_at: now(),
        ..NewProofRecord::new(model.document_id.clone(), draft, version)
    };
    delete_children(db, model.id).await?;
    let mut active = model.into_active_model();
    let d = &item.draft;
    active.slug = Set(d.slug.clone());
    active.title = Set(d.title.clone());
    active.client = Set(d.client.clone());
    active.deliverable = Set(d.deliverable.clone());
    active.problem_solved = Set(d.problem_solved.clone());
    active.summary = Set(d.summary.clone());
    active.captured_on = Set(d.captured_on);
    active.location = Set(d.location.clone());
    active.version = Set(version);
    active.updated_at = Set(item.updated_at);
    let row = active.update(db).await?;
    insert_owned(db, std::slice::from_ref(&row), std::slice::from_ref(&item)).await?;
    super::provenance::record_changed(db, &row.document_id, &item.draft).await?;
    release::apply_tightened(db, &row).await?;
    Ok(row)
}

/// Deletes proof record rows with everything they own.
pub(crate) async fn delete_rows(db: &impl ConnectionTrait, ids: &[i32]) -> Result<()> {
    for &id in ids {
        delete_children(db, id).await?;
    }
    if !ids.is_empty() {
        proof_record::Entity::delete_many()
            .filter(proof_record::Column::Id.is_in(ids.iter().copied()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Inserts the published copy of the draft row `draft` with its observations, frames and channels.
pub(crate) async fn insert_published(
    db: &impl ConnectionTrait,
    draft: proof_record::Model,
    published_at: DateTime<Utc>,
) -> Result<proof_record::Model> {
    let (content, asset_ids) = content_of(db, &draft).await?;
    let copy =
        NewProofRecord { published_at: Some(published_at), ..NewProofRecord::copy_of(&draft, content, asset_ids) };
    let mut copies = insert_new(db, &[copy], Stage::Published, ContentStatus::Published).await?;
    copies.pop().ok_or_else(not_stored)
}

pub(crate) async fn delete_children(db: &impl ConnectionTrait, proof_record_id: i32) -> Result<()> {
    search::remove(db, search::Kind::ProofRecord, &[proof_record_id]).await?;
    observation::Entity::delete_many().filter(observation::Column::ProofRecordId.eq(proof_record_id)).exec(db).await?;
    asset::Entity::delete_many().filter(asset::Column::ProofRecordId.eq(proof_record_id)).exec(db).await?;
    proof_record_channel::Entity::delete_many()
        .filter(proof_record_channel::Column::ProofRecordId.eq(proof_record_id))
        .exec(db)
        .await?;
    Ok(())
}
