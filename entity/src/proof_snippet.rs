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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
