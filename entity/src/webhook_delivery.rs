use sea_orm::entity::prelude::*;

/// One event for one subscription.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub event_id: String,
    pub webhook_id: i32,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Attempts since it was created (or last redelivered).
    pub attempts: i32,
    pub next_attempt_at: ChronoDateTimeUtc,
    /// The process sending it, until `claimed_until`; after that (the process died) it may be claimed again.
    pub claimed_by: Option<String>,
    pub claimed_until: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
