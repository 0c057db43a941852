//! API tokens: high-entropy secrets with a recognisable prefix, stored only as a SHA-256 hash.

use chrono::{DateTime, Duration, Utc};
use entity::api_token;
use std::collections::BTreeSet;
use std::sync::Mutex;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use super::{Result, ServiceError, now};

/// What a token may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Read drafts.
    Preview,
    /// Create and edit drafts.
    Editor,
    /// Editor, plus publish, unpublish, archive and schedule.
    Publisher,
    /// Publisher, plus collections, reuse channels and tokens.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Preview => "preview",
            Role::Editor => "editor",
            Role::Publisher => "publisher",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Preview, Role::Editor, Role::Publisher, Role::Admin].into_iter().find(|r| r.as_str() == s)
    }
}

/// The caller behind a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token_name: String,
    pub role: Role,
}

pub const TOKEN_PREFIX: &str = "blt_";

fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares without an early exit, so timing does not reveal how much of a hash matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The longest lifetime a token may be given; chrono cannot represent much more, and no secret should
/// outlive its holders.
pub const MAX_LIFETIME_DAYS: i64 = 36_500;

/// "30d", "12h", "45m", "90s", "2w", up to 100 years; the error says what is wrong.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let shape = || "must look like 30d, 12h, 45m or 2w".to_string();
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).ok_or_else(shape)?);
    let seconds_per_unit: i64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(shape()),
    };
    let too_long =
        || format!("is longer than {MAX_LIFETIME_DAYS} days (100 years), the longest lifetime a token may have");
    // Digits past i64 are a lifetime too long, not a malformed one.
    let n: i64 = match number.parse::<i64>() {
        Ok(n) if n > 0 => n,
        Ok(_) => return Err("must be at least 1 (a token that expires at once is no token)".to_string()),
        Err(_) if !number.is_empty() => return Err(too_long()),
        Err(_) => return Err(shape()),
    };
    match n.checked_mul(seconds_per_unit) {
        Some(seconds) if seconds <= MAX_LIFETIME_DAYS * 86_400 => Ok(Duration::seconds(seconds)),
        _ => Err(too_long()),
    }
}

pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok { Ok(()) } else { Err(ServiceError::bad_input("name", "must be 1-100 letters, digits, '-', '_' or '.'")) }
}

/// Creates a token and returns it with its secret, which is never stored and cannot be shown again.
pub async fn create(
    db: &impl ConnectionTrait,
    name: &str,
    role: Role,
    expires_in: Option<Duration>,
) -> Result<(api_token::Model, String)> {
    validate_name(name)?;
    if let Some(existing) = api_token::Entity::find().filter(api_token::Column::Name.eq(name)).one(db).await? {
        let hint = if existing.revoked_at.is_some() {
            " (revoked; names stay reserved so the audit log stays unambiguous: pick another name)"
        } else {
            ""
        };
        return Err(ServiceError::Conflict(format!("a token named {name:?} already exists{hint}")));
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let prefix = format!("{TOKEN_PREFIX}{}", &id[..12]);
    let secret = format!("{prefix}_{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let created = now();
    let model = api_token::ActiveModel {
        name: Set(name.to_string()),
        role: Set(role.as_str().to_string()),
        prefix: Set(prefix),
        secret_hash: Set(hash(&secret)),
        created_at: Set(created),
        last_used_at: Set(None),
        expires_at: Set(expires_in.map(|d| created + d)),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((model, secret))
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<api_token::Model>> {
    Ok(api_token::Entity::find().order_by_asc(api_token::Column::Name).all(db).await?)
}

pub async fn revoke(db: &impl ConnectionTrait, name: &str) -> Result<api_token::Model> {
    let token = api_token::Entity::find()
        .filter(api_token::Column::Name.eq(name))
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::NotFound { entity: "token", key: name.to_string() })?;
    let mut active: api_token::ActiveModel = token.into();
    active.revoked_at = Set(Some(now()));
    Ok(active.update(db).await?)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the token is not valid")]
    Invalid,
    #[error("the token was revoked")]
    Revoked,
    #[error("the token expired")]
    Expired,
}

/// The principal for a bearer secret. Records `last_used_at` at most once a minute, in the background.
pub async fn authenticate(db: &DatabaseConnection, secret: &str) -> Result<Result<Principal, AuthError>> {
    let Some(prefix) = secret.rsplit_once('_').map(|(p, _)| p).filter(|p| p.starts_with(TOKEN_PREFIX)) else {
        return Ok(Err(AuthError::Invalid));
    };
    let Some(token) = api_token::Entity::find().filter(api_token::Column::Prefix.eq(prefix)).one(db).await? else {
        return Ok(Err(AuthError::Invalid));
    };
    if !constant_time_eq(hash(secret).as_bytes(), token.secret_hash.as_bytes()) {
        return Ok(Err(AuthError::Invalid));
    }
    let at = now();
    if token.revoked_at.is_some() {
        return Ok(Err(AuthError::Revoked));
    }
    if token.expires_at.is_some_and(|e| e <= at) {
        return Ok(Err(AuthError::Expired));
    }
    let Some(role) = Role::parse(&token.role) else {
        return Ok(Err(AuthError::Invalid));
    };
    if token.last_used_at.is_none_or(|t: DateTime<Utc>| at - t > Duration::minutes(1)) {
        record_use(db, token.id, at);
    }
    Ok(Ok(Principal { token_name: token.name, role }))
}

/// Writes `last_used_at` without making the reader wait: on SQLite the write queues behind any writer (an
/// import, say), and a read must never wait for that or fail with its busy timeout. A burst of requests
/// with one token queues one write, not one each.
fn record_use(db: &DatabaseConnection, token_id: i32, at: DateTime<Utc>) {
    static IN_FLIGHT: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());
    let claimed = IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner()).insert(token_id);
    if !claimed {
        return;
    }
    let db = db.clone();
    tokio::spawn(async move {
        // Queue for the process's writer turn like any write, so waiting never holds a pooled connection.
        let _turn = super::writer_turn(&db).await;
        let written = api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, sea_orm::sea_query::Expr::value(at))
            .filter(api_token::Column::Id.eq(token_id))
            .exec(&db)
            .await;
        IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner()).remove(&token_id);
        if let Err(e) = written {
            tracing::warn!("could not record the use of API token {token_id}: {e}");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d"), Ok(Duration::days(30)));
        assert_eq!(parse_duration("12h"), Ok(Duration::hours(12)));
        assert_eq!(parse_duration("2w"), Ok(Duration::weeks(2)));
        assert_eq!(parse_duration("36500d"), Ok(Duration::days(36_500)));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("0d").is_err());
        assert!(parse_duration("d").is_err());
        for huge in ["36501d", "9999999999999w", "99999999999999999999999d", "9223372036854775807s"] {
            assert!(parse_duration(huge).unwrap_err().contains("100 years"), "{huge}");
        }
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
