//! The webhook outbox. Write services call these inside their own transaction, so an event exists exactly
//! when its change committed; each event gets one delivery row per active subscription to its type, in the
//! same transaction, for the delivery worker ([`super::webhook_delivery`]) to send.
//!
//! Payloads name the entity (global ID, document id, slug, type, version) and the cache keys to purge; they
//! never carry content, so no draft text leaves through an event.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use entity::{
    ContentStatus, Stage, article, asset, collection, proof_record, proof_record_channel, proof_snippet, reuse_channel,
    webhook, webhook_delivery, webhook_event,
};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};

use super::staged::{self, Articles, ContentKind, ProofRecords, Staged};
use super::{Result, Visibility, now};

/// Every event type a subscription may ask for.
pub const EVENT_TYPES: [&str; 17] = [
    "article.published",
    "article.unpublished",
    "article.archived",
    "article.deleted",
    "article.scheduled",
    "proof_record.published",
    "proof_record.unpublished",
    "proof_record.archived",
    "proof_record.deleted",
    "proof_record.scheduled",
    "snippet.published",
    "snippet.unpublished",
    "snippet.archived",
    "snippet.deleted",
    "snippet.scheduled",
    "asset.release_changed",
    "import.completed",
];

/// What happened to a staged document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Published,
    Unpublished,
    Archived,
    Deleted,
    Scheduled,
}

impl Change {
    fn name(self) -> &'static str {
        match self {
            Change::Published => "published",
            Change::Unpublished => "unpublished",
            Change::Archived => "archived",
            Change::Deleted => "deleted",
            Change::Scheduled => "scheduled",
        }
    }

    /// The change a take-down to `status` is (ARCHIVED archives, anything else unpublishes).
    pub fn taken_down(status: ContentStatus) -> Change {
        if status == ContentStatus::Archived { Change::Archived } else { Change::Unpublished }
    }
}

fn kind_prefix(kind: ContentKind) -> &'static str {
    match kind {
        ContentKind::Article => "article",
        ContentKind::ProofRecord => "proof_record",
        ContentKind::Snippet => "snippet",
    }
}

/// The Relay global ID the GraphQL API gives the object (see `graphql::node::global_id`).
fn global_id(type_name: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{type_name}:{key}"))
}

/// Ids of the active subscriptions to `event_type`.
async fn subscribers(db: &impl ConnectionTrait, event_type: &str) -> Result<Vec<i32>> {
    let hooks: Vec<(i32, String)> = webhook::Entity::find()
        .select_only()
        .column(webhook::Column::Id)
        .column(webhook::Column::Events)
        .filter(webhook::Column::State.eq(super::webhook::ACTIVE))
        .into_tuple()
        .all(db)
        .await?;
    Ok(hooks.into_iter().filter(|(_, events)| events.split(',').any(|e| e == event_type)).map(|(id, _)| id).collect())
}

/// Writes the event and a delivery per subscriber. `body` holds the fields after id, type and timestamp.
async fn write(db: &impl ConnectionTrait, event_type: &str, subscribers: Vec<i32>, body: Value) -> Result<()> {
    let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let at = now();
    let mut payload = json!({
        "id": id,
        "type": event_type,
        "timestamp": at.to_rfc3339_opts(SecondsFormat::Micros, true),
    });
    if let (Some(out), Value::Object(fields)) = (payload.as_object_mut(), body) {
        out.extend(fields);
    }
    webhook_event::Entity::insert(webhook_event::ActiveModel {
        id: Set(id.clone()),
        event_type: Set(event_type.to_string()),
        payload: Set(payload.to_string()),
        created_at: Set(at),
    })
    .exec_without_returning(db)
    .await?;
    let deliveries = subscribers.into_iter().map(|webhook_id| webhook_delivery::ActiveModel {
        id: NotSet,
        event_id: Set(id.clone()),
        webhook_id: Set(webhook_id),
        status: Set(super::webhook::PENDING.to_string()),
        attempts: Set(0),
        next_attempt_at: Set(at),
        claimed_by: Set(None),
        claimed_until: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
    });
    webhook_delivery::Entity::insert_many(deliveries).exec_without_returning(db).await?;
    Ok(())
}

/// Records `change` to the staged document `document_id` (call it while the rows it names still exist:
/// before a delete, before a take-down removes the published copy, after a publish made it).
pub async fn staged<D: Staged>(db: &impl ConnectionTrait, change: Change, document_id: &str) -> Result<()> {
    let event_type = format!("{}.{}", kind_prefix(D::KIND), change.name());
    let subscribers = subscribers(db, &event_type).await?;
    if subscribers.is_empty() {
        return Ok(());
    }
    let Some(described) = describe(db, D::KIND, document_id).await? else {
        return Ok(());
    };
    // With what the write noted before the change: a renamed document's old slug is purged too.
    let purge = unique(described.purge.into_iter().chain(super::changes::noted()).collect());
    let mut body = json!({ "entity": described.entity, "purge": purge });
    if change == Change::Scheduled {
        body["publishAt"] = json!(described.publish_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true)));
    }
    write(db, &event_type, subscribers, body).await
}

/// Records `*.published` for each document of kind `D` an import published, as a publish by mutation would:
/// the subscribers are looked up once for the whole batch.
pub async fn published_by_import<D: Staged>(db: &impl ConnectionTrait, document_ids: &[String]) -> Result<()> {
    if document_ids.is_empty() {
        return Ok(());
    }
    let event_type = format!("{}.{}", kind_prefix(D::KIND), Change::Published.name());
    let subscribers = subscribers(db, &event_type).await?;
    if subscribers.is_empty() {
        return Ok(());
    }
    for document_id in document_ids {
        if let Some(described) = describe(db, D::KIND, document_id).await? {
            let body = json!({ "entity": described.entity, "purge": described.purge });
            write(db, &event_type, subscribers.clone(), body).await?;
        }
    }
    Ok(())
}

/// Records `import.completed` for the pages an import transaction wrote: `(document_id, slug, public)`.
pub async fn import_completed(db: &impl ConnectionTrait, pages: &[(String, String, bool)]) -> Result<()> {
    if pages.is_empty() {
        return Ok(());
    }
    let subscribers = subscribers(db, "import.completed").await?;
    if subscribers.is_empty() {
        return Ok(());
    }
    // Only what is public is named: a page imported as a draft is counted, not described.
    let public: Vec<&(String, String, bool)> = pages.iter().filter(|(_, _, public)| *public).collect();
    let mut purge: Vec<String> = public.iter().map(|(_, slug, _)| format!("article:{slug}")).collect();
    purge.extend(["articles".to_string(), "search".to_string()]);
    // The collections the public pages are in: their lists changed too.
    let documents: Vec<String> = public.iter().map(|(document_id, _, _)| document_id.clone()).collect();
    let collections: Vec<String> = collection::Entity::find()
        .select_only()
        .column(collection::Column::Slug)
        .filter(
            collection::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(article::Column::CollectionId)
                    .from(article::Entity)
                    .and_where(article::Column::DocumentId.is_in(documents))
                    .to_owned(),
            ),
        )
        .order_by_asc(collection::Column::Slug)
        .into_tuple()
        .all(db)
        .await?;
    purge.extend(collections.into_iter().map(|slug| format!("collection:{slug}")));
    let articles: Vec<Value> = public
        .iter()
        .map(|(document_id, slug, _)| {
            json!({ "id": global_id("Article", document_id), "documentId": document_id, "slug": slug, "type": "Article" })
        })
        .collect();
    let body = json!({
        "entity": null,
        "import": { "pages": pages.len(), "public": articles.len(), "articles": articles },
        "purge": purge,
    });
    write(db, "import.completed", subscribers, body).await
}

/// Records `asset.release_changed` for each frame (asset document id) of the published proof record `record`
/// whose rights are about to tighten: its release becomes `release`, or (with `release` unchanged) its
/// expiry moves to `expires_at` or its channel scope narrows. Only frames the published copy still shows
/// are named (call it before the change).
pub async fn asset_release_changed(
    db: &impl ConnectionTrait,
    record: &proof_record::Model,
    frames: &[String],
    release: entity::ReleaseStatus,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<()> {
    let subscribers = subscribers(db, "asset.release_changed").await?;
    if subscribers.is_empty() || frames.is_empty() {
        return Ok(());
    }
    let frames: Vec<String> = asset::Entity::find()
        .select_only()
        .column(asset::Column::DocumentId)
        .filter(asset::Column::ProofRecordId.eq(record.id))
        .filter(asset::Column::DocumentId.is_in(frames.iter().cloned()))
        .filter(asset::Column::Release.is_in(entity::ReleaseStatus::PUBLIC))
        .into_tuple()
        .all(db)
        .await?;
    let described = describe(db, ContentKind::ProofRecord, &record.document_id).await?;
    for frame in &frames {
        let mut purge = vec![format!("asset:{frame}")];
        purge.extend(described.iter().flat_map(|d| d.purge.iter().cloned()));
        let body = json!({
            "entity": {
                "id": global_id("Asset", frame),
                "documentId": frame,
                "slug": null,
                "type": "Asset",
                "version": record.version,
                "proofRecord": described.as_ref().map(|d| d.entity.clone()),
            },
            "release": sea_orm::ActiveEnum::to_value(&release),
            "releaseExpiresAt": expires_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            "purge": purge,
        });
        write(db, "asset.release_changed", subscribers.clone(), body).await?;
    }
    Ok(())
}

struct Described {
    entity: Value,
    purge: Vec<String>,
    publish_at: Option<DateTime<Utc>>,
}

/// The entity as an event names it, from its published row when there is one (what the public saw), else
/// its draft; the version is the document's (the draft's).
async fn describe(db: &impl ConnectionTrait, kind: ContentKind, document_id: &str) -> Result<Option<Described>> {
    fn pick<M: Clone>(rows: &[M], stage: impl Fn(&M) -> Stage) -> (Option<M>, Option<M>) {
        let published = rows.iter().find(|r| stage(r) == Stage::Published).cloned();
        let draft = rows.iter().find(|r| stage(r) == Stage::Draft).cloned();
        (published, draft)
    }
    let entity = |type_name: &str, slug: Option<&str>, version: i32| {
        json!({
            "id": global_id(type_name, document_id),
            "documentId": document_id,
            "slug": slug,
            "type": type_name,
            "version": version,
        })
    };
    match kind {
        ContentKind::Article => {
            let rows = article::Entity::find().filter(article::Column::DocumentId.eq(document_id)).all(db).await?;
            let (published, draft) = pick(&rows, |r| r.stage);
            let Some(shown) = published.clone().or(draft.clone()) else { return Ok(None) };
            let version = draft.as_ref().map_or(shown.version, |d| d.version);
            // The keys its answers are tagged with (`Surrogate-Key`): what the response cache drops too.
            let purge = super::changes::document_tags(db, kind, document_id).await?;
            Ok(Some(Described {
                entity: entity("Article", Some(&shown.slug), version),
                purge: unique(purge),
                publish_at: draft.and_then(|d| d.publish_at),
            }))
        }
        ContentKind::ProofRecord => {
            let rows =
                proof_record::Entity::find().filter(proof_record::Column::DocumentId.eq(document_id)).all(db).await?;
            let (published, draft) = pick(&rows, |r| r.stage);
            let Some(shown) = published.clone().or(draft.clone()) else { return Ok(None) };
            let version = draft.as_ref().map_or(shown.version, |d| d.version);
            let mut purge = super::changes::document_tags(db, kind, document_id).await?;
            purge.extend(channel_keys(db, shown.id).await?);
            // An article page shows its paired proof record.
            let pages: Vec<String> = staged::visible::<Articles>(Visibility::Public)
                .select_only()
                .column(article::Column::Slug)
                .filter(article::Column::ProofRecordDocumentId.eq(document_id))
                .into_tuple()
                .all(db)
                .await?;
            purge.extend(pages.into_iter().map(|slug| format!("article:{slug}")));
            Ok(Some(Described {
                entity: entity("ProofRecord", Some(&shown.slug), version),
                purge: unique(purge),
                publish_at: draft.and_then(|d| d.publish_at),
            }))
        }
        ContentKind::Snippet => {
            let rows =
                proof_snippet::Entity::find().filter(proof_snippet::Column::DocumentId.eq(document_id)).all(db).await?;
            let (published, draft) = pick(&rows, |r| r.stage);
            let Some(shown) = published.clone().or(draft.clone()) else { return Ok(None) };
            let version = draft.as_ref().map_or(shown.version, |d| d.version);
            let mut purge = super::changes::document_tags(db, kind, document_id).await?;
            let record: Option<String> = staged::visible::<ProofRecords>(Visibility::Public)
                .select_only()
                .column(proof_record::Column::Slug)
                .filter(proof_record::Column::DocumentId.eq(&shown.proof_record_document_id))
                .into_tuple()
                .one(db)
                .await?;
            purge.extend(record.map(|slug| format!("proof-record:{slug}")));
            if let Some(channel) = reuse_channel::Entity::find_by_id(shown.channel_id).one(db).await? {
                purge.push(format!("channel:{}", channel.slug));
            }
            Ok(Some(Described {
                entity: entity("ProofSnippet", None, version),
                purge: unique(purge),
                publish_at: draft.and_then(|d| d.publish_at),
            }))
        }
    }
}

/// `keys` without repeats, in their first order.
fn unique(keys: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    keys.into_iter().filter(|k| seen.insert(k.clone())).collect()
}

/// `channel:<slug>` for each reuse channel of the proof record row `proof_record_id`.
async fn channel_keys(db: &impl ConnectionTrait, proof_record_id: i32) -> Result<Vec<String>> {
    let ids: Vec<i32> = proof_record_channel::Entity::find()
        .select_only()
        .column(proof_record_channel::Column::ChannelId)
        .filter(proof_record_channel::Column::ProofRecordId.eq(proof_record_id))
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let channels = reuse_channel::Entity::find().filter(reuse_channel::Column::Id.is_in(ids)).all(db).await?;
    Ok(channels.into_iter().map(|c| format!("channel:{}", c.slug)).collect())
}
