use sea_orm::entity::prelude::*;

use crate::{ContentStatus, Stage};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "articles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub document_id: String,
    pub stage: Stage,
    pub status: ContentStatus,
    pub slug: String,
    pub title: String,
    pub thesis: Option<String>,
    pub point: Option<String>,
    pub audience_summary: Option<String>,
    /// One role per line ("brand leads\nfounders").
    pub audience_roles: String,
    pub reader_need: Option<String>,
    pub real_problem: Option<String>,
    pub record_matters: Option<String>,
    pub smarter_question: Option<String>,
    pub proves: Option<String>,
    pub collection_id: Option<i32>,
    pub proof_record_document_id: Option<String>,
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
