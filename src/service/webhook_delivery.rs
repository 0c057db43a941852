//! The delivery worker `backlot serve` runs: it claims due deliveries from the outbox, signs and sends them,
//! records each attempt, and schedules retries. Any number of processes may share a database: a claim is one
//! conditional UPDATE (on PostgreSQL over rows locked `FOR UPDATE SKIP LOCKED`), so each delivery is sent by
//! one process at a time; a claim is a lease, so the deliveries of a process that died are claimed again once
//! it runs out.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::{webhook, webhook_attempt, webhook_delivery, webhook_event};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, Set,
    Statement,
};

use super::webhook::{FAILED, PAUSED, PENDING, SUCCEEDED, Target, check_target, sign};
use super::{Result, begin_write, now};

/// A delivery gives up on a receiver after this long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a response body is read and kept.
pub const EXCERPT_BYTES: usize = 1024;
/// Deliveries one process claims at a time.
const BATCH: i64 = 16;

/// How the worker behaves (`serve --webhook-*`).
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Deliver to loopback, private and link-local addresses too (local development, tests).
    pub allow_private: bool,
    /// The wait before each retry; after the last, the delivery is marked failed.
    pub retry_schedule: Vec<Duration>,
    /// A subscription whose deliveries have all failed for this long is paused.
    pub pause_after: Duration,
    /// How often to look for due deliveries.
    pub poll_interval: Duration,
    /// How long a claim holds before another process may take the delivery over.
    pub lease: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            allow_private: false,
            retry_schedule: [5, 300, 1800, 7200, 18_000, 36_000].map(Duration::from_secs).to_vec(),
            pause_after: Duration::from_secs(3 * 86_400),
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(60),
        }
    }
}

/// Runs the worker for the life of the process.
pub fn spawn(db: DatabaseConnection, settings: DeliverySettings) -> tokio::task::JoinHandle<()> {
    let worker = format!("worker-{}", uuid::Uuid::new_v4().simple());
    tokio::spawn(async move {
        loop {
            match run_once(&db, &settings, &worker).await {
                // A full batch: more may be due at once.
                Ok(n) if n as i64 >= BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!("webhook delivery failed, will retry: {e}"),
            }
            tokio::time::sleep(settings.poll_interval).await;
        }
    })
}

/// Claims the due deliveries (up to a batch) and sends them concurrently; returns how many were claimed.
pub async fn run_once(db: &DatabaseConnection, settings: &DeliverySettings, worker: &str) -> Result<usize> {
    let claimed = claim(db, worker, settings.lease).await?;
    let mut sends = tokio::task::JoinSet::new();
    for id in claimed.iter().copied() {
        let (db, settings, worker) = (db.clone(), settings.clone(), worker.to_string());
        sends.spawn(async move {
            if let Err(e) = deliver(&db, &settings, &worker, id).await {
                tracing::warn!("webhook delivery {id} could not be recorded, will retry after its lease: {e}");
            }
        });
    }
    while sends.join_next().await.is_some() {}
    Ok(claimed.len())
}

/// The start of the worker's idle check: a read, so an idle worker never takes SQLite's write lock. Left out
/// of `serve --bench`'s per-response statement counts, like the cache's generation poll.
pub const DUE_SQL: &str = "SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
                           WHERE d.status = 'pending' AND w.state = 'active' AND d.next_attempt_at <= ";

/// Takes the lease of up to [`BATCH`] due deliveries of active subscriptions; returns their ids.
async fn claim(db: &DatabaseConnection, worker: &str, lease: Duration) -> Result<Vec<i32>> {
    let at = now();
    let backend = db.get_database_backend();
    let p = if backend == DbBackend::Postgres { "$1" } else { "?" };
    let due = Statement::from_sql_and_values(backend, format!("{DUE_SQL}{p} LIMIT 1"), [at.into()]);
    if db.query_one_raw(due).await?.is_none() {
        return Ok(Vec::new());
    }
    let until = at + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    // SQLite has no row locks: its single writer makes the conditional UPDATE the whole claim.
    let (placeholders, lock) = match backend {
        DbBackend::Postgres => (["$1", "$2", "$3", "$4", "$5"], " FOR UPDATE OF d SKIP LOCKED"),
        _ => (["?", "?", "?", "?", "?"], ""),
    };
    let [p1, p2, p3, p4, p5] = placeholders;
    let sql = format!(
        "UPDATE webhook_deliveries SET claimed_by = {p1}, claimed_until = {p2} WHERE id IN (\
           SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
           WHERE d.status = '{PENDING}' AND w.state = 'active' AND d.next_attempt_at <= {p3} \
             AND (d.claimed_until IS NULL OR d.claimed_until < {p4}) \
           ORDER BY d.next_attempt_at, d.id LIMIT {p5}{lock}) \
         RETURNING id"
    );
    let txn = begin_write(db).await?;
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [worker.into(), until.into(), at.into(), at.into(), BATCH.into()],
        ))
        .await?;
    txn.commit().await?;
    rows.iter().map(|row| row.try_get::<i32>("", "id").map_err(Into::into)).collect()
}

/// What one HTTP attempt came to.
struct Outcome {
    status: Option<u16>,
    error: Option<String>,
    excerpt: Option<String>,
}

impl Outcome {
    fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

async fn deliver(db: &DatabaseConnection, settings: &DeliverySettings, worker: &str, id: i32) -> Result<()> {
    let Some(delivery) = webhook_delivery::Entity::find_by_id(id).one(db).await? else { return Ok(()) };
    let Some(hook) = webhook::Entity::find_by_id(delivery.webhook_id).one(db).await? else { return Ok(()) };
    let Some(event) = webhook_event::Entity::find_by_id(delivery.event_id.clone()).one(db).await? else {
        return Ok(());
    };
    let attempted_at = now();
    let started = Instant::now();
    let outcome = match check_target(&hook.url, settings.allow_private).await {
        Ok(target) => send(&target, &hook.secret, &event).await,
        Err(why) => Outcome { status: None, error: Some(format!("refused: the URL {why}")), excerpt: None },
    };
    let duration_ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
    if let Some(error) = &outcome.error {
        tracing::info!(webhook = hook.id, delivery = id, "webhook attempt failed: {error}");
    }
    record(db, settings, worker, &delivery, &hook, attempted_at, duration_ms, outcome).await
}

/// Sends the event, signed; reads at most [`EXCERPT_BYTES`] of the answer.
async fn send(target: &Target, secret: &str, event: &webhook_event::Model) -> Outcome {
    let failed = |error: String| Outcome { status: None, error: Some(error), excerpt: None };
    let mut builder = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would resolve the host itself, past the address check.
        .no_proxy()
        .user_agent(concat!("Backlot-Webhooks/", env!("CARGO_PKG_VERSION")));
    if let Some((host, addr)) = &target.pinned {
        builder = builder.resolve(host, *addr);
    }
    let client = match builder.build() {
        Ok(client) => client,
        Err(e) => return failed(format!("cannot build the HTTP client: {e}")),
    };
    let timestamp = Utc::now().timestamp();
    let signature = sign(secret, &event.id, timestamp, &event.payload);
    let response = client
        .post(target.url.clone())
        .header("content-type", "application/json")
        .header("webhook-id", &event.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(event.payload.clone())
        .send()
        .await;
    let mut response = match response {
        Ok(response) => response,
        Err(e) if e.is_timeout() => return failed(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())),
        Err(e) => return failed(format!("request failed: {}", crate::service::error_chain(&e))),
    };
    let status = response.status().as_u16();
    let mut body = Vec::new();
    let mut error = None;
    while body.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                error = Some(format!("reading the answer failed: {}", crate::service::error_chain(&e)));
                break;
            }
        }
    }
    body.truncate(EXCERPT_BYTES);
    let excerpt = (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned());
    let error = error.or_else(|| (!(200..300).contains(&status)).then(|| format!("answered HTTP {status}")));
    Outcome { status: Some(status), error, excerpt }
}

/// `delay` plus up to a fifth more, so receivers that failed together are not retried together.
fn jittered(delay: Duration) -> Duration {
    use ring::rand::SecureRandom;
    let mut byte = [0u8; 1];
    let r = ring::rand::SystemRandom::new().fill(&mut byte).map_or(0.0, |_| f64::from(byte[0]) / 255.0);
    delay.mul_f64(1.0 + 0.2 * r)
}

/// Stores the attempt and the delivery's next state (and the subscription's), if this worker still holds
/// the claim: a worker that overran its lease leaves the delivery to whoever claimed it since.
#[allow(clippy::too_many_arguments)]
async fn record(
    db: &DatabaseConnection,
    settings: &DeliverySettings,
    worker: &str,
    delivery: &webhook_delivery::Model,
    hook: &webhook::Model,
    attempted_at: DateTime<Utc>,
    duration_ms: i32,
    outcome: Outcome,
) -> Result<()> {
    let at = now();
    let attempts = delivery.attempts + 1;
    let succeeded = outcome.succeeded();
    let retry = settings.retry_schedule.get((attempts - 1) as usize).copied().filter(|_| !succeeded);
    let (status, next) = match retry {
        _ if succeeded => (SUCCEEDED, delivery.next_attempt_at),
        Some(wait) => (PENDING, at + chrono::Duration::from_std(jittered(wait)).unwrap_or(chrono::Duration::zero())),
        None => (FAILED, delivery.next_attempt_at),
    };
    let txn = begin_write(db).await?;
    let held = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(status))
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next))
        .col_expr(webhook_delivery::Column::ClaimedBy, Expr::value(Option::<String>::None))
        .col_expr(webhook_delivery::Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(at))
        .filter(webhook_delivery::Column::Id.eq(delivery.id))
        .filter(webhook_delivery::Column::ClaimedBy.eq(worker))
        .exec(&*txn)
        .await?
        .rows_affected;
    if held != 1 {
        txn.rollback().await?;
        return Ok(());
    }
    webhook_attempt::Entity::insert(webhook_attempt::ActiveModel {
        id: NotSet,
        delivery_id: Set(delivery.id),
        attempted_at: Set(attempted_at),
        http_status: Set(outcome.status.map(i32::from)),
        error: Set(outcome.error.clone()),
        duration_ms: Set(duration_ms),
        response_excerpt: Set(outcome.excerpt),
    })
    .exec_without_returning(&*txn)
    .await?;
    update_health(&*txn, settings, hook.id, succeeded, at).await?;
    txn.commit().await
}

/// A success clears the subscription's failing streak; a failure starts one, and pauses the subscription
/// once the streak is older than `pause_after`.
async fn update_health(
    db: &impl ConnectionTrait,
    settings: &DeliverySettings,
    webhook_id: i32,
    succeeded: bool,
    at: DateTime<Utc>,
) -> Result<()> {
    let Some(hook) = webhook::Entity::find_by_id(webhook_id).one(db).await? else { return Ok(()) };
    if succeeded {
        if hook.failing_since.is_some() {
            webhook::Entity::update_many()
                .col_expr(webhook::Column::FailingSince, Expr::value(Option::<DateTime<Utc>>::None))
                .filter(webhook::Column::Id.eq(webhook_id))
                .exec(db)
                .await?;
        }
        return Ok(());
    }
    let since = hook.failing_since.unwrap_or(at);
    let pause_after = chrono::Duration::from_std(settings.pause_after).unwrap_or(chrono::Duration::MAX);
    let mut update = webhook::Entity::update_many()
        .col_expr(webhook::Column::FailingSince, Expr::value(Some(since)))
        .filter(webhook::Column::Id.eq(webhook_id));
    if hook.state != PAUSED && at - since >= pause_after {
        let reason = format!(
            "paused automatically: every delivery has failed since {} (longer than --webhook-pause-after)",
            since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        tracing::warn!(webhook = webhook_id, "{reason}");
        update = update
            .col_expr(webhook::Column::State, Expr::value(PAUSED))
            .col_expr(webhook::Column::PausedReason, Expr::value(Some(reason)))
            .col_expr(webhook::Column::UpdatedAt, Expr::value(at));
    }
    update.exec(db).await?;
    Ok(())
}
