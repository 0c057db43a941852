use sea_orm::entity::prelude::*;

use crate::{ContentStatus, Stage};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proof_snippets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub document_id: String,
    pub stage: Stage,
    pub status: ContentStatus,
    pub proof_record_document_id: String,
    pub article_document_id: Option<String>,
    pub channel_id: i32,
    pub body: String,
    pub char_count: i32,
    pub published_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    /// Bumped by every change to the document; updates carry the version they were based on.
    pub version: i32,
    /// When set on the draft, the scheduler publishes it at that time.
    pub publish_at: Option<ChronoDateTimeUtc>,
    /// The credit line a channel that requires one prints with the snippet.
    pub credit: Option<String>,
    /// Positions (comma-separated) of the proof record's observations it quotes; none = the whole record.
    pub source_observations: Option<String>,
    /// Document id of the question (of its article) it quotes.
    pub source_question: Option<String>,
    /// Position of the article section it quotes.
    pub source_section: Option<i32>,
    /// Fingerprints of each quoted source part when the snippet was approved (JSON object); drift compares them.
    pub source_hashes: Option<String>,
    /// The proof record's version when the snippet was approved.
    pub source_version: Option<i32>,
    pub approved_at: Option<ChronoDateTimeUtc>,
    /// Why its source no longer matches what was approved; set = not offered to the public.
    pub stale_reason: Option<String>,
    pub stale_since: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
