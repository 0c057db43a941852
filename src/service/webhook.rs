//! Webhook subscriptions: create (the secret is returned once), list, pause and resume, rotate the secret,
//! delete; their deliveries and attempts; redelivery. Also what both creation and the delivery worker check
//! about a target URL ([`check_target`]) and the Standard Webhooks signature ([`sign`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use entity::{webhook, webhook_attempt, webhook_delivery, webhook_event};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::events::EVENT_TYPES;
use super::{Result, ServiceError, audit, now, transaction};

pub const ACTIVE: &str = "active";
pub const PAUSED: &str = "paused";
pub const PENDING: &str = "pending";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";

const ENTITY: &str = "webhook";

/// A fresh secret in the Standard Webhooks form: `whsec_` and base64 of 32 random bytes.
fn new_secret() -> Result<String> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        // Reported as an internal error (logged, with a reference for the client), like a failing database.
        .map_err(|_| {
            ServiceError::Database(sea_orm::DbErr::Custom("the system random number generator failed".into()))
        })?;
    Ok(format!("whsec_{}", STANDARD.encode(bytes)))
}

/// `v1,` and base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}`, keyed by the secret's decoded bytes.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> String {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key_bytes = STANDARD.decode(encoded).unwrap_or_else(|_| encoded.as_bytes().to_vec());
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key_bytes);
    let tag = ring::hmac::sign(&key, format!("{msg_id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(tag.as_ref()))
}

/// Whether `ip` is an address a webhook may not reach by default: loopback, private, link-local (with the
/// cloud metadata address 169.254.169.254), unique-local (with fd00:ec2::254), shared, benchmarking,
/// reserved, unspecified, broadcast, multicast or documentation; and any IPv6 address that embeds an IPv4
/// one (mapped, compatible, translated, NAT64, 6to4) when that IPv4 address is internal, since a gateway
/// on the way may turn it into exactly that address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return internal_v4(v4);
            }
            let [first, second, ..] = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first == 0x2001 && second == 0x0db8) // documentation
                || (first == 0x0100 && v6.segments()[1..4] == [0, 0, 0]) // discard-only 100::/64
                || first == 0 // the rest of ::/16: IPv4-era forms no public host uses
        }
    }
}

/// The IPv4 address an IPv6 address carries: IPv4-mapped (::ffff:a.b.c.d), IPv4-translated
/// (::ffff:0:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48)
/// and 6to4 (2002:AABB:CCDD::/16).
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let low = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0xffff, 0, hi, lo] => Some(low(hi, lo)),
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 => Some(low(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0x64, 0xff9b, 1, ..] => Some(low(s[6], s[7])),
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

fn internal_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0.0/24
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18.0.0/15
        || a >= 240 // reserved 240.0.0.0/4
}

/// Where a delivery connects: the URL, and for a host name the one address checked, which the client is
/// pinned to so a second DNS answer (rebinding) cannot take it elsewhere.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: reqwest::Url,
    pub pinned: Option<(String, SocketAddr)>,
}

/// Parses and resolves `url`; refuses other schemes than http(s), and (unless `allow_private`) any URL whose
/// host is or resolves to an internal address. The message is fit to show (after "url: ").
pub async fn check_target(url: &str, allow_private: bool) -> std::result::Result<Target, String> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| format!("is not a valid URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("must be an http:// or https:// URL (got {}://)", parsed.scheme()));
    }
    let port = parsed.port_or_known_default().unwrap_or(80);
    let refuse = |ip: IpAddr| {
        format!(
            "resolves to {ip}, an internal (loopback, private, link-local or metadata) address; to allow such \
             addresses, start the server with --webhook-allow-private (BACKLOT_WEBHOOK_ALLOW_PRIVATE=1), and \
             create the webhook on the command line with `backlot webhook create --allow-private`"
        )
    };
    let host = parsed.host_str().ok_or("has no host")?.to_string();
    if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        if !allow_private && is_internal(ip) {
            return Err(refuse(ip));
        }
        return Ok(Target { url: parsed, pinned: None });
    }
    // A resolver that never answers must not hold a request or the worker past the delivery timeout.
    let lookup =
        tokio::time::timeout(super::webhook_delivery::REQUEST_TIMEOUT, tokio::net::lookup_host((host.as_str(), port)));
    let addrs: Vec<SocketAddr> = lookup
        .await
        .map_err(|_| format!("host {host:?} did not resolve in time"))?
        .map_err(|e| format!("host {host:?} does not resolve ({e})"))?
        .collect();
    // Every answer must pass: an attacker's DNS may mix a public address with an internal one.
    if !allow_private && let Some(bad) = addrs.iter().find(|a| is_internal(a.ip())) {
        return Err(refuse(bad.ip()));
    }
    let first = addrs.first().copied().ok_or_else(|| format!("host {host:?} has no address"))?;
    Ok(Target { url: parsed, pinned: Some((host, first)) })
}

/// Event types from a list such as `article.published,article.unpublished`: each must be known.
pub fn parse_events(events: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for event in events.iter().flat_map(|e| e.split(',')).map(str::trim).filter(|e| !e.is_empty()) {
        if !EVENT_TYPES.contains(&event) {
            return Err(ServiceError::bad_input(
                "events",
                format!("unknown event type {event:?}; valid types: {}", EVENT_TYPES.join(", ")),
            ));
        }
        if !out.iter().any(|e| e == event) {
            out.push(event.to_string());
        }
    }
    if out.is_empty() {
        return Err(ServiceError::bad_input(
            "events",
            format!("name at least one event type: {}", EVENT_TYPES.join(", ")),
        ));
    }
    Ok(out)
}

/// Creates an active subscription; returns it and its secret (which is not returned again).
pub async fn create(
    db: &DatabaseConnection,
    actor: &str,
    url: &str,
    events: &[String],
    description: Option<String>,
    allow_private: bool,
) -> Result<(webhook::Model, String)> {
    let events = parse_events(events)?;
    let target = check_target(url, allow_private).await.map_err(|why| ServiceError::bad_input("url", why))?;
    let secret = new_secret()?;
    let at = now();
    let active = webhook::ActiveModel {
        id: NotSet,
        url: Set(target.url.to_string()),
        events: Set(events.join(",")),
        description: Set(description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty())),
        secret: Set(secret.clone()),
        state: Set(ACTIVE.into()),
        paused_reason: Set(None),
        failing_since: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
    };
    let actor = actor.to_string();
    let model = transaction(db, move |txn| {
        Box::pin(async move {
            // Subscriptions are not content: no public answer changes.
            super::changes::complete();
            let model = active.insert(txn).await?;
            audit::record(txn, &actor, "createWebhook", ENTITY, &model.id.to_string(), None).await?;
            Ok(model)
        })
    })
    .await?;
    Ok((model, secret))
}

pub async fn list(db: &DatabaseConnection) -> Result<Vec<webhook::Model>> {
    Ok(webhook::Entity::find().order_by_asc(webhook::Column::Id).all(db).await?)
}

pub async fn get(db: &DatabaseConnection, id: i32) -> Result<webhook::Model> {
    webhook::Entity::find_by_id(id).one(db).await?.ok_or_else(|| missing(id))
}

fn missing(id: i32) -> ServiceError {
    ServiceError::NotFound { entity: ENTITY, key: id.to_string() }
}

/// Pauses (deliveries wait, new events are not queued for it) or resumes a subscription.
pub async fn set_paused(db: &DatabaseConnection, actor: &str, id: i32, paused: bool) -> Result<webhook::Model> {
    let actor = actor.to_string();
    transaction(db, move |txn| {
        Box::pin(async move {
            // Subscriptions are not content: no public answer changes.
            super::changes::complete();
            let model = webhook::Entity::find_by_id(id).one(txn).await?.ok_or_else(|| missing(id))?;
            let mut active = model.into_active_model();
            if paused {
                active.state = Set(PAUSED.into());
                active.paused_reason = Set(Some(format!("paused by {actor}")));
            } else {
                active.state = Set(ACTIVE.into());
                active.paused_reason = Set(None);
                active.failing_since = Set(None);
            }
            active.updated_at = Set(now());
            let model = active.update(txn).await?;
            let action = if paused { "pauseWebhook" } else { "resumeWebhook" };
            audit::record(txn, &actor, action, ENTITY, &id.to_string(), None).await?;
            Ok(model)
        })
    })
    .await
}

/// Replaces the secret; returns the subscription and the new secret (not returned again).
pub async fn rotate_secret(db: &DatabaseConnection, actor: &str, id: i32) -> Result<(webhook::Model, String)> {
    let secret = new_secret()?;
    let (actor, new) = (actor.to_string(), secret.clone());
    let model = transaction(db, move |txn| {
        Box::pin(async move {
            // Subscriptions are not content: no public answer changes.
            super::changes::complete();
            let model = webhook::Entity::find_by_id(id).one(txn).await?.ok_or_else(|| missing(id))?;
            let mut active = model.into_active_model();
            active.secret = Set(new);
            active.updated_at = Set(now());
            let model = active.update(txn).await?;
            audit::record(txn, &actor, "rotateWebhookSecret", ENTITY, &id.to_string(), None).await?;
            Ok(model)
        })
    })
    .await?;
    Ok((model, secret))
}

/// Deletes the subscription with its deliveries and their attempts.
pub async fn delete(db: &DatabaseConnection, actor: &str, id: i32) -> Result<()> {
    let actor = actor.to_string();
    transaction(db, move |txn| {
        Box::pin(async move {
            // Subscriptions are not content: no public answer changes.
            super::changes::complete();
            webhook::Entity::find_by_id(id).one(txn).await?.ok_or_else(|| missing(id))?;
            let deliveries: Vec<i32> = webhook_delivery::Entity::find()
                .select_only()
                .column(webhook_delivery::Column::Id)
                .filter(webhook_delivery::Column::WebhookId.eq(id))
                .into_tuple()
                .all(txn)
                .await?;
            for chunk in deliveries.chunks(500) {
                webhook_attempt::Entity::delete_many()
                    .filter(webhook_attempt::Column::DeliveryId.is_in(chunk.iter().copied()))
                    .exec(txn)
                    .await?;
            }
            webhook_delivery::Entity::delete_many()
                .filter(webhook_delivery::Column::WebhookId.eq(id))
                .exec(txn)
                .await?;
            webhook::Entity::delete_by_id(id).exec(txn).await?;
            audit::record(txn, &actor, "deleteWebhook", ENTITY, &id.to_string(), None).await?;
            Ok(())
        })
    })
    .await
}

/// The newest `limit` deliveries of a subscription, each with its event.
pub async fn deliveries(
    db: &DatabaseConnection,
    webhook_id: i32,
    limit: u64,
) -> Result<Vec<(webhook_delivery::Model, webhook_event::Model)>> {
    let rows = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
        .order_by_desc(webhook_delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    with_events(db, rows).await
}

async fn with_events(
    db: &DatabaseConnection,
    rows: Vec<webhook_delivery::Model>,
) -> Result<Vec<(webhook_delivery::Model, webhook_event::Model)>> {
    let ids: Vec<String> = rows.iter().map(|d| d.event_id.clone()).collect();
    let events = webhook_event::Entity::find().filter(webhook_event::Column::Id.is_in(ids)).all(db).await?;
    Ok(rows.into_iter().filter_map(|d| events.iter().find(|e| e.id == d.event_id).cloned().map(|e| (d, e))).collect())
}

/// A delivery's attempts, oldest first.
pub async fn attempts(db: &DatabaseConnection, delivery_id: i32) -> Result<Vec<webhook_attempt::Model>> {
    Ok(webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.eq(delivery_id))
        .order_by_asc(webhook_attempt::Column::Id)
        .all(db)
        .await?)
}

/// Sends a delivery again (whatever its status), soon, with a fresh retry schedule; its attempts stay listed.
pub async fn redeliver(
    db: &DatabaseConnection,
    actor: &str,
    delivery_id: i32,
) -> Result<(webhook_delivery::Model, webhook_event::Model)> {
    let actor = actor.to_string();
    let row = transaction(db, move |txn| {
        Box::pin(async move {
            // Subscriptions are not content: no public answer changes.
            super::changes::complete();
            let at = now();
            let affected = webhook_delivery::Entity::update_many()
                .col_expr(webhook_delivery::Column::Status, Expr::value(PENDING))
                .col_expr(webhook_delivery::Column::Attempts, Expr::value(0))
                .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(at))
                .col_expr(webhook_delivery::Column::ClaimedBy, Expr::value(Option::<String>::None))
                .col_expr(
                    webhook_delivery::Column::ClaimedUntil,
                    Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
                )
                .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(at))
                .filter(webhook_delivery::Column::Id.eq(delivery_id))
                .exec(txn)
                .await?
                .rows_affected;
            if affected != 1 {
                return Err(ServiceError::NotFound { entity: "webhook delivery", key: delivery_id.to_string() });
            }
            audit::record(txn, &actor, "redeliverWebhookDelivery", ENTITY, &delivery_id.to_string(), None).await?;
            Ok(webhook_delivery::Entity::find_by_id(delivery_id).one(txn).await?)
        })
    })
    .await?
    .ok_or_else(|| ServiceError::NotFound { entity: "webhook delivery", key: delivery_id.to_string() })?;
    let mut found = with_events(db, vec![row]).await?;
    found.pop().ok_or_else(|| ServiceError::NotFound { entity: "webhook delivery", key: delivery_id.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_caught_in_every_spelling() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "169.254.169.254",
            "100.64.0.1",
            "192.0.0.170",
            "198.18.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:0:7f00:1",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a00:1",
            "2002:7f00:1::",
            "100::1",
            "fd00:ec2::254",
            "fe80::1",
            "2001:db8::1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal} passed as public");
        }
        for public in
            ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "64:ff9b::5db8:d70e", "2002:5db8:d70e::"]
        {
            assert!(!is_internal(public.parse().unwrap()), "{public} refused as internal");
        }
    }
}
