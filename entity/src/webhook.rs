use sea_orm::entity::prelude::*;

/// A webhook subscription. `secret` (`whsec_…`) signs deliveries; it is shown once and never read back out.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub url: String,
    /// Event types, comma-separated.
    pub events: String,
    pub description: Option<String>,
    pub secret: String,
    /// `active` or `paused`.
    pub state: String,
    pub paused_reason: Option<String>,
    /// Since when every delivery has failed (cleared by a success); past the limit the webhook is paused.
    pub failing_since: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

// Written by hand so the secret never reaches a log line through `{:?}`.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
