//! The content generation: a counter in the database bumped by every content write, with a log of what
//! each write changed (as cache tags), so every process's response cache drops only what could be stale.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement};

use super::Result;
use super::changes::Changed;

/// The poll statement, recognisable so statement counters can leave it out.
pub const POLL_SQL: &str = "SELECT generation FROM content_generation WHERE id = 1";

/// The PostgreSQL notification channel a write announces its new generation on (delivered at commit).
pub const CHANNEL: &str = "backlot_content";

/// Change-log rows kept for processes that fall behind: one further behind drops its whole cache.
const KEPT_CHANGES: i64 = 10_000;

/// This process, as the change log names the origin of a write: its own writes reach its caches at
/// commit ([`note_local_write`]), so it skips them when it reads the log.
pub fn origin() -> &'static str {
    static ORIGIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ORIGIN.get_or_init(|| uuid::Uuid::new_v4().simple().to_string())
}

/// Called inside each write transaction with what it changed: bumps the generation and logs the change
/// under it. On PostgreSQL the same statement notifies the listening processes, at commit and only then.
pub async fn bump(db: &impl ConnectionTrait, changed: &Changed) -> Result<()> {
    let backend = db.get_database_backend();
    let values = || vec![origin().into(), changed.to_column().into()];
    match backend {
        DbBackend::Postgres => {
            let sql = concat!(
                "WITH bumped AS (UPDATE content_generation SET generation = generation + 1 WHERE id = 1 RETURNING generation), ",
                "logged AS (INSERT INTO content_changes (generation, origin, tags) SELECT generation, $1, $2 FROM bumped RETURNING generation) ",
                "SELECT pg_notify('backlot_content', generation::text) FROM logged"
            );
            db.execute_raw(Statement::from_sql_and_values(backend, sql, values())).await?;
        }
        _ => {
            db.execute_unprepared("UPDATE content_generation SET generation = generation + 1 WHERE id = 1").await?;
            let sql = "INSERT INTO content_changes (generation, origin, tags) SELECT generation, ?, ? FROM content_generation WHERE id = 1";
            db.execute_raw(Statement::from_sql_and_values(backend, sql, values())).await?;
        }
    }
    let prune = format!(
        "DELETE FROM content_changes WHERE generation <= (SELECT generation FROM content_generation WHERE id = 1) - {KEPT_CHANGES}"
    );
    db.execute_unprepared(&prune).await?;
    Ok(())
}

type LocalListener = Box<dyn Fn(&Changed) -> bool + Send + Sync>;

fn local_listeners() -> &'static Mutex<Vec<LocalListener>> {
    static LISTENERS: std::sync::OnceLock<Mutex<Vec<LocalListener>>> = std::sync::OnceLock::new();
    LISTENERS.get_or_init(Mutex::default)
}

static LOCAL_WRITES: AtomicU64 = AtomicU64::new(0);

/// How many writes this process has committed (a read replica router syncs with them).
pub fn local_writes() -> u64 {
    LOCAL_WRITES.load(Ordering::SeqCst)
}

/// Registers `listener` for this process's committed writes; it returns false once it is gone, and is
/// then dropped.
pub fn on_local_write(listener: impl Fn(&Changed) -> bool + Send + Sync + 'static) {
    local_listeners().lock().unwrap_or_else(|e| e.into_inner()).push(Box::new(listener));
}

/// Called after a write transaction commits: this process's caches learn what changed at once, without
/// waiting to poll.
pub fn note_local_write(changed: &Changed) {
    LOCAL_WRITES.fetch_add(1, Ordering::SeqCst);
    local_listeners().lock().unwrap_or_else(|e| e.into_inner()).retain(|listener| listener(changed));
}

#[derive(FromQueryResult)]
struct ChangeRow {
    generation: i64,
    origin: String,
    tags: Option<String>,
}

/// What other processes changed after generation `after` up to `upto`: `Everything` when any generation in
/// between is missing from the log (pruned, or bumped by something that logs no change).
pub async fn changes_between(db: &impl ConnectionTrait, after: i64, upto: i64) -> Result<Changed> {
    let backend = match db.get_database_backend() {
        DbBackend::Postgres => DbBackend::Postgres,
        _ => DbBackend::Sqlite,
    };
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT generation, origin, tags FROM content_changes WHERE generation > $1 AND generation <= $2 ORDER BY generation"
        }
        _ => {
            "SELECT generation, origin, tags FROM content_changes WHERE generation > ? AND generation <= ? ORDER BY generation"
        }
    };
    let rows = ChangeRow::find_by_statement(Statement::from_sql_and_values(backend, sql, [after.into(), upto.into()]))
        .all(db)
        .await?;
    if i64::try_from(rows.len()).ok() != Some(upto - after) || rows.first().is_some_and(|r| r.generation != after + 1) {
        return Ok(Changed::Everything);
    }
    let mut tags = std::collections::BTreeSet::new();
    for row in rows.iter().filter(|r| r.origin != origin()) {
        match Changed::from_column(row.tags.as_deref()) {
            Changed::Everything => return Ok(Changed::Everything),
            Changed::Tags(t) => tags.extend(t),
        }
    }
    Ok(Changed::Tags(tags))
}

#[derive(FromQueryResult)]
struct Row {
    generation: i64,
}

/// The database's generation, which every process's writes advance.
pub async fn current(db: &impl ConnectionTrait) -> Result<i64> {
    let stmt = Statement::from_string(
        match db.get_database_backend() {
            DbBackend::Postgres => DbBackend::Postgres,
            _ => DbBackend::Sqlite,
        },
        POLL_SQL,
    );
    Ok(Row::find_by_statement(stmt).one(db).await?.map_or(0, |r| r.generation))
}
