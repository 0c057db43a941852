use sea_orm::entity::prelude::*;

/// One HTTP attempt of a delivery.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub delivery_id: i32,
    pub attempted_at: ChronoDateTimeUtc,
    pub http_status: Option<i32>,
    /// Why no answer came (refused address, timeout, connection error).
    pub error: Option<String>,
    pub duration_ms: i32,
    /// The start of the response body.
    pub response_excerpt: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
