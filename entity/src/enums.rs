use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Which copy of a document a row is: the editors' working copy or the public one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Stage {
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "published")]
    Published,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ContentStatus {
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    #[sea_orm(string_value = "PUBLISHED")]
    Published,
    #[sea_orm(string_value = "ARCHIVED")]
    Archived,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ObservationKind {
    #[sea_orm(string_value = "PEOPLE")]
    People,
    #[sea_orm(string_value = "EQUIPMENT")]
    Equipment,
    #[sea_orm(string_value = "CONSTRAINT")]
    Constraint,
    #[sea_orm(string_value = "DECISION")]
    Decision,
    #[sea_orm(string_value = "ENVIRONMENT")]
    Environment,
    #[sea_orm(string_value = "RHYTHM")]
    Rhythm,
    #[sea_orm(string_value = "COLLABORATION")]
    Collaboration,
    #[sea_orm(string_value = "ATMOSPHERE")]
    Atmosphere,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ReleaseStatus {
    #[sea_orm(string_value = "NOT_REQUIRED")]
    NotRequired,
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "CLEARED")]
    Cleared,
    #[sea_orm(string_value = "DENIED")]
    Denied,
}

impl ReleaseStatus {
    /// Releases that may be shown to the public and offered for reuse.
    pub const PUBLIC: [ReleaseStatus; 2] = [ReleaseStatus::Cleared, ReleaseStatus::NotRequired];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum AssetKind {
    #[sea_orm(string_value = "IMAGE")]
    Image,
    #[sea_orm(string_value = "VIDEO")]
    Video,
}
