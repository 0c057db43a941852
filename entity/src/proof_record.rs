use sea_orm::entity::prelude::*;

use crate::{ContentStatus, Stage};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proof_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub document_id: String,
    pub stage: Stage,
    pub status: ContentStatus,
    pub slug: String,
    pub title: String,
    pub client: Option<String>,
    pub deliverable: Option<String>,
    pub problem_solved: Option<String>,
    pub summary: Option<String>,
    pub captured_on: Option<ChronoDate>,
    pub location: Option<String>,
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
