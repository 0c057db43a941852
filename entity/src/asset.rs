use sea_orm::entity::prelude::*;

use crate::{AssetKind, ReleaseStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub document_id: String,
    pub proof_record_id: i32,
    pub position: i32,
    pub url: String,
    pub kind: AssetKind,
    pub alt: Option<String>,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// Observation kinds the frame shows, comma-separated ("PEOPLE,EQUIPMENT").
    pub shows: String,
    pub release: ReleaseStatus,
    pub captured_at: Option<ChronoDateTimeUtc>,
    /// After this instant the release reads as PENDING on every public path.
    pub release_expires_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
