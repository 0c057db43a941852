//! Webhook management (admin): subscriptions, their deliveries and attempts. The signing secret appears in
//! the answers of `createWebhook` and `rotateWebhookSecret` only.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{webhook, webhook_attempt, webhook_delivery, webhook_event};

use crate::error::GqlResult;
use crate::service::token::Role;
use crate::service::webhook as service;

/// What `createWebhook` accepts, set at start-up (`--webhook-allow-private`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy {
    pub allow_private: bool,
}

fn admin(ctx: &Context<'_>) -> Result<String> {
    Ok(super::require(ctx, Role::Admin)?.token_name.clone())
}

fn parse_id(field: &str, id: &ID) -> Result<i32> {
    id.parse::<i32>().map_err(|_| crate::error::bad_input(field, "is not a webhook ID"))
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum WebhookState {
    /// Events are queued and delivered.
    Active,
    /// Nothing is delivered and new events are not queued for it (see `pausedReason`).
    Paused,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum WebhookDeliveryStatus {
    /// Waiting for its first attempt or a retry.
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Every attempt of the retry schedule failed.
    Failed,
}

/// A subscription to events, delivered signed per the Standard Webhooks specification.
pub struct Webhook(webhook::Model);

#[Object]
impl Webhook {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// Event types it receives.
    async fn events(&self) -> Vec<&str> {
        self.0.events.split(',').collect()
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn state(&self) -> WebhookState {
        if self.0.state == service::PAUSED { WebhookState::Paused } else { WebhookState::Active }
    }
    /// Why it is paused: by whom, or automatically after failing for too long.
    async fn paused_reason(&self) -> Option<&str> {
        self.0.paused_reason.as_deref()
    }
    /// Since when every delivery has failed; null after a success.
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.0.failing_since
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Its deliveries, newest first.
    #[graphql(complexity = "first.clamp(1, 100) as usize * child_complexity + 1")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many (1 to 100).")] first: i32,
    ) -> Result<Vec<WebhookDelivery>> {
        let rows = service::deliveries(super::db(ctx), self.0.id, first.clamp(1, 100) as u64).await.gql()?;
        Ok(rows.into_iter().map(|(delivery, event)| WebhookDelivery { delivery, event }).collect())
    }
}

/// One event for one webhook.
pub struct WebhookDelivery {
    delivery: webhook_delivery::Model,
    event: webhook_event::Model,
}

#[Object]
impl WebhookDelivery {
    async fn id(&self) -> ID {
        ID(self.delivery.id.to_string())
    }
    /// The event id, sent as `webhook-id` on every attempt.
    async fn event_id(&self) -> &str {
        &self.event.id
    }
    async fn event_type(&self) -> &str {
        &self.event.event_type
    }
    async fn status(&self) -> WebhookDeliveryStatus {
        match self.delivery.status.as_str() {
            service::SUCCEEDED => WebhookDeliveryStatus::Succeeded,
            service::FAILED => WebhookDeliveryStatus::Failed,
            _ => WebhookDeliveryStatus::Pending,
        }
    }
    /// Attempts since it was created or last redelivered.
    async fn attempt_count(&self) -> i32 {
        self.delivery.attempts
    }
    /// When it is next tried, while PENDING.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.delivery.status == service::PENDING).then_some(self.delivery.next_attempt_at)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.delivery.created_at
    }
    /// The body sent.
    async fn payload(&self) -> Json<serde_json::Value> {
        Json(serde_json::from_str(&self.event.payload).unwrap_or(serde_json::Value::Null))
    }
    /// Every attempt, oldest first.
    async fn attempts(&self, ctx: &Context<'_>) -> Result<Vec<WebhookAttempt>> {
        let rows = service::attempts(super::db(ctx), self.delivery.id).await.gql()?;
        Ok(rows.into_iter().map(WebhookAttempt::from).collect())
    }
}

/// One HTTP attempt of a delivery.
#[derive(SimpleObject)]
pub struct WebhookAttempt {
    attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; null when there was no answer.
    http_status: Option<i32>,
    /// Why the attempt failed (non-2xx, timeout, refused address, connection error).
    error: Option<String>,
    duration_ms: i32,
    /// The first KiB of the response body.
    response_excerpt: Option<String>,
}

impl From<webhook_attempt::Model> for WebhookAttempt {
    fn from(a: webhook_attempt::Model) -> Self {
        WebhookAttempt {
            attempted_at: a.attempted_at,
            http_status: a.http_status,
            error: a.error,
            duration_ms: a.duration_ms,
            response_excerpt: a.response_excerpt,
        }
    }
}

/// A webhook with its signing secret, shown this once.
#[derive(SimpleObject)]
pub struct WebhookWithSecret {
    webhook: Webhook,
    /// `whsec_…`: verify deliveries with it (any Standard Webhooks library). Not shown again.
    secret: String,
}

#[derive(InputObject)]
pub struct CreateWebhookInput {
    /// Where to POST events: http(s); internal addresses are refused unless the server allows them.
    url: String,
    /// Event types, such as ["article.published", "article.unpublished"].
    events: Vec<String>,
    description: Option<String>,
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Every webhook (admin). Secrets are never listed.
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Vec<Webhook>> {
        admin(ctx)?;
        Ok(service::list(super::db(ctx)).await.gql()?.into_iter().map(Webhook).collect())
    }

    /// One webhook (admin); null when there is none with this ID.
    async fn webhook(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Webhook>> {
        admin(ctx)?;
        let id = parse_id("id", &id)?;
        match service::get(super::db(ctx), id).await {
            Ok(model) => Ok(Some(Webhook(model))),
            Err(crate::service::ServiceError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e).gql(),
        }
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Subscribes a URL to event types (admin). The answer carries the signing secret, which is not shown again.
    async fn create_webhook(&self, ctx: &Context<'_>, input: CreateWebhookInput) -> Result<WebhookWithSecret> {
        let who = admin(ctx)?;
        let policy = ctx.data_opt::<Policy>().copied().unwrap_or_default();
        let (model, secret) =
            service::create(super::db(ctx), &who, &input.url, &input.events, input.description, policy.allow_private)
                .await
                .gql()?;
        Ok(WebhookWithSecret { webhook: Webhook(model), secret })
    }

    /// Stops deliveries until `resumeWebhook` (admin); events meanwhile are not queued for it.
    async fn pause_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<Webhook> {
        let who = admin(ctx)?;
        Ok(Webhook(service::set_paused(super::db(ctx), &who, parse_id("id", &id)?, true).await.gql()?))
    }

    /// Resumes a paused webhook (admin); its pending deliveries are sent.
    async fn resume_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<Webhook> {
        let who = admin(ctx)?;
        Ok(Webhook(service::set_paused(super::db(ctx), &who, parse_id("id", &id)?, false).await.gql()?))
    }

    /// Deletes a webhook with its deliveries (admin); returns its ID.
    async fn delete_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let who = admin(ctx)?;
        service::delete(super::db(ctx), &who, parse_id("id", &id)?).await.gql()?;
        Ok(id)
    }

    /// Replaces the signing secret (admin); the answer carries the new one, which is not shown again.
    async fn rotate_webhook_secret(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookWithSecret> {
        let who = admin(ctx)?;
        let (model, secret) = service::rotate_secret(super::db(ctx), &who, parse_id("id", &id)?).await.gql()?;
        Ok(WebhookWithSecret { webhook: Webhook(model), secret })
    }

    /// Sends a delivery again, whatever its status, with a fresh retry schedule (admin).
    async fn redeliver_webhook_delivery(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookDelivery> {
        let who = admin(ctx)?;
        let id = id.parse::<i32>().map_err(|_| crate::error::bad_input("id", "is not a webhook delivery ID"))?;
        let (delivery, event) = service::redeliver(super::db(ctx), &who, id).await.gql()?;
        Ok(WebhookDelivery { delivery, event })
    }
}
